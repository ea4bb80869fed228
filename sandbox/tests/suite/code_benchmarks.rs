//! HumanEval and LiveCodeBench scored through the real path (filters → extract → score with the
//! code sandbox): every canonical HumanEval solution passes (Pass@1 = 1.0), wrong and empty ones
//! fail; hand-written LiveCodeBench solutions pass or fail, for standard-input and call-based
//! problems, in both record formats.

use std::path::{Path, PathBuf};

use swarm_eval::exec::SandboxSettings;
use swarm_eval::report::{ReportSpec, ScoredSample, build_report};
use swarm_eval::task;
use swarm_eval::{DatasetArgs, Sample, registry};
use swarm_sandbox::Sandbox;
use swarm_sandbox::batch::{Sandboxes, score_all};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../eval/tests/fixtures/eval")
}

fn sandbox() -> Sandbox {
    Sandbox::new(SandboxSettings::default()).expect("a sandbox")
}

/// Scores `completion(sample)` for each sample; the `acc` of each.
fn accs(name: &str, samples: &[Sample], completions: &[String]) -> Vec<f64> {
    let bench = registry::benchmark(name).unwrap();
    let filters = task::filters(name, &DatasetArgs::default()).unwrap();
    let items: Vec<(&Sample, &str)> = samples
        .iter()
        .zip(completions)
        .map(|(s, c)| (s, c.as_str()))
        .collect();
    score_all(
        bench.as_ref(),
        &filters,
        &Sandboxes::single(sandbox()),
        &items,
    )
    .into_iter()
    .map(|(_, score)| score.values["acc"])
    .collect()
}

fn humaneval() -> Vec<Sample> {
    let args = DatasetArgs {
        local_path: Some(fixtures().join("humaneval")),
        ..DatasetArgs::default()
    };
    registry::benchmark("humaneval")
        .unwrap()
        .load(&args)
        .unwrap()
}

#[test]
fn every_canonical_humaneval_solution_passes() {
    let samples = humaneval();
    assert_eq!(samples.len(), 164);
    let completions: Vec<String> = samples.iter().map(|s| s.gold.clone()).collect();
    let bench = registry::benchmark("humaneval").unwrap();
    let filters = task::filters("humaneval", &DatasetArgs::default()).unwrap();
    let items: Vec<(&Sample, &str)> = samples
        .iter()
        .zip(&completions)
        .map(|(s, c)| (s, c.as_str()))
        .collect();
    let scored = score_all(
        bench.as_ref(),
        &filters,
        &Sandboxes::single(sandbox()),
        &items,
    );
    let failed: Vec<&str> = scored
        .iter()
        .zip(&samples)
        .filter(|((_, score), _)| score.values["acc"] != 1.0)
        .map(|(_, s)| s.metadata["task_id"].as_str().unwrap())
        .collect();
    assert!(failed.is_empty(), "canonical solutions failed: {failed:?}");
    let rows: Vec<ScoredSample> = scored
        .iter()
        .zip(&samples)
        .map(|((_, score), s)| ScoredSample::new(s, score))
        .collect();
    let report = build_report("canonical", &ReportSpec::of(bench.as_ref()), &rows);
    let metric = |name: &str| {
        report
            .metrics
            .iter()
            .find(|m| m.name == name)
            .unwrap_or_else(|| panic!("no {name} in {:?}", report.metrics))
    };
    assert_eq!(report.score, 1.0);
    assert_eq!(metric("mean_acc").score, 1.0);
    assert_eq!(metric("mean_acc_pass@1").score, 1.0);
    assert_eq!(metric("mean_acc_pass@1").num, 164);
}

#[test]
fn wrong_and_empty_humaneval_solutions_fail() {
    let samples: Vec<Sample> = humaneval().into_iter().take(6).collect();
    let mut completions = vec![String::new(); 3];
    completions.extend(std::iter::repeat_n("    return None\n".to_owned(), 3));
    assert_eq!(accs("humaneval", &samples, &completions), vec![0.0; 6]);
}

