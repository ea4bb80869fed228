//! The think-eval figure as SVG: a 2×3 grid, one panel per metric with the level on the x axis,
//! one coloured line (with markers and value labels) per model, a legend on top. Plain SVG text
//! elements: no fonts are needed to write it.

use std::fmt::Write;

use swarm_common::eval::think::{METRICS, ThinkResults, title};

/// Line colours, as EvalScope's figure uses them.
const COLORS: [&str; 6] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
];

const PANEL_W: f64 = 440.0;
const PANEL_H: f64 = 300.0;
const MARGIN_L: f64 = 60.0;
const MARGIN_R: f64 = 20.0;
const MARGIN_T: f64 = 40.0;
const MARGIN_B: f64 = 50.0;
const TOP: f64 = 90.0;

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A "nice" upper bound for an axis holding values up to `max`.
fn nice_max(max: f64) -> f64 {
    if !(max.is_finite() && max > 0.0) {
        return 1.0;
    }
    let mag = 10f64.powf(max.log10().floor());
    for step in [1.0, 2.0, 2.5, 5.0, 10.0] {
        if step * mag >= max {
            return step * mag;
        }
    }
    10.0 * mag
}

/// The SVG figure comparing `models` (label and results), with `heading` on top.
pub fn figure(heading: &str, models: &[(String, ThinkResults)]) -> String {
    let levels: Vec<String> = {
        let mut out: Vec<String> = Vec::new();
        for (_, r) in models {
            for l in r.levels() {
                if !out.contains(&l) {
                    out.push(l);
                }
            }
        }
        out
    };
    let width = 3.0 * PANEL_W;
    let height = TOP + 2.0 * PANEL_H;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif">"#
    );
    let _ = write!(
        s,
        r#"<rect width="100%" height="100%" fill="white"/><text x="{}" y="28" font-size="20" text-anchor="middle">{}</text>"#,
        width / 2.0,
        escape(heading)
    );
    // legend
    let mut x = 20.0;
    for (i, (label, _)) in models.iter().enumerate() {
        let c = COLORS[i % COLORS.len()];
        let _ = write!(
            s,
            r#"<line x1="{x}" y1="55" x2="{}" y2="55" stroke="{c}" stroke-width="3"/><text x="{}" y="60" font-size="14">{}</text>"#,
            x + 24.0,
            x + 30.0,
            escape(label)
        );
        x += 40.0 + 8.0 * label.chars().count() as f64;
    }
    for (p, metric) in METRICS.iter().enumerate() {
        let ox = (p % 3) as f64 * PANEL_W;
        let oy = TOP + (p / 3) as f64 * PANEL_H;
        panel(&mut s, ox, oy, metric, &levels, models);
    }
    s.push_str("</svg>\n");
    s
}

fn panel(
    s: &mut String,
    ox: f64,
    oy: f64,
    metric: &str,
    levels: &[String],
    models: &[(String, ThinkResults)],
) {
    let (x0, y0) = (ox + MARGIN_L, oy + MARGIN_T);
    let (w, h) = (PANEL_W - MARGIN_L - MARGIN_R, PANEL_H - MARGIN_T - MARGIN_B);
    let max = models
        .iter()
        .flat_map(|(_, r)| levels.iter().filter_map(|l| r.get(metric, l)))
        .fold(0.0_f64, f64::max);
    let top = match metric {
        "token_efficiency" | "accuracy" => 1.0,
        _ => nice_max(max * 1.1),
    };
    let _ = write!(
        s,
        r#"<text x="{}" y="{}" font-size="15" text-anchor="middle">{}</text>"#,
        x0 + w / 2.0,
        oy + 22.0,
        escape(&title(metric))
    );
    // axes, grid and ticks
    for k in 0..=4 {
        let v = top * f64::from(k) / 4.0;
        let y = y0 + h - h * f64::from(k) / 4.0;
        let _ = write!(
            s,
            r##"<line x1="{x0}" y1="{y}" x2="{}" y2="{y}" stroke="#e5e5e5"/><text x="{}" y="{}" font-size="11" text-anchor="end">{}</text>"##,
            x0 + w,
            x0 - 6.0,
            y + 4.0,
            tick(v, top)
        );
    }
    let _ = write!(
        s,
        r##"<line x1="{x0}" y1="{y0}" x2="{x0}" y2="{}" stroke="#333"/><line x1="{x0}" y1="{}" x2="{}" y2="{}" stroke="#333"/>"##,
        y0 + h,
        y0 + h,
        x0 + w,
        y0 + h
    );
    let n = levels.len().max(1);
    let xs: Vec<f64> = (0..levels.len())
        .map(|i| x0 + w * (i as f64 + 0.5) / n as f64)
        .collect();
    for (l, x) in levels.iter().zip(&xs) {
        let _ = write!(
            s,
            r#"<text x="{x}" y="{}" font-size="11" text-anchor="middle">{}</text>"#,
            y0 + h + 18.0,
            escape(l)
        );
    }
    let y_of = |v: f64| y0 + h - h * (v / top).clamp(0.0, 1.0);
    for (m, (_, r)) in models.iter().enumerate() {
        let c = COLORS[m % COLORS.len()];
        let points: Vec<(f64, f64, f64)> = levels
            .iter()
            .zip(&xs)
            .filter_map(|(l, x)| r.get(metric, l).map(|v| (*x, y_of(v), v)))
            .collect();
        let path: Vec<String> = points
            .iter()
            .map(|(x, y, _)| format!("{x:.1},{y:.1}"))
            .collect();
        let _ = write!(
            s,
            r#"<polyline points="{}" fill="none" stroke="{c}" stroke-width="2"/>"#,
            path.join(" ")
        );
        for (x, y, v) in points {
            let _ = write!(
                s,
                r#"<circle cx="{x:.1}" cy="{y:.1}" r="3.5" fill="{c}"/><text x="{x:.1}" y="{:.1}" font-size="10" fill="{c}" text-anchor="middle">{v:.2}</text>"#,
                y - 8.0
            );
        }
    }
}

fn tick(v: f64, top: f64) -> String {
    if top <= 1.0 {
        format!("{v:.2}")
    } else if top < 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.0}")
    }
}
