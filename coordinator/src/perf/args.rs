//! `coordinator perf`: EvalScope's perf flags, so an EvalScope user needs no relearning, plus a
//! few of ours (arrival distribution, seed, bad-line policy, built-in simulator).

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use swarm_common::dataset;
use swarm_common::shard::ApiKind;

use crate::plan::Plan;
use crate::plan::model::{
    DatasetDef, PerfDef, SlaDef, StageDef, TargetDef, TimeoutsDef, WorkloadDef,
};

/// Open-loop arrival distributions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ArrivalArg {
    /// Exponential gaps (EvalScope's `--rate`).
    Poisson,
    /// Evenly spaced.
    Constant,
    /// Gamma gaps; set `--burstiness`.
    Gamma,
}

/// The flags of `coordinator perf`.
#[derive(Debug, Clone, Args)]
pub struct PerfArgs {
    /// Endpoint URL: `.../v1/chat/completions`, `.../v1/completions`, or a base URL (chat).
    #[arg(long, required_unless_present = "sim")]
    pub url: Option<String>,
    /// Start the built-in simulated model server and target it (no --url needed).
    #[arg(long)]
    pub sim: bool,
    /// The `model` field of every request.
    #[arg(long, default_value = "sim-model")]
    pub model: String,
    /// API flavour: `openai` (chat/completions or completions, picked from the URL),
    /// `openai_embedding` (/v1/embeddings), `openai_rerank` (/v1/rerank) or `openai_responses`
    /// (/v1/responses).
    #[arg(long, default_value = "openai")]
    pub api: String,
    /// Extra request headers, `key=value`.
    #[arg(long, num_args = 1..)]
    pub headers: Vec<String>,
    /// Concurrency per stage (several values run a sweep).
    #[arg(long, num_args = 1.., default_values_t = vec![1u32])]
    pub parallel: Vec<u32>,
    /// Requests per stage (one value, or one per stage).
    #[arg(long, num_args = 1..)]
    pub number: Vec<u64>,
    /// Open-loop arrival rate(s) in req/s; `--parallel` then caps requests in flight.
    #[arg(long, num_args = 1..)]
    pub rate: Vec<f64>,
    /// Arrival distribution for `--rate`.
    #[arg(long, value_enum, default_value = "poisson")]
    pub arrival: ArrivalArg,
    /// Gamma shape for `--arrival gamma` (< 1 burstier than Poisson).
    #[arg(long, default_value_t = 1.0)]
    pub burstiness: f64,
    /// Ramp the rate inside each stage (vLLM's `--ramp-up-strategy`): `linear` or
    /// `exponential`, from `--ramp-up-start-rps` to `--ramp-up-end-rps` over the stage's
    /// `--number` requests (request i paced at progress i/(number−1)), or over `--duration`
    /// seconds when there is no `--number`. Not with `--rate`.
    #[arg(long, value_parser = ["linear", "exponential"])]
    pub ramp_up_strategy: Option<String>,
    /// Rate at the start of the ramp, req/s.
    #[arg(long, alias = "ramp-up-start-rate")]
    pub ramp_up_start_rps: Option<f64>,
    /// Rate at the end of the ramp, req/s.
    #[arg(long, alias = "ramp-up-end-rate")]
    pub ramp_up_end_rps: Option<f64>,
    /// Stream responses (SSE).
    #[arg(long, overrides_with = "no_stream")]
    pub stream: bool,
    /// Do not stream responses.
    #[arg(long, overrides_with = "stream")]
    pub no_stream: bool,
    /// Dataset kind: openqa, longalpaca, line_by_line, sharegpt, custom, random.
    #[arg(long, default_value = "openqa")]
    pub dataset: String,
    /// Dataset file.
    #[arg(long)]
    pub dataset_path: Option<PathBuf>,
    /// The dataset's own arguments as a JSON object (EvalScope's `--dataset-args`); read:
    /// `speed` of `mooncake_trace` (line times divided by it).
    #[arg(long)]
    pub dataset_args: Option<String>,
    /// What to do with a malformed dataset record.
    #[arg(long, value_enum, default_value = "skip")]
    pub on_bad_line: BadLineArg,
    /// `max_tokens` of every request.
    #[arg(long)]
    pub max_tokens: Option<u32>,
    /// `min_tokens` of every request.
    #[arg(long)]
    pub min_tokens: Option<u32>,
    /// `temperature`.
    #[arg(long)]
    pub temperature: Option<f64>,
    /// `top_p`.
    #[arg(long)]
    pub top_p: Option<f64>,
    /// `top_k`.
    #[arg(long)]
    pub top_k: Option<i64>,
    /// Shortest prompt kept (tokens with a tokenizer, else characters; random: shortest made).
    #[arg(long, default_value_t = 0)]
    pub min_prompt_length: usize,
    /// Longest prompt kept.
    #[arg(long, default_value_t = dataset::DEFAULT_MAX_PROMPT_LENGTH)]
    pub max_prompt_length: usize,
    /// Shared prefix tokens of random prompts.
    #[arg(long, default_value_t = 0)]
    pub prefix_length: usize,
    /// `random_vl`: pictures per prompt.
    #[arg(long)]
    pub image_num: Option<u32>,
    /// `random_vl`: picture width, pixels (224).
    #[arg(long)]
    pub image_width: Option<u32>,
    /// `random_vl`: picture height, pixels (224).
    #[arg(long)]
    pub image_height: Option<u32>,
    /// `random_vl`: pixel layout, RGB (default), L or RGBA (PIL's mode names, as EvalScope).
    #[arg(long)]
    pub image_format: Option<String>,
    /// Tokenizer: a tokenizer.json, a model folder holding one, or a tiktoken encoding name.
    #[arg(long)]
    pub tokenizer_path: Option<String>,
    /// Unmeasured warmup requests before each stage.
    #[arg(long, default_value_t = 0)]
    pub warmup_num: u32,
    /// Longest each stage may run, seconds.
    #[arg(long)]
    pub duration: Option<f64>,
    /// Connect timeout, seconds.
    #[arg(long, default_value_t = 10.0)]
    pub connect_timeout: f64,
    /// Longest wait for the next chunk, seconds.
    #[arg(long, default_value_t = 600.0)]
    pub read_timeout: f64,
    /// Longest a whole request may take, seconds.
    #[arg(long, default_value_t = 3600.0)]
    pub total_timeout: f64,
    /// Extra request body keys as a JSON object, e.g. '{"ignore_eos": true}'.
    #[arg(long)]
    pub extra_args: Option<String>,
    /// Run name (part of the run folder).
    #[arg(long, default_value = "perf")]
    pub name: String,
    /// Seed for arrival schedules and random prompts.
    #[arg(long, default_value_t = dataset::DEFAULT_SEED)]
    pub seed: u64,
    /// Do not write per-request records to SQLite.
    #[arg(long)]
    pub no_sqlite: bool,
    /// Goodput objectives, vLLM's syntax: `--goodput ttft:500 tpot:50 e2el:2000` (milliseconds,
    /// any subset); each stage then reports the requests per second that met all of them.
    #[arg(long, num_args = 1.., value_name = "METRIC:MS")]
    pub goodput: Vec<String>,
    /// A threshold every stage must meet, e.g. `--threshold 'p99_ttft<=500ms'
    /// --threshold 'error_rate<0.01'`; a failed one ends the command with exit status 99.
    /// Metrics: avg/min/max/p50/p90/p95/p99/p999 of ttft, ttfo, itl, tpot, latency; rps,
    /// output_tps, goodput, error_rate.
    #[arg(long = "threshold", value_name = "METRIC OP VALUE")]
    pub thresholds: Vec<String>,
    /// Stop a stage once this many of its requests failed; later stages are not run, and the
    /// command ends with exit status 99 (guidellm's --max-errors).
    #[arg(long, value_name = "N")]
    pub max_errors: Option<u64>,
    /// Stop a stage once this share of its finished requests failed (0..1, judged from 20
    /// requests on); later stages are not run, exit status 99 (guidellm's --max-error-rate).
    #[arg(long, value_name = "RATE")]
    pub max_error_rate: Option<f64>,
    /// Extra percentile rows after EvalScope's fixed ones, e.g. `--percentiles 50,90,99,99.9`
    /// (each in (0, 100), at most 20): in the terminal's percentile table,
    /// `benchmark_percentile.json` (rows like `99.9%`) and the report.
    #[arg(long, value_delimiter = ',', value_name = "P,P,...")]
    pub percentiles: Vec<f64>,
    /// Also write the sweep overview as `perf/<name>/overview.csv` and each stage's
    /// percentiles as `<stage>/percentiles.csv`.
    #[arg(long)]
    pub export_csv: bool,
    /// SLA auto-tune (EvalScope's): instead of the fixed sweep, search for the largest
    /// `--sla-variable` meeting `--sla-params` (double, then bisect), each probe a stage.
    #[arg(long)]
    pub sla_auto_tune: bool,
    /// The variable the SLA search tunes.
    #[arg(long, value_enum, default_value = "parallel")]
    pub sla_variable: super::sla::Variable,
    /// SLA criteria, JSON: `'[{"p99_ttft": "<=0.1", "avg_tpot": "<=50ms"}, {"tps": ">=100"}]'`
    /// (within an object AND, each object its own search); one `"max"` / `"min"` metric
    /// optimises it. Metrics: avg_latency, avg_ttft, avg_tpot, rps, tps, p99_latency, p99_ttft,
    /// p99_tpot, p50/p90 of ttft and tpot; times in seconds unless they say `ms`.
    #[arg(long, value_name = "JSON")]
    pub sla_params: Option<String>,
    /// Runs per probe, averaged.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
    pub sla_num_runs: u32,
    /// Upper bound of the searched values.
    #[arg(long, default_value_t = 65536)]
    pub sla_upper_bound: u64,
    /// Lower bound of the searched values.
    #[arg(long, default_value_t = 1)]
    pub sla_lower_bound: u64,
    /// Concurrency cap while tuning `rate` (default: --sla-upper-bound, as EvalScope's).
    #[arg(long)]
    pub sla_fixed_parallel: Option<u32>,
    /// Requests per probe = round(value × this) (default 2).
    #[arg(long)]
    pub sla_number_multiplier: Option<f64>,
    /// Multi-turn conversations (EvalScope's): a multi-turn dataset; --number counts
    /// conversations, --parallel concurrent ones, --rate conversation starts per second.
    #[arg(long)]
    pub multi_turn: bool,
    /// Fewest user turns of a random_multi_turn conversation (default 1).
    #[arg(long, value_name = "N")]
    pub min_turns: Option<usize>,
    /// Most user turns: random_multi_turn draws up to it (required there); other datasets cut
    /// longer conversations.
    #[arg(long, value_name = "N")]
    pub max_turns: Option<usize>,
    /// Seconds a conversation waits after an answer before its next turn (default 0).
    #[arg(long, value_name = "SECONDS")]
    pub think_time: Option<f64>,
    /// The credential, the run folder, the in-process agents, how they reach the target.
    #[command(flatten)]
    pub common: crate::plan::flags::CommonArgs,
}

