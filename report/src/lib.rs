//! Reports: terminal tables, the run folder read back (think-eval results included), and the
//! HTML report.

pub mod cdf;
pub mod html;
pub mod run_data;
pub mod terminal;
pub mod think_data;

/// What a table, card or chart label shows for a metric without data (JSON null in the files,
/// e.g. TTFT without streaming or any average of a stage without a successful request).
pub const NO_DATA: &str = "–";
