//! The bodies of the fuzz targets (`fuzz/fuzz_targets/*.rs` call these) and of their regression
//! test, which replays every kept input in `fuzz/regressions/<target>/`. Each takes arbitrary
//! bytes and must return without panicking, whatever they hold.

use std::path::Path;

use prost::Message;
use swarm_common::dataset::{DatasetKind, DatasetSpec, load_bytes};
use swarm_common::metrics::RequestRecord;
use swarm_common::metrics::aggregate::HistSettings;
use swarm_common::wire::{delta_from_snapshot, from_snapshot};
use swarm_eval::math::{extract_answer, math_equal, strip_answer_string};
use swarm_eval::mc;
use swarm_eval::task::Prediction;
use swarm_io::client::meter::Meter;
use swarm_io::client::sse::SseParser;
use swarm_proto::AgentMessage;
use swarm_proto::agent_message::Msg;

/// A fuzz target's body.
pub type Target = fn(&[u8]);

/// Every target by name, for the regression replay.
pub const TARGETS: [(&str, Target); 5] = [
    ("sse_stream", sse_stream),
    ("plan_yaml", plan_yaml),
    ("dataset_lines", dataset_lines),
    ("answer_extract", answer_extract),
    ("agent_message", agent_message),
];

/// An SSE body, split into pieces at the positions its first bytes name, through the parser and
/// the per-request meter, as the client reads a response.
pub fn sse_stream(data: &[u8]) {
    let (cuts, body) = data.split_at(data.len().min(4));
    let mut parser = SseParser::new();
    let mut meter = Meter::new(true);
    let mut at = 0u64;
    let mut rest = body;
    for &c in cuts {
        let n = (c as usize).min(rest.len());
        let (piece, tail) = rest.split_at(n);
        at += 1;
        parser.feed(piece, |ev| meter.on_data(ev.data, ev.event, at));
        rest = tail;
    }
    parser.feed(rest, |ev| meter.on_data(ev.data, ev.event, at + 1));
    parser.finish(|ev| meter.on_data(ev.data, ev.event, at + 2));
    meter.on_end();
}

/// A plan file's text through the plan loader (YAML, `${VAR}` substitution, validation).
pub fn plan_yaml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let vars = std::collections::HashMap::from([("HOST".to_owned(), "127.0.0.1".to_owned())]);
    let _ = swarm_coordinator::plan::parse_plan(text, Path::new("fuzz.yaml"), &vars);
}

/// A dataset file through every file loader.
pub fn dataset_lines(data: &[u8]) {
    for kind in [
        DatasetKind::OpenQa,
        DatasetKind::Custom,
        DatasetKind::LineByLine,
        DatasetKind::LongAlpaca,
        DatasetKind::ShareGpt,
    ] {
        let spec = DatasetSpec::new(kind, None);
        let _ = load_bytes(&spec, Path::new("fuzz.jsonl"), data, None);
    }
}

/// Model output through every answer extractor and the math equivalence check.
pub fn answer_extract(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    // bound the work a single input can ask for, as the scorers bound completions
    let text: String = text.chars().take(4096).collect();
    for n in [2, 4, 10, 30] {
        for multiple in [false, true] {
            let _ = mc::parse_answers(&text, n, multiple);
            let _ = mc::parse_answers_zh(&text, n, multiple);
            let _ = mc::parse_answers_head(&text, n, multiple);
            let _ = mc::parse_answers_zh_head(&text, n, multiple);
        }
    }
    let extracted = extract_answer(&text);
    let stripped = strip_answer_string(&extracted);
    let half = text.len() / 2;
    let split = (0..=half)
        .rev()
        .find(|i| text.is_char_boundary(*i))
        .unwrap_or(0);
    let _ = math_equal(&stripped, &text[split..]);
    let _ = math_equal(&text[..split], &stripped);
}

/// Bytes from an agent's stream: the protobuf message, then what the coordinator decodes from
/// it (histogram snapshots, typed records, JSON-lines predictions).
pub fn agent_message(data: &[u8]) {
    let Ok(m) = AgentMessage::decode(data) else {
        return;
    };
    let settings = HistSettings::default();
    match m.msg {
        Some(Msg::Progress(p)) => {
            if let Some(s) = p.delta {
                let _ = delta_from_snapshot(&s, settings);
                let _ = from_snapshot(&s, settings);
            }
        }
        Some(Msg::Done(d)) => {
            if let Some(s) = d.last {
                let _ = delta_from_snapshot(&s, settings);
                let _ = from_snapshot(&s, settings);
            }
        }
        // what the coordinator decodes from each batch kind
        Some(Msg::Records(r)) => {
            for rec in &r.records {
                let _ = RequestRecord::try_from(rec);
            }
        }
        Some(Msg::Scored(s)) => {
            let _ = swarm_common::lines::decode::<Prediction>(&s.jsonl);
        }
        _ => {}
    }
}
