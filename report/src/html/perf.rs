//! The perf sections of a report: per workload a sweep overview and charts, then per stage
//! summary cards, the percentile table, distributions, throughput and concurrency over time,
//! errors and events, and placement labels (regions) side by side.

use std::fmt::Write;

use swarm_common::metrics::evalscope::{PERCENTILE_COLUMNS, PerfSummary, labels};
use swarm_common::metrics::summary::RichSummary;

use super::chart::{Axes, Series, bar_chart, line_chart};
use super::escape::{esc, num, opt_num};
use super::overlay::cdf_overlay;
use super::page::{cards, table};
use crate::NO_DATA;
use crate::run_data::{PerfWorkload, StageData};

/// Sections for every perf workload of a run.
pub fn perf_sections(workloads: &[PerfWorkload]) -> String {
    let mut out = String::new();
    for w in workloads {
        let _ = write!(
            out,
            "<section class=\"perf\" id=\"perf-{id}\"><h2>Perf: {name}{model}</h2>",
            id = esc(&w.name),
            name = esc(&w.name),
            model = w
                .model
                .as_deref()
                .map(|m| format!(" <span class=\"muted\">({})</span>", esc(m)))
                .unwrap_or_default()
        );
        out.push_str(&sweep_section(w));
        if let Some(sla) = &w.sla {
            out.push_str(&super::sla::sla_section(sla));
        }
        for s in &w.stages {
            out.push_str(&stage_section(&w.name, s));
        }
        out.push_str("</section>");
    }
    out
}

/// The x of a stage in sweep charts: its rate when `by_rate` (every stage open loop), else its
/// concurrency.
fn sweep_x(s: &StageData, by_rate: bool) -> f64 {
    match s.summary.rate() {
        Some(r) if by_rate => r,
        _ => f64::from(s.summary.concurrency),
    }
}

fn open_loop(s: &StageData) -> bool {
    s.summary.rate().is_some()
}

/// One of the stage's own statistics; NaN (no data: a table's [`NO_DATA`], no chart point)
/// without a summary or a value.
fn p99(s: &StageData, pick: impl Fn(&RichSummary) -> Option<f64>) -> f64 {
    s.rich.as_ref().and_then(pick).unwrap_or(f64::NAN)
}

fn sweep_section(w: &PerfWorkload) -> String {
    let mut out = String::from("<div class=\"sweep\"><h3>Sweep overview</h3>");
    let rows: Vec<Vec<String>> = w
        .stages
        .iter()
        .map(|s| {
            let e = &s.summary;
            let success = s
                .rich
                .as_ref()
                .filter(|r| r.total > 0)
                .map(|r| format!("{:.1}%", 100.0 * r.success as f64 / r.total as f64))
                .unwrap_or_else(|| NO_DATA.into());
            vec![
                esc(&s.name),
                e.concurrency.to_string(),
                opt_num(e.rate()),
                e.total_requests.to_string(),
                opt_num(e.req_throughput),
                opt_num(e.output_throughput),
                opt_num(e.avg_latency_s),
                num(p99(s, |r| r.latency_s.p99)),
                opt_num(e.avg_ttft_ms),
                num(p99(s, |r| r.ttft_ms.p99)),
                opt_num(e.avg_tpot_ms),
                success,
                match &s.outcome {
                    Some(o) if *o != swarm_store::stage_status::StageStatus::Ok => {
                        format!("<span class=\"bad\">{}</span>", esc(&o.describe()))
                    }
                    _ => esc(&s.stopped),
                },
            ]
        })
        .collect();
    out.push_str(&table(
        "sweep",
        &[
            "Stage",
            labels::CONCURRENCY,
            "Rate (req/s)",
            "Requests",
            "Req/s",
            "Output tok/s",
            "Avg latency (s)",
            "P99 latency (s)",
            labels::AVG_TTFT,
            "P99 TTFT (ms)",
            labels::AVG_TPOT,
            "Success",
            "Stopped",
        ],
        &rows,
    ));
    if w.stages.len() > 1 {
        let open = w.stages.iter().all(open_loop);
        let x_label = if open {
            "request rate (req/s)"
        } else {
            "parallel (concurrency)"
        };
        let mut pts: Vec<&StageData> = w.stages.iter().collect();
        pts.sort_by(|a, b| sweep_x(a, open).total_cmp(&sweep_x(b, open)));
        let line = |name: &str, f: &dyn Fn(&StageData) -> f64| Series {
            name: name.to_string(),
            points: pts.iter().map(|s| (sweep_x(s, open), f(s))).collect(),
        };
        out.push_str("<div class=\"charts\">");
        out.push_str(&line_chart(
            &Axes::new("Throughput against load", x_label, "output tokens/s"),
            &[line("output tok/s", &|s| {
                s.summary.output_throughput.unwrap_or(f64::NAN)
            })],
        ));
        out.push_str(&line_chart(
            &Axes::new("Requests per second against load", x_label, "req/s"),
            &[line("req/s", &|s| {
                s.summary.req_throughput.unwrap_or(f64::NAN)
            })],
        ));
        out.push_str(&line_chart(
            &Axes::new("p99 TTFT against load", x_label, "ms"),
            &[
                line("p99 TTFT", &|s| p99(s, |r| r.ttft_ms.p99)),
                line("p50 TTFT", &|s| p99(s, |r| r.ttft_ms.p50)),
            ],
        ));
        out.push_str("</div>");
    }
    out.push_str("</div>");
    out
}

