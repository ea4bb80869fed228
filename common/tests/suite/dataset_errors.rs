//! Bad records are reported with file, line and field; the policy decides skip or fail.

use std::path::PathBuf;

use swarm_common::dataset::{
    BadLinePolicy, DatasetError, DatasetKind, DatasetSpec, load, load_bytes,
};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/datasets")
        .join(name)
}

fn skipping(kind: DatasetKind, file: &str) -> DatasetSpec {
    let mut spec = DatasetSpec::new(kind, Some(fixture(file)));
    spec.on_bad_line = BadLinePolicy::Skip;
    spec
}

/// Each skipped error as `line: field `x`: message`, without the path.
fn reasons(kind: DatasetKind, file: &str) -> (usize, Vec<String>) {
    let out = load(&skipping(kind, file), None).unwrap();
    let path = fixture(file);
    let reasons = out
        .skipped
        .iter()
        .map(|e| {
            assert_eq!(e.path, path);
            let full = e.to_string();
            full.strip_prefix(&format!("{}:", path.display()))
                .unwrap()
                .to_string()
        })
        .collect();
    (out.prompts.len(), reasons)
}

#[test]
fn openqa_skips_bad_lines_with_their_line_and_field() {
    let (kept, reasons) = reasons(DatasetKind::OpenQa, "openqa_bad.jsonl");
    assert_eq!(kept, 2);
    assert_eq!(
        reasons,
        [
            "2: field `question`: expected a string, found a number (42)",
            "3: field `question`: missing",
            "4: invalid json at column 36: EOF while parsing a string",
            "6: field `question`: empty prompt",
            "7: expected an object with a string `question`, found an array of 2 items",
        ]
    );
}

#[test]
fn fail_policy_stops_at_the_first_bad_line() {
    let spec = DatasetSpec::new(DatasetKind::OpenQa, Some(fixture("openqa_bad.jsonl")));
    let err = load(&spec, None).unwrap_err();
    let DatasetError::BadLine(line) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(line.line, 2);
    assert_eq!(line.field.as_deref(), Some("question"));
    let msg = err.to_string();
    assert!(
        msg.contains("openqa_bad.jsonl:2: field `question`"),
        "{msg}"
    );
}

#[test]
fn the_brief_example_names_file_line_and_field() {
    let bytes =
        b"{\"question\": \"fine\"}\n{\"question\": \"also fine\"}\n{\"prompt\": \"wrong field\"}\n";
    let spec = DatasetSpec::new(DatasetKind::OpenQa, None);
    let err = load_bytes(&spec, "bad.jsonl".as_ref(), bytes, None).unwrap_err();
    assert_eq!(err.to_string(), "bad.jsonl:3: field `question`: missing");
}

#[test]
fn longalpaca_reports_the_element_line_and_index() {
    let (kept, reasons) = reasons(DatasetKind::LongAlpaca, "longalpaca_bad.json");
    assert_eq!(kept, 2);
    assert_eq!(
        reasons,
        [
            "3: field `[1].instruction`: missing",
            "4: field `[2].instruction`: expected a string, found an array of 3 items",
            "5: field `[3]`: expected an object with a string `instruction`, found a string (\"a bare string\")",
        ]
    );
}

#[test]
fn custom_checks_messages_and_bodies() {
    let (kept, reasons) = reasons(DatasetKind::Custom, "custom_bad.jsonl");
    assert_eq!(kept, 1);
    assert_eq!(
        reasons,
        [
            "1: field `[0].content`: missing",
            "2: field `messages[0].role`: expected a string, found a number (1)",
            "3: field `messages`: empty message list",
            "4: field `prompt`: give either `messages` or `prompt`, not both",
            "5: field `body`: expected `messages` or `prompt` in the body",
            "6: expected an array of messages or an object with `messages`, `prompt` or `body`, found a string (\"just a string\")",
            "7: expected `messages`, `prompt` or `body` in the record",
            "8: field `messages[0].content`: expected a string or an array of parts, found a number (7)",
            "9: field `body`: `body` must be the only key of the record",
        ]
    );
}

