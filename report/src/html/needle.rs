//! Needle-in-a-Haystack in the report: one heat-map per subset (context length × depth → mean
//! accuracy), drawn from the report's `Context#<length> Depth#<depth>` metrics, as EvalScope
//! draws `needle_haystack_heatmap_<subset>.png`: depths down (ascending), lengths across.

use swarm_eval::Report;
use swarm_eval::benchmarks::needle_haystack::cells::{Cell, SubsetCells, subset_cells};

use super::chart::Axes;
use super::heatmap::{Grid, HeatCell, heatmap, standalone};

/// EvalScope's heat-map title.
pub const TITLE: &str = "Fact Retrieval Across Context Lengths (\"Needle In A HayStack\")";

/// True for a report metric that is one cell of the grid.
pub fn is_cell_metric(name: &str) -> bool {
    Cell::from_metric_name(name).is_some()
}

/// The grid of one subset: columns the context lengths, rows the depths, both ascending; a
/// cell's value the mean of its (rounded) scores, as EvalScope's pivot table takes it.
pub fn grid(cells: &SubsetCells) -> Grid {
    let mut lengths: Vec<i64> = cells.cells.iter().map(|c| c.0.context_length).collect();
    lengths.sort_unstable();
    lengths.dedup();
    let mut depths: Vec<i64> = cells.cells.iter().map(|c| c.0.depth_percent).collect();
    depths.sort_unstable();
    depths.dedup();
    let rows = depths
        .iter()
        .map(|&d| {
            lengths
                .iter()
                .map(|&l| {
                    let here: Vec<&(Cell, f64, usize)> = cells
                        .cells
                        .iter()
                        .filter(|c| c.0.context_length == l && c.0.depth_percent == d)
                        .collect();
                    if here.is_empty() {
                        return None;
                    }
                    let value = here.iter().map(|c| c.1).sum::<f64>() / here.len() as f64;
                    let samples: usize = here.iter().map(|c| c.2).sum();
                    Some(HeatCell {
                        value,
                        label: format!(
                            "{}: context {l} tokens, depth {d} %, {samples} sample{}",
                            cells.subset,
                            if samples == 1 { "" } else { "s" }
                        ),
                    })
                })
                .collect()
        })
        .collect();
    Grid {
        columns: lengths.iter().map(i64::to_string).collect(),
        rows: depths.iter().map(i64::to_string).collect(),
        cells: rows,
    }
}

/// The heat-map of one subset.
pub fn subset_heatmap(cells: &SubsetCells, annotate: bool) -> String {
    let title = format!("{TITLE}: {}", cells.subset);
    heatmap(
        &Axes::new(&title, "Token Limit", "Depth Percent"),
        &grid(cells),
        annotate,
    )
}

/// The report's heat-maps, one per subset (none when it has no cell metrics), each cell's value
/// written in it.
pub fn heatmaps(report: &Report) -> Vec<String> {
    subset_cells(report)
        .iter()
        .map(|c| subset_heatmap(c, true))
        .collect()
}

/// EvalScope's heat-map files as SVG: `(needle_haystack_heatmap_<subset>.svg, document)` per
/// subset (a character of the subset other than a letter, digit, `-` or `_` becomes `_`);
/// `show_score` writes the values in the cells.
pub fn heatmap_files(report: &Report, show_score: bool) -> Vec<(String, String)> {
    subset_cells(report)
        .iter()
        .map(|c| {
            (
                format!(
                    "needle_haystack_heatmap_{}.svg",
                    c.subset
                        .chars()
                        .map(|ch| if ch.is_alphanumeric() || ch == '-' || ch == '_' {
                            ch
                        } else {
                            '_'
                        })
                        .collect::<String>()
                ),
                standalone(&subset_heatmap(c, show_score)),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use swarm_eval::report::{CategoryReport, MetricReport, SubsetReport};

    fn metric(name: &str, subsets: &[(&str, f64, usize)]) -> MetricReport {
        MetricReport {
            name: name.into(),
            categories: vec![CategoryReport {
                name: vec!["default".into()],
                subsets: subsets
                    .iter()
                    .map(|(n, s, k)| SubsetReport {
                        name: (*n).into(),
                        score: *s,
                        num: *k,
                    })
                    .collect(),
                ..CategoryReport::default()
            }],
            ..MetricReport::default()
        }
    }

    #[test]
    fn each_subset_gets_a_grid_of_lengths_by_depths() {
        let report = Report {
            dataset_name: "needle_haystack".into(),
            metrics: vec![
                metric("mean_acc", &[("english", 0.6, 5), ("chinese<b>", 0.2, 5)]),
                metric(
                    "Context#2000 Depth#0",
                    &[("english", 1.0, 1), ("chinese<b>", 0.0, 1)],
                ),
                metric("Context#1000 Depth#50", &[("english", 0.0, 1)]),
                metric(
                    "Context#1000 Depth#0",
                    &[("english", 0.5, 2), ("chinese<b>", 1.0, 1)],
                ),
                metric("Context#2000 Depth#50", &[("english", 1.0, 1)]),
            ],
            ..Report::default()
        };
        let maps = heatmaps(&report);
        assert_eq!(maps.len(), 2);
        let english = &maps[0];
        assert!(english.contains(&format!("{}: english", super::super::escape::esc(TITLE))));
        assert_eq!(english.matches("class=\"cell\"").count(), 4);
        // rows are depths (0 above 50), columns lengths (1000 left of 2000): the first cell drawn
        // is (1000, 0), then (2000, 0)
        let titles: Vec<&str> = english
            .split("<title>")
            .skip(2)
            .filter_map(|t| t.split("</title>").next())
            .collect();
        assert_eq!(
            titles,
            [
                "english: context 1000 tokens, depth 0 %, 2 samples: 0.5000",
                "english: context 2000 tokens, depth 0 %, 1 sample: 1",
                "english: context 1000 tokens, depth 50 %, 1 sample: 0",
                "english: context 2000 tokens, depth 50 %, 1 sample: 1",
            ]
        );
        // the second subset lacks depth 50: one row, its name escaped
        let chinese = &maps[1];
        assert!(chinese.contains("chinese&lt;b&gt;") && !chinese.contains("chinese<b>"));
        assert_eq!(chinese.matches("class=\"cell\"").count(), 2);
        let files = heatmap_files(&report, false);
        assert_eq!(files[0].0, "needle_haystack_heatmap_english.svg");
        assert_eq!(files[1].0, "needle_haystack_heatmap_chinese_b_.svg");
        assert!(!files[0].1.contains("class=\"vl\""));
        assert!(heatmap_files(&report, true)[0].1.contains("class=\"vl\""));
        assert!(is_cell_metric("Context#2000 Depth#0") && !is_cell_metric("mean_acc"));
        assert!(heatmaps(&Report::default()).is_empty());
    }
}