/// `e` if its numbers make sense.
pub fn checked_early_stop(e: super::job::EarlyStop) -> anyhow::Result<super::job::EarlyStop> {
    if let Some(r) = e.max_error_rate
        && !(r.is_finite() && (0.0..1.0).contains(&r))
    {
        anyhow::bail!("--max-error-rate {r}: must be at least 0 and below 1");
    }
    if e.max_errors == Some(0) {
        anyhow::bail!("--max-errors 0: must be at least 1");
    }
    Ok(e)
}

/// `--on-bad-line` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BadLineArg {
    /// Report and skip the record.
    Skip,
    /// Fail the run.
    Fail,
}

/// Stage `i`'s value of a sweep list, EvalScope-style: lists of the sweep's length pair up, a
/// single value repeats.
fn nth<T: Copy>(v: &[T], i: usize) -> Option<T> {
    v.get(if v.len() == 1 { 0 } else { i }).copied()
}

impl PerfArgs {
    /// Whether responses are streamed (default yes).
    pub fn streaming(&self) -> bool {
        !self.no_stream
    }

    /// `--duration`, if it is a positive number of seconds.
    fn duration(&self) -> anyhow::Result<Option<f64>> {
        match self.duration {
            Some(d) if !(d.is_finite() && d > 0.0) => {
                bail!("--duration must be a positive number of seconds, got {d}")
            }
            d => Ok(d),
        }
    }

