//! Everything one sample's lines hold, for its own page: the whole conversation sent, every
//! metric's value, the metadata, and both lines as written.

use std::collections::BTreeMap;

use serde_json::Value;

use super::SampleRow;
use swarm_store::eval_lines::{PredictionLine, ReviewLine};

/// One sample read back whole from its prediction line and review line.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleDetail {
    /// What the samples table shows of it.
    pub row: SampleRow,
    /// The prediction file, relative to the run folder.
    pub file: String,
    /// Its 1-based line in that file.
    pub line: usize,
    /// Every message sent, as (role, text), in order.
    pub messages: Vec<(String, String)>,
    /// Every metric's value for this answer.
    pub scores: BTreeMap<String, f64>,
    /// The main metric's name, when the line says.
    pub main: String,
    /// The prediction's metadata (pretty JSON), when it has any.
    pub metadata: Option<String>,
    /// The prediction line, pretty-printed.
    pub prediction: String,
    /// The review line, pretty-printed, when there is one.
    pub review: Option<String>,
    /// The LLM judge's requests and replies (the review's
    /// `sample_score.score.metadata.judge_attempts`), when a judge was asked.
    pub judge: Vec<swarm_eval::judge::JudgeAttempt>,
}

/// The judge attempts of a review line (none when it has none or they are not in the shape
/// EvalScope writes).
fn judge_attempts(review: Option<&Value>) -> Vec<swarm_eval::judge::JudgeAttempt> {
    review.map(judge_attempts_of).unwrap_or_default()
}

/// The judge attempts of a parsed review line.
pub fn judge_attempts_of(review: &Value) -> Vec<swarm_eval::judge::JudgeAttempt> {
    let attempts = &review["sample_score"]["score"]["metadata"]["judge_attempts"];
    serde_json::from_value(attempts.clone()).unwrap_or_default()
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
}

impl SampleDetail {
    /// The detail of `row`, read from its prediction line `pred` and review line `review` (both
    /// as written; lines that are not JSON objects were never indexed).
    pub fn new(
        row: SampleRow,
        file: String,
        line: usize,
        pred: &str,
        review: Option<&str>,
    ) -> Self {
        let p: Value = serde_json::from_str(pred).unwrap_or(Value::Null);
        let r: Option<Value> = review.and_then(|l| serde_json::from_str(l).ok());
        let typed = PredictionLine::parse(pred).ok();
        let rev = review.and_then(|l| ReviewLine::parse(l).ok());
        let messages = typed.as_ref().map(PredictionLine::messages);
        // our own line scores itself; an EvalScope line is scored by its review
        let (scores, main) = (typed.as_ref().and_then(|l| l.swarm.as_ref()?.scores()))
            .or_else(|| rev?.scores())
            .unwrap_or_default();
        let metadata = match &p["metadata"] {
            Value::Null => None,
            Value::Object(m) if m.is_empty() => None,
            m => Some(pretty(m)),
        };
        Self {
            row,
            file,
            line,
            messages: messages.unwrap_or_default(),
            scores,
            main,
            metadata,
            prediction: pretty(&p),
            review: r.as_ref().map(pretty),
            judge: judge_attempts(r.as_ref()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::samples::parse::{FileOrigin, PredictionLine, into_row, review};
    use std::path::Path;

    fn detail_of(pred: &str, rev: Option<&str>) -> SampleDetail {
        let origin = FileOrigin::of(Path::new("/r/eval/predictions/m/ifeval_default.jsonl"));
        let joined = rev.and_then(review).map(|(_, r)| r);
        let row = into_row(
            PredictionLine::parse(pred).expect("line"),
            &origin,
            joined.as_ref(),
        );
        SampleDetail::new(
            row,
            "eval/predictions/m/ifeval_default.jsonl".into(),
            7,
            pred,
            rev,
        )
    }

    #[test]
    fn an_evalscope_sample_shows_every_message_and_metric() {
        let pred = r#"{"index": 0, "messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": [{"type": "text", "text": "Write <b>two</b> lines"}]}], "model_output": {"choices": [{"message": {"content": "a\nb"}}]}, "metadata": {"key": 1001}}"#;
        let rev = r#"{"index": 0, "target": "", "sample_score": {"score": {"value": {"prompt_level_strict": 1.0, "inst_level_strict": 0.5}, "main_score_name": "prompt_level_strict"}}}"#;
        let d = detail_of(pred, Some(rev));
        assert_eq!(
            d.messages,
            vec![
                ("system".to_owned(), "be brief".to_owned()),
                ("user".to_owned(), "Write <b>two</b> lines".to_owned())
            ]
        );
        assert_eq!(d.main, "prompt_level_strict");
        assert_eq!(
            d.scores.into_iter().collect::<Vec<_>>(),
            vec![
                ("inst_level_strict".to_owned(), 0.5),
                ("prompt_level_strict".to_owned(), 1.0)
            ]
        );
        assert_eq!(d.row.score, Some(1.0));
        assert!(
            d.metadata
                .as_deref()
                .is_some_and(|m| m.contains("\"key\": 1001"))
        );
        assert!(
            d.review
                .as_deref()
                .is_some_and(|r| r.contains("inst_level_strict"))
        );
        assert_eq!(d.line, 7);
    }

    #[test]
    fn our_line_scores_itself_without_a_review() {
        let pred = r#"{"index": 2, "messages": [{"role": "user", "content": "2+2?"}], "swarm": {"benchmark": "gsm8k", "subset": "main", "completion": "4", "score": {"values": {"acc": 1.0}, "main": "acc"}}}"#;
        let d = detail_of(pred, None);
        assert_eq!((d.main.as_str(), d.scores.get("acc")), ("acc", Some(&1.0)));
        assert_eq!((d.review, d.metadata), (None, None));
        assert!(d.prediction.contains("\"completion\": \"4\""));
    }
}
