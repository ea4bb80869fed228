//! Loading each benchmark from slices of the real published data (fixtures/eval) and, for C-Eval
//! (whose license forbids copying), from ../shared/data; prompts, gold answers, subsets,
//! limits, scoring, and the errors bad records give.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use serde_json::Value;
use swarm_eval::benchmarks::{ceval, gpqa, gsm8k, math_500, mmlu_pro};
use swarm_eval::mc;
use swarm_eval::registry::{benchmark, names};
use swarm_eval::{DatasetArgs, EvalError, Sample};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/eval")
}

fn args(path: impl Into<PathBuf>) -> DatasetArgs {
    DatasetArgs {
        local_path: Some(path.into()),
        ..DatasetArgs::default()
    }
}

fn load(name: &str, args: &DatasetArgs) -> Vec<Sample> {
    benchmark(name).unwrap().load(args).unwrap()
}

fn prompt(sample: &Sample) -> &str {
    sample.messages.last().unwrap()["content"].as_str().unwrap()
}

fn counts(samples: &[Sample]) -> Vec<(String, usize)> {
    let mut out: Vec<(String, usize)> = Vec::new();
    for s in samples {
        match out.last_mut() {
            Some((subset, n)) if *subset == s.subset => *n += 1,
            _ => out.push((s.subset.clone(), 1)),
        }
    }
    out
}

fn acc(name: &str, completion: &str, sample: &Sample) -> (String, f64) {
    let b = benchmark(name).unwrap();
    let extracted = b.extract(completion, sample);
    let score = b.score(&extracted, sample);
    (extracted, score.values["acc"])
}

#[test]
fn the_registry_knows_every_benchmark_by_its_meta_name() {
    assert_eq!(
        names(),
        [
            "aime24",
            "aime25",
            "ceval",
            "data_collection",
            "general_mcq",
            "general_qa",
            "gpqa_diamond",
            "gsm8k",
            "humaneval",
            "ifeval",
            "iquiz",
            "live_code_bench",
            "math_500",
            "mmlu_pro",
            "mmlu_redux",
            "needle_haystack"
        ]
    );
    for name in names() {
        let meta = benchmark(name).unwrap().meta();
        assert_eq!(meta.name, name);
        if name == "ifeval" {
            continue; // its four metrics are checked against EvalScope's meta below
        }
        if name == "general_qa" {
            continue; // BLEU and ROUGE, checked in eval_general.rs
        }
        assert_eq!(meta.metrics, ["acc"]);
    }
    let err = benchmark("mmlu").err().unwrap();
    assert!(matches!(err, EvalError::UnknownBenchmark { .. }));
    assert!(
        err.to_string()
            .starts_with("unknown benchmark \"mmlu\"; known: aime24, aime25, ceval")
    );
}