fn stage_section(workload: &str, s: &StageData) -> String {
    let mut out = format!(
        "<section class=\"stage\" id=\"stage-{}-{}\"><h3>Stage {} <span class=\"muted\">(stopped: {})</span></h3>",
        esc(workload),
        esc(&s.name),
        esc(&s.name),
        esc(&s.stopped)
    );
    if let Some(o) = &s.outcome
        && *o != swarm_store::stage_status::StageStatus::Ok
    {
        // a failed stage says so before any number
        out.push_str(&format!(
            "<p class=\"bad failure\"><strong>{}</strong></p>",
            esc(&o.describe())
        ));
    }
    let e = &s.summary;
    let mut items = vec![
        ("Total requests", e.total_requests.to_string()),
        ("Succeeded", e.success_requests.to_string()),
        ("Failed", e.failed_requests.to_string()),
        ("Req/s", opt_num(e.req_throughput)),
        ("Output tok/s", opt_num(e.output_throughput)),
        ("Avg latency (s)", opt_num(e.avg_latency_s)),
        (labels::AVG_TTFT, opt_num(e.avg_ttft_ms)),
    ];
    if let Some(r) = &s.rich {
        items.push(("P99 TTFT (ms)", opt_num(r.ttft_ms.p99)));
        items.push(("P99 latency (s)", opt_num(r.latency_s.p99)));
        if r.goodput_share.is_some() {
            items.push(("Goodput (req/s)", opt_num(r.goodput_req_per_s)));
            items.push((
                "Meeting the SLOs",
                r.goodput_share
                    .map(|v| format!("{:.1}%", v * 100.0))
                    .unwrap_or_else(|| super::super::NO_DATA.into()),
            ));
        }
    }
    out.push_str(&cards(&items));
    out.push_str(&speed_table(s));
    out.push_str(&tables::trace_table(s));
    out.push_str(&multi_turn_section(s));
    out.push_str(&percentile_table(s));
    out.push_str("<div class=\"charts\">");
    for c in &s.cdfs {
        out.push_str(&line_chart(
            &Axes::new(
                &format!("{} distribution (CDF, {} values)", c.metric, c.count),
                c.unit,
                "percentile",
            ),
            &[Series {
                name: c.metric.clone(),
                points: c.points.clone(),
            }],
        ));
    }
    if !s.series.is_empty() {
        let pick = |name: &str, f: fn(&swarm_store::timeseries::TimePoint) -> f64| Series {
            name: name.to_string(),
            points: s.series.iter().map(|p| (p.t_s, f(p))).collect(),
        };
        out.push_str(&line_chart(
            &Axes::new("Throughput over time", "seconds", "per second"),
            &[
                pick("requests/s", |p| p.requests_per_s),
                pick("failed/s", |p| p.failed_per_s),
            ],
        ));
        out.push_str(&line_chart(
            &Axes::new("Output tokens over time", "seconds", "tokens/s"),
            &[pick("output tok/s", |p| p.output_tok_per_s)],
        ));
        out.push_str(&line_chart(
            &Axes::new(
                "Concurrency over time (requests in flight)",
                "seconds",
                "requests",
            ),
            &[pick("in flight", |p| p.concurrency)],
        ));
        if s.name.starts_with("ramp_") {
            out.push_str(&ramp_latency(&s.series));
        }
    }
    out.push_str("</div>");
    out.push_str(&errors_section(s));
    if !s.labels.is_empty() {
        out.push_str(&labels_section(s));
    }
    out.push_str("</section>");
    out
}

