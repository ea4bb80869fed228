//! Files are read as a stream: reading stops at `number`, a record at a time gives the same
//! prompts and errors as the whole bytes at once, and a failing read is an i/o error.

use std::cell::Cell;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::Path;

use serde_json::{Value, json};
use swarm_common::dataset::{
    BadLinePolicy, DatasetError, DatasetKind, DatasetSpec, LoadStats, LoadedDataset, MAX_SKIPPED,
    PromptSink, load_bytes, load_into, load_reader_into,
};
use swarm_common::prompt::Prompt;

/// Counts the bytes read through it.
struct Counting<'a, R> {
    inner: R,
    read: &'a Cell<usize>,
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.set(self.read.get() + n);
        Ok(n)
    }
}

/// Gives `data` up to `fail_at`, then fails; every other read is interrupted first.
struct Failing {
    data: Vec<u8>,
    pos: usize,
    fail_at: usize,
    interrupt: bool,
}

impl Failing {
    fn new(data: &[u8], fail_at: usize) -> Self {
        Self {
            data: data.to_vec(),
            pos: 0,
            fail_at,
            interrupt: false,
        }
    }
}

impl Read for Failing {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.interrupt = !self.interrupt;
        if self.interrupt {
            return Err(io::ErrorKind::Interrupted.into());
        }
        if self.pos >= self.fail_at {
            return Err(io::Error::other("disk went away"));
        }
        let end = self.fail_at.min(self.data.len()).min(self.pos + buf.len());
        let n = end - self.pos;
        buf[..n].copy_from_slice(&self.data[self.pos..end]);
        self.pos = end;
        Ok(n)
    }
}

fn spec(kind: DatasetKind, policy: BadLinePolicy) -> DatasetSpec {
    let mut spec = DatasetSpec::new(kind, None);
    spec.on_bad_line = policy;
    spec
}

/// Loads `bytes` through a buffer of `capacity` bytes into a `Vec`.
fn streamed(
    spec: &DatasetSpec,
    bytes: &[u8],
    capacity: usize,
) -> Result<LoadedDataset, DatasetError> {
    let mut prompts = Vec::new();
    let reader = BufReader::with_capacity(capacity, bytes);
    let stats = load_reader_into(spec, "t.data".as_ref(), reader, None, &mut prompts)?;
    assert_eq!(stats.kept, prompts.len());
    assert_eq!(stats.skipped_total, stats.skipped.len());
    Ok(LoadedDataset {
        prompts,
        skipped: stats.skipped,
    })
}

/// The outcome as text: kept prompts and skipped records, or the error.
fn outcome(result: &Result<LoadedDataset, DatasetError>) -> String {
    match result {
        Ok(out) => {
            let texts: Vec<String> = out.prompts.iter().map(Prompt::plain_text).collect();
            let skipped: Vec<String> = out.skipped.iter().map(ToString::to_string).collect();
            format!("kept {texts:?} skipped {skipped:?}")
        }
        Err(e) => format!("error {e}"),
    }
}

/// A ShareGPT record whose human turn is `question-{i}`, padded to about 1 KB.
fn sharegpt_record(i: usize) -> Value {
    json!({
        "id": format!("id-{i}"),
        "conversations": [
            {"from": "human", "value": format!("question-{i}")},
            {"from": "gpt", "value": format!("[{}] \"answer\" \\ {}", i, "x".repeat(1000))},
        ]
    })
}

