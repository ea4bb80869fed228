//! What one request measured, how measurements fold into mergeable histograms and counters, and
//! how those become EvalScope-compatible summary and percentile tables.

pub mod aggregate;
pub mod evalscope;
pub mod histogram;
pub mod record;
pub mod sparse;
pub mod summary;

pub use aggregate::StageAggregate;
pub use histogram::{HistSpec, MetricHist};
pub use record::{ErrorClass, RequestRecord, TokenSource};