mod multi_turn;
mod tables;
use multi_turn::multi_turn_section;
use tables::*;

#[cfg(test)]
mod tests {
    use swarm_common::metrics::aggregate::{HistSettings, StageAggregate};
    use swarm_common::metrics::evalscope::{self, StageLoad};
    use swarm_common::metrics::record::{ErrorClass, RequestRecord, TokenSource};

    use super::*;

    #[test]
    fn a_ramp_marks_where_latency_bent() {
        let flat = [
            (1.0, 0.1),
            (2.0, 0.1),
            (3.0, 0.12),
            (4.0, 0.15),
            (5.0, 0.25),
            (6.0, 0.5),
        ];
        // mean of the first three ≈ 0.1067: 0.25 is the first above 0.2133
        assert_eq!(latency_bend(&flat), Some((5.0, 0.25)));
        assert_eq!(latency_bend(&flat[..3]), None, "too few intervals");
        assert_eq!(latency_bend(&[(1.0, 0.1); 6]), None, "never bent");
        let series: Vec<swarm_store::timeseries::TimePoint> = flat
            .iter()
            .map(|(t, w)| swarm_store::timeseries::TimePoint {
                t_s: *t,
                requests_per_s: 10.0,
                failed_per_s: 0.0,
                output_tok_per_s: 0.0,
                concurrency: 10.0 * w,
            })
            .collect();
        let html = ramp_latency(&series);
        assert!(html.contains("Average latency over time"), "{html}");
        assert!(html.contains("Latency bent at 5 s"), "{html}");
    }

    /// A stage as `read_stage` gives it back: its files' JSON, our summary read from JSON.
    fn stage(name: &str, concurrency: u32, agg: &StageAggregate) -> StageData {
        let load = StageLoad {
            concurrency,
            rate: None,
        };
        let rich = serde_json::to_value(RichSummary::of(agg)).expect("serializes");
        StageData {
            name: name.into(),
            stopped: "count".into(),
            outcome: None,
            summary: evalscope::summary(agg, load),
            rich: Some(serde_json::from_value(rich).expect("summary.json reads back")),
            percentiles: evalscope::percentiles(agg),
            labels: vec![],
            events: vec![],
            series: vec![],
            cdfs: vec![],
            speed: vec![],
            trace: None,
            multi_turn: None,
        }
    }

    fn aggregate(ok: bool) -> StageAggregate {
        let mut agg = StageAggregate::new(HistSettings::default()).expect("valid");
        for i in 0..4u64 {
            agg.record(
                &RequestRecord {
                    sent_us: i * 10_000,
                    ttft_us: ok.then_some(20_000),
                    latency_us: 100_000,
                    chunk_us: if ok {
                        vec![20_000, 60_000, 100_000]
                    } else {
                        vec![]
                    },
                    prompt_tokens: 8,
                    completion_tokens: if ok { 3 } else { 0 },
                    token_source: TokenSource::Usage,
                    status: if ok { 200 } else { 0 },
                    error: (!ok).then_some(ErrorClass::Connect),
                    ..Default::default()
                },
                0,
            );
        }
        agg
    }

    #[test]
    fn each_label_shows_its_goodput_and_no_data_without_objectives() {
        let mut st = stage("good", 1, &aggregate(true));
        let label = |name: &str, checked: u64, met: u64| {
            let mut a = aggregate(true);
            a.counters.goodput_checked = checked;
            a.counters.goodput_met = met;
            crate::run_data::LabelData {
                label: name.into(),
                summary: evalscope::summary(
                    &a,
                    StageLoad {
                        concurrency: 1,
                        rate: None,
                    },
                ),
                rich: RichSummary::of(&a),
                cdfs: vec![],
            }
        };
        let eu = label("region=eu", 4, 3);
        let want = eu.rich.goodput_req_per_s.expect("goodput");
        assert!(want > 0.0);
        st.labels = vec![eu, label("region=us", 0, 0)];
        let html = labels_section(&st);
        let goodput = row(&html, "labels", "Goodput (req/s)");
        assert!(
            goodput.ends_with(&format!(
                "<td class=\"n\">{}</td><td class=\"n\">{NO_DATA}</td>",
                opt_num(Some(want))
            )),
            "{goodput}"
        );
        let share = row(&html, "labels", "Meeting the SLOs");
        assert!(
            share.ends_with(&format!(
                "<td class=\"n\">75.0%</td><td class=\"n\">{NO_DATA}</td>"
            )),
            "{share}"
        );
        st.labels = vec![label("region=us", 0, 0)];
        assert!(
            !labels_section(&st).contains("Goodput"),
            "no objectives: no rows"
        );
    }

