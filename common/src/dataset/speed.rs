//! `speed_benchmark` and `speed_benchmark_long` (EvalScope's plugins of those names): fixed
//! completion prompts of `'熵'` repeated to set character lengths, each length twice, in order.
//! No file and no tokenizer; sent to `/v1/completions` as plain prompts.

use super::{DatasetError, DatasetKind, DatasetSpec, LoadStats, PromptSink};
use crate::prompt::Prompt;

/// The repeated character.
const DUMMY_INPUT: char = '熵';
/// Times each length is sent.
const REPEAT: usize = 2;

/// The prompt lengths, in characters, of `kind` (empty for other kinds).
pub fn input_lengths(kind: DatasetKind) -> &'static [usize] {
    match kind {
        DatasetKind::SpeedBenchmark => &[1, 6144, 14336, 30720],
        DatasetKind::SpeedBenchmarkLong => &[63488, 129024],
        _ => &[],
    }
}

/// The prompts of `spec.kind`, in EvalScope's order; with `number > 0` at most `number`.
pub(crate) fn generate(
    spec: &DatasetSpec,
    sink: &mut dyn PromptSink,
) -> Result<LoadStats, DatasetError> {
    let limit = match spec.number {
        0 => usize::MAX,
        n => n,
    };
    let mut kept = 0;
    for &len in input_lengths(spec.kind) {
        for _ in 0..REPEAT {
            if kept >= limit {
                break;
            }
            sink.push(Prompt::text(
                std::iter::repeat_n(DUMMY_INPUT, len).collect::<String>(),
            ))?;
            kept += 1;
        }
    }
    Ok(LoadStats {
        kept,
        ..LoadStats::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_in_order_each_twice() {
        let spec = DatasetSpec::new(DatasetKind::SpeedBenchmark, None);
        let mut out: Vec<Prompt> = Vec::new();
        let stats = generate(&spec, &mut out).expect("generated");
        assert_eq!(stats.kept, 8);
        let lens: Vec<usize> = out.iter().map(|p| p.plain_text().chars().count()).collect();
        assert_eq!(lens, [1, 1, 6144, 6144, 14336, 14336, 30720, 30720]);
        assert!(out[0].plain_text() == "熵");
        let mut long = DatasetSpec::new(DatasetKind::SpeedBenchmarkLong, None);
        long.number = 3;
        let mut out: Vec<Prompt> = Vec::new();
        generate(&long, &mut out).expect("generated");
        let lens: Vec<usize> = out.iter().map(|p| p.plain_text().chars().count()).collect();
        assert_eq!(lens, [63488, 63488, 129024]);
    }
}
