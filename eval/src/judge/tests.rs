//! The judge's prompts and reply reading against EvalScope 1.14.1's own
//! (`eval/tests/fixtures/judge/evalscope_judge.json`, written by `make_fixture.py` beside it).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use super::prompt::{self, Contract};
use super::{JudgeContract, JudgeKind, parse};

const FIXTURE: &str = include_str!("../../tests/fixtures/judge/evalscope_judge.json");

#[derive(Deserialize)]
struct Fixture {
    evalscope: String,
    prompts: Vec<PromptCase>,
    replies: Vec<ReplyCase>,
}

#[derive(Deserialize)]
struct PromptCase {
    name: String,
    kind: String,
    contract: JudgeContract,
    messages: Vec<Value>,
    gold: String,
    pred: String,
    #[serde(default)]
    filtered: Option<String>,
    expected: Vec<Value>,
}

#[derive(Deserialize)]
struct ReplyCase {
    contract: String,
    reply: String,
    ok: bool,
    value: Option<BTreeMap<String, f64>>,
}

fn fixture() -> Fixture {
    serde_json::from_str(FIXTURE).expect("fixture parses")
}

#[test]
fn prompts_are_evalscopes() {
    let f = fixture();
    assert_eq!(f.evalscope, "1.14.1");
    assert_eq!(f.prompts.len(), 6);
    for c in &f.prompts {
        let kind = match c.kind.as_str() {
            "equivalence" => JudgeKind::Equivalence,
            "orm" => JudgeKind::Custom(&prompt::ORM_SCALE_10),
            _ => JudgeKind::Generic,
        };
        let filtered = c.filtered.as_deref().unwrap_or_default();
        let got = prompt::request(kind, &c.contract, &c.messages, &c.gold, (&c.pred, filtered));
        assert_eq!(got, c.expected, "{}", c.name);
    }
}

#[test]
fn replies_are_read_as_evalscope_reads_them() {
    let f = fixture();
    let labels = BTreeMap::from([("A".to_owned(), 1.0), ("B".to_owned(), 0.0)]);
    let mut seen = BTreeMap::<bool, usize>::new();
    for c in &f.replies {
        let contract = match c.contract.as_str() {
            "labels" => Contract::Labels(vec!["A".into(), "B".into()]),
            "rating" => Contract::Rating,
            "orm" => Contract::Scale(10.0),
            _ => Contract::Equivalence,
        };
        let got = parse::parse(&c.reply, &contract, &labels, "acc");
        assert_eq!(got.is_ok(), c.ok, "{} {:?}: {got:?}", c.contract, c.reply);
        if let (Ok(v), Some(want)) = (&got, &c.value) {
            assert_eq!(&v.value, want, "{} {:?}", c.contract, c.reply);
        }
        *seen.entry(c.ok).or_default() += 1;
    }
    // both outcomes are covered
    assert!(seen[&true] >= 10 && seen[&false] >= 10, "{seen:?}");
}
