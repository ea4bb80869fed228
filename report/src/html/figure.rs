//! A standalone SVG document of several charts: a heading, one legend for all of them, the
//! charts in a grid, and the charts' CSS inside it, so it reads the same outside a page.

use std::fmt::Write;

use super::chart::{H, STYLE, W, legend_at};
use super::escape::esc;

/// Height of the heading and legend band.
const BAND: f64 = 70.0;

/// `charts` (from [`super::chart`]) in a grid of `columns`, under `heading` and a legend of
/// `names` (series colours in order).
pub fn figure(heading: &str, names: &[&str], charts: &[String], columns: usize) -> String {
    let columns = columns.max(1);
    let rows = charts.len().div_ceil(columns).max(1);
    let width = W * columns as f64;
    let height = BAND + H * rows as f64;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif"><style>{STYLE}</style><rect width="100%" height="100%" fill="white"/><text x="{}" y="28" font-size="20" text-anchor="middle">{}</text>"#,
        width / 2.0,
        esc(heading)
    );
    legend_at(&mut s, names, 20.0, 44.0);
    for (i, chart) in charts.iter().enumerate() {
        let _ = write!(
            s,
            r#"<g transform="translate({} {})">{chart}</g>"#,
            W * (i % columns) as f64,
            BAND + H * (i / columns) as f64
        );
    }
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_sit_in_a_grid_under_one_legend() {
        let charts: Vec<String> = (0..5).map(|i| format!("<svg id=\"c{i}\"></svg>")).collect();
        let svg = figure("Thinking <efficiency>", &["a", "b"], &charts, 3);
        assert!(svg.starts_with(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1920\" height=\"670\""
        ));
        assert!(svg.contains("Thinking &lt;efficiency&gt;"));
        assert!(svg.contains("<g transform=\"translate(1280 70)\"><svg id=\"c2\">"));
        assert!(svg.contains("<g transform=\"translate(640 370)\"><svg id=\"c4\">"));
        assert_eq!(svg.matches("class=\"lg\"").count(), 2);
        assert!(svg.contains(STYLE) && svg.ends_with("</svg>\n"));
    }
}
