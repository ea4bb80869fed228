//! Reports: terminal tables, the run folder read back (think-eval results included), and the
//! HTML report.

pub mod cdf;
pub mod html;
pub mod run_data;
pub mod terminal;
pub mod think_data;
