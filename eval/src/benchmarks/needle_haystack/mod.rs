//! Needle-in-a-Haystack: EvalScope 1.14.1's `needle_haystack`. A fact (the needle) is hidden in
//! a long text (the haystack) at several depths, for several context lengths, and the model is
//! asked to retrieve it.
//!
//! Data: no records, only the haystack text. `local_path` is a folder holding EvalScope's corpus
//! files, `PaulGraham_Essays.txt` (subset `english`) and `Journey_to_the_West.txt` (subset
//! `chinese`), as ModelScope's `AI-ModelScope/Needle-in-a-Haystack-Corpus` has them; or one text
//! file, the haystack of every subset run. Samples are generated from `extra_params` (see
//! [`params::Params`]): one per (context length, depth) in that order, per subset; `limit` keeps
//! the first N of a subset.
//!
//! Prompt: the system message `SYSTEM_PROMPT` (EvalScope's meta `system_prompt`), then
//! [`PROMPT_TEMPLATE`] with the context and the retrieval question. Lengths and depths count
//! tokens of `extra_params.tokenizer_path` (required: EvalScope's default is a hub model id).
//!
//! Scores: as EvalScope, the LLM judge by default (`ScoringPolicy.JUDGE_DEFAULT`: under
//! `--judge-strategy auto` a run needs `--judge-model-args`, and is refused before any request
//! without them). The judge is asked EvalScope's rating question,
//! [`crate::judge::prompt::ORM_SCALE_10`] (`GENERAL_ORM_PROMPT`, `ORM_USER_TEMPLATE` with the
//! filtered prediction), and the sample's `acc` is its `verdict / 10`. `--judge-strategy rule`
//! scores by rule instead ([`score::rule_acc`], `acc`: the normalised prediction equals the
//! normalised needles); a judge that gives no verdict leaves the rule's score, marked
//! `degraded`. The report adds
//! one metric per cell, `Context#<length> Depth#<depth>` ([`cells`]), which the report page and
//! `needle_haystack_heatmap_<subset>.svg` draw as a heat-map.

pub mod cells;
pub mod haystack;
pub mod params;
pub mod score;

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::{SampleParts, acc_score, select_subsets, zero_shot_only};
use crate::judge::prompt::ORM_SCALE_10;
use crate::judge::{JudgeKind, ScoringPolicy};
use crate::report::{MetricReport, ReportSpec, ScoredSample};
use crate::sample::{Benchmark, BenchmarkMeta, DatasetArgs, EvalError, Sample, Score};
use haystack::Needles;
use params::Params;

/// The benchmark's name.
pub const NAME: &str = "needle_haystack";

/// EvalScope's prompt template (`{context}`, `{question}`).
pub const PROMPT_TEMPLATE: &str = "Please read the following text and answer the question below.\n\n<text>\n{context}\n</text>\n\n<question>\n{question}\n</question>\n\nDon't give information outside the document or repeat your findings.";

/// EvalScope's system prompt for this benchmark.
pub const SYSTEM_PROMPT: &str = "You are a helpful AI bot that answers questions for a user. Keep your response short and direct";

/// The subsets and their haystack files, in EvalScope's order.
pub const FILES: [(&str, &str); 2] = [
    ("english", "PaulGraham_Essays.txt"),
    ("chinese", "Journey_to_the_West.txt"),
];

/// Where EvalScope downloads the haystack from.
pub const HUB_DATASET: &str = "AI-ModelScope/Needle-in-a-Haystack-Corpus";

/// The prompt of one sample: the template filled with `context` and `question`.
pub fn prompt(context: &str, question: &str) -> String {
    let (head, tail) = PROMPT_TEMPLATE
        .split_once("{context}")
        .unwrap_or((PROMPT_TEMPLATE, ""));
    let (middle, end) = tail.split_once("{question}").unwrap_or((tail, ""));
    let mut out = String::with_capacity(PROMPT_TEMPLATE.len() + context.len() + question.len());
    out.push_str(head);
    out.push_str(context);
    out.push_str(middle);
    out.push_str(question);
    out.push_str(end);
    out
}

/// Needle-in-a-Haystack.
#[derive(Debug, Clone, Copy, Default)]
pub struct NeedleHaystack;

fn bad(message: impl Into<String>) -> EvalError {
    EvalError::BadArgs {
        benchmark: NAME.to_owned(),
        message: message.into(),
    }
}

/// The haystack file of `subset` under `local_path`.
fn haystack_file(local_path: &Path, subset: &str) -> Result<PathBuf, EvalError> {
    if local_path.is_file() {
        return Ok(local_path.to_path_buf());
    }
    let name = FILES
        .iter()
        .find(|(s, _)| *s == subset)
        .map(|(_, f)| *f)
        .ok_or_else(|| bad(format!("unknown subset {subset:?}")))?;
    let file = local_path.join(name);
    if !file.is_file() {
        return Err(bad(format!(
            "the {subset} haystack {} is missing: `local_path` must be a folder holding {name} \
             (from the ModelScope dataset {HUB_DATASET}, not downloaded here), or a text file \
             used as the haystack; `subset_list` picks the subsets to run",
            file.display()
        )));
    }
    Ok(file)
}

