//! Heat-maps: a grid of cells coloured by a value in 0..1 on a three-colour scale (EvalScope's
//! needle-in-a-haystack colours: red `#F0496E` at 0, yellow `#EBB839` at 0.5, green `#0CD79F` at
//! 1), a colour bar beside it. Every label is escaped and every cell carries a `<title>`; a cell
//! with no value is grey and says "no data".

use std::fmt::Write;

use super::chart::{Axes, H, STYLE, W};
use super::escape::{esc, num};

const LEFT: f64 = 64.0;
const RIGHT: f64 = 76.0;
const TOP: f64 = 28.0;
const BOTTOM: f64 = 64.0;
const BAR_W: f64 = 12.0;

/// The scale's stops: (position, red, green, blue).
const STOPS: [(f64, [f64; 3]); 3] = [
    (0.0, [240.0, 73.0, 110.0]),
    (0.5, [235.0, 184.0, 57.0]),
    (1.0, [12.0, 215.0, 159.0]),
];

/// The colour of `value` (clamped to 0..1) as `#rrggbb`.
pub fn color(value: f64) -> String {
    let v = if value.is_nan() {
        0.0
    } else {
        value.clamp(0.0, 1.0)
    };
    let (lo, hi) = if v <= STOPS[1].0 {
        (STOPS[0], STOPS[1])
    } else {
        (STOPS[1], STOPS[2])
    };
    let t = (v - lo.0) / (hi.0 - lo.0);
    let ch = |i: usize| (lo.1[i] + (hi.1[i] - lo.1[i]) * t).round() as u8;
    format!("#{:02x}{:02x}{:02x}", ch(0), ch(1), ch(2))
}

/// One cell: its value and the text of its `<title>` (besides the value).
#[derive(Debug, Clone, PartialEq)]
pub struct HeatCell {
    /// The value, 0..1.
    pub value: f64,
    /// What the cell is, for its `<title>` (e.g. `Context 1000, depth 50 %, 2 samples`).
    pub label: String,
}

/// A grid: `cells[row][column]`, `None` where there is no value.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Grid {
    /// Column labels, left to right.
    pub columns: Vec<String>,
    /// Row labels, top to bottom.
    pub rows: Vec<String>,
    /// The cells, a row per row label, a cell per column label.
    pub cells: Vec<Vec<Option<HeatCell>>>,
}

/// A heat-map of `grid` (values in 0..1); `annotate` writes each value (one decimal, as
/// EvalScope's `show_score`) in its cell.
pub fn heatmap(axes: &Axes, grid: &Grid, annotate: bool) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg class="chart" data-chart="heatmap" role="img" viewBox="0 0 {W} {H}" width="{W}" height="{H}" xmlns="http://www.w3.org/2000/svg"><title>{t}</title><text x="{cx}" y="18" text-anchor="middle" class="ct">{t}</text>"#,
        t = esc(axes.title),
        cx = W / 2.0
    );
    let pw = W - LEFT - RIGHT;
    let ph = H - TOP - BOTTOM;
    let _ = write!(
        out,
        r#"<text x="{cx}" y="{xy}" text-anchor="middle" class="al">{x}</text><text transform="translate(14 {cy}) rotate(-90)" text-anchor="middle" class="al">{y}</text>"#,
        cx = LEFT + pw / 2.0,
        xy = H - 24.0,
        cy = TOP + ph / 2.0,
        x = esc(axes.x),
        y = esc(axes.y)
    );
    let (nc, nr) = (grid.columns.len(), grid.rows.len());
    if nc == 0 || nr == 0 {
        let _ = write!(
            out,
            r#"<text x="{}" y="{}" text-anchor="middle" class="al">no data</text></svg>"#,
            W / 2.0,
            H / 2.0
        );
        return out;
    }
    let cw = pw / nc as f64;
    let rh = ph / nr as f64;
    for (c, label) in grid.columns.iter().enumerate() {
        let x = LEFT + cw * (c as f64 + 0.5);
        let y = TOP + ph + 14.0;
        let _ = write!(
            out,
            r#"<text x="{x:.1}" y="{y:.1}" text-anchor="end" transform="rotate(-45 {x:.1} {y:.1})" class="tk">{l}</text>"#,
            l = esc(label)
        );
    }
    for (r, label) in grid.rows.iter().enumerate() {
        let _ = write!(
            out,
            r#"<text x="{x}" y="{y:.1}" text-anchor="end" class="tk">{l}</text>"#,
            x = LEFT - 6.0,
            y = TOP + rh * (r as f64 + 0.5) + 4.0,
            l = esc(label)
        );
    }
    for (r, row) in grid.cells.iter().enumerate().take(nr) {
        for c in 0..nc {
            let (x, y) = (LEFT + cw * c as f64, TOP + rh * r as f64);
            match row.get(c).and_then(Option::as_ref) {
                Some(cell) => {
                    let _ = write!(
                        out,
                        r##"<rect class="cell" x="{x:.1}" y="{y:.1}" width="{cw:.1}" height="{rh:.1}" fill="{f}" stroke="#ffffff" stroke-width="0.5" data-value="{v}"><title>{l}: {v}</title></rect>"##,
                        f = color(cell.value),
                        v = num(cell.value),
                        l = esc(&cell.label)
                    );
                    if annotate {
                        let _ = write!(
                            out,
                            r#"<text x="{tx:.1}" y="{ty:.1}" text-anchor="middle" class="vl">{v:.1}</text>"#,
                            tx = x + cw / 2.0,
                            ty = y + rh / 2.0 + 3.5,
                            v = cell.value
                        );
                    }
                }
                None => {
                    let _ = write!(
                        out,
                        r##"<rect class="cell empty" x="{x:.1}" y="{y:.1}" width="{cw:.1}" height="{rh:.1}" fill="#e5e7eb" stroke="#ffffff" stroke-width="0.5"><title>{r} × {c}: no data</title></rect>"##,
                        r = esc(grid.rows.get(r).map_or("", String::as_str)),
                        c = esc(grid.columns.get(c).map_or("", String::as_str))
                    );
                }
            }
        }
    }
    // the colour bar: 0 at the bottom, 1 at the top
    let bx = W - RIGHT + 16.0;
    let steps = 20;
    for i in 0..steps {
        let v = (i as f64 + 0.5) / steps as f64;
        let _ = write!(
            out,
            r#"<rect x="{bx}" y="{y:.1}" width="{BAR_W}" height="{h:.2}" fill="{f}"/>"#,
            y = TOP + ph * (1.0 - (i as f64 + 1.0) / steps as f64),
            h = ph / steps as f64 + 0.3,
            f = color(v)
        );
    }
    for v in [0.0, 0.5, 1.0] {
        let _ = write!(
            out,
            r#"<text x="{x}" y="{y:.1}" class="tk">{l}</text>"#,
            x = bx + BAR_W + 4.0,
            y = TOP + ph * (1.0 - v) + 4.0,
            l = num(v)
        );
    }
    let _ = write!(
        out,
        r#"<text transform="translate({x} {cy}) rotate(90)" text-anchor="middle" class="tk">Score</text></svg>"#,
        x = bx + BAR_W + 30.0,
        cy = TOP + ph / 2.0
    );
    out
}

