//! Building a collection: read the schema, load each dataset through its benchmark, sample,
//! write the JSONL, print what each dataset gave.

use std::path::Path;

use anyhow::{Context, bail};
use comfy_table::Table;
use comfy_table::presets::UTF8_FULL_CONDENSED;
use swarm_eval::collection::{
    CollectionLine, CollectionSchema, FlatDataset, SamplerKind, flatten, sample, write_lines,
};
use swarm_eval::{Sample, registry, task};

use super::BuildArgs;

/// What one dataset gave to a collection.
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetShare {
    /// Benchmark name.
    pub name: String,
    /// Absolute weight.
    pub weight: f64,
    /// Samples the dataset has.
    pub available: usize,
    /// Samples taken.
    pub taken: usize,
}

/// Loads every dataset of `schema_path` (local paths relative to the schema's folder; without
/// one, `data_dir/<name>`) and samples the collection.
pub fn build_collection(
    schema_path: &Path,
    data_dir: Option<&Path>,
    kind: SamplerKind,
    count: usize,
    seed: u64,
) -> anyhow::Result<(Vec<CollectionLine>, Vec<DatasetShare>)> {
    let schema = CollectionSchema::read(schema_path)?;
    let base = schema_path.parent().unwrap_or(Path::new("."));
    let flat = flatten(&schema);
    // every name is checked before any data is read
    let mut benches = Vec::with_capacity(flat.len());
    for d in &flat {
        benches.push(registry::benchmark(&d.name).with_context(|| {
            format!(
                "{}: field `{}.name`: cannot build this dataset",
                schema_path.display(),
                d.field
            )
        })?);
    }
    let mut loaded: Vec<(FlatDataset, Vec<Sample>)> = Vec::with_capacity(flat.len());
    for (d, bench) in flat.into_iter().zip(benches) {
        let mut args = d.args.clone();
        args.local_path = match (&args.local_path, data_dir) {
            (Some(p), _) if p.is_relative() => Some(base.join(p)),
            (Some(p), _) => Some(p.clone()),
            (None, Some(dir)) => Some(dir.join(&d.name)),
            (None, None) => bail!(
                "{}: field `{}.args.local_path`: dataset {:?} has no data; give args.local_path or --data-dir",
                schema_path.display(),
                d.field,
                d.name
            ),
        };
        // the filters travel in each line and score it at eval time: checked now
        task::filters(&d.name, &args).with_context(|| {
            format!(
                "{}: field `{}.args.filters`",
                schema_path.display(),
                d.field
            )
        })?;
        let samples = bench.load(&args).with_context(|| {
            format!(
                "{}: field `{}`: loading {}",
                schema_path.display(),
                d.field,
                d.name
            )
        })?;
        loaded.push((d, samples));
    }
    let lines = sample(kind, &loaded, count, seed);
    let shares = loaded
        .iter()
        .map(|(d, s)| DatasetShare {
            name: d.name.clone(),
            weight: d.weight,
            available: s.len(),
            taken: lines
                .iter()
                .filter(|l| l.dataset_name == d.name && l.categories == d.hierarchy)
                .count(),
        })
        .collect();
    Ok((lines, shares))
}

/// `coordinator collection build`.
pub fn run_build(args: &BuildArgs) -> anyhow::Result<()> {
    let (lines, shares) = build_collection(
        &args.schema,
        args.data_dir.as_deref(),
        args.sampler,
        args.count,
        args.seed,
    )?;
    write_lines(&args.output, &lines)?;
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED);
    t.set_header(vec!["dataset_name", "weight", "available", "sampled"]);
    for s in &shares {
        t.add_row(vec![
            s.name.clone(),
            format!("{:.4}", s.weight),
            s.available.to_string(),
            s.taken.to_string(),
        ]);
    }
    println!("{t}");
    println!(
        "{} samples written to {}",
        lines.len(),
        args.output.display()
    );
    Ok(())
}