#[test]
fn templates_and_subsets_are_evalscopes() {
    let path = fixtures().join("evalscope_benchmarks_meta.json");
    let meta: BTreeMap<String, Value> =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let template = |name: &str, key: &str| meta[name][key].as_str().unwrap().to_owned();
    assert_eq!(template("gsm8k", "prompt_template"), gsm8k::PROMPT_TEMPLATE);
    assert_eq!(
        template("gsm8k", "few_shot_prompt_template"),
        gsm8k::FEW_SHOT_TEMPLATE
    );
    assert_eq!(
        template("math_500", "prompt_template"),
        math_500::PROMPT_TEMPLATE
    );
    for aime in ["aime24", "aime25"] {
        assert_eq!(
            template(aime, "prompt_template"),
            swarm_eval::benchmarks::aime::PROMPT_TEMPLATE
        );
    }
    assert_eq!(
        template("mmlu_pro", "prompt_template"),
        mmlu_pro::PROMPT_TEMPLATE
    );
    assert_eq!(
        template("mmlu_pro", "few_shot_prompt_template"),
        format!(
            "{}{}",
            mmlu_pro::FEW_SHOT_PREAMBLE,
            mmlu_pro::PROMPT_TEMPLATE
        )
    );
    assert_eq!(
        template("mmlu_redux", "prompt_template"),
        mc::SINGLE_ANSWER_TEMPLATE_COT
    );
    assert_eq!(
        template("gpqa_diamond", "prompt_template"),
        mc::SINGLE_ANSWER_TEMPLATE_COT
    );
    assert_eq!(
        template("iquiz", "prompt_template"),
        mc::CHINESE_SINGLE_ANSWER_TEMPLATE_COT
    );
    assert_eq!(template("ceval", "prompt_template"), ceval::PROMPT_TEMPLATE);
    assert_eq!(
        template("humaneval", "prompt_template"),
        swarm_eval::benchmarks::humaneval::PROMPT_TEMPLATE
    );
    assert_eq!(
        template("live_code_bench", "prompt_template"),
        swarm_eval::benchmarks::live_code_bench::PROMPT_TEMPLATE
    );
    assert_eq!(
        template("ceval", "few_shot_prompt_template"),
        ceval::FEW_SHOT_TEMPLATE
    );
    assert_eq!(
        benchmark("ifeval").unwrap().meta().metrics,
        serde_json::from_value::<Vec<String>>(meta["ifeval"]["metrics"].clone()).unwrap()
    );
    // data_collection has no subsets of its own (its samples carry their benchmark's); the
    // custom general_mcq / general_qa and needle_haystack (EvalScope 1.14.1, checked in
    // eval_needle.rs) are not in the meta fixture
    for name in names().into_iter().filter(|n| {
        ![
            "data_collection",
            "general_mcq",
            "general_qa",
            "needle_haystack",
        ]
        .contains(n)
    }) {
        let ours = benchmark(name).unwrap().meta();
        let subsets: Vec<String> =
            serde_json::from_value(meta[name]["subset_list"].clone()).unwrap();
        assert_eq!(ours.subsets, subsets, "{name}");
        assert_eq!(
            ours.pretty_name,
            meta[name]["pretty_name"].as_str().unwrap(),
            "{name}"
        );
    }
}

#[test]
fn math_500_splits_by_level_with_a_limit_per_level() {
    let all = load("math_500", &args(fixtures().join("math_500/test.jsonl")));
    assert_eq!(
        counts(&all),
        [
            ("Level 1", 3),
            ("Level 2", 7),
            ("Level 3", 8),
            ("Level 4", 2),
            ("Level 5", 10)
        ]
        .map(|(s, n)| (s.to_owned(), n))
    );
    let first = &all[0];
    assert_eq!(first.id, "Level 1_0");
    assert_eq!(first.gold, "\\sqrt{51}");
    assert_eq!(first.metadata["question_id"], "test/precalculus/1303.json");
    assert!(prompt(first).starts_with("Suppose $\\sin D = 0.7$ in the diagram below."));
    assert!(prompt(first).ends_with(
        "[/asy]\nPlease reason step by step, and put your final answer within \\boxed{}."
    ));
    assert_eq!(first.messages.len(), 1);
    assert_eq!(first.messages[0]["role"], "user");

    let mut limited = args(fixtures().join("math_500"));
    limited.limit = Some(2);
    assert_eq!(load("math_500", &limited).len(), 2 + 2 + 2 + 2 + 2);
    limited.subset_list = vec!["Level 4".to_owned()];
    let level4 = load("math_500", &limited);
    assert_eq!(
        level4.iter().map(|s| s.gold.as_str()).collect::<Vec<_>>(),
        ["90^\\circ", "\\pi"]
    );
    assert_eq!(level4[1].id, "Level 4_1");

    assert_eq!(
        acc("math_500", "so $DE = \\boxed{\\sqrt{51}}$.", first),
        ("\\sqrt{51}".to_owned(), 1.0)
    );
    assert_eq!(acc("math_500", "The answer is \\boxed{7}", first).1, 0.0);
}

#[test]
fn gsm8k_gold_is_the_number_after_the_hashes() {
    // Zero-shot, to see the question alone (the default, 4-shot, is pinned in eval_defaults).
    let mut zero = args(fixtures().join("gsm8k"));
    zero.few_shot_num = Some(0);
    let samples = load("gsm8k", &zero);
    assert_eq!(samples.len(), 20);
    let first = &samples[0];
    assert_eq!(
        (
            first.id.as_str(),
            first.subset.as_str(),
            first.gold.as_str()
        ),
        ("main_0", "main", "18")
    );
    assert!(
        first.metadata["reasoning"]
            .as_str()
            .unwrap()
            .ends_with("every day at the farmer’s market.")
    );
    assert_eq!(
        prompt(first),
        "Janet’s ducks lay 16 eggs per day. She eats three for breakfast every morning and bakes muffins for her friends every day with four. She sells the remainder at the farmers' market daily for $2 per fresh duck egg. How much in dollars does she make every day at the farmers' market?\nPlease reason step by step, and put your final answer within \\boxed{}."
    );
    assert_eq!(
        acc("gsm8k", "9 eggs, 9 * 2 = 18, so \\boxed{18}", first),
        ("18".to_owned(), 1.0)
    );
    assert_eq!(acc("gsm8k", "She makes $18.00 a day.", first).1, 1.0);
    assert_eq!(
        acc("gsm8k", "She makes 16 - 3 - 4 = 9 dollars", first),
        ("9".to_owned(), 0.0)
    );
    assert_eq!(
        gsm8k::split_answer("a #### b #### 42 "),
        ("42".to_owned(), "a #### b".to_owned())
    );
}