    /// `--arrival` and `--burstiness` as a stage at `rate` writes them.
    fn arrival(&self, rate: Option<f64>) -> (Option<String>, Option<f64>) {
        let name = rate.map(|_| value_name(self.arrival));
        let gamma = rate.is_some() && self.arrival == ArrivalArg::Gamma;
        (name, gamma.then_some(self.burstiness))
    }

    /// The `--ramp-up-*` flags as a stage's ramp (its `over_s` the duration, used when the
    /// stage has no `--number`).
    fn ramp(&self, duration_s: Option<f64>) -> anyhow::Result<Option<crate::plan::model::RampDef>> {
        let Some(strategy) = &self.ramp_up_strategy else {
            if self.ramp_up_start_rps.is_some() || self.ramp_up_end_rps.is_some() {
                bail!("--ramp-up-start-rps and --ramp-up-end-rps need --ramp-up-strategy");
            }
            return Ok(None);
        };
        if !self.rate.is_empty() {
            bail!(
                "--ramp-up-strategy sets the rate: leave out --rate (the rate goes from \
                 --ramp-up-start-rps to --ramp-up-end-rps)"
            );
        }
        let (Some(from), Some(to)) = (self.ramp_up_start_rps, self.ramp_up_end_rps) else {
            bail!("--ramp-up-strategy needs both --ramp-up-start-rps and --ramp-up-end-rps");
        };
        for (flag, v) in [("start", from), ("end", to)] {
            if !(v.is_finite() && v >= 0.0) {
                bail!("--ramp-up-{flag}-rps must be a number at least 0, got {v}");
            }
        }
        if from > to {
            bail!(
                "--ramp-up-start-rps {from} is above --ramp-up-end-rps {to}: the ramp goes up (as vLLM); a plan's ramp may go down"
            );
        }
        if from == 0.0 && (strategy == "exponential" || !self.number.is_empty()) {
            bail!(
                "--ramp-up-start-rps must be above 0 (as vLLM: request 0 is paced at the start rate)"
            );
        }
        if to == 0.0 {
            bail!("--ramp-up-end-rps must be above 0");
        }
        Ok(Some(crate::plan::model::RampDef {
            of: None,
            from,
            to,
            over_s: duration_s,
            strategy: Some(strategy.clone()),
        }))
    }

