//! Samplers: how many samples each dataset of a flattened schema contributes, and which, as
//! EvalScope's samplers decide it.
//!
//! - weighted: dataset i gets `int(w_i × count)`, the last dataset the remainder;
//! - uniform: `count // K` each, the last the remainder;
//! - stratified: `int(m_i / Σm × count)` (m_i: the dataset's size), the last the remainder.
//!
//! A dataset then gives a random sample of `min(n_i, size)` of its samples (all subsets
//! together), so a count larger than the data takes everything once. Randomness is CPython's
//! generator seeded with the seed, drawn dataset after dataset, so the same schema, data and
//! seed always give the same collection. Each entry's weight is the dataset's weight divided by
//! the number of samples it gave.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::flatten::FlatDataset;
use super::line::CollectionLine;
use crate::benchmarks::py_random::PyRandom;
use crate::sample::Sample;

/// How counts are spread over datasets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SamplerKind {
    /// By normalised schema weight.
    #[default]
    Weighted,
    /// In proportion to dataset sizes.
    Stratified,
    /// The same number from every dataset.
    Uniform,
}

impl FromStr for SamplerKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "weighted" => Ok(Self::Weighted),
            "stratified" => Ok(Self::Stratified),
            "uniform" => Ok(Self::Uniform),
            other => Err(format!(
                "unknown sampler {other:?}; expected weighted, stratified or uniform"
            )),
        }
    }
}

/// How many samples each dataset is asked for (before capping at its size). `weights` are the
/// flattened weights, `sizes` the datasets' sample counts.
pub fn target_counts(
    kind: SamplerKind,
    weights: &[f64],
    sizes: &[usize],
    count: usize,
) -> Vec<usize> {
    let k = weights.len().min(sizes.len());
    let mut out = Vec::with_capacity(k);
    let mut remaining = count;
    let total: usize = sizes.iter().take(k).sum();
    for i in 0..k {
        let n = if i + 1 == k {
            remaining
        } else {
            let n = match kind {
                SamplerKind::Weighted => floor(weights[i] * count as f64),
                SamplerKind::Uniform => count / k,
                SamplerKind::Stratified if total > 0 => {
                    floor(sizes[i] as f64 / total as f64 * count as f64)
                }
                SamplerKind::Stratified => 0,
            };
            let n = n.min(remaining);
            remaining -= n;
            n
        };
        out.push(n);
    }
    out
}

/// Python's `int(x)` for a non-negative float (NaN and negatives give 0).
fn floor(x: f64) -> usize {
    if x.is_finite() && x > 0.0 {
        x.trunc() as usize
    } else {
        0
    }
}

/// CPython's `random.sample(population, k)` drawn as its pool algorithm does: `k` distinct
/// positions of `0..n`, in draw order.
pub fn sample_positions(rng: &mut PyRandom, n: usize, k: usize) -> Vec<usize> {
    let k = k.min(n);
    let mut pool: Vec<usize> = (0..n).collect();
    let mut out = Vec::with_capacity(k);
    for i in 0..k {
        let bound = u32::try_from(n - i).unwrap_or(u32::MAX);
        let j = rng.randbelow(bound) as usize;
        out.push(pool[j]);
        pool[j] = pool[n - i - 1];
    }
    out
}

/// Samples the collection: `datasets` are the flattened datasets with their loaded samples.
/// Entries are indexed 0.. in output order (dataset by dataset, each in draw order).
pub fn sample(
    kind: SamplerKind,
    datasets: &[(FlatDataset, Vec<Sample>)],
    count: usize,
    seed: u64,
) -> Vec<CollectionLine> {
    let weights: Vec<f64> = datasets.iter().map(|(d, _)| d.weight).collect();
    let sizes: Vec<usize> = datasets.iter().map(|(_, s)| s.len()).collect();
    let counts = target_counts(kind, &weights, &sizes, count);
    let mut rng = PyRandom::new(seed);
    let mut out = Vec::new();
    for ((dataset, samples), n) in datasets.iter().zip(counts) {
        let take = n.min(samples.len());
        if take == 0 {
            continue;
        }
        let weight = dataset.weight / take as f64;
        for pos in sample_positions(&mut rng, samples.len(), take) {
            let index = out.len();
            out.push(CollectionLine::new(index, dataset, weight, &samples[pos]));
        }
    }
    out
}