#[test]
fn gsm8k_train_fixture_holds_the_examples_of_evalscopes_four_shot_prompt() {
    // EvalScope's 4-shot prompt for test record 1, from its own review file: its worked examples
    // are the first four records of fixtures/eval/gsm8k/train.jsonl, question, reasoning and
    // answer alike.
    let review = std::fs::read_to_string(
        fixtures().join("evalscope_viz/qwen-plus/reviews/gsm8k_main.jsonl"),
    )
    .unwrap();
    let review: Value = serde_json::from_str(review.lines().next().unwrap()).unwrap();
    assert_eq!(review["index"], 1);
    let theirs = review["messages"][0]["content"].as_str().unwrap();
    let body = theirs
        .strip_prefix("Here are some examples of how to solve similar problems:\n\n")
        .unwrap();
    let mut examples = Vec::new();
    for example in body.split("}\n\n").take(4) {
        let (question, rest) = example.split_once("\n\nReasoning:\n").unwrap();
        let (reasoning, target) = rest.split_once("\n\nANSWER: \\boxed{").unwrap();
        examples.push((question.to_owned(), reasoning.to_owned(), target.to_owned()));
    }
    let train = std::fs::read_to_string(fixtures().join("gsm8k/train.jsonl")).unwrap();
    let ours: Vec<(String, String, String)> = train
        .lines()
        .map(|l| {
            let r: Value = serde_json::from_str(l).unwrap();
            let (target, reasoning) = gsm8k::split_answer(r["answer"].as_str().unwrap());
            (
                r["question"].as_str().unwrap().to_owned(),
                reasoning,
                target,
            )
        })
        .collect();
    assert_eq!(ours, examples);
    let mut a = args(fixtures().join("gsm8k"));
    a.few_shot_num = Some(4);
    assert_eq!(prompt(&load("gsm8k", &a)[1]), theirs);
}

#[test]
fn aime_gold_keeps_the_published_answer() {
    let a24 = load("aime24", &args(fixtures().join("aime24/test.jsonl")));
    assert_eq!(
        a24.iter().map(|s| s.gold.as_str()).collect::<Vec<_>>(),
        ["204", "113", "371", "385", "110"]
    );
    assert_eq!(a24[0].metadata["problem_id"], 60);
    assert!(prompt(&a24[0]).starts_with("\nSolve the following math problem step by step. Put your answer inside \\boxed{}.\n\nEvery morning Aya"));
    assert!(
        prompt(&a24[0]).ends_with("coffee shop.\n\nRemember to put your answer inside \\boxed{}.")
    );
    let a25 = load("aime25", &args(fixtures().join("aime25")));
    assert_eq!(a25[0].gold, "70");
    assert_eq!(a25[0].id, "default_0");
    assert_eq!(acc("aime25", "Hence \\boxed{070}.", &a25[0]).1, 1.0);
    assert_eq!(acc("aime25", "Hence \\boxed{71}.", &a25[0]).1, 0.0);
}