/// `chart` (an SVG of [`W`] × [`H`]) as a standalone document: white background and the charts'
/// CSS inside, so it reads the same outside a page.
pub fn standalone(chart: &str) -> String {
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif"><style>{STYLE}</style><rect width="100%" height="100%" fill="white"/>{chart}</svg>
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scale_runs_red_yellow_green() {
        assert_eq!(color(0.0), "#f0496e");
        assert_eq!(color(0.5), "#ebb839");
        assert_eq!(color(1.0), "#0cd79f");
        assert_eq!(color(0.25), "#ee8154");
        assert_eq!(color(-1.0), "#f0496e");
        assert_eq!(color(f64::NAN), "#f0496e");
    }

    #[test]
    fn every_cell_is_drawn_with_its_value_and_labels_are_escaped() {
        let cell = |v: f64, l: &str| {
            Some(HeatCell {
                value: v,
                label: l.to_owned(),
            })
        };
        let grid = Grid {
            columns: vec!["1000".into(), "<2000>".into()],
            rows: vec!["0".into(), "100".into()],
            cells: vec![
                vec![cell(1.0, "a&b"), cell(0.25, "c")],
                vec![None, cell(0.0, "d")],
            ],
        };
        let svg = heatmap(
            &Axes::new("T \"q\"", "Token Limit", "Depth Percent"),
            &grid,
            true,
        );
        assert!(svg.starts_with("<svg class=\"chart\" data-chart=\"heatmap\""));
        assert!(svg.contains("<title>T &quot;q&quot;</title>"));
        assert!(svg.contains("&lt;2000&gt;") && !svg.contains("<2000>"));
        assert_eq!(svg.matches("class=\"cell\"").count(), 3);
        assert_eq!(svg.matches("class=\"cell empty\"").count(), 1);
        assert!(svg.contains("fill=\"#0cd79f\" stroke=\"#ffffff\" stroke-width=\"0.5\" data-value=\"1\"><title>a&amp;b: 1</title>"));
        assert!(svg.contains("fill=\"#ee8154\"") && svg.contains("<title>c: 0.2500</title>"));
        assert!(svg.contains("<title>100 × 1000: no data</title>"));
        // show_score: one decimal in each valued cell
        assert_eq!(svg.matches("class=\"vl\"").count(), 3);
        assert!(svg.contains(">0.2</text>") || svg.contains(">0.3</text>"));
        let plain = heatmap(&Axes::new("T", "x", "y"), &grid, false);
        assert_eq!(plain.matches("class=\"vl\"").count(), 0);
        assert!(plain.ends_with("</svg>"));
        assert!(standalone(&plain).contains(STYLE));
        let empty = heatmap(&Axes::new("T", "x", "y"), &Grid::default(), false);
        assert!(empty.contains("no data"));
    }
}
