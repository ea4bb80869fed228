//! What one request measured, how measurements fold into mergeable histograms and counters, and
//! how those become EvalScope-compatible summary and percentile tables; `record_wire` is a
//! record's protobuf form.

pub mod aggregate;
pub mod evalscope;
pub mod histogram;
pub mod record;
pub mod record_wire;
pub mod sparse;
pub mod summary;

pub use aggregate::StageAggregate;
pub use histogram::{HistSpec, MetricHist};
pub use record::{ErrorClass, RequestRecord, TokenSource};