#[test]
fn mmlu_pro_splits_by_category_with_up_to_ten_options() {
    // Zero-shot: MMLU-Pro's validation split (its default 5-shot examples) is not here.
    let mut zero = args(fixtures().join("mmlu_pro"));
    zero.few_shot_num = Some(0);
    let samples = load("mmlu_pro", &zero);
    assert_eq!(samples.len(), 42);
    let expected: Vec<(String, usize)> = mmlu_pro::SUBSETS
        .iter()
        .map(|s| ((*s).to_owned(), 3))
        .collect();
    assert_eq!(counts(&samples), expected);
    let first = &samples[0];
    assert_eq!(
        (first.id.as_str(), first.gold.as_str(), first.choices.len()),
        ("computer science_0", "B", 8)
    );
    assert_eq!(first.metadata["question_id"], 10356);
    let p = prompt(first);
    assert!(p.starts_with("Answer the following multiple choice question. The last line of your response should be of the following format: 'ANSWER: [LETTER]' (without quotes) where [LETTER] is one of A,B,C,D,E,F,G,H. Think step by step before answering.\n\nQuestion:\nA method is to be written"));
    assert!(p.ends_with("\nH) The method should be written on the assumption that there is only one value in the array that is larger than the given item.\n"));
    assert_eq!(
        acc("mmlu_pro", "...\nANSWER: B", first),
        ("B".to_owned(), 1.0)
    );
    assert_eq!(
        acc("mmlu_pro", "...\nANSWER: J", first),
        (String::new(), 0.0)
    );
    let business = samples.iter().find(|s| s.subset == "business").unwrap();
    assert_eq!((business.gold.as_str(), business.choices.len()), ("I", 9));
}

#[test]
fn mmlu_pro_few_shot_examples_come_from_the_same_category() {
    // Made-up validation records (MMLU-Pro's own are not here): five for math, one for law.
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        fixtures().join("mmlu_pro/test.jsonl"),
        dir.path().join("test.jsonl"),
    )
    .unwrap();
    let mut validation = vec![
        serde_json::json!({"question_id": 1, "question": "Pick x.", "options": ["x", "y"], "answer": "A", "answer_index": 0,
            "cot_content": "A: Let's think step by step. It is x. The answer is (A).", "category": "law", "src": "fake"}),
    ];
    for n in 1..=5 {
        validation.push(serde_json::json!({"question_id": 1 + n, "question": format!("Pick {n}."), "options": ["1", "2", "3"],
            "answer": "B", "answer_index": 1, "cot_content": "A: Two. The answer is (B).", "category": "Math", "src": "fake"}));
    }
    let lines: String = validation.iter().map(|v| format!("{v}\n")).collect();
    std::fs::write(dir.path().join("validation.jsonl"), lines).unwrap();
    let mut a = args(dir.path());
    a.subset_list = vec!["math".to_owned()];
    a.limit = Some(1);
    let samples = load("mmlu_pro", &a);
    let p = prompt(&samples[0]);
    assert!(p.starts_with(
        "The following are multiple choice questions (with answers) about math. Think step by step and then finish your answer with 'ANSWER: [LETTER]' (without quotes) where [LETTER] is the correct letter choice.\n\n\
         Question:\nPick 1.\nOptions:\nA 1\nB 2\nC 3\nA: Two. ANSWER: B.\n\n\
         Question:\nPick 2.\n"
    ), "{p}");
    assert!(p.contains("Question:\nPick 5.\nOptions:\nA 1\nB 2\nC 3\nA: Two. ANSWER: B.\n\nAnswer the following multiple choice question."), "{p}");
    assert!(!p.contains("Pick x."));
    // law has one example where five are asked for: EvalScope stops, and so do we.
    a.subset_list = vec!["law".to_owned()];
    let err = benchmark("mmlu_pro").unwrap().load(&a).unwrap_err();
    assert!(
        err.to_string().contains(
            "few_shot_num = 5 (EvalScope's default) but the validation split has 1 example(s) for subset \"law\""
        ),
        "{err}"
    );
    a.few_shot_num = Some(1);
    assert!(prompt(&load("mmlu_pro", &a)[0]).contains("Pick x."));
}

