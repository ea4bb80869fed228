//! Small SVG charts drawn on the server: lines with points (over numbers or over categories)
//! and grouped bars. Text is SVG `<text>` (the reader's font, nothing loaded), every label
//! escaped, every point carrying a `<title>` with its values for hover and for tests.

use std::fmt::Write;

use super::escape::{esc, num};

/// Width of every chart.
pub const W: f64 = 640.0;
/// Height of every chart.
pub const H: f64 = 300.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 28.0;
const BOTTOM: f64 = 64.0;

/// The colours series take in turn.
pub const PALETTE: [&str; 8] = [
    "#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#4b5563",
];

/// The CSS of the charts' text classes (the report page and standalone figures carry it).
pub const STYLE: &str = "svg .ct{font-size:14px;font-weight:600}svg .al{font-size:12px;fill:#374151}svg .tk{font-size:11px;fill:#6b7280}svg .lg{font-size:11px}svg .vl{font-size:10px}";

/// One named line.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend name.
    pub name: String,
    /// (x, y) points in x order.
    pub points: Vec<(f64, f64)>,
}

/// What a line chart shows.
#[derive(Debug, Clone, Copy)]
pub struct Axes<'a> {
    /// Chart title.
    pub title: &'a str,
    /// X axis label.
    pub x: &'a str,
    /// Y axis label.
    pub y: &'a str,
}

impl<'a> Axes<'a> {
    /// A chart titled `title`, `x` and `y` its axes' labels.
    pub fn new(title: &'a str, x: &'a str, y: &'a str) -> Self {
        Self { title, x, y }
    }
}

/// About five round tick values covering `[lo, hi]`.
fn ticks(lo: f64, hi: f64) -> Vec<f64> {
    let span = (hi - lo).max(f64::EPSILON);
    let raw = span / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| span / s <= 6.0)
        .unwrap_or(10.0 * mag);
    let first = (lo / step).ceil() * step;
    (0..=12)
        .map(|i| first + i as f64 * step)
        .take_while(|v| *v <= hi + step * 1e-9)
        .collect()
}

fn label(v: f64) -> String {
    if v.abs() >= 1e6 || (v != 0.0 && v.abs() < 1e-3) {
        format!("{v:.2e}")
    } else if v.fract().abs() < 1e-9 {
        format!("{}", v.round() as i64)
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

fn range(values: impl Iterator<Item = f64>, from_zero: bool) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if from_zero {
        lo = lo.min(0.0);
    }
    if (hi - lo).abs() < f64::EPSILON {
        hi = lo + if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
    }
    (lo, hi)
}

fn open(out: &mut String, axes: &Axes, kind: &str) {
    let _ = write!(
        out,
        r#"<svg class="chart" data-chart="{kind}" role="img" viewBox="0 0 {W} {H}" width="{W}" height="{H}" xmlns="http://www.w3.org/2000/svg"><title>{t}</title><text x="{cx}" y="18" text-anchor="middle" class="ct">{t}</text>"#,
        t = esc(axes.title),
        cx = W / 2.0
    );
    let _ = write!(
        out,
        r#"<text x="{cx}" y="{xy}" text-anchor="middle" class="al">{x}</text><text transform="translate(14 {cy}) rotate(-90)" text-anchor="middle" class="al">{y}</text>"#,
        cx = LEFT + (W - LEFT - RIGHT) / 2.0,
        xy = H - 30.0,
        cy = TOP + (H - TOP - BOTTOM) / 2.0,
        x = esc(axes.x),
        y = esc(axes.y)
    );
}

fn y_axis(out: &mut String, lo: f64, hi: f64, sy: &dyn Fn(f64) -> f64) {
    for t in ticks(lo, hi) {
        let y = sy(t);
        let _ = write!(
            out,
            r##"<line x1="{LEFT}" x2="{x2}" y1="{y:.1}" y2="{y:.1}" stroke="#e5e7eb"/><text x="{lx}" y="{ty:.1}" text-anchor="end" class="tk">{l}</text>"##,
            x2 = W - RIGHT,
            lx = LEFT - 6.0,
            ty = y + 4.0,
            l = label(t)
        );
    }
}

/// A legend of `names` (series colours in order) from `(x, y)`: the top of the swatches.
pub fn legend_at(out: &mut String, names: &[&str], x: f64, y: f64) {
    let mut x = x;
    for (i, name) in names.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let _ = write!(
            out,
            r#"<rect x="{x:.1}" y="{y}" width="10" height="10" fill="{color}"/><text x="{tx:.1}" y="{ty}" class="lg">{n}</text>"#,
            tx = x + 14.0,
            ty = y + 9.0,
            n = esc(name)
        );
        x += 24.0 + 7.0 * name.chars().count() as f64;
    }
}