    /// The sweep's stages, checked.
    fn stages(&self) -> anyhow::Result<Vec<StageDef>> {
        let lists = [
            ("parallel", self.parallel.len()),
            ("number", self.number.len()),
            ("rate", self.rate.len()),
        ];
        let n = lists.iter().map(|(_, l)| *l).max().unwrap_or(1).max(1);
        let multi: Vec<_> = lists.iter().filter(|(_, l)| *l > 1).collect();
        if multi.iter().any(|(_, l)| *l != n) {
            let what: Vec<_> = multi
                .iter()
                .map(|(k, l)| format!("--{k} has {l} values"))
                .collect();
            bail!(
                "sweep lists differ in length: {}; give one value or the same number for each",
                what.join(", ")
            );
        }
        let duration_s = self.duration()?;
        let explicit_parallel = self.parallel != vec![1];
        let ramp = self.ramp(duration_s)?;
        (0..n)
            .map(|i| {
                let (p, number, rate) = (
                    nth(&self.parallel, i).unwrap_or(1),
                    nth(&self.number, i),
                    nth(&self.rate, i),
                );
                if p == 0 {
                    bail!("--parallel must be at least 1");
                }
                if let Some(r) = rate
                    && !(r.is_finite() && r > 0.0)
                {
                    bail!("--rate must be a positive number of requests per second, got {r}")
                }
                // a trace bounds its own replay
                let trace = self.dataset == swarm_common::trace::DATASET;
                if number.is_none() && duration_s.is_none() && !trace {
                    bail!("give --number or --duration: a stage needs a bound");
                }
                if number == Some(0) {
                    bail!("--number must be at least 1");
                }
                let (arrival, burstiness) = self.arrival(rate.or(ramp.as_ref().map(|r| r.to)));
                let open = rate.is_some() || ramp.is_some();
                let ramp = ramp.clone().map(|r| crate::plan::model::RampDef {
                    // vLLM's clock: over the stage's requests when it has a count
                    over_s: number.is_none().then_some(r.over_s).flatten(),
                    ..r
                });
                Ok(StageDef {
                    // open loop: `--parallel` caps requests in flight only when given
                    parallel: (!open || explicit_parallel).then_some(p),
                    rate,
                    arrival,
                    burstiness,
                    number,
                    duration_s,
                    ramp,
                })
            })
            .collect()
    }