#[test]
fn mmlu_redux_gold_follows_the_annotations() {
    let samples = load("mmlu_redux", &args(fixtures().join("mmlu_redux")));
    let golds: Vec<(&str, &str, &str)> = samples
        .iter()
        .map(|s| {
            (
                s.subset.as_str(),
                s.metadata["error_type"].as_str().unwrap(),
                s.gold.as_str(),
            )
        })
        .collect();
    // Expected: EvalScope's record_to_sample run on the same records.
    assert_eq!(
        golds,
        [
            ("abstract_algebra", "bad_question_clarity", "A"),
            ("abstract_algebra", "wrong_groundtruth", "C"),
            ("abstract_algebra", "ok", "B"),
            ("abstract_algebra", "no_correct_answer", "D"),
            ("anatomy", "ok", "D"),
            ("anatomy", "ok", "B"),
            ("anatomy", "ok", "B"),
            ("college_chemistry", "wrong_groundtruth", "C"),
            ("college_computer_science", "multiple_correct_answers", "AB"),
            ("formal_logic", "multiple_correct_answers", "BC"),
            ("human_sexuality", "multiple_correct_answers", "CD"),
            ("international_law", "multiple_correct_answers", "ABCD"),
            ("machine_learning", "multiple_correct_answers", "BD"),
            ("professional_law", "multiple_correct_answers", "BC"),
            ("professional_law", "multiple_correct_answers", "ABCD"),
        ]
    );
    // no_correct_answer puts the annotated answer in place of the marked option.
    assert_eq!(samples[3].choices, ["0", "-2", "a-2", "-2-a"]);
    assert!(prompt(&samples[3]).ends_with("\n\nA) 0\nB) -2\nC) a-2\nD) -2-a"));
    // allow_inclusion: any one of the gold letters scores.
    let formal = &samples[9];
    assert_eq!(
        acc("mmlu_redux", "ANSWER: C", formal),
        ("C".to_owned(), 1.0)
    );
    assert_eq!(acc("mmlu_redux", "ANSWER: A", formal).1, 0.0);
    assert_eq!(acc("mmlu_redux", "no idea", formal), (String::new(), 0.0));
    assert_eq!(
        samples
            .iter()
            .filter(|s| s.subset == "professional_law")
            .map(|s| s.id.as_str())
            .collect::<Vec<_>>(),
        ["professional_law_0", "professional_law_1"]
    );
}

#[test]
fn iquiz_reads_both_subsets() {
    let samples = load("iquiz", &args(fixtures().join("iquiz/iquiz.jsonl")));
    assert_eq!(
        counts(&samples),
        [("IQ".to_owned(), 10), ("EQ".to_owned(), 10)]
    );
    assert_eq!(samples[1].choices, ["穿湿泳裤去游泳", "等泳裤干了再穿"]);
    assert!(prompt(&samples[1]).contains("其中 [LETTER] 是 A,B 中的一个。"));
    assert_eq!(samples[0].metadata["level"], 1);
    let mut eq_only = args(fixtures().join("iquiz"));
    eq_only.subset_list = vec!["EQ".to_owned()];
    eq_only.limit = Some(3);
    let eq = load("iquiz", &eq_only);
    assert_eq!(
        eq.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
        ["EQ_0", "EQ_1", "EQ_2"]
    );
    // A subset may also come from the file name.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("IQ.jsonl"),
        "{\"question\": \"q\", \"choices\": [\"a\", \"b\"], \"answer\": \"B\"}\n",
    )
    .unwrap();
    let from_name = load("iquiz", &args(dir.path()));
    assert_eq!(
        (from_name[0].id.as_str(), from_name[0].gold.as_str()),
        ("IQ_0", "B")
    );
    assert_eq!(
        acc("iquiz", "分析\n答案：B", &from_name[0]),
        ("B".to_owned(), 1.0)
    );
}