fn legend(out: &mut String, names: &[&str]) {
    legend_at(out, names, LEFT, H - 16.0);
}

/// Closes an empty chart with a "no data" note.
fn no_data(out: &mut String) {
    let _ = write!(
        out,
        r#"<text x="{}" y="{}" text-anchor="middle" class="al">no data</text></svg>"#,
        W / 2.0,
        H / 2.0
    );
}

/// A line chart of `series`, y from zero; an empty chart says "no data".
pub fn line_chart(axes: &Axes, series: &[Series]) -> String {
    marked_line_chart(axes, series, &Marks::default())
}

/// What [`marked_line_chart`] draws over its lines.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Marks {
    /// `(name, y)`: a dashed horizontal line across the plot (a limit).
    pub h_lines: Vec<(String, f64)>,
    /// `(name, x)`: a dashed vertical line (a chosen value).
    pub v_lines: Vec<(String, f64)>,
    /// Per series, per point (in the order of its points): passed (a filled point, class
    /// `pass`), failed (a hollow red ring, class `fail`) or neither.
    pub verdicts: Vec<Vec<Option<bool>>>,
}

const FAIL_COLOR: &str = "#dc2626";

/// A line chart of `series` with `marks`; y from zero, the axes reaching every mark.
pub fn marked_line_chart(axes: &Axes, series: &[Series], marks: &Marks) -> String {
    let mut out = String::new();
    open(&mut out, axes, "line");
    let all = || series.iter().flat_map(|s| s.points.iter());
    if all().next().is_none() {
        no_data(&mut out);
        return out;
    }
    let (x0, x1) = range(
        all().map(|p| p.0).chain(marks.v_lines.iter().map(|l| l.1)),
        false,
    );
    let (y0, y1) = range(
        all().map(|p| p.1).chain(marks.h_lines.iter().map(|l| l.1)),
        true,
    );
    let pw = W - LEFT - RIGHT;
    let ph = H - TOP - BOTTOM;
    let sx = |x: f64| LEFT + (x - x0) / (x1 - x0) * pw;
    let sy = |y: f64| TOP + ph - (y - y0) / (y1 - y0) * ph;
    y_axis(&mut out, y0, y1, &sy);
    for t in ticks(x0, x1) {
        let _ = write!(
            out,
            r#"<text x="{x:.1}" y="{y}" text-anchor="middle" class="tk">{l}</text>"#,
            x = sx(t),
            y = TOP + ph + 16.0,
            l = label(t)
        );
    }
    for (name, y) in marks.h_lines.iter().filter(|l| l.1.is_finite()) {
        let _ = write!(
            out,
            r##"<line class="limit" x1="{LEFT}" x2="{x2}" y1="{y:.1}" y2="{y:.1}" stroke="#6b7280" stroke-dasharray="6 4"><title>{n}: {v}</title></line><text x="{tx}" y="{ty:.1}" text-anchor="end" class="tk">{n}</text>"##,
            x2 = W - RIGHT,
            y = sy(*y),
            n = esc(name),
            v = num(*y),
            tx = W - RIGHT - 4.0,
            ty = sy(*y) - 4.0
        );
    }
    for (name, x) in marks.v_lines.iter().filter(|l| l.1.is_finite()) {
        let _ = write!(
            out,
            r##"<line class="chosen" x1="{x:.1}" x2="{x:.1}" y1="{TOP}" y2="{y2}" stroke="#16a34a" stroke-dasharray="3 3"><title>{n}: {v}</title></line><text x="{tx:.1}" y="{ty}" class="tk">{n}</text>"##,
            x = sx(*x),
            y2 = TOP + ph,
            n = esc(name),
            v = num(*x),
            tx = sx(*x) + 4.0,
            ty = TOP + 10.0
        );
    }
    for (i, s) in series.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let finite = |(x, y): &&(f64, f64)| x.is_finite() && y.is_finite();
        let pts: Vec<String> = s
            .points
            .iter()
            .filter(finite)
            .map(|&(x, y)| format!("{:.1},{:.1}", sx(x), sy(y)))
            .collect();
        let _ = write!(
            out,
            r#"<polyline fill="none" stroke="{color}" stroke-width="2" points="{}" data-series="{}"/>"#,
            pts.join(" "),
            esc(&s.name)
        );
        if s.points.len() > 60 {
            continue;
        }
        let verdicts = marks.verdicts.get(i);
        for (j, &(x, y)) in s.points.iter().enumerate() {
            if !finite(&&(x, y)) {
                continue;
            }
            let (attrs, note) = match verdicts.and_then(|v| v.get(j).copied().flatten()) {
                Some(true) => (format!(r#"class="pass" fill="{color}""#), " (pass)"),
                Some(false) => (
                    format!(r#"class="fail" fill="white" stroke="{FAIL_COLOR}" stroke-width="2""#),
                    " (FAIL)",
                ),
                None => (format!(r#"fill="{color}""#), ""),
            };
            let _ = write!(
                out,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3" {attrs}><title>{}: {} → {}{note}</title></circle>"#,
                sx(x),
                sy(y),
                esc(&s.name),
                num(x),
                num(y)
            );
        }
    }
    let names: Vec<&str> = series.iter().map(|s| s.name.as_str()).collect();
    legend(&mut out, &names);
    out.push_str("</svg>");
    out
}

/// How [`category_line_chart`] draws.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LineStyle {
    /// The y axis reaches at least this (1 for ratios).
    pub y_max: Option<f64>,
    /// Each point's value written above it.
    pub values: bool,
    /// A legend under the chart.
    pub legend: bool,
}

/// Lines over categories (levels, stages), one per series (`values[series][category]`, NaN
/// for none), y from zero; an empty chart says "no data".
pub fn category_line_chart(
    axes: &Axes,
    categories: &[String],
    series: &[(String, Vec<f64>)],
    style: LineStyle,
) -> String {
    let mut out = String::new();
    open(&mut out, axes, "category-line");
    let all = || series.iter().flat_map(|s| s.1.iter().copied());
    if !all().any(f64::is_finite) {
        no_data(&mut out);
        return out;
    }
    let (y0, mut y1) = range(all(), true);
    if style.values {
        y1 += (y1 - y0) * 0.08; // room for the labels above the highest points
    }
    if let Some(top) = style.y_max {
        y1 = y1.max(top);
    }
    let pw = W - LEFT - RIGHT;
    let ph = H - TOP - BOTTOM;
    let sy = |y: f64| TOP + ph - (y - y0) / (y1 - y0) * ph;
    let n = categories.len().max(1) as f64;
    let sx = |i: usize| LEFT + pw * (i as f64 + 0.5) / n;
    y_axis(&mut out, y0, y1, &sy);
    for (i, cat) in categories.iter().enumerate() {
        let _ = write!(
            out,
            r#"<text x="{x:.1}" y="{y}" text-anchor="middle" class="tk">{l}</text>"#,
            x = sx(i),
            y = TOP + ph + 16.0,
            l = esc(cat)
        );
    }
    for (si, (name, values)) in series.iter().enumerate() {
        let color = PALETTE[si % PALETTE.len()];
        let points: Vec<(usize, f64)> = values
            .iter()
            .take(categories.len())
            .enumerate()
            .filter(|(_, v)| v.is_finite())
            .map(|(i, v)| (i, *v))
            .collect();
        if points.is_empty() {
            continue;
        }
        let path: Vec<String> = points
            .iter()
            .map(|&(i, v)| format!("{:.1},{:.1}", sx(i), sy(v)))
            .collect();
        let _ = write!(
            out,
            r#"<polyline fill="none" stroke="{color}" stroke-width="2" points="{}" data-series="{}"/>"#,
            path.join(" "),
            esc(name)
        );
        for (i, v) in points {
            let (x, y) = (sx(i), sy(v));
            let _ = write!(
                out,
                r#"<circle cx="{x:.1}" cy="{y:.1}" r="3.5" fill="{color}"><title>{} {}: {}</title></circle>"#,
                esc(name),
                esc(&categories[i]),
                num(v)
            );
            if style.values {
                let _ = write!(
                    out,
                    r#"<text x="{x:.1}" y="{:.1}" text-anchor="middle" fill="{color}" class="vl">{v:.2}</text>"#,
                    y - 8.0
                );
            }
        }
    }
    if style.legend {
        let names: Vec<&str> = series.iter().map(|s| s.0.as_str()).collect();
        legend(&mut out, &names);
    }
    out.push_str("</svg>");
    out
}

/// Grouped bars: one group per category, one bar per series value (`values[series][category]`).
pub fn bar_chart(axes: &Axes, categories: &[String], series: &[(String, Vec<f64>)]) -> String {
    let mut out = String::new();
    open(&mut out, axes, "bar");
    let (y0, y1) = range(series.iter().flat_map(|s| s.1.iter().copied()), true);
    let pw = W - LEFT - RIGHT;
    let ph = H - TOP - BOTTOM;
    let sy = |y: f64| TOP + ph - (y - y0) / (y1 - y0) * ph;
    y_axis(&mut out, y0, y1, &sy);
    let groups = categories.len().max(1) as f64;
    let gw = pw / groups;
    let bw = (gw * 0.8 / series.len().max(1) as f64).min(48.0);
    for (ci, cat) in categories.iter().enumerate() {
        let gx = LEFT + ci as f64 * gw;
        let used = bw * series.len() as f64;
        for (si, (name, values)) in series.iter().enumerate() {
            let Some(&v) = values.get(ci) else { continue };
            if !v.is_finite() {
                continue;
            }
            let x = gx + (gw - used) / 2.0 + si as f64 * bw;
            let (top, bottom) = (sy(v.max(0.0)), sy(v.min(0.0)));
            let _ = write!(
                out,
                r#"<rect x="{x:.1}" y="{top:.1}" width="{w:.1}" height="{h:.1}" fill="{c}"><title>{n} {cat}: {v}</title></rect>"#,
                w = (bw - 2.0).max(1.0),
                h = (bottom - top).max(0.5),
                c = PALETTE[si % PALETTE.len()],
                n = esc(name),
                cat = esc(cat),
                v = num(v)
            );
        }
        let short: String = cat.chars().take((gw / 7.0).max(3.0) as usize).collect();
        let _ = write!(
            out,
            r#"<text x="{x:.1}" y="{y}" text-anchor="middle" class="tk">{l}</text>"#,
            x = gx + gw / 2.0,
            y = TOP + ph + 16.0,
            l = esc(&short)
        );
    }
    if series.len() > 1 {
        let names: Vec<&str> = series.iter().map(|s| s.0.as_str()).collect();
        legend(&mut out, &names);
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_range() {
        assert_eq!(ticks(0.0, 10.0), vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        let t = ticks(0.013, 0.087);
        assert!(
            t.len() >= 3 && t[0] >= 0.013 && *t.last().expect("one") <= 0.087,
            "{t:?}"
        );
    }

    #[test]
    fn a_line_chart_carries_its_points_and_escapes_names() {
        let svg = line_chart(
            &Axes::new("p99 <TTFT>", "parallel", "ms"),
            &[Series {
                name: "a&b".into(),
                points: vec![(1.0, 2.5), (4.0, 7.25)],
            }],
        );
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("p99 &lt;TTFT&gt;") && !svg.contains("<TTFT>"));
        assert!(svg.contains("a&amp;b: 4 → 7.2500"), "{svg}");
        assert_eq!(svg.matches("<circle").count(), 2);
    }

    #[test]
    fn category_lines_skip_missing_points_and_label_values() {
        let axes = Axes::new("Accuracy", "level", "accuracy");
        let levels = vec!["Level 1".to_string(), "Level 2".into(), "Level 3".into()];
        let style = LineStyle {
            y_max: Some(1.0),
            values: true,
            legend: false,
        };
        let svg = category_line_chart(
            &axes,
            &levels,
            &[
                ("m<1>".into(), vec![0.5, f64::NAN, 0.25]),
                ("m2".into(), vec![0.75, 0.5, 0.1]),
            ],
            style,
        );
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert_eq!(
            svg.matches("<circle").count(),
            5,
            "the missing point is left out"
        );
        assert!(
            svg.contains("<title>m&lt;1&gt; Level 3: 0.2500</title>"),
            "{svg}"
        );
        assert!(svg.contains(">0.10</text>") && svg.contains(">0.75</text>"));
        assert!(
            svg.contains("class=\"tk\">1</text>"),
            "the y axis reaches 1: {svg}"
        );
        assert!(!svg.contains("class=\"lg\""), "no legend asked");
        // y of 0.5 is half way up the plot
        let mid = TOP + (H - TOP - BOTTOM) / 2.0;
        assert!(svg.contains(&format!("cy=\"{mid:.1}\"")), "{svg}");
        let empty = category_line_chart(&axes, &levels, &[("m".into(), vec![f64::NAN])], style);
        assert!(empty.contains("no data"));
    }

    #[test]
    fn empty_charts_say_so_and_bars_have_titles() {
        let axes = Axes::new("t", "x", "y");
        assert!(line_chart(&axes, &[]).contains("no data"));
        let svg = bar_chart(&axes, &["Level 1".into()], &[("acc".into(), vec![0.5])]);
        assert!(svg.contains("<title>acc Level 1: 0.5000</title>"), "{svg}");
    }
}