#[test]
fn a_broken_json_list_is_reported_where_it_breaks() {
    let spec = {
        let mut s = DatasetSpec::new(DatasetKind::LongAlpaca, None);
        s.on_bad_line = BadLinePolicy::Skip;
        s
    };
    let text = "[\n  {\"instruction\": \"first\"},\n  {\"instruction\": \"second\"\n  {\"instruction\": \"third\"}\n]\n";
    let out = load_bytes(&spec, "la.json".as_ref(), text.as_bytes(), None).unwrap();
    assert_eq!(out.prompts.len(), 1);
    assert_eq!(out.skipped.len(), 1);
    assert_eq!(
        out.skipped[0].to_string(),
        "la.json:4: field `[1]`: invalid json at column 3: expected `,` or `}`"
    );

    let truncated = "[{\"instruction\": \"first\"},\n {\"instruction\": \"sec";
    let out = load_bytes(&spec, "la.json".as_ref(), truncated.as_bytes(), None).unwrap();
    assert_eq!(out.prompts.len(), 1);
    assert_eq!(out.skipped[0].line, 2);
    assert_eq!(out.skipped[0].field.as_deref(), Some("[1]"));

    let trailing = "[{\"instruction\": \"only\"}] extra";
    let out = load_bytes(&spec, "la.json".as_ref(), trailing.as_bytes(), None).unwrap();
    assert_eq!(out.prompts.len(), 1);
    assert_eq!(
        out.skipped[0].to_string(),
        "la.json:1: unexpected `e` after the closing `]`"
    );
}

#[test]
fn a_json_lines_file_given_as_a_list_kind_says_so() {
    let spec = DatasetSpec::new(DatasetKind::ShareGpt, Some(fixture("openqa.jsonl")));
    let err = load(&spec, None).unwrap_err();
    assert!(
        matches!(err, DatasetError::NotJsonArray { line: 1, .. }),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("openqa.jsonl:1: expected a json array of records, found `{`"),
        "{msg}"
    );
    assert!(msg.contains("json lines"), "{msg}");
}

#[test]
fn invalid_utf8_in_a_text_file_is_a_bad_line() {
    let mut spec = DatasetSpec::new(DatasetKind::LineByLine, None);
    spec.on_bad_line = BadLinePolicy::Skip;
    let out = load_bytes(
        &spec,
        "p.txt".as_ref(),
        b"good line\nbad \xff byte\nanother\n",
        None,
    )
    .unwrap();
    assert_eq!(out.prompts.len(), 2);
    assert_eq!(
        out.skipped[0].to_string(),
        "p.txt:2: invalid utf-8 at byte 5"
    );
}

#[test]
fn a_missing_file_is_an_io_error_naming_it() {
    let spec = DatasetSpec::new(DatasetKind::OpenQa, Some("/no/such/open_qa.jsonl".into()));
    let err = load(&spec, None).unwrap_err();
    assert!(matches!(err, DatasetError::Io { .. }), "{err:?}");
    assert!(
        err.to_string()
            .starts_with("cannot read dataset `/no/such/open_qa.jsonl`: "),
        "{err}"
    );
}

#[test]
fn a_file_kind_without_path_is_refused() {
    let err = load(&DatasetSpec::new(DatasetKind::Custom, None), None).unwrap_err();
    assert_eq!(err.to_string(), "dataset `custom` needs a path");
}

#[test]
fn upside_down_bounds_are_refused() {
    let mut spec = DatasetSpec::new(DatasetKind::OpenQa, Some(fixture("openqa.jsonl")));
    spec.min_prompt_length = 50;
    spec.max_prompt_length = 10;
    let err = load(&spec, None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "min_prompt_length 50 is greater than max_prompt_length 10"
    );
}

#[test]
fn nothing_left_is_an_error_that_explains_why() {
    let mut spec = skipping(DatasetKind::OpenQa, "openqa_bad.jsonl");
    spec.max_prompt_length = 5;
    let err = load(&spec, None).unwrap_err();
    assert!(
        matches!(
            err,
            DatasetError::Empty {
                records: 7,
                skipped: 5,
                filtered: 2,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .ends_with("7 records read, 5 bad, 2 outside 0 < length < 5 (characters)"),
        "{err}"
    );
}