#[test]
fn gpqa_options_are_cleaned_and_shuffled_as_evalscope_does() {
    let csv = fixtures().join("gpqa/gpqa_diamond.csv");
    let samples = load("gpqa_diamond", &args(&csv));
    let got: Vec<(Vec<String>, &str)> = samples
        .iter()
        .map(|s| (s.choices.clone(), s.gold.as_str()))
        .collect();
    let expected = [
        (
            vec!["Carbon dioxide", "Argon. a noble gas", "Nitrogen", "Oxygen"],
            "C",
        ),
        (vec!["4", "22 ", "3", "5"], "A"),
        (vec!["So", "Na", "N a", "S"], "B"),
    ];
    for ((choices, gold), (want, want_gold)) in got.iter().zip(expected) {
        assert_eq!(choices, &want);
        assert_eq!(*gold, want_gold);
    }
    assert_eq!(samples[1].id, "default_1");
    assert_eq!(samples[1].metadata["record_id"], "recFAKE0002");
    assert_eq!(
        samples[0].metadata["incorrect_answers"][2],
        "Carbon dioxide\n"
    );
    assert_eq!(
        prompt(&samples[1]),
        "Answer the following multiple choice question. The last line of your response should be of the following format: 'ANSWER: [LETTER]' (without quotes) where [LETTER] is one of A,B,C,D. Think step by step before answering.\n\nA fake question,\nspanning two lines: what is \"2 + 2\"?\n\nA) 4\nB) 22 \nC) 3\nD) 5"
    );
    assert_eq!(
        acc("gpqa_diamond", "so...\nANSWER: A", &samples[1]),
        ("A".to_owned(), 1.0)
    );

    // EvalScope HEAD's per-question shuffle (expected orders from Python's random.Random).
    let mut head = args(&csv);
    head.extra_params
        .insert("shuffle".into(), "per_question".into());
    let head = load("gpqa_diamond", &head);
    assert_eq!(
        head[0].choices,
        [
            "Oxygen",
            "Nitrogen",
            "Argon [title] a noble gas",
            "Carbon dioxide"
        ]
    );
    assert_eq!(head[1].choices, ["22 [citation needed]", "5", "4", "3"]);
    assert_eq!(
        head.iter().map(|s| s.gold.as_str()).collect::<Vec<_>>(),
        ["B", "C", "B"]
    );

    let mut unshuffled = args(&csv);
    unshuffled
        .extra_params
        .insert("shuffle".into(), "none".into());
    assert!(
        load("gpqa_diamond", &unshuffled)
            .iter()
            .all(|s| s.gold == "D")
    );

    // Another seed, another order; a limit keeps the first records' order.
    let mut seeded = args(&csv);
    seeded.seed = Some(7);
    assert_ne!(load("gpqa_diamond", &seeded)[0].choices, samples[0].choices);
    let mut limited = args(&csv);
    limited.limit = Some(2);
    assert_eq!(
        load("gpqa_diamond", &limited)
            .iter()
            .map(|s| &s.choices)
            .collect::<Vec<_>>(),
        samples[..2].iter().map(|s| &s.choices).collect::<Vec<_>>()
    );
    assert_eq!(gpqa::clean_option(None), " ");

    // The HEAD answer parser, chosen per run; recorded in the samples.
    let mut head_parser = args(&csv);
    head_parser
        .extra_params
        .insert("mc_parser".into(), "head".into());
    let with_head = load("gpqa_diamond", &head_parser);
    assert_eq!(with_head[1].metadata["mc_parser"], "head");
    let revised = "ANSWER: B\nOn reflection...\nANSWER: A";
    assert_eq!(
        acc("gpqa_diamond", revised, &with_head[1]),
        ("A".to_owned(), 1.0)
    );
    assert_eq!(
        acc("gpqa_diamond", revised, &samples[1]),
        ("B".to_owned(), 0.0)
    );
    head_parser
        .extra_params
        .insert("mc_parser".into(), "v2".into());
    let err = benchmark("gpqa_diamond")
        .unwrap()
        .load(&head_parser)
        .unwrap_err();
    assert!(
        err.to_string().contains("`extra_params.mc_parser` must be"),
        "{err}"
    );
}

fn ceval() -> PathBuf {
    super::shared::shared_data().join("ceval")
}

