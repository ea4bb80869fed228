//! IFEval: every instruction checker on a following and a violating response, loose mode, the
//! loader on all 541 prompts (every instruction id and argument combination of the data is
//! built), bad records, and the micro instruction-level option.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};
use swarm_eval::benchmarks::ifeval::evaluate::{InstLevel, METRICS, metrics};
use swarm_eval::benchmarks::ifeval::registry::{Checker, build, ids};
use swarm_eval::registry::benchmark;
use swarm_eval::{DatasetArgs, EvalError};

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/eval/ifeval/input_data.jsonl")
}

fn kwargs(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

fn checker(id: &str, args: Value) -> Checker {
    build(id, &kwargs(args)).unwrap_or_else(|e| panic!("{id}: {e:?}"))
}

/// (id, kwargs, a response that follows, one that does not).
fn cases() -> Vec<(&'static str, Value, &'static str, &'static str)> {
    vec![
        (
            "keywords:existence",
            json!({"keywords": ["Banana", "kiwi"]}),
            "A banana and a KIWI.",
            "A banana only.",
        ),
        (
            "keywords:frequency",
            json!({"keyword": "cat", "frequency": 2, "relation": "at least"}),
            "Cat and cat.",
            "One cat.",
        ),
        (
            "keywords:frequency",
            json!({"keyword": "cat", "frequency": 2, "relation": "less than"}),
            "One cat.",
            "Cat, cat.",
        ),
        (
            "keywords:forbidden_words",
            json!({"forbidden_words": ["rain"]}),
            "Rainbows are fine.",
            "No RAIN today.",
        ),
        (
            "keywords:letter_frequency",
            json!({"letter": "Z", "let_frequency": 3, "let_relation": "at least"}),
            "Zz z",
            "zz",
        ),
        (
            "keywords:letter_frequency",
            json!({"letter": "q", "let_frequency": 2, "let_relation": "less than"}),
            "quiet",
            "Quick quiz",
        ),
        // The data asks for '#' once (key 1122); the reference would draw a random letter.
        (
            "keywords:letter_frequency",
            json!({"letter": "#", "let_frequency": 2, "let_relation": "at least"}),
            "#a #b",
            "#a b",
        ),
        (
            "language:response_language",
            json!({"language": "de"}),
            "Das ist ein kurzer deutscher Satz über das Wetter.",
            "This is a short English sentence about the weather.",
        ),
        (
            "length_constraints:number_sentences",
            json!({"num_sentences": 2, "relation": "less than"}),
            "Only one sentence here.",
            "One. Two. Three.",
        ),
        (
            "length_constraints:number_sentences",
            json!({"num_sentences": 3, "relation": "at least"}),
            "Dr. Smith came. He sat. He left.",
            "Dr. Smith came. He left.",
        ),
        (
            "length_constraints:number_paragraphs",
            json!({"num_paragraphs": 2}),
            "First part.\n***\nSecond part.",
            "First.\n***\n***\nSecond.",
        ),
        (
            "length_constraints:number_words",
            json!({"num_words": 5, "relation": "at least"}),
            "one two three four five",
            "one two three four",
        ),
        (
            "length_constraints:number_words",
            json!({"num_words": 3, "relation": "less than"}),
            "two words",
            "one two three",
        ),
        (
            "length_constraints:nth_paragraph_first_word",
            json!({"num_paragraphs": 2, "nth_paragraph": 2, "first_word": "Then"}),
            "Intro here.\n\n\"Then, more.",
            "Intro here.\n\nAfter that.",
        ),
        (
            "detectable_content:number_placeholders",
            json!({"num_placeholders": 2}),
            "Dear [name], at [address].",
            "Dear [name].",
        ),
        (
            "detectable_content:postscript",
            json!({"postscript_marker": "P.S."}),
            "Hello.\n\np. s. see you",
            "Hello. PS see you",
        ),
        (
            "detectable_content:postscript",
            json!({"postscript_marker": "P.P.S"}),
            "Hello.\nP.P.S. later",
            "Hello.\nP.S. later",
        ),
        (
            "detectable_format:number_bullet_lists",
            json!({"num_bullets": 2}),
            "* one\n- two\ntext",
            "* one\n* two\n* three",
        ),
        (
            "detectable_format:constrained_response",
            json!({}),
            "Well. My answer is maybe.",
            "My answer is perhaps.",
        ),
        (
            "detectable_format:number_highlighted_sections",
            json!({"num_highlights": 2}),
            "*one* and **two**",
            "*one* and ** **",
        ),
        (
            "detectable_format:multiple_sections",
            json!({"section_spliter": "Section", "num_sections": 2}),
            "Section 1\na\nSection 2\nb",
            "Section 1\na\nsection 2\nb",
        ),
        (
            "detectable_format:json_format",
            json!({}),
            "```json\n{\"a\": [1, 2]}\n```",
            "{'a': 1}",
        ),
        (
            "detectable_format:title",
            json!({}),
            "<<My Title>>\nBody",
            "<< >>\nBody",
        ),
        (
            "combination:two_responses",
            json!({}),
            "Answer one.\n******\nAnswer two.",
            "Same.\n******\nSame.",
        ),
        (
            "combination:repeat_prompt",
            json!({"prompt_to_repeat": "Write a poem."}),
            "write a POEM. Roses are red.",
            "Sure! Write a poem.",
        ),
        (
            "startend:end_checker",
            json!({"end_phrase": "Any other questions?"}),
            "Done. any other questions?\"",
            "Any other questions? Bye.",
        ),
        (
            "startend:quotation",
            json!({}),
            "  \"Quoted text\"\n",
            "\"Not closed",
        ),
        (
            "change_case:capital_word_frequency",
            json!({"capital_frequency": 2, "capital_relation": "at least"}),
            "The NASA and ESA teams.",
            "Only NASA here.",
        ),
        (
            "change_case:capital_word_frequency",
            json!({"capital_frequency": 2, "capital_relation": "less than"}),
            "Only NASA here.",
            "I'M HERE.",
        ),
        (
            "change_case:english_capital",
            json!({}),
            "THIS IS AN ENGLISH SENTENCE ABOUT THE WEATHER.",
            "THIS IS an English sentence.",
        ),
        (
            "change_case:english_lowercase",
            json!({}),
            "this is an english sentence about the weather.",
            "This is an English sentence.",
        ),
        (
            "punctuation:no_comma",
            json!({}),
            "No commas here.",
            "One, two.",
        ),
    ]
}

#[test]
fn every_checker_accepts_a_following_response_and_rejects_a_violating_one() {
    let cases = cases();
    for id in ids() {
        assert!(cases.iter().any(|c| c.0 == id), "no test case for {id}");
    }
    assert_eq!(ids().len(), 25);
    for (id, args, follows, violates) in cases {
        let c = checker(id, args.clone());
        assert!(c.check(follows), "{id} {args}: should follow: {follows:?}");
        assert!(
            !c.check(violates),
            "{id} {args}: should violate: {violates:?}"
        );
    }
}

#[test]
fn language_checks_count_undecidable_text_as_followed() {
    // langdetect raises on text without letters; the reference counts that as followed.
    assert!(checker("language:response_language", json!({"language": "ko"})).check("12345 !!!"));
    // A lone capital is a feature langdetect decides on (`tl`), so this is not English.
    assert!(!checker("change_case:english_capital", json!({})).check("123 A"));
    assert!(!checker("change_case:english_lowercase", json!({})).check("123 ..."));
}

#[test]
fn bad_arguments_are_errors_naming_the_argument() {
    let err = |id: &str, args: Value| build(id, &kwargs(args)).map(|_| ()).unwrap_err();
    assert_eq!(
        err(
            "keywords:frequency",
            json!({"keyword": "x", "frequency": 2})
        )
        .field
        .as_deref(),
        Some("relation")
    );
    assert_eq!(
        err(
            "length_constraints:number_words",
            json!({"num_words": 3, "relation": "at most"})
        )
        .field
        .as_deref(),
        Some("relation")
    );
    assert_eq!(
        err(
            "length_constraints:number_words",
            json!({"num_words": "3", "relation": "at least"})
        )
        .field
        .as_deref(),
        Some("num_words")
    );
    assert_eq!(
        err("punctuation:no_comma", json!({"num_words": 3}))
            .field
            .as_deref(),
        Some("num_words")
    );
    assert_eq!(
        err(
            "keywords:letter_frequency",
            json!({"letter": "ab", "let_frequency": 1, "let_relation": "at least"})
        )
        .field
        .as_deref(),
        Some("letter")
    );
    assert_eq!(
        err("language:response_language", json!({"language": "xx"}))
            .field
            .as_deref(),
        Some("language")
    );
    assert_eq!(
        err(
            "length_constraints:nth_paragraph_first_word",
            json!({"num_paragraphs": 2, "nth_paragraph": 3, "first_word": "a"})
        )
        .field
        .as_deref(),
        Some("nth_paragraph")
    );
    assert_eq!(
        err("keywords:existence", json!({"keywords": ["a("]}))
            .field
            .as_deref(),
        Some("keywords")
    );
    assert_eq!(
        err(
            "detectable_content:number_placeholders",
            json!({"num_placeholders": -1})
        )
        .field
        .as_deref(),
        Some("num_placeholders")
    );
    assert!(err("no:such_id", json!({})).field.is_none());
    // Falsy values are dropped, as the reference does: nulls everywhere are fine.
    assert!(
        build(
            "punctuation:no_comma",
            &kwargs(json!({"num_words": null, "keywords": []}))
        )
        .is_ok()
    );
}

#[test]
fn loose_mode_forgives_a_first_line_a_last_line_and_stars() {
    let lower = vec![checker("change_case:english_lowercase", json!({}))];
    let response = "Sure! Here it is:\nthis is an english sentence about the weather.";
    let m = metrics(&lower, response, InstLevel::PerPrompt);
    assert_eq!(m["prompt_level_strict"], 0.0);
    assert_eq!(m["prompt_level_loose"], 1.0);

    let end = vec![checker(
        "startend:end_checker",
        json!({"end_phrase": "The end."}),
    )];
    let m = metrics(
        &end,
        "Story text. The end.\nHope you liked it!",
        InstLevel::PerPrompt,
    );
    assert_eq!((m["inst_level_strict"], m["inst_level_loose"]), (0.0, 1.0));

    let title = vec![
        checker("startend:quotation", json!({})),
        checker("punctuation:no_comma", json!({})),
    ];
    let m = metrics(&title, "**\"Quoted\"**", InstLevel::PerPrompt);
    assert_eq!((m["inst_level_strict"], m["inst_level_loose"]), (0.5, 1.0));
    assert_eq!(
        (m["prompt_level_strict"], m["prompt_level_loose"]),
        (0.0, 1.0)
    );

    // An empty (or blank) response follows nothing, in either mode.
    let m = metrics(&title, " \n ", InstLevel::PerPrompt);
    assert!(METRICS.iter().all(|k| m[*k] == 0.0), "{m:?}");
}

#[test]
fn all_541_prompts_load_with_every_instruction_built() {
    let bench = benchmark("ifeval").unwrap();
    let samples = bench
        .load(&DatasetArgs {
            local_path: Some(data()),
            ..DatasetArgs::default()
        })
        .unwrap();
    assert_eq!(samples.len(), 541);
    let first = &samples[0];
    assert_eq!(first.id, "default_0");
    assert_eq!(first.gold, "");
    assert_eq!(first.messages.len(), 1);
    assert_eq!(first.messages[0]["role"], "user");
    assert_eq!(first.messages[0]["content"], first.metadata["prompt"]);
    assert_eq!(first.metadata["key"], 1000);
    // Every id of the registry is used by the data, and every (id, kwargs) of the data builds.
    let mut seen = std::collections::BTreeSet::new();
    let mut combos = 0;
    for s in &samples {
        let list = s.metadata["instruction_id_list"].as_array().unwrap();
        let args = s.metadata["kwargs"].as_array().unwrap();
        assert_eq!(list.len(), args.len());
        for (id, a) in list.iter().zip(args) {
            let id = id.as_str().unwrap();
            build(id, a.as_object().unwrap()).unwrap_or_else(|e| panic!("{}: {id}: {e:?}", s.id));
            seen.insert(id.to_owned());
            combos += 1;
        }
        // Scoring an empty response gives all four metrics, all zero.
        let score = bench.score("", s);
        assert_eq!(score.values.len(), 4, "{}", s.id);
        assert_eq!(score.main, "prompt_level_strict");
    }
    assert_eq!(combos, 834);
    assert_eq!(seen.len(), 25);
    assert_eq!(seen.into_iter().collect::<Vec<_>>().len(), ids().len());
}

fn write(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("input_data.jsonl");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn bad_records_name_file_line_and_field() {
    let tmp = tempfile::tempdir().unwrap();
    let good = r#"{"key": 1, "prompt": "p", "instruction_id_list": ["punctuation:no_comma"], "kwargs": [{}]}"#;
    let cases = [
        (
            r#"{"key": 2, "prompt": "p", "instruction_id_list": ["length_constraints:number_words"], "kwargs": [{"num_words": 10}]}"#,
            "kwargs[0].relation",
        ),
        (
            r#"{"key": 2, "prompt": "p", "instruction_id_list": ["nope:nope"], "kwargs": [{}]}"#,
            "instruction_id_list[0]",
        ),
        (
            r#"{"key": 2, "prompt": "p", "instruction_id_list": ["punctuation:no_comma"], "kwargs": []}"#,
            "kwargs",
        ),
        (
            r#"{"key": 2, "instruction_id_list": [], "kwargs": []}"#,
            "prompt",
        ),
        (
            r#"{"key": "x", "prompt": "p", "instruction_id_list": [], "kwargs": []}"#,
            "key",
        ),
        (r#"not json"#, "(record)"),
    ];
    for (line, field) in cases {
        let path = write(tmp.path(), &format!("{good}\n{line}\n"));
        let err = benchmark("ifeval")
            .unwrap()
            .load(&DatasetArgs {
                local_path: Some(path.clone()),
                ..DatasetArgs::default()
            })
            .unwrap_err();
        match &err {
            EvalError::BadRecord {
                path: p,
                line: 2,
                field: f,
                ..
            } => {
                assert_eq!((p, f.as_str()), (&path, field), "{err}")
            }
            other => panic!("{line}: {other}"),
        }
        assert!(
            err.to_string()
                .contains(&format!("input_data.jsonl:2: field `{field}`")),
            "{err}"
        );
    }
}

#[test]
fn micro_instruction_level_is_the_ratio_of_sums() {
    let tmp = tempfile::tempdir().unwrap();
    let path = write(
        tmp.path(),
        concat!(
            r#"{"key": 1, "prompt": "a", "instruction_id_list": ["punctuation:no_comma"], "kwargs": [{}]}"#,
            "\n",
            r#"{"key": 2, "prompt": "b", "instruction_id_list": ["punctuation:no_comma", "startend:quotation", "detectable_format:title"], "kwargs": [{}, {}, {}]}"#,
            "\n",
        ),
    );
    let bench = benchmark("ifeval").unwrap();
    let run = |inst_level: Option<&str>| {
        let mut args = DatasetArgs {
            local_path: Some(path.clone()),
            ..DatasetArgs::default()
        };
        if let Some(mode) = inst_level {
            args.extra_params.insert("inst_level".into(), json!(mode));
        }
        let samples = bench.load(&args).unwrap();
        // prompt a: 1 of 1 followed; prompt b: 1 of 3 followed (no comma only).
        let responses = ["fine", "x"];
        let scored: Vec<_> = samples
            .iter()
            .zip(responses)
            .map(|(s, r)| bench.score(r, s).values["inst_level_strict"])
            .collect();
        scored.iter().sum::<f64>() / scored.len() as f64
    };
    // EvalScope: mean of (1/1, 1/3) = 2/3; Google / lm-eval: (1 + 1) / (1 + 3) = 1/2.
    assert!((run(None) - 2.0 / 3.0).abs() < 1e-12);
    assert!((run(Some("per_prompt")) - 2.0 / 3.0).abs() < 1e-12);
    assert!((run(Some("micro")) - 0.5).abs() < 1e-12);
    let mut bad = DatasetArgs {
        local_path: Some(path),
        ..DatasetArgs::default()
    };
    bad.extra_params.insert("inst_level".into(), json!("macro"));
    assert!(matches!(bench.load(&bad), Err(EvalError::BadArgs { .. })));
}

/// Every prompt of the data, every EvalScope response in the fixtures and 40 tricky texts, as the reference
/// libraries see them (`nltk_langdetect_reference.json`, written by nltk 3.9.2 and langdetect
/// 1.0.9): the same sentence count, word tokens, all-capital words and language.
#[test]
fn text_libraries_agree_with_nltk_and_langdetect_on_real_text() {
    use swarm_eval::benchmarks::ifeval::text::{langid, punkt, py, treebank};
    let dir = data().parent().unwrap().to_owned();
    let mut texts: BTreeMap<String, String> = BTreeMap::new();
    for line in std::fs::read_to_string(data()).unwrap().lines() {
        let r: Value = serde_json::from_str(line).unwrap();
        texts.insert(
            format!("prompt {}", r["key"]),
            r["prompt"].as_str().unwrap().to_owned(),
        );
    }
    for model in ["qwen-plus", "qwen3-max"] {
        let path = dir.join(format!(
            "../evalscope_viz/{model}/predictions/ifeval_default.jsonl"
        ));
        for line in std::fs::read_to_string(path).unwrap().lines() {
            let p: Value = serde_json::from_str(line).unwrap();
            let content = p["model_output"]["choices"][0]["message"]["content"]
                .as_str()
                .unwrap();
            texts.insert(
                format!("{model} response {}", p["index"]),
                content.to_owned(),
            );
        }
    }
    let reference: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("nltk_langdetect_reference.json")).unwrap(),
    )
    .unwrap();
    let rows = reference["texts"].as_array().unwrap();
    // 541 prompts, 20 responses, 40 texts written for the tricky cases (abbreviations,
    // initials, ellipses, quotes, contractions, dashes, other languages), which carry their text.
    assert_eq!(rows.len(), 601);
    let mut mismatches = Vec::new();
    for row in rows {
        let source = row["source"].as_str().unwrap();
        let text = row
            .get("text")
            .and_then(Value::as_str)
            .unwrap_or_else(|| &texts[source]);
        let tokens = treebank::word_tokenize(text);
        let mut ours = json!({
            "source": source,
            "sentences": punkt::count_sentences(text),
            "tokens": tokens.len(),
            "capital_words": tokens.iter().filter(|t| py::is_upper(t)).count(),
            "language": langid::detect(text),
        });
        if let Some(t) = row.get("text") {
            ours["text"] = t.clone();
        }
        if &ours != row {
            mismatches.push(format!("ours {ours} reference {row}"));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
