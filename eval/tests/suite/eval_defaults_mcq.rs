//! Defaults of the multiple-choice benchmarks whose data may not be here: MMLU-Pro's 5-shot
//! prompt (its validation split), C-Eval's 5-shot prompt and GPQA's prompt, compared with
//! EvalScope's meta. Their checks read ../shared and are recorded as skipped when it is absent.

use std::path::PathBuf;

use swarm_eval::Benchmark;
use swarm_eval::benchmarks::gpqa::GpqaDiamond;
use swarm_eval::registry::benchmark;

use super::eval_defaults::{
    args, assert_same_prompt, evalscope_example, first_default_prompt, fixtures, prompt,
};
use super::shared::{shared_data, skipped};

#[test]
fn mmlu_pro_default_needs_the_validation_split_which_is_not_here() {
    let (subset, theirs) = evalscope_example("mmlu_pro").unwrap();
    assert_eq!(subset, "computer science");
    let dir = fixtures().join("mmlu_pro");
    let err = benchmark("mmlu_pro")
        .unwrap()
        .load(&args(&dir))
        .unwrap_err();
    let expected = dir.join("validation.jsonl");
    assert_eq!(
        err.to_string(),
        format!(
            "mmlu_pro: few_shot_num = 5 (EvalScope's default) takes its examples from the validation split, which is missing: expected {}; put the split there or name it with `extra_params.few_shot_path`, or set `few_shot_num: 0` in dataset_args to run zero-shot",
            expected.display()
        )
    );
    // What can be pinned without the split: the 5-shot preamble opens EvalScope's prompt, and
    // the question closes it as the zero-shot prompt does.
    let (head, rest) = theirs.split_once(" ... [TRUNCATED").unwrap();
    let tail = rest.split_once("] ... ").unwrap().1;
    assert!(head.starts_with("The following are multiple choice questions (with answers) about computer science. Think step by step and then finish your answer with 'ANSWER: [LETTER]' (without quotes) where [LETTER] is the correct letter choice.\n\nQuestion:\n"));
    let mut zero = args(&dir);
    zero.few_shot_num = Some(0);
    let ours = first_default_prompt("mmlu_pro", zero, &subset);
    assert!(ours.ends_with(tail), "{ours}");
    assert!(ours.starts_with("Answer the following multiple choice question."));

    // With MMLU-Pro's validation split in ../shared the whole default prompt is compared.
    let shared = shared_data().join("mmlu_pro");
    if !["validation.jsonl", "validation.jsonl.gz"]
        .iter()
        .any(|f| shared.join(f).is_file())
    {
        skipped(
            "eval::eval_defaults_mcq (MMLU-Pro 5-shot prompt)",
            &format!(
                "MMLU-Pro's validation split (TIGER-Lab/MMLU-Pro, 70 records) is not in {}: validation.jsonl",
                shared.display()
            ),
        );
        return;
    }
    let ours = first_default_prompt("mmlu_pro", args(shared.join("test.jsonl.gz")), &subset);
    assert_same_prompt(&ours, &theirs, "mmlu_pro");
}

fn ceval() -> Option<PathBuf> {
    let dir = shared_data().join("ceval");
    if dir.join("ceval_val.jsonl").is_file() && dir.join("ceval_dev.jsonl").is_file() {
        Some(dir)
    } else {
        skipped(
            "eval::eval_defaults_mcq (C-Eval)",
            &format!(
                "{} is absent (C-Eval may not be copied into the repo)",
                dir.display()
            ),
        );
        None
    }
}

#[test]
fn ceval_default_is_evalscopes_5_shot_prompt_from_the_dev_split() {
    let Some(dir) = ceval() else { return };
    let (subset, theirs) = evalscope_example("ceval").unwrap();
    let ours = first_default_prompt("ceval", args(&dir), &subset);
    // EvalScope's copy of the dev split keeps the `\r\n` of some explanations, which the copy in
    // ../shared (mi_optimize's ceval-exam CSVs) has as `\n`: a difference of data, not of code.
    assert_same_prompt(&ours, &theirs.replace("\r\n", "\n"), "ceval");
    assert!(ours.starts_with("以下是一些示例问题：\n\n问题：下列设备属于资源子网的是____。"));
    assert_eq!(ours.matches("\n解析：").count(), 5);
    // The official CSV folders: val/ as the data, dev/ (or ceval_dev.jsonl) beside it.
    let from_csv = first_default_prompt("ceval", args(dir.join("val")), &subset);
    assert_eq!(from_csv, ours);
}

#[test]
fn gpqa_default_prompt_is_evalscopes() {
    // EvalScope's run (v1.10.0) recorded its ten prompts: eval_parity compares ours whole, option
    // order included. Its meta's example was printed by a build whose option order came from an
    // unseeded shuffle (before the per-question seed), so only the text and the options are
    // compared with it.
    let root = shared_data().join("evalscope_samples/examples/viz/qwen-plus");
    let review_file = root.join("reviews/qwen-plus/gpqa_diamond_default.jsonl");
    let Some((subset, theirs)) =
        evalscope_example("gpqa_diamond").filter(|_| review_file.is_file())
    else {
        skipped(
            "eval::eval_defaults_mcq (GPQA)",
            &format!("{} is absent", review_file.display()),
        );
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let csv = super::eval_parity::rebuild_gpqa_csv(
        &super::eval_parity::reviews(&review_file),
        tmp.path(),
    );
    let ours = first_default_prompt("gpqa_diamond", args(&csv), &subset);
    let (head, rest) = theirs.split_once(" ... [TRUNCATED").unwrap();
    let tail = rest.split_once("] ... ").unwrap().1;
    assert!(ours.starts_with(head), "{ours}");
    let options = |p: &str| {
        let mut o: Vec<String> = p
            .rsplit_once("\n\n")
            .unwrap()
            .1
            .lines()
            .map(|l| l[3..].to_owned())
            .collect();
        o.sort();
        o
    };
    assert_eq!(options(&ours), options(tail));
    let (their_question, _) = tail.rsplit_once("\n\n").unwrap();
    assert!(ours.contains(their_question));
    let samples = GpqaDiamond.load(&args(&csv)).unwrap();
    assert_eq!(prompt(&samples[0]), ours);
}