    /// The start of an SLA search (`--sla-auto-tune`): one stage at the first `--parallel` and
    /// `--rate`; each probe then sizes itself.
    fn sla(&self) -> anyhow::Result<(SlaDef, StageDef)> {
        if self.ramp_up_strategy.is_some() {
            bail!(
                "--ramp-up-strategy does not go with --sla-auto-tune: the search sets each probe's load"
            );
        }
        let params = self
            .sla_params
            .clone()
            .context("--sla-auto-tune needs --sla-params, e.g. '[{\"p99_ttft\": \"<=0.1\"}]'")?;
        let duration_s = self.duration()?;
        let rate = self.rate.first().copied();
        let (arrival, burstiness) = self.arrival(rate);
        let start = StageDef {
            parallel: self.parallel.first().copied(),
            rate,
            arrival,
            burstiness,
            number: self.number.first().copied(),
            duration_s,
            ramp: None,
        };
        let def = SlaDef {
            variable: self.sla_variable.name().to_string(),
            params,
            num_runs: self.sla_num_runs,
            upper_bound: self.sla_upper_bound,
            lower_bound: self.sla_lower_bound,
            fixed_parallel: self.sla_fixed_parallel,
            number_multiplier: self.sla_number_multiplier,
            // `rate` probes arrive as --arrival says, with or without a starting --rate
            arrival: None,
            burstiness: None,
        };
        let def = match self.sla_variable {
            super::sla::Variable::Rate => {
                let (arrival, burstiness) = self.arrival(Some(1.0));
                SlaDef {
                    arrival,
                    burstiness,
                    ..def
                }
            }
            super::sla::Variable::Parallel => def,
        };
        Ok((def, start))
    }

    /// The endpoint at `url` with the flags' settings.
    pub fn target(&self, url: &str) -> anyhow::Result<swarm_common::shard::TargetSpec> {
        let def = TargetDef {
            url: Some(url.to_string()),
            sim: None,
            ..self.target_def()?
        };
        crate::plan::build::target_spec(&def, std::path::Path::new(""), &Default::default())
    }

    /// The endpoint the flags name: the built-in simulator with `--sim`, else `--url`.
    fn target_def(&self) -> anyhow::Result<TargetDef> {
        if ApiKind::from_flag(&self.api, "").is_none() {
            bail!(
                "--api {:?} is not supported; use openai (chat/completions or completions, picked from the url), openai_embedding, openai_rerank or openai_responses",
                self.api
            );
        }
        let headers = self
            .headers
            .iter()
            .map(|h| match h.split_once('=') {
                Some((k, v)) if !k.trim().is_empty() => {
                    Ok((k.trim().to_string(), v.trim().to_string()))
                }
                _ => bail!("--headers expects key=value, got {h:?}"),
            })
            .collect::<anyhow::Result<_>>()?;
        for (flag, v) in [
            ("connect-timeout", self.connect_timeout),
            ("read-timeout", self.read_timeout),
            ("total-timeout", self.total_timeout),
        ] {
            if !(v.is_finite() && v > 0.0) {
                bail!("--{flag} must be a positive number of seconds, got {v}");
            }
        }
        let timeouts = TimeoutsDef {
            connect_s: self.connect_timeout,
            read_s: self.read_timeout,
            total_s: self.total_timeout,
        };
        let url = self.url.as_deref().filter(|_| !self.sim);
        let mut t = crate::plan::flags::target(url, &self.model, timeouts, &self.common);
        t.api = Some(self.api.clone());
        t.headers = headers;
        Ok(t)
    }

