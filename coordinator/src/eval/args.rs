//! `coordinator eval`: EvalScope's eval flags.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;
use swarm_common::shard::{ApiKind, TargetSpec};
use swarm_eval::DatasetArgs;
use swarm_eval::collection::dataset_args_key_allowed;

use crate::plan::Plan;
use crate::plan::model::{EvalDef, TimeoutsDef, WorkloadDef};

/// The flags of `coordinator eval`.
#[derive(Debug, Clone, Args)]
pub struct EvalArgs {
    /// Model name (the `model` of every request, and the report's model). With --rescore, the
    /// run's saved task gives it when absent.
    #[arg(long, required_unless_present = "rescore")]
    pub model: Option<String>,
    /// Endpoint: `.../v1/chat/completions` or a base URL.
    #[arg(long, required_unless_present = "rescore")]
    pub api_url: Option<String>,
    /// Benchmarks to run (gsm8k, math_500, aime24, aime25, mmlu_pro, mmlu_redux, ceval, iquiz, gpqa_diamond).
    /// With --rescore, the run's saved task gives them when absent.
    #[arg(long, num_args = 1.., required_unless_present = "rescore")]
    pub datasets: Vec<String>,
    /// Per-benchmark arguments as JSON: {"gsm8k": {"local_path": "...", "subset_list": [...], "filters": {"remove_until": "</think>"}}}. With data_collection, a collection's benchmark may be named too: its filters score its lines.
    #[arg(long)]
    pub dataset_args: Option<String>,
    /// Folder holding one data folder per benchmark (`<dir>/<benchmark>`), used when a benchmark has no local_path.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Generation config as JSON: max_tokens, temperature, top_p, top_k, n, seed, chat_template_kwargs, any extra body fields.
    #[arg(long)]
    pub generation_config: Option<String>,
    /// Requests in flight across all agents.
    #[arg(long, default_value_t = 32)]
    pub eval_batch_size: u32,
    /// First N samples per subset.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Generations per sample (pass@k / mean-of-n when > 1).
    #[arg(long, default_value_t = 1)]
    pub repeats: u32,
    /// Request timeout, milliseconds.
    #[arg(long, default_value_t = 600_000)]
    pub timeout: u64,
    /// Stream responses.
    #[arg(long)]
    pub stream: bool,
    /// EvalScope's judge strategy: auto (the benchmark decides: rule for every benchmark here),
    /// rule, llm (the judge scores every sample), llm_recall (the judge only where the rule scored
    /// wrong; it may only raise a score). With --rescore, the saved task's when absent.
    #[arg(long, value_parser = parse_strategy)]
    pub judge_strategy: Option<swarm_eval::judge::JudgeStrategy>,
    /// The LLM judge as JSON (EvalScope's judge_model_args): {"model_id": ..., "api_url": ...,
    /// "api_key": ..., "generation_config": {...}, "system_prompt", "prompt_template",
    /// "score_mapping", "score_type": "pattern"|"numeric"}. The key is never written to a file.
    #[arg(long)]
    pub judge_model_args: Option<String>,
    /// EvalScope 1.14's typed judge JSON: {"strategy": ..., "models": {<judge_model_args' model
    /// keys>}, "contract": {"system_prompt", "prompt_template", "score_mapping", "score_type"}}
    /// (one judge, one repeat). Not with --judge-strategy / --judge-model-args.
    #[arg(long, conflicts_with_all = ["judge_strategy", "judge_model_args"])]
    pub judge: Option<String>,
    /// With --rescore: ask the judge again about every prediction its strategy puts to it,
    /// instead of keeping the run's verdicts (samples lacking a verdict are asked either way).
    #[arg(long, requires = "rescore")]
    pub rejudge: bool,
    /// Resume this earlier run folder: samples with a prediction are not generated again.
    #[arg(long)]
    pub use_cache: Option<PathBuf>,
    /// Re-score the predictions of this run folder without calling the model.
    #[arg(long)]
    pub rescore: Option<PathBuf>,
    /// Run name.
    #[arg(long, default_value = "eval")]
    pub name: String,
    /// The credential, the run folder, the in-process agents, how they reach the target.
    #[command(flatten)]
    pub common: crate::plan::flags::CommonArgs,
    /// What the local agents' code sandbox may do.
    #[command(flatten)]
    pub sandbox: crate::sandbox_args::SandboxArgs,
}

fn parse_strategy(s: &str) -> Result<swarm_eval::judge::JudgeStrategy, String> {
    s.parse()
}