#[test]
fn a_large_json_list_with_number_reads_only_its_head() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big_sharegpt.json");
    let mut file = io::BufWriter::new(std::fs::File::create(&path).unwrap());
    file.write_all(b"[\n").unwrap();
    for i in 0..20_000 {
        if i > 0 {
            file.write_all(b",\n").unwrap();
        }
        serde_json::to_writer(&mut file, &sharegpt_record(i)).unwrap();
    }
    file.write_all(b"\n]\n").unwrap();
    file.into_inner().unwrap().sync_all().unwrap();
    let size = std::fs::metadata(&path).unwrap().len();
    assert!(size > 20_000_000, "{size}");

    let mut spec = DatasetSpec::new(DatasetKind::ShareGpt, Some(path.clone()));
    spec.number = 10;
    let expected: Vec<String> = (0..10).map(|i| format!("question-{i}")).collect();

    let read = Cell::new(0);
    let counting = Counting {
        inner: std::fs::File::open(&path).unwrap(),
        read: &read,
    };
    let reader = BufReader::with_capacity(256 * 1024, counting);
    let mut prompts = Vec::new();
    let stats = load_reader_into(&spec, &path, reader, None, &mut prompts).unwrap();
    let texts: Vec<String> = prompts.iter().map(Prompt::plain_text).collect();
    assert_eq!(texts, expected);
    assert_eq!(
        stats,
        LoadStats {
            kept: 10,
            ..LoadStats::default()
        }
    );
    assert!(
        read.get() < 1024 * 1024,
        "read {} of {size} bytes",
        read.get()
    );
    assert!(read.get() > 10_000, "read {} bytes", read.get());

    let mut prompts = Vec::new();
    let stats = load_into(&spec, None, &mut prompts).unwrap();
    assert_eq!(stats.kept, 10);
    assert_eq!(
        prompts.iter().map(Prompt::plain_text).collect::<Vec<_>>(),
        expected
    );

    // Without `number` every record is read, in order.
    spec.number = 0;
    let mut prompts = Vec::new();
    let stats = load_into(&spec, None, &mut prompts).unwrap();
    assert_eq!(stats.kept, 20_000);
    assert_eq!(prompts[19_999].plain_text(), "question-19999");
}

