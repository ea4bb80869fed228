//! The (context length, depth) cells: EvalScope 1.14.1's `aggregate_scores` override adds the
//! mean accuracy of every cell after the overall one, and its heat-map reads them back per
//! subset. In a report they are metrics named `Context#<length> Depth#<depth>`, the name
//! EvalScope gave them before its metric identities and still reads as the cell's
//! `context_length` and `depth_percent` dimensions.

use std::collections::BTreeMap;

use crate::report::{
    MetricReport, Report, ReportSpec, ScoredSample, build_report, report_metric_name,
};
use crate::sample::Sample;

/// One cell of the grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cell {
    /// Context length in tokens.
    pub context_length: i64,
    /// Needle depth in percent.
    pub depth_percent: i64,
}

impl Cell {
    /// The report metric name: `Context#1000 Depth#0`.
    pub fn metric_name(&self) -> String {
        format!(
            "Context#{} Depth#{}",
            self.context_length, self.depth_percent
        )
    }

    /// The cell a report metric name stands for (`Context#<digits> Depth#<digits>`, nothing
    /// else), or `None`.
    pub fn from_metric_name(name: &str) -> Option<Cell> {
        let rest = name.strip_prefix("Context#")?;
        let (length, depth) = rest.split_once(" Depth#")?;
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(length) || !digits(depth) {
            return None;
        }
        Some(Cell {
            context_length: length.parse().ok()?,
            depth_percent: depth.parse().ok()?,
        })
    }

    /// The cell of a sample, from its `context_length` and `depth_percent` metadata.
    pub fn of_sample(sample: &Sample) -> Option<Cell> {
        Some(Cell {
            context_length: sample.metadata.get("context_length")?.as_i64()?,
            depth_percent: sample.metadata.get("depth_percent")?.as_i64()?,
        })
    }
}

/// The cell metrics of a report: for each cell (by length, then depth), the mean of the report's
/// first metric over the cell's samples, per subset, named [`Cell::metric_name`].
pub fn cell_metrics(spec: &ReportSpec, scored: &[(&Sample, &ScoredSample)]) -> Vec<MetricReport> {
    let Some(first) = spec.metrics.first() else {
        return Vec::new();
    };
    let main = report_metric_name(first);
    let mut cells: BTreeMap<Cell, Vec<ScoredSample>> = BTreeMap::new();
    for (sample, score) in scored {
        if let Some(cell) = Cell::of_sample(sample) {
            cells.entry(cell).or_default().push((*score).clone());
        }
    }
    let mut plain = spec.clone();
    plain.aggregation = crate::report::Aggregation::Mean;
    cells
        .into_iter()
        .filter_map(|(cell, group)| {
            let report = build_report("", &plain, &group);
            let mut metric = report.metrics.into_iter().find(|m| m.name == main)?;
            metric.name = cell.metric_name();
            Some(metric)
        })
        .collect()
}

/// One subset's cells as a report holds them.
#[derive(Debug, Clone, PartialEq)]
pub struct SubsetCells {
    /// The subset (`english`, `chinese`).
    pub subset: String,
    /// Each cell with its score and sample count, by length then depth.
    pub cells: Vec<(Cell, f64, usize)>,
}

/// The cells of a report per subset, in the report's subset order (empty when the report has no
/// cell metrics).
pub fn subset_cells(report: &Report) -> Vec<SubsetCells> {
    let mut out: Vec<SubsetCells> = Vec::new();
    for metric in &report.metrics {
        let Some(cell) = Cell::from_metric_name(&metric.name) else {
            continue;
        };
        for s in metric.categories.iter().flat_map(|c| c.subsets.iter()) {
            let entry = (cell, s.score, s.num);
            match out.iter_mut().find(|x| x.subset == s.name) {
                Some(x) => x.cells.push(entry),
                None => out.push(SubsetCells {
                    subset: s.name.clone(),
                    cells: vec![entry],
                }),
            }
        }
    }
    for x in &mut out {
        x.cells.sort_by_key(|(cell, _, _)| *cell);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_names_round_trip_and_nothing_else_parses() {
        let c = Cell {
            context_length: 32000,
            depth_percent: 100,
        };
        assert_eq!(c.metric_name(), "Context#32000 Depth#100");
        assert_eq!(Cell::from_metric_name("Context#32000 Depth#100"), Some(c));
        for bad in [
            "mean_acc",
            "Context#1000",
            "Context# Depth#1",
            "Context#1000 Depth#-5",
            "Context#1000 Depth#5 ",
            "Context#1e3 Depth#5",
        ] {
            assert_eq!(Cell::from_metric_name(bad), None, "{bad}");
        }
    }
}
