//! Mixed benchmark collections (EvalScope's `collections`): a nested [`schema`] of weighted
//! datasets is [`flatten`]ed, a [`sampler`] draws samples from each dataset into collection
//! [`line`]s written as JSONL, the `data_collection` [`benchmark`] evaluates such a file by
//! scoring every line with its original benchmark, and the collection [`report`] aggregates
//! the scores by subset, dataset, task type, tag and category. Each line is filtered with its
//! own dataset's filters, and a code line runs in its dataset's sandbox ([`line_args`]).

pub mod benchmark;
pub mod flatten;
pub mod line;
pub mod line_args;
pub mod report;
pub mod sampler;
pub mod schema;

pub use benchmark::DataCollection;
pub use flatten::{FlatDataset, flatten};
pub use line::{CollectionLine, read_lines, write_lines};
pub use line_args::{
    LineArgs, apply_task_filters, apply_task_sandbox_configs, dataset_args_key_allowed,
    sandbox_config,
};
pub use report::{CollectionReport, ScoredEntry, collection_report};
pub use sampler::{SamplerKind, sample};
pub use schema::{CollectionError, CollectionSchema, SchemaEntry};

/// The benchmark name of a collection (EvalScope's `DataCollection.NAME`).
pub const NAME: &str = "data_collection";

/// The detailed report's file name (EvalScope's `DataCollection.REPORT_NAME`).
pub const REPORT_NAME: &str = "collection_detailed_report.json";