#[test]
fn ceval_loads_from_the_shared_data_jsonl_and_csv_alike() {
    if !ceval().join("ceval_val.jsonl").is_file() {
        super::shared::skipped(
            "eval::eval_benchmarks (C-Eval)",
            &format!(
                "{} is absent (C-Eval may not be copied into the repo)",
                ceval().display()
            ),
        );
        return;
    }
    // Zero-shot first, to see the question alone; the default is 5-shot (below).
    let mut zero = args(ceval());
    zero.few_shot_num = Some(0);
    let from_jsonl = load("ceval", &zero);
    assert_eq!(from_jsonl.len(), 1346);
    assert_eq!(counts(&from_jsonl).len(), 52);
    assert_eq!(from_jsonl[0].subset, "computer_network");
    let mut zero_csv = args(ceval().join("val"));
    zero_csv.few_shot_num = Some(0);
    let from_csv = load("ceval", &zero_csv);
    assert_eq!(from_csv.len(), 1346);
    for (a, b) in from_jsonl.iter().zip(&from_csv) {
        assert_eq!((&a.id, &a.gold, &a.messages), (&b.id, &b.gold, &b.messages));
    }
    let first = &from_jsonl[0];
    assert_eq!(first.gold, "C");
    assert_eq!(
        prompt(first),
        "以下是中国关于计算机网络的单项选择题，请选出其中的正确答案。你的回答的最后一行应该是这样的格式：\"答案：[LETTER]\"（不带引号），其中 [LETTER] 是 A、B、C、D 中的一个。\n\n问题：使用位填充方法，以01111110为位首flag，数据为011011111111111111110010，求问传送时要添加几个0____\n选项：\nA. 1\nB. 2\nC. 3\nD. 4\n"
    );
    // By default 5-shot from the dev split: EvalScope's sample prompt opens and closes like
    // this (eval_defaults compares it whole).
    let mut five = args(ceval());
    five.limit = Some(1);
    five.subset_list = vec!["computer_network".to_owned()];
    let shot = load("ceval", &five);
    let p = prompt(&shot[0]);
    assert!(p.starts_with("以下是一些示例问题：\n\n问题：下列设备属于资源子网的是____。\n选项：\nA. 计算机软件\nB. 网桥\nC. 交换机\nD. 路由器\n解析：1. 首先，资源子网是指提供共享资源的网络"), "{p}");
    assert!(p.contains("\n答案：A\n\n问题：滑动窗口的作用是____。"));
    assert!(p.ends_with(&format!("\n答案：C\n\n\n{}", prompt(first))));
    let b = benchmark("ceval").unwrap();
    assert_eq!(b.category("computer_network"), ["STEM"]);
    assert_eq!(b.category("logic"), ["Humanities"]);
    assert_eq!(
        acc("ceval", "解析……\n答案：C", first),
        ("C".to_owned(), 1.0)
    );
}

fn expect_bad_record(result: Result<Vec<Sample>, EvalError>, line: usize, field: &str) {
    match result {
        Err(EvalError::BadRecord {
            line: l, field: f, ..
        }) if l == line && f == field => {}
        other => panic!("expected a bad record at line {line}, field {field}: {other:?}"),
    }
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn bad_records_name_the_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let gsm = benchmark("gsm8k").unwrap();
    let ok = r#"{"question": "q", "answer": "r #### 1"}"#;

    let path = write(dir.path(), "broken.jsonl", &format!("{ok}\n\n{{not json\n"));
    expect_bad_record(gsm.load(&args(&path)), 3, "(record)");
    let err = gsm.load(&args(&path)).unwrap_err();
    assert!(
        err.to_string()
            .starts_with(&format!("{}:3: field `(record)`: not JSON", path.display()))
    );

    let path = write(
        dir.path(),
        "missing.jsonl",
        &format!("{ok}\n{{\"question\": \"q\"}}\n"),
    );
    let err = gsm.load(&args(&path)).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("{}:2: field `answer`: missing", path.display())
    );

    let path = write(
        dir.path(),
        "typed.jsonl",
        "{\"question\": 3, \"answer\": \"1\"}\n",
    );
    expect_bad_record(gsm.load(&args(&path)), 1, "question");

    let path = write(dir.path(), "array.jsonl", "[1, 2]\n");
    expect_bad_record(gsm.load(&args(&path)), 1, "(record)");

    let pro = r#"{"question": "q", "options": ["a", "b"], "answer": "C", "category": "law"}"#;
    let path = write(dir.path(), "pro.jsonl", &format!("{pro}\n"));
    expect_bad_record(
        benchmark("mmlu_pro").unwrap().load(&args(&path)),
        1,
        "answer",
    );

    let redux = r#"{"subject": "anatomy", "question": "q", "choices": ["a","b","c","d"], "answer": 0, "error_type": "wrong_groundtruth", "correct_answer": "XY"}"#;
    let path = write(dir.path(), "redux.jsonl", &format!("{redux}\n"));
    expect_bad_record(
        benchmark("mmlu_redux").unwrap().load(&args(&path)),
        1,
        "correct_answer",
    );

    let path = write(
        dir.path(),
        "gpqa.csv",
        "Question,Correct Answer,Incorrect Answer 1,Incorrect Answer 2\nq,a,b,c\n",
    );
    expect_bad_record(
        benchmark("gpqa_diamond").unwrap().load(&args(&path)),
        2,
        "Incorrect Answer 3",
    );
    let path = write(
        dir.path(),
        "open.csv",
        "Question,Correct Answer\n\"never closed,a\n",
    );
    expect_bad_record(
        benchmark("gpqa_diamond").unwrap().load(&args(&path)),
        2,
        "(record)",
    );

    let path = write(
        dir.path(),
        "iq.jsonl",
        "{\"subset\": \"IQ\", \"question\": \"q\", \"choices\": [\"a\"], \"answer\": \"B\"}\n",
    );
    expect_bad_record(benchmark("iquiz").unwrap().load(&args(&path)), 1, "answer");
}

