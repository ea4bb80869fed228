//! gsm8k's default 4-shot prompt, where few-shot splits are found, and a few-shot split that
//! is not there (or too short) as an error naming the file and the way out
//! (`few_shot_num: 0`).

use serde_json::Value;
use swarm_eval::EvalError;
use swarm_eval::registry::benchmark;

use super::eval_defaults::{
    args, assert_same_prompt, evalscope_example, first_default_prompt, fixtures, prompt,
};

#[test]
fn gsm8k_default_is_evalscopes_4_shot_prompt_from_the_train_split_beside_the_test_file() {
    // The first four train records: EvalScope's examples (fixtures/eval/gsm8k/train.jsonl).
    let (subset, theirs) = evalscope_example("gsm8k").unwrap();
    let ours = first_default_prompt("gsm8k", args(fixtures().join("gsm8k")), &subset);
    assert!(ours.starts_with(
        "Here are some examples of how to solve similar problems:\n\nNatalia sold clips to 48"
    ));
    assert_eq!(ours.matches("\n\nANSWER: \\boxed{").count(), 4);
    assert_same_prompt(&ours, &theirs, "gsm8k");
    // The prompt EvalScope's run recorded for test record 1 (its review), whole.
    let review = std::fs::read_to_string(
        fixtures().join("evalscope_viz/qwen-plus/reviews/gsm8k_main.jsonl"),
    )
    .unwrap();
    let review: Value = serde_json::from_str(review.lines().next().unwrap()).unwrap();
    assert_eq!(review["index"], 1);
    let samples = benchmark("gsm8k")
        .unwrap()
        .load(&args(fixtures().join("gsm8k/test.jsonl")))
        .unwrap();
    assert_eq!(prompt(&samples[1]), review["messages"][0]["content"]);
    // few_shot_num: 0 is EvalScope's zero-shot prompt: the question and the instruction.
    let mut zero = args(fixtures().join("gsm8k"));
    zero.few_shot_num = Some(0);
    let zero = benchmark("gsm8k").unwrap().load(&zero).unwrap();
    assert!(prompt(&samples[1]).ends_with(&format!("\n\n{}", prompt(&zero[1]))));
    assert!(prompt(&zero[1]).starts_with("A robe takes 2 bolts"));
}

fn message(err: EvalError) -> String {
    err.to_string()
}

#[test]
fn a_missing_few_shot_split_is_an_error_naming_the_file_and_the_way_out() {
    let dir = tempfile::tempdir().unwrap();
    let gsm = dir.path().join("gsm8k");
    std::fs::create_dir(&gsm).unwrap();
    std::fs::copy(fixtures().join("gsm8k/test.jsonl"), gsm.join("test.jsonl")).unwrap();
    let pro = dir.path().join("mmlu_pro");
    std::fs::create_dir(&pro).unwrap();
    std::fs::copy(
        fixtures().join("mmlu_pro/test.jsonl"),
        pro.join("test.jsonl"),
    )
    .unwrap();
    // A made-up C-Eval record (not C-Eval text) in the official CSV layout.
    let ce = dir.path().join("ceval");
    std::fs::create_dir_all(ce.join("val")).unwrap();
    std::fs::write(
        ce.join("val/logic_val.csv"),
        "id,question,A,B,C,D,answer,explanation\n0,一加一等于几？,1,2,3,4,B,\n",
    )
    .unwrap();

    for (name, local, file, split, shots) in [
        (
            "gsm8k",
            gsm.join("test.jsonl"),
            gsm.join("train.jsonl"),
            "train",
            4,
        ),
        ("gsm8k", gsm.clone(), gsm.join("train.jsonl"), "train", 4),
        (
            "mmlu_pro",
            pro.clone(),
            pro.join("validation.jsonl"),
            "validation",
            5,
        ),
        (
            "ceval",
            ce.join("val"),
            ce.join("val/ceval_dev.jsonl"),
            "dev",
            5,
        ),
    ] {
        let b = benchmark(name).unwrap();
        let err = message(b.load(&args(&local)).unwrap_err());
        assert!(
            err.starts_with(&format!(
                "{name}: few_shot_num = {shots} (EvalScope's default) takes its examples from the {split} split, which is missing: expected {}",
                file.display()
            )),
            "{err}"
        );
        assert!(
            err.contains("set `few_shot_num: 0` in dataset_args"),
            "{err}"
        );
        assert!(err.contains("`extra_params.few_shot_path`"), "{err}");
        // The way out works.
        let mut zero = args(&local);
        zero.few_shot_num = Some(0);
        assert!(!b.load(&zero).unwrap().is_empty(), "{name}");
        // Asked for explicitly, the message says so.
        let mut two = args(&local);
        two.few_shot_num = Some(2);
        let err = message(b.load(&two).unwrap_err());
        assert!(
            err.starts_with(&format!("{name}: few_shot_num = 2 takes its examples")),
            "{err}"
        );
    }
    let err = message(
        benchmark("ceval")
            .unwrap()
            .load(&args(ce.join("val")))
            .unwrap_err(),
    );
    assert!(err.contains("(or dev.jsonl, dev/)"), "{err}");
    // A few_shot_path that does not exist is named too.
    let mut elsewhere = args(&gsm);
    elsewhere
        .extra_params
        .insert("few_shot_path".into(), "/nonexistent/train.jsonl".into());
    let err = message(benchmark("gsm8k").unwrap().load(&elsewhere).unwrap_err());
    assert!(err.contains("/nonexistent/train.jsonl"), "{err}");
}