/// `(kind, input, outcome)`: inputs whose record boundaries are easy to get wrong.
const TRICKY: &[(DatasetKind, &str, &str)] = &[
    (
        DatasetKind::LongAlpaca,
        r#"[{"instruction": "a]b"}, {"instruction": "[c{"}, {"instruction": "q\"]\"}"}, {"instruction": "back\\"}, {"instruction": "\\\"[[", "x": [[1, [2]], {"y": []}]}]"#,
        r#"kept ["a]b", "[c{", "q\"]\"}", "back\\", "\\\"[["] skipped []"#,
    ),
    (
        DatasetKind::LongAlpaca,
        "[\n  {\n    \"instruction\": \"one\"\n  },\n  {\n    \"input\": \"no instruction\"\n  },\n  {\n    \"instruction\": \"three\"\n  }\n]\n",
        r#"kept ["one", "three"] skipped ["t.data:5: field `[1].instruction`: missing"]"#,
    ),
    (
        DatasetKind::LongAlpaca,
        "\u{feff}[\r\n  {\"instruction\": \"crlf\"},\r\n  7,\r\n  {\"instruction\": \"end\"}\r\n]\r\n",
        r#"kept ["crlf", "end"] skipped ["t.data:3: field `[1]`: expected an object with a string `instruction`, found a number (7)"]"#,
    ),
    (
        DatasetKind::LongAlpaca,
        "[{\"instruction\": \"one\"},\n {\"instruction\": \"tw",
        r#"kept ["one"] skipped ["t.data:2: field `[1]`: invalid json at column 20: EOF while parsing a string"]"#,
    ),
    (
        DatasetKind::LongAlpaca,
        "[{\"instruction\": \"one\"},\n {\"instruction\": \"two\"}\n",
        r#"kept ["one", "two"] skipped ["t.data:3: field `[2]`: unexpected end of file, the list is not closed"]"#,
    ),
    (
        DatasetKind::LongAlpaca,
        "[{\"instruction\": \"one\"},\n",
        r#"kept ["one"] skipped ["t.data:2: field `[1]`: unexpected end of file, the list is not closed"]"#,
    ),
    (
        DatasetKind::LongAlpaca,
        "[{\"instruction\": \"one\"}]\n\n  trailing",
        r#"kept ["one"] skipped ["t.data:3: unexpected `t` after the closing `]`"]"#,
    ),
    (
        DatasetKind::LongAlpaca,
        "[{\"instruction\": \"one\"}\n  {\"instruction\": \"two\"}]",
        r#"kept ["one"] skipped ["t.data:2: field `[1]`: expected `,` or `]`, found `{` (an object: is this a json lines file?)"]"#,
    ),
    (
        DatasetKind::LongAlpaca,
        "[{\"instruction\": \"one\"},\n {\"instruction\": \"two\"\n  {\"instruction\": \"three\"}]",
        r#"kept ["one"] skipped ["t.data:3: field `[1]`: invalid json at column 3: expected `,` or `}`"]"#,
    ),
    (
        DatasetKind::LongAlpaca,
        r#"[{"instruction": "one"}, "a \"]\" string", 12, -3.5e2, null, tru]"#,
        r#"kept ["one"] skipped ["t.data:1: field `[1]`: expected an object with a string `instruction`, found a string (\"a \\\"]\\\" string\")", "t.data:1: field `[2]`: expected an object with a string `instruction`, found a number (12)", "t.data:1: field `[3]`: expected an object with a string `instruction`, found a number (-350.0)", "t.data:1: field `[4]`: expected an object with a string `instruction`, found null", "t.data:1: field `[5]`: invalid json at column 65: expected ident"]"#,
    ),
    (
        DatasetKind::LongAlpaca,
        r#"[{"instruction": "one"}, 12x]"#,
        r#"kept ["one"] skipped ["t.data:1: field `[1]`: invalid json at column 28: trailing characters"]"#,
    ),
    (
        DatasetKind::LongAlpaca,
        r#"[{"instruction": "one"}, 1.]"#,
        r#"kept ["one"] skipped ["t.data:1: field `[1]`: invalid json at column 28: invalid number"]"#,
    ),
    (
        DatasetKind::LongAlpaca,
        r#"[{"instruction": "one"},]"#,
        r#"kept ["one"] skipped ["t.data:1: field `[1]`: invalid json at column 25: expected value"]"#,
    ),
    (
        DatasetKind::LongAlpaca,
        "[{\"instruction\": \"one\"}, {\"instruction\": \"a]\n",
        r#"kept ["one"] skipped ["t.data:2: field `[1]`: invalid json at column 0: control character (\\u0000-\\u001F) found while parsing a string"]"#,
    ),
    (
        DatasetKind::LongAlpaca,
        "[]",
        "error no prompts left in `t.data`: 0 records read, 0 bad, 0 outside 0 < length < 131072 (characters)",
    ),
    (
        DatasetKind::ShareGpt,
        "\n\n  {\"conversations\": []}",
        "error t.data:3: expected a json array of records, found `{` (an object: is this a json lines file?)",
    ),
    (
        DatasetKind::ShareGpt,
        "\u{feff} \r\n",
        "error t.data:2: expected a json array of records, found an empty file",
    ),
    (
        DatasetKind::ShareGpt,
        r#"[{"conversations": [{"from": "gpt", "value": "]}"}, {"from": "user", "value": "[nested] \"quoted\""}]}]"#,
        r#"kept ["[nested] \"quoted\""] skipped []"#,
    ),
    (
        DatasetKind::OpenQa,
        "\u{feff}{\"question\": \"a]\"}\r\n\r\n   \n{\"question\": 3}\r\n{\"question\": \"last\"}",
        r#"kept ["a]", "last"] skipped ["t.data:4: field `question`: expected a string, found a number (3)"]"#,
    ),
    (
        DatasetKind::OpenQa,
        "{\"question\": \"one\"}\n{\"question\": \"tw",
        r#"kept ["one"] skipped ["t.data:2: invalid json at column 16: EOF while parsing a string"]"#,
    ),
    (
        DatasetKind::LineByLine,
        "\u{feff}first\r\n\r\n  second  \n\t\nlast\r",
        r#"kept ["first", "second", "last"] skipped []"#,
    ),
];