    /// `--multi-turn` and its settings.
    fn multi_turn(&self) -> anyhow::Result<Option<crate::plan::model::MultiTurnDef>> {
        if !self.multi_turn {
            if self.min_turns.is_some() || self.max_turns.is_some() || self.think_time.is_some() {
                bail!("--min-turns, --max-turns and --think-time need --multi-turn");
            }
            return Ok(None);
        }
        Ok(Some(crate::plan::model::MultiTurnDef {
            min_turns: self.min_turns.unwrap_or(1),
            max_turns: self.max_turns,
            think_time_s: self.think_time.unwrap_or(0.0),
        }))
    }

    /// The plan the flags describe: one perf workload against one target, on `--agents`
    /// in-process agents.
    pub fn plan(&self) -> anyhow::Result<Plan> {
        let target = self.target_def()?;
        let extra_args = crate::plan::flags::json_object("extra-args", self.extra_args.as_deref())?;
        let (stages, sla) = if self.sla_auto_tune {
            let (def, start) = self.sla()?;
            (vec![start], Some(def))
        } else {
            (self.stages()?, None)
        };
        let goodput = if self.goodput.is_empty() {
            None
        } else {
            Some(swarm_common::goodput::Goodput::parse(
                self.goodput.iter().map(String::as_str),
            )?)
        };
        let perf = PerfDef {
            target: target.name.clone(),
            dataset: DatasetDef {
                kind: self.dataset.clone(),
                path: self.dataset_path.clone(),
                tokenizer: self.tokenizer_path.clone(),
                min_prompt_length: Some(self.min_prompt_length),
                max_prompt_length: Some(self.max_prompt_length),
                prefix_length: Some(self.prefix_length),
                number: None,
                on_bad_line: Some(value_name(self.on_bad_line)),
                speed: dataset_speed(self.dataset_args.as_deref())?,
                image_num: self.image_num,
                image_width: self.image_width,
                image_height: self.image_height,
                image_format: self.image_format.clone(),
            },
            stream: self.streaming(),
            max_tokens: self.max_tokens,
            min_tokens: self.min_tokens,
            temperature: self.temperature,
            top_p: self.top_p,
            top_k: self.top_k,
            extra_args,
            warmup: self.warmup_num,
            seed: self.seed,
            sqlite: !self.no_sqlite,
            goodput,
            thresholds: self.thresholds.clone(),
            early_stop: checked_early_stop(super::job::EarlyStop {
                max_errors: self.max_errors,
                max_error_rate: self.max_error_rate,
            })?,
            percentiles: swarm_common::metrics::evalscope::checked_extra_percentiles(
                &self.percentiles,
            )
            .map_err(|e| anyhow::anyhow!("--percentiles: {e}"))?,
            export_csv: self.export_csv,
            stages,
            sla,
            label_targets: Default::default(),
            multi_turn: self.multi_turn()?,
        };
        let workload = WorkloadDef {
            name: self.name.clone(),
            placement: Default::default(),
            perf: Some(perf),
            eval: None,
        };
        Ok(Plan::of_flags(&self.name, &self.common, target, workload))
    }
}

/// `speed` of `--dataset-args` (the only key read; any other is refused, so nothing is
/// silently ignored).
fn dataset_speed(args: Option<&str>) -> anyhow::Result<Option<f64>> {
    let args = crate::plan::flags::json_object("dataset-args", args)?;
    let mut speed = None;
    for (k, v) in &args {
        match k.as_str() {
            "speed" => match v.as_f64().filter(|s| s.is_finite() && *s > 0.0) {
                Some(s) => speed = Some(s),
                None => bail!("--dataset-args speed must be a number > 0, got {v}"),
            },
            other => bail!("--dataset-args {other}: unknown (read: speed)"),
        }
    }
    Ok(speed)
}

/// The name clap gives `v` on the command line, which is also the plan's.
fn value_name(v: impl ValueEnum) -> String {
    v.to_possible_value()
        .map(|p| p.get_name().to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod ramp_tests;