#[test]
fn bad_arguments_are_errors_not_panics() {
    let gsm = benchmark("gsm8k").unwrap();
    let err = gsm.load(&DatasetArgs::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "gsm8k: `local_path` is required: a file or folder of GSM8K JSONL (question, answer)"
    );
    assert!(matches!(
        gsm.load(&args("/nonexistent/gsm8k")).unwrap_err(),
        EvalError::Io { .. }
    ));
    let mut unknown = args(fixtures().join("gsm8k"));
    unknown.subset_list = vec!["train".to_owned()];
    assert_eq!(
        gsm.load(&unknown).unwrap_err().to_string(),
        "gsm8k: unknown subset \"train\"; known: main"
    );
    let mut shots = args(fixtures().join("math_500"));
    shots.few_shot_num = Some(3);
    assert!(
        benchmark("math_500")
            .unwrap()
            .load(&shots)
            .unwrap_err()
            .to_string()
            .contains("few-shot prompting is not supported")
    );
    let zip = tempfile::Builder::new().suffix(".zip").tempfile().unwrap();
    let err = benchmark("mmlu_pro")
        .unwrap()
        .load(&args(zip.path()))
        .unwrap_err();
    assert!(
        err.to_string().contains("decompress it to JSONL first"),
        "{err}"
    );
    // gzip JSONL is read; a broken one is an error naming the file
    let gz = tempfile::Builder::new()
        .suffix(".jsonl.gz")
        .tempfile()
        .unwrap();
    let err = benchmark("mmlu_pro")
        .unwrap()
        .load(&args(gz.path()))
        .unwrap_err();
    assert!(
        err.to_string().contains(&*gz.path().to_string_lossy()),
        "{err}"
    );
    let empty = tempfile::tempdir().unwrap();
    assert!(
        gsm.load(&args(empty.path()))
            .unwrap_err()
            .to_string()
            .contains("no data file (.jsonl) in the folder")
    );
    let mut system = args(fixtures().join("gsm8k"));
    system.extra_params.insert("system_prompt".into(), 3.into());
    assert!(gsm.load(&system).is_err());
    system
        .extra_params
        .insert("system_prompt".into(), "Be brief.".into());
    let with_system = gsm.load(&system).unwrap();
    assert_eq!(
        with_system[0].messages[0],
        serde_json::json!({"role": "system", "content": "Be brief."})
    );
    assert_eq!(with_system[0].messages[1]["role"], "user");
}

fn field_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::from),
        prop::collection::vec("[A-Za-z0-9 ]{0,6}", 0..12).prop_map(Value::from),
    ]
}

fn record() -> impl Strategy<Value = Value> {
    let keys = [
        "question",
        "answer",
        "problem",
        "level",
        "options",
        "category",
        "choices",
        "subject",
        "error_type",
        "correct_answer",
        "subset",
        "A",
        "B",
        "C",
        "D",
        "Question",
        "Correct Answer",
        "Incorrect Answer 1",
        "Incorrect Answer 2",
        "Incorrect Answer 3",
        "solution",
        "cot_content",
    ];
    prop::collection::btree_map(prop::sample::select(keys.to_vec()), field_value(), 0..14)
        .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn loading_arbitrary_records_never_panics(records in prop::collection::vec(record(), 0..6), junk in "\\PC{0,40}") {
        let dir = tempfile::tempdir().unwrap();
        let mut text: String = records.iter().map(|r| format!("{r}\n")).collect();
        text.push_str(&junk);
        let jsonl = write(dir.path(), "data.jsonl", &text);
        let csv = write(dir.path(), "data.csv", &format!("Question,Correct Answer,A,B,C,D,answer\n{junk}"));
        for name in names() {
            let b = benchmark(name).unwrap();
            for path in [&jsonl, &csv] {
                if let Ok(samples) = b.load(&args(path)) {
                    for s in &samples {
                        let extracted = b.extract(&junk, s);
                        let _ = b.score(&extracted, s);
                    }
                }
            }
        }
    }
}