#[test]
fn streaming_and_whole_bytes_agree_on_tricky_inputs() {
    for &(kind, input, expected) in TRICKY {
        let spec = spec(kind, BadLinePolicy::Skip);
        let whole = load_bytes(&spec, "t.data".as_ref(), input.as_bytes(), None);
        assert_eq!(outcome(&whole), expected, "{kind}: {input:?}");
        for capacity in [1, 2, 3, 7, 64 * 1024] {
            let stream = streamed(&spec, input.as_bytes(), capacity);
            assert_eq!(outcome(&stream), expected, "{kind}, {capacity}: {input:?}");
            assert_eq!(format!("{stream:?}"), format!("{whole:?}"), "{input:?}");
        }
    }
}

#[test]
fn the_fail_policy_stops_at_the_same_record_when_streaming() {
    for &(kind, input, _) in TRICKY {
        for number in [0, 1, 2] {
            let mut spec = spec(kind, BadLinePolicy::Fail);
            spec.number = number;
            let whole = load_bytes(&spec, "t.data".as_ref(), input.as_bytes(), None);
            let stream = streamed(&spec, input.as_bytes(), 1);
            assert_eq!(format!("{stream:?}"), format!("{whole:?}"), "{input:?}");
        }
    }
}

#[test]
fn valid_lists_give_what_parsing_them_whole_gives() {
    let records: Vec<Value> = (0..50)
        .map(|i| json!({"instruction": format!("[{i}] {{\"q\": \"\\\\]\"}} \u{00e9}")}))
        .collect();
    let pretty = serde_json::to_string_pretty(&records).unwrap();
    for text in [
        serde_json::to_string(&records).unwrap(),
        pretty.clone(),
        pretty.replace('\n', "\r\n"),
    ] {
        let whole: Vec<Value> = serde_json::from_str(&text).unwrap();
        let expected: Vec<String> = whole
            .iter()
            .map(|v| v["instruction"].as_str().unwrap().trim().to_string())
            .collect();
        let spec = spec(DatasetKind::LongAlpaca, BadLinePolicy::Fail);
        for capacity in [1, 5, 4096] {
            let out = streamed(&spec, text.as_bytes(), capacity).unwrap();
            let texts: Vec<String> = out.prompts.iter().map(Prompt::plain_text).collect();
            assert_eq!(texts, expected);
        }
    }
}

fn io_failure(kind: DatasetKind, data: &[u8], fail_at: usize) -> DatasetError {
    let spec = spec(kind, BadLinePolicy::Skip);
    let reader = BufReader::with_capacity(8, Failing::new(data, fail_at));
    let mut prompts = Vec::new();
    load_reader_into(&spec, "t.data".as_ref(), reader, None, &mut prompts).unwrap_err()
}

#[test]
fn a_read_that_fails_mid_file_is_an_io_error() {
    let list = br#"[{"instruction": "one"}, {"instruction": "two"}, {"instruction": "three"}]"#;
    let lines = b"{\"question\": \"one\"}\n{\"question\": \"two\"}\n{\"question\": \"three\"}\n";
    let text = b"one\ntwo\nthree\n";
    let cases: [(DatasetKind, &[u8]); 4] = [
        (DatasetKind::LongAlpaca, list),
        (DatasetKind::OpenQa, lines),
        (
            DatasetKind::Custom,
            b"{\"prompt\": \"one\"}\n{\"prompt\": \"two\"}\n",
        ),
        (DatasetKind::LineByLine, text),
    ];
    for (kind, data) in cases {
        for fail_at in [0, 1, 5, data.len() / 2, data.len() - 1] {
            let err = io_failure(kind, data, fail_at);
            let DatasetError::Io { path, source } = &err else {
                panic!("{kind} failing at {fail_at}: {err:?}")
            };
            assert_eq!(path, Path::new("t.data"));
            assert_eq!(source.to_string(), "disk went away");
            assert_eq!(
                err.to_string(),
                "cannot read dataset `t.data`: disk went away"
            );
        }
    }
}