impl EvalArgs {
    /// These flags with what a rescore's run folder saved filling the ones not given (model,
    /// datasets, dataset arguments, repeats); flags win.
    pub fn completed(&self, root: &Path) -> anyhow::Result<EvalArgs> {
        let mut out = self.clone();
        let Some(run) = &self.rescore else {
            return Ok(out);
        };
        let found = super::task_config::load(root)?;
        if let Some(saved) = &found {
            // the run's judge unless the flags name another
            if out.judge_strategy.is_none() {
                out.judge_strategy = Some(saved.judge_strategy);
            }
            if out.judge_model_args.is_none()
                && let Some(a) = &saved.judge_model_args
            {
                out.judge_model_args = Some(serde_json::to_string(a)?);
            }
        }
        if self.model.is_some() && !self.datasets.is_empty() {
            return Ok(out);
        }
        let saved = found.with_context(|| {
            format!(
                "--rescore {}: no saved task (eval/task_config.json or configs/task_config.yaml); give --model and --datasets",
                run.display()
            )
        })?;
        if out.model.is_none() {
            out.model = Some(saved.model);
        }
        if out.datasets.is_empty() {
            out.datasets = saved.datasets;
            if out.dataset_args.is_none() {
                out.dataset_args = Some(serde_json::to_string(&saved.dataset_args)?);
            }
            if out.repeats == 1 {
                out.repeats = saved.repeats;
            }
        }
        Ok(out)
    }

    /// Per-benchmark dataset arguments (limit and data dir applied).
    pub fn dataset_args(&self) -> anyhow::Result<BTreeMap<String, DatasetArgs>> {
        let mut all: BTreeMap<String, DatasetArgs> = match &self.dataset_args {
            Some(s) => serde_json::from_str(s).with_context(|| {
                format!("--dataset-args is not a JSON object of benchmark → arguments: {s}")
            })?,
            None => BTreeMap::new(),
        };
        for name in all.keys() {
            if !dataset_args_key_allowed(&self.datasets, name) {
                bail!(
                    "--dataset-args names {name:?}, which is not in --datasets (with data_collection in --datasets, any known benchmark may be named: its filters score its lines)"
                );
            }
        }
        for name in &self.datasets {
            let a = all.entry(name.clone()).or_default();
            if a.limit.is_none() {
                a.limit = self.limit;
            }
            if a.local_path.is_none()
                && let Some(dir) = &self.data_dir
            {
                a.local_path = Some(dir.join(name));
            }
        }
        Ok(all)
    }

    /// The eval the flags describe.
    fn eval_def(&self) -> anyhow::Result<EvalDef> {
        let (judge_strategy, judge_model_args) = match &self.judge {
            Some(typed) => swarm_eval::judge::args::JudgeConfig::from_json(typed)
                .and_then(|c| c.legacy())
                .map_err(anyhow::Error::msg)?,
            None => (
                self.judge_strategy.unwrap_or_default(),
                self.judge_model_args
                    .as_deref()
                    .map(swarm_eval::judge::JudgeModelArgs::from_json)
                    .transpose()
                    .map_err(anyhow::Error::msg)?,
            ),
        };
        Ok(EvalDef {
            target: crate::plan::flags::TARGET.into(),
            datasets: self.datasets.clone(),
            dataset_args: self.dataset_args()?,
            generation_config: crate::plan::flags::json_object(
                "generation-config",
                self.generation_config.as_deref(),
            )?,
            eval_batch_size: self.eval_batch_size.max(1),
            limit: self.limit,
            repeats: self.repeats.max(1),
            stream: self.stream,
            judge_strategy,
            judge_model_args,
        })
    }

    /// The job `--rescore` re-scores (no target: nothing is generated).
    pub fn rescore_job(&self) -> anyhow::Result<super::job::EvalJob> {
        let target = TargetSpec {
            url: String::new(),
            api: ApiKind::Chat,
            model: self.model.clone().unwrap_or_default(),
            api_key: None,
            headers: vec![],
            connect_timeout_s: 10.0,
            // what a judge asked by the rescore waits for
            read_timeout_s: self.timeout.max(1) as f64 / 1000.0,
            total_timeout_s: self.timeout.max(1) as f64 / 1000.0,
            transport: Default::default(),
        };
        let def = self.eval_def()?;
        let mut job = crate::plan::build::eval_job(&self.name, &def, target, Path::new(""))?;
        job.rejudge = self.rejudge;
        Ok(job)
    }

