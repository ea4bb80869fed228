//! Reading one prediction line and one review line into a [`SampleRow`]: our lines (with their
//! `swarm` record) and EvalScope's own (model output, messages, `sample_score`).

use std::path::Path;

pub use swarm_store::eval_lines::PredictionLine;
use swarm_store::eval_lines::{ReviewLine, known_bench, main_score};

use super::SampleRow;

/// Which sample and generation a line is about: (index, repeat).
pub type SampleKey = (String, u32);

/// A review line and its key; `None` for a line that is not a review.
pub fn review(line: &str) -> Option<(SampleKey, ReviewLine)> {
    let r = ReviewLine::parse(line).ok()?;
    Some(((r.index.clone(), r.repeat.unwrap_or(0)), r))
}

/// Where a prediction file's rows come from: its benchmark and subset (from the file name) and
/// its model (the folder).
#[derive(Debug, Clone, PartialEq)]
pub struct FileOrigin {
    /// Benchmark named by the file.
    pub bench: String,
    /// Subset named by the file.
    pub subset: String,
    /// The model folder.
    pub model: String,
}

impl FileOrigin {
    /// The origin of the prediction file `f` (`<model>/<bench>_<subset>.jsonl`).
    pub fn of(f: &Path) -> Self {
        let stem = f
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let model = f
            .parent()
            .and_then(Path::file_name)
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let (bench, subset) = split_stem(&stem);
        Self {
            bench,
            subset,
            model,
        }
    }
}

/// The review key prediction `p` joins on.
pub fn key(p: &PredictionLine) -> SampleKey {
    (p.index.clone(), p.repeat())
}

/// The row of prediction `p`, joined with its review if there is one.
pub fn into_row(p: PredictionLine, origin: &FileOrigin, review: Option<&ReviewLine>) -> SampleRow {
    let (index, repeat) = key(&p);
    let (answer, reasoning) = p.answer();
    let question = p.question();
    let sw = p.swarm.unwrap_or_default();
    let scores = sw.scores().or_else(|| review?.scores());
    let score = scores.as_ref().and_then(main_score);
    let or = |ours: String, theirs: &str| {
        Some(ours)
            .filter(|o| !o.is_empty())
            .unwrap_or(theirs.into())
    };
    SampleRow {
        dataset: or(sw.benchmark, &origin.bench),
        subset: or(sw.subset, &origin.subset),
        model: origin.model.clone(),
        repeat,
        answer,
        reasoning,
        extracted: or(
            sw.extracted,
            review.and_then(|r| r.extracted()).unwrap_or(""),
        ),
        gold: review.and_then(ReviewLine::gold).unwrap_or_default(),
        score,
        error: sw.error,
        question,
        index,
    }
}

/// `<bench>_<subset>` split with the registry's names (longest match), else at the first `_`.
pub fn split_stem(stem: &str) -> (String, String) {
    known_bench(stem).unwrap_or_else(|| match stem.split_once('_') {
        Some((b, s)) => (b.to_string(), s.to_string()),
        None => (stem.to_string(), "default".to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_split_on_known_benchmarks() {
        assert_eq!(
            split_stem("math_500_Level 1"),
            ("math_500".to_string(), "Level 1".to_string())
        );
        assert_eq!(split_stem("x"), ("x".to_string(), "default".to_string()));
    }

    #[test]
    fn an_evalscope_line_joins_its_review() {
        let pred = r#"{"index": 3, "messages": [{"role": "system", "content": "s"}, {"role": "user", "content": [{"type": "text", "text": "Q?"}]}], "model_output": {"choices": [{"message": {"content": "A", "reasoning_content": "R"}}]}, "metadata": {"repeat": 1}}"#;
        let rev = r#"{"index": 3, "repeat": 1, "target": "B", "sample_score": {"score": {"value": {"acc": 0.0, "other": 1.0}, "main_score_name": "acc", "extracted_prediction": "A"}}}"#;
        let p = PredictionLine::parse(pred).expect("parses");
        let (key, r) = review(rev).expect("review");
        assert_eq!(super::key(&p), key);
        let origin = FileOrigin::of(Path::new("/x/qwen/gsm8k_main.jsonl"));
        let row = into_row(p, &origin, Some(&r));
        assert_eq!(
            (
                row.dataset.as_str(),
                row.subset.as_str(),
                row.model.as_str(),
                row.index.as_str(),
                row.repeat
            ),
            ("gsm8k", "main", "qwen", "3", 1)
        );
        assert_eq!(
            (
                row.question.as_str(),
                row.reasoning.as_str(),
                row.answer.as_str()
            ),
            ("Q?", "R", "A")
        );
        assert_eq!(
            (row.gold.as_str(), row.extracted.as_str(), row.score),
            ("B", "A", Some(0.0))
        );
        assert!(review("not json").is_none());
    }
}