#[test]
fn interrupted_reads_are_retried_and_reading_stops_at_number() {
    let data = br#"[{"instruction": "one"}, {"instruction": "two"}, {"instruction": "three"}]"#;
    let end_of_first = data.iter().position(|&b| b == b'}').unwrap() + 1;
    let mut spec = spec(DatasetKind::LongAlpaca, BadLinePolicy::Fail);
    spec.number = 1;
    // The read fails just after the first record, which is all `number` asks for.
    let reader = BufReader::with_capacity(4, Failing::new(data, end_of_first));
    let mut prompts = Vec::new();
    let stats = load_reader_into(&spec, "t.data".as_ref(), reader, None, &mut prompts).unwrap();
    assert_eq!(stats.kept, 1);
    assert_eq!(prompts, [Prompt::text("one")]);

    spec.number = 0;
    let reader = BufReader::with_capacity(4, Failing::new(data, usize::MAX));
    let mut prompts = Vec::new();
    load_reader_into(&spec, "t.data".as_ref(), reader, None, &mut prompts).unwrap();
    let texts: Vec<String> = prompts.iter().map(Prompt::plain_text).collect();
    assert_eq!(texts, ["one", "two", "three"]);
}

#[test]
fn skipped_records_are_counted_past_the_kept_ones() {
    let mut data = String::new();
    for _ in 0..MAX_SKIPPED + 500 {
        data.push_str("{\"question\": 1}\n");
    }
    data.push_str("{\"question\": \"good\"}\n");
    let spec = spec(DatasetKind::OpenQa, BadLinePolicy::Skip);
    let mut prompts = Vec::new();
    let stats = load_reader_into(
        &spec,
        "t.data".as_ref(),
        data.as_bytes(),
        None,
        &mut prompts,
    )
    .unwrap();
    assert_eq!(stats.kept, 1);
    assert_eq!(stats.skipped.len(), MAX_SKIPPED);
    assert_eq!(stats.skipped_total, MAX_SKIPPED + 500);
    assert_eq!(stats.skipped[MAX_SKIPPED - 1].line, MAX_SKIPPED);
    // The collecting entry point keeps every one, as it always has.
    let whole = load_bytes(&spec, "t.data".as_ref(), data.as_bytes(), None).unwrap();
    assert_eq!(whole.skipped.len(), MAX_SKIPPED + 500);
}

/// Takes two prompts, then refuses.
struct Full(Vec<Prompt>);

impl PromptSink for Full {
    fn push(&mut self, prompt: Prompt) -> Result<(), DatasetError> {
        if self.0.len() == 2 {
            return Err(DatasetError::Io {
                path: "sink".into(),
                source: io::Error::other("sink full"),
            });
        }
        self.0.push(prompt);
        Ok(())
    }
}

#[test]
fn a_sink_error_stops_loading() {
    let spec = spec(DatasetKind::LineByLine, BadLinePolicy::Fail);
    let mut sink = Full(Vec::new());
    let err = load_reader_into(
        &spec,
        "t.data".as_ref(),
        &b"a\nb\nc\nd\n"[..],
        None,
        &mut sink,
    )
    .unwrap_err();
    assert_eq!(err.to_string(), "cannot read dataset `sink`: sink full");
    assert_eq!(sink.0, [Prompt::text("a"), Prompt::text("b")]);
}

/// `BufRead` is all the loader needs: a reader of lines from memory works as a file does.
#[test]
fn any_buffered_reader_is_a_source() {
    let spec = spec(DatasetKind::LineByLine, BadLinePolicy::Fail);
    let cursor: Box<dyn BufRead> = Box::new(io::Cursor::new(b"x\ny\n".to_vec()));
    let mut prompts = Vec::new();
    let stats = load_reader_into(&spec, "t.data".as_ref(), cursor, None, &mut prompts).unwrap();
    assert_eq!(stats.kept, 2);
    assert_eq!(prompts, [Prompt::text("x"), Prompt::text("y")]);
}