#[test]
fn a_fenced_humaneval_answer_is_extracted_and_passes() {
    let samples: Vec<Sample> = humaneval().into_iter().take(2).collect();
    let completions: Vec<String> = samples
        .iter()
        .map(|s| {
            let prompt = s.metadata["prompt"].as_str().unwrap();
            format!(
                "Here is the function:\n```python\n{prompt}{}```\nIt works.",
                s.gold
            )
        })
        .collect();
    assert_eq!(accs("humaneval", &samples, &completions), vec![1.0, 1.0]);
}

fn fenced(code: &str) -> String {
    format!("Here is my solution.\n```python\n{code}\n```\n")
}

const SHORT_SORT: &str = "t = int(input())\nfor _ in range(t):\n    s = input().strip()\n    diff = sum(1 for a, b in zip(s, 'abc') if a != b)\n    print('YES' if diff <= 2 else 'NO')";
const GOOD_KID: &str = "t = int(input())\nfor _ in range(t):\n    n = int(input())\n    a = sorted(map(int, input().split()))\n    a[0] += 1\n    p = 1\n    for x in a:\n        p *= x\n    print(p)";
const ERASER: &str = "def main():\n    data = sys.stdin.read().split()\n    t = int(data[0])\n    i = 1\n    out = []\n    for _ in range(t):\n        n, k = int(data[i]), int(data[i + 1])\n        s = data[i + 2]\n        i += 3\n        ops, j = 0, 0\n        while j < n:\n            if s[j] == 'B':\n                ops += 1\n                j += k\n            else:\n                j += 1\n        out.append(str(ops))\n    print('\\n'.join(out))\n\nif __name__ == '__main__':\n    main()";
const SENIORS: &str = "class Solution:\n    def countSeniors(self, details: List[str]) -> int:\n        return sum(1 for d in details if int(d[11:13]) > 60)";
const MATRIX_SUM: &str = "class Solution:\n    def matrixSum(self, nums: List[List[int]]) -> int:\n        rows = [sorted(r, reverse=True) for r in nums]\n        return sum(max(col) for col in zip(*rows))";
const MAXIMUM_OR: &str = "class Solution:\n    def maximumOr(self, nums: List[int], k: int) -> int:\n        n = len(nums)\n        pre, suf = [0] * (n + 1), [0] * (n + 1)\n        for i in range(n):\n            pre[i + 1] = pre[i] | nums[i]\n        for i in range(n - 1, -1, -1):\n            suf[i] = suf[i + 1] | nums[i]\n        return max(pre[i] | (nums[i] << k) | suf[i + 1] for i in range(n))";

fn live_code_bench(path: PathBuf, extra: serde_json::Value) -> Vec<Sample> {
    let args = DatasetArgs {
        local_path: Some(path),
        extra_params: extra.as_object().cloned().unwrap_or_default(),
        ..DatasetArgs::default()
    };
    registry::benchmark("live_code_bench")
        .unwrap()
        .load(&args)
        .unwrap()
}

#[test]
fn live_code_bench_correct_solutions_pass_and_wrong_ones_fail() {
    let samples = live_code_bench(
        fixtures().join("live_code_bench/rllm_livecodebench_test_publictests.json"),
        serde_json::json!({}),
    );
    assert_eq!(samples.len(), 6);
    let right: Vec<String> = [
        SHORT_SORT, GOOD_KID, ERASER, SENIORS, MATRIX_SUM, MAXIMUM_OR,
    ]
    .iter()
    .map(|c| fenced(c))
    .collect();
    assert_eq!(accs("live_code_bench", &samples, &right), vec![1.0; 6]);

    let wrong: Vec<String> = [
        // always YES
        "t = int(input())\nfor _ in range(t):\n    input()\n    print('YES')",
        // adds one to the largest digit
        &GOOD_KID.replace("a[0] += 1", "a[-1] += 1"),
        // a runtime error after the right answer
        &format!("{ERASER}\nraise SystemExit(1)"),
        // counts everyone
        "class Solution:\n    def countSeniors(self, details: List[str]) -> int:\n        return len(details)",
        // sums the row maxima
        "class Solution:\n    def matrixSum(self, nums: List[List[int]]) -> int:\n        return sum(max(r) for r in nums)",
        // too slow: an endless loop
        "class Solution:\n    def maximumOr(self, nums: List[int], k: int) -> int:\n        while True:\n            pass",
    ]
    .iter()
    .map(|c| fenced(c))
    .collect();
    assert_eq!(accs("live_code_bench", &samples, &wrong), vec![0.0; 6]);

    // no fenced block: nothing is extracted, nothing runs
    let bare = vec![SHORT_SORT.to_owned(); 1];
    assert_eq!(accs("live_code_bench", &samples[..1], &bare), vec![0.0]);
}