#[test]
fn the_few_shot_split_is_found_beside_the_data_and_must_be_long_enough() {
    let dir = tempfile::tempdir().unwrap();
    let gsm = dir.path().join("gsm8k");
    std::fs::create_dir(&gsm).unwrap();
    std::fs::copy(fixtures().join("gsm8k/test.jsonl"), gsm.join("test.jsonl")).unwrap();
    let reference = benchmark("gsm8k")
        .unwrap()
        .load(&args(fixtures().join("gsm8k")))
        .unwrap();

    // gzipped beside the test file, or named by few_shot_path
    let train = std::fs::read(fixtures().join("gsm8k/train.jsonl")).unwrap();
    {
        use std::io::Write;
        let f = std::fs::File::create(gsm.join("train.jsonl.gz")).unwrap();
        let mut gz = flate2::write::GzEncoder::new(f, flate2::Compression::default());
        gz.write_all(&train).unwrap();
        gz.finish().unwrap();
    }
    let from_gz = benchmark("gsm8k").unwrap().load(&args(&gsm)).unwrap();
    assert_eq!(from_gz, reference);
    std::fs::remove_file(gsm.join("train.jsonl.gz")).unwrap();
    let mut named = args(gsm.join("test.jsonl"));
    named.extra_params.insert(
        "few_shot_path".into(),
        fixtures()
            .join("gsm8k/train.jsonl")
            .to_string_lossy()
            .into_owned()
            .into(),
    );
    assert_eq!(benchmark("gsm8k").unwrap().load(&named).unwrap(), reference);

    // A folder without test.jsonl takes its data files, but not the few-shot split's.
    let loose = dir.path().join("loose");
    std::fs::create_dir(&loose).unwrap();
    std::fs::copy(
        fixtures().join("gsm8k/test.jsonl"),
        loose.join("gsm8k_test.jsonl"),
    )
    .unwrap();
    std::fs::write(loose.join("train.jsonl"), &train).unwrap();
    let samples = benchmark("gsm8k").unwrap().load(&args(&loose)).unwrap();
    assert_eq!(samples, reference);

    // Fewer examples than asked for: EvalScope's assertion, as an error naming the subset.
    let short: String = String::from_utf8(train)
        .unwrap()
        .lines()
        .take(3)
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(gsm.join("train.jsonl"), short).unwrap();
    let err = message(benchmark("gsm8k").unwrap().load(&args(&gsm)).unwrap_err());
    assert_eq!(
        err,
        "gsm8k: few_shot_num = 4 (EvalScope's default) but the train split has 3 example(s) for subset \"main\"; give a smaller few_shot_num (`few_shot_num: 0` in dataset_args runs zero-shot)"
    );
    let mut huge = args(&gsm);
    huge.few_shot_num = Some(u32::MAX);
    let err = message(benchmark("gsm8k").unwrap().load(&huge).unwrap_err());
    assert!(err.contains("has 3 example(s)"), "{err}");
    let mut three = args(&gsm);
    three.few_shot_num = Some(3);
    let samples = benchmark("gsm8k").unwrap().load(&three).unwrap();
    assert_eq!(
        prompt(&samples[0]).matches("\n\nANSWER: \\boxed{").count(),
        3
    );
}