impl NeedleHaystack {
    /// The samples of one subset from its haystack `text`.
    fn subset_samples(
        &self,
        subset: &str,
        text: &str,
        params: &Params,
        tokenizer: &dyn swarm_common::tokenize::TokenCounter,
        limit: Option<usize>,
    ) -> Result<Vec<Sample>, EvalError> {
        let needles = Needles::new(tokenizer, &params.needles);
        let shortest = params.context_lengths.iter().copied().min().unwrap_or(0);
        if shortest < needles.min_context_length() {
            return Err(bad(format!(
                "context length {shortest} leaves no room for the haystack: a context holds {} \
                 tokens for the prompt and {} for the needles, so it must be at least {} \
                 (raise `extra_params.context_lengths_min`)",
                haystack::BUFFER,
                needles.total_len(),
                needles.min_context_length()
            )));
        }
        let longest = params.context_lengths.iter().copied().max().unwrap_or(0);
        let tokens = haystack::context_tokens(tokenizer, text, longest.max(0) as usize)?;
        let gold = params.answer();
        let mut out = Vec::new();
        for &length in &params.context_lengths {
            for &depth in &params.depth_percents {
                if limit.is_some_and(|l| out.len() >= l) {
                    return Ok(out);
                }
                let ids = needles.insert(&tokens, depth, length);
                let context = tokenizer.decode(&ids);
                let mut messages = Vec::with_capacity(2);
                if let Some(system) = &params.system_prompt {
                    messages.push(json!({"role": "system", "content": system}));
                }
                messages.push(json!({
                    "role": "user",
                    "content": prompt(&context, &params.retrieval_question),
                }));
                out.push(
                    SampleParts {
                        benchmark: NAME,
                        subset: subset.to_owned(),
                        index: out.len(),
                        messages,
                        gold: gold.clone(),
                        choices: vec![],
                        metadata: super::metadata([
                            ("context_length", Value::from(length)),
                            ("depth_percent", Value::from(depth)),
                        ]),
                    }
                    .build(),
                );
            }
        }
        Ok(out)
    }
}

impl Benchmark for NeedleHaystack {
    fn meta(&self) -> BenchmarkMeta {
        BenchmarkMeta {
            name: NAME,
            pretty_name: "Needle-in-a-Haystack",
            task_type: "retrieval",
            metrics: vec!["acc"],
            subsets: FILES.iter().map(|(s, _)| (*s).to_owned()).collect(),
            few_shot_num: 0,
            eval_split: "test",
            train_split: "",
        }
    }

    fn load(&self, args: &DatasetArgs) -> Result<Vec<Sample>, EvalError> {
        zero_shot_only(NAME, args)?;
        let params = Params::from_extra(&args.extra_params)?;
        let all = self.meta().subsets;
        let subsets = select_subsets(NAME, &all, args)?;
        let local_path = args.local_path.as_deref().ok_or_else(|| {
            bad(format!(
                "needs `local_path`: a folder holding {} and {} (ModelScope's {HUB_DATASET}), or one haystack text file",
                FILES[0].1, FILES[1].1
            ))
        })?;
        let files = subsets
            .iter()
            .map(|s| haystack_file(local_path, s))
            .collect::<Result<Vec<_>, _>>()?;
        let tokenizer = swarm_common::tokenize::load_tokenizer(&params.tokenizer_path)
            .map_err(|e| bad(format!("`extra_params.tokenizer_path`: {e}")))?;
        let mut out = Vec::new();
        for (subset, file) in subsets.iter().zip(files) {
            let text = std::fs::read_to_string(&file).map_err(|source| EvalError::Io {
                path: file.clone(),
                source,
            })?;
            out.extend(
                self.subset_samples(subset, &text, &params, tokenizer.as_ref(), args.limit)
                    .map_err(|e| match e {
                        EvalError::BadArgs { message, .. } => {
                            bad(format!("{}: {message}", file.display()))
                        }
                        other => other,
                    })?,
            );
        }
        Ok(out)
    }

    /// The completion as it is (EvalScope's default `extract_answer`).
    fn extract(&self, completion: &str, _sample: &Sample) -> String {
        completion.to_owned()
    }

    fn score(&self, extracted: &str, sample: &Sample) -> Score {
        acc_score(extracted, score::rule_acc(extracted, &sample.gold) == 1.0)
    }

    /// EvalScope's `ScoringPolicy.JUDGE_DEFAULT`: a usable rule, but `auto` asks the judge.
    fn scoring_policy(&self) -> ScoringPolicy {
        ScoringPolicy::JudgeDefault
    }

    /// EvalScope's `judge_definition`: the 1–10 rating of the filtered prediction against the
    /// needles, `acc = verdict / 10`.
    fn judge_kind(&self) -> JudgeKind {
        JudgeKind::Custom(&ORM_SCALE_10)
    }

    fn extra_report_metrics(
        &self,
        spec: &ReportSpec,
        scored: &[(&Sample, &ScoredSample)],
    ) -> Vec<MetricReport> {
        cells::cell_metrics(spec, scored)
    }
}