#[test]
fn live_code_bench_canonical_records_with_dates_private_tests_tuples_and_decimals() {
    let dir = std::env::temp_dir().join(format!("swarm-lcb-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let public = |tests: serde_json::Value| tests.to_string();
    let records = [
        serde_json::json!({
            "question_title": "pair", "question_content": "Return (a + b, a * b).",
            "platform": "leetcode", "question_id": "1", "contest_id": "c1",
            "contest_date": "2024-03-01T00:00:00",
            "starter_code": "class Solution:\n    def pair(self, a: int, b: int) -> List[int]:\n        ",
            "difficulty": "easy",
            "public_test_cases": public(serde_json::json!([{"input": "2\n3", "output": "[5, 6]", "testtype": "functional"}])),
            // base64(zlib(pickle('[{"input": "4\n5", "output": "[9, 20]", ...}]'))), written by Python
            "private_test_cases": "eJxrYJnqxgABPU7R1UqZeQWlJUpWCkomMXmmSjoKSvmlJVCRaEsdBSODWJBgSWpxSUllQSpIOK00L7kkMz8vMUepNnaKHgBdzBdG",
            "metadata": "{\"func_name\": \"pair\"}"
        }),
        serde_json::json!({
            "question_title": "half", "question_content": "Print n / 2.",
            "platform": "atcoder", "question_id": "2", "contest_id": "c2",
            "contest_date": "2024-05-10T00:00:00", "starter_code": "", "difficulty": "easy",
            "public_test_cases": public(serde_json::json!([{"input": "1\n", "output": "0.5000\n", "testtype": "stdin"}])),
            "private_test_cases": "[]", "metadata": "{}"
        }),
    ];
    let text: String = records.iter().map(|r| format!("{r}\n")).collect();
    std::fs::write(dir.join("test.jsonl"), text).unwrap();

    let all = live_code_bench(dir.clone(), serde_json::json!({}));
    assert_eq!(all.len(), 2);
    let pair_tuple = fenced(
        "class Solution:\n    def pair(self, a: int, b: int) -> List[int]:\n        return (a + b, a * b)",
    );
    let pair_wrong_on_private = fenced(
        "class Solution:\n    def pair(self, a: int, b: int) -> List[int]:\n        return [5, 6]",
    );
    let half = fenced("print(int(input()) / 2)");
    assert_eq!(
        accs("live_code_bench", &all, &[pair_tuple.clone(), half.clone()]),
        vec![1.0, 1.0]
    );
    assert_eq!(
        accs(
            "live_code_bench",
            &all,
            &[pair_wrong_on_private, fenced("print(1)")]
        ),
        vec![0.0, 0.0]
    );

    let may = live_code_bench(dir.clone(), serde_json::json!({"start_date": "2024-05-10"}));
    assert_eq!(may.len(), 1);
    assert!(
        may[0].messages[0]["content"]
            .as_str()
            .unwrap()
            .contains("Print n / 2.")
    );
    let march = live_code_bench(
        dir.clone(),
        serde_json::json!({"start_date": "2024-01-01", "end_date": "2024-03-01"}),
    );
    assert_eq!(march.len(), 1);
    assert_eq!(accs("live_code_bench", &march, &[pair_tuple]), vec![1.0]);
    std::fs::remove_dir_all(&dir).unwrap();
}