    /// The `<tr>` of table `class` whose first cell is `first`.
    fn row<'a>(html: &'a str, class: &str, first: &str) -> &'a str {
        let at = html
            .find(&format!("<table class=\"{class}\""))
            .unwrap_or_else(|| panic!("no table {class}"));
        let table = &html[at..];
        let table = &table[..table.find("</table>").expect("closed")];
        let r = &table[table
            .find(&format!("<tr><td>{first}</td>"))
            .or_else(|| table.find(&format!("<tr><td class=\"n\">{first}</td>")))
            .unwrap_or_else(|| panic!("no row {first}: {table}"))..];
        &r[..r.find("</tr>").expect("row closed")]
    }

    #[test]
    fn a_speed_benchmark_stage_shows_its_speed_table() {
        let mut s = stage("parallel_1_number_8", 1, &aggregate(true));
        assert!(!stage_section("w", &s).contains("speed-benchmark"));
        s.speed = vec![swarm_store::speed_benchmark::SpeedRow {
            prompt_tokens: 6144,
            speed: 12.5,
            gpu_memory_gb: None,
        }];
        let html = stage_section("w", &s);
        let row = row(&html, "speed-benchmark", "6144");
        assert!(row.contains("12.5"), "{row}");
        assert!(row.contains("–"), "{row}");
    }

    #[test]
    fn a_trace_replay_stage_shows_its_send_time_error() {
        let mut s = stage("trace_speed_2_number_60", 1, &aggregate(true));
        assert!(!stage_section("w", &s).contains("trace-replay"));
        s.trace = Some(swarm_store::trace_replay::TraceReplay {
            speed: 2.0,
            requests: 60,
            send_error_ms: swarm_store::trace_replay::SendError {
                p50: Some(0.25),
                p99: Some(3.5),
                max: Some(4.75),
                mean: None,
            },
        });
        let html = stage_section("w", &s);
        let row = row(&html, "trace-replay", "2");
        for v in ["60", "0.2500", "3.5000", "4.7500", "–"] {
            assert!(row.contains(v), "{v} in {row}");
        }
    }

    #[test]
    fn an_all_failed_stage_shows_no_data_not_zeros() {
        let w = PerfWorkload {
            name: "chat".into(),
            model: None,
            stages: vec![
                stage("good", 1, &aggregate(true)),
                stage("failed", 2, &aggregate(false)),
            ],
            sla: None,
        };
        let html = perf_sections(&[w]);
        let dash = format!("<td class=\"n\">{NO_DATA}</td>");

        // sweep overview: rate (closed loop), req/s, tok/s, avg and p99 latency, avg and p99
        // TTFT, avg TPOT, while its counts stay numbers
        let sweep = row(&html, "sweep", "failed");
        assert_eq!(sweep.matches(&dash).count(), 8, "{sweep}");
        assert!(sweep.contains("<td class=\"n\">4</td>"), "{sweep}");
        assert!(sweep.contains("<td class=\"n\">0.0%</td>"), "{sweep}");
        let good = row(&html, "sweep", "good");
        assert_eq!(good.matches(&dash).count(), 1, "only the rate: {good}");

        // the failed stage's cards and percentile table
        let at = html
            .find("id=\"stage-chat-failed\"")
            .expect("stage section");
        let failed = &html[at..];
        for card in ["Req/s", "Avg latency (s)", "Avg TTFT (ms)", "P99 TTFT (ms)"] {
            assert!(
                failed.contains(&format!(
                    "<div class=\"v\">{NO_DATA}</div><div class=\"k\">{card}</div>"
                )),
                "card {card}"
            );
        }
        assert!(failed.contains("<div class=\"v\">0</div><div class=\"k\">Succeeded</div>"));
        for label in ["min", "50%", "99%", "max"] {
            let r = row(failed, "percentiles", label);
            assert_eq!(r.matches(&dash).count(), PERCENTILE_COLUMNS.len(), "{r}");
        }
        assert!(!html.contains("0.0000"), "no fabricated zeros");

        // sweep charts: a point for the good stage, none for the failed one
        assert!(html.contains("<title>p99 TTFT: 1 → 20.0"), "{html}");
        assert!(!html.contains("p99 TTFT: 2 →"), "no point without data");
        assert!(!html.contains("req/s: 2 →"), "no point without data");
    }
}