    /// The plan the flags describe: one eval workload against `--api-url`, on `--agents`
    /// in-process agents. `workload` names it (its folder under `eval/`).
    pub fn plan(&self, workload: &str) -> anyhow::Result<Plan> {
        let Some(url) = &self.api_url else {
            bail!("--api-url is required to generate")
        };
        if ApiKind::resolve(url).0 != ApiKind::Chat {
            bail!(
                "eval needs a chat endpoint (.../v1/chat/completions), got {}",
                ApiKind::resolve(url).1
            );
        }
        if self.timeout == 0 {
            bail!("--timeout must be a positive number of milliseconds");
        }
        let timeout = self.timeout as f64 / 1000.0;
        let timeouts = TimeoutsDef {
            connect_s: 10.0,
            read_s: timeout,
            total_s: timeout,
        };
        let model = self.model.as_deref().unwrap_or_default();
        let target = crate::plan::flags::target(Some(url), model, timeouts, &self.common);
        let workload = WorkloadDef {
            name: workload.to_string(),
            placement: Default::default(),
            perf: None,
            eval: Some(self.eval_def()?),
        };
        Ok(Plan::of_flags(&self.name, &self.common, target, workload))
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::EvalArgs;

    #[derive(Parser)]
    struct Flags {
        #[command(flatten)]
        eval: EvalArgs,
    }

    fn parse(datasets: &[&str], dataset_args: &str) -> EvalArgs {
        let mut argv = vec!["eval", "--model", "m", "--api-url", "http://127.0.0.1:1/v1"];
        argv.push("--datasets");
        argv.extend(datasets);
        argv.extend(["--dataset-args", dataset_args]);
        Flags::try_parse_from(argv).expect("flags").eval
    }

    #[test]
    fn judge_flags_are_checked_before_any_request() {
        let flags = |extra: &[&str]| {
            let mut argv = vec!["eval", "--model", "m", "--api-url", "http://127.0.0.1:1/v1"];
            argv.extend(["--datasets", "gsm8k"]);
            argv.extend(extra);
            Flags::try_parse_from(argv).map(|f| f.eval)
        };
        assert!(flags(&["--judge-strategy", "sometimes"]).is_err());
        let err = flags(&["--judge-strategy", "llm"])
            .expect("flags")
            .rescore_job()
            .expect_err("a judge strategy without a judge")
            .to_string();
        assert!(err.contains("--judge-model-args"), "{err}");
        let judge = r#"{"model_id": "j", "api_url": "http://127.0.0.1:1/v1", "api_key": "sk-x"}"#;
        let job = flags(&[
            "--judge-strategy",
            "llm_recall",
            "--judge-model-args",
            judge,
        ])
        .expect("flags")
        .rescore_job()
        .expect("a judged job");
        let spec = job.judge.expect("judge");
        assert_eq!(spec.strategy, swarm_eval::judge::JudgeStrategy::LlmRecall);
        assert_eq!(spec.target.url, "http://127.0.0.1:1/v1/chat/completions");
        // the plan the flags make keeps the judge without its key
        let plan = flags(&["--judge-strategy", "llm", "--judge-model-args", judge])
            .expect("flags")
            .plan("w")
            .expect("plan");
        let yaml = serde_norway::to_string(&plan).expect("yaml");
        assert!(
            yaml.contains("judge_model_args") && !yaml.contains("sk-x"),
            "{yaml}"
        );
        // EvalScope 1.14's typed --judge, not together with the legacy flags
        let typed = r#"{"strategy": "llm", "models": [{"model_id": "j", "api_url": "http://127.0.0.1:1/v1"}]}"#;
        let job = flags(&["--judge", typed])
            .expect("flags")
            .rescore_job()
            .expect("typed judge");
        let spec = job.judge.expect("judge");
        assert_eq!(spec.strategy, swarm_eval::judge::JudgeStrategy::Llm);
        assert_eq!(spec.judge_id, "j");
        assert!(flags(&["--judge", typed, "--judge-strategy", "llm"]).is_err());
        // auto and rule need no judge: every benchmark here is rule-default
        for s in ["auto", "rule"] {
            let job = flags(&["--judge-strategy", s])
                .expect("flags")
                .rescore_job();
            assert!(job.is_ok_and(|j| j.judge.is_none()), "{s}");
        }
    }

    #[test]
    fn a_collections_benchmarks_may_take_dataset_args() {
        let args = r#"{"data_collection": {"local_path": "mix.jsonl"}, "iquiz": {"filters": {"remove_until": "</think>"}}}"#;
        let all = parse(&["data_collection"], args)
            .dataset_args()
            .expect("allowed with data_collection");
        assert_eq!(
            all["iquiz"].filters.get("remove_until"),
            Some(&serde_json::json!("</think>"))
        );
        let err = parse(&["gsm8k"], args)
            .dataset_args()
            .expect_err("not without data_collection")
            .to_string();
        assert!(
            err.starts_with("--dataset-args names \"data_collection\", which is not in --datasets"),
            "{err}"
        );
        let err = parse(&["data_collection"], r#"{"no_such_bench": {}}"#)
            .dataset_args()
            .expect_err("unknown benchmark")
            .to_string();
        assert!(err.contains("\"no_such_bench\""), "{err}");
    }
}
