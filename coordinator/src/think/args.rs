//! `coordinator think-eval` flags.

use std::path::PathBuf;

use clap::Args;
use swarm_eval::think::SplitStrategy;

/// The flags of `coordinator think-eval`.
#[derive(Debug, Clone, Args)]
pub struct ThinkEvalArgs {
    /// Run folders of math evals with reasoning (ours, or EvalScope output folders); every model
    /// found in them is one line of the comparison.
    #[arg(required = true, num_args = 1..)]
    pub runs: Vec<PathBuf>,
    /// The benchmark whose predictions are read (its subsets are the levels).
    #[arg(long, default_value = "math_500")]
    pub dataset: String,
    /// HuggingFace tokenizer (tokenizer.json or its folder) of the evaluated model, or a
    /// tiktoken encoding name.
    #[arg(long)]
    pub tokenizer_path: String,
    /// Judge endpoint (OpenAI-compatible, `.../v1/chat/completions` or a base URL) that locates
    /// the first correct step; without it each step's candidate answers are checked with the
    /// math scorer (judge-free).
    #[arg(long, requires = "judge_model")]
    pub judge_url: Option<String>,
    /// The judge's model name.
    #[arg(long)]
    pub judge_model: Option<String>,
    /// The judge's bearer token (also $SWARM_JUDGE_API_KEY); never printed or written.
    #[arg(long, env = "SWARM_JUDGE_API_KEY", hide_env_values = true)]
    pub judge_api_key: Option<String>,
    /// Judge requests in flight.
    #[arg(long, default_value_t = 8)]
    pub judge_concurrency: usize,
    /// Retries of a judge request that fails or gets an empty reply (waiting 1 s, then twice
    /// as long each time); a reformatting still missing after them fails the run.
    #[arg(long, default_value_t = 3)]
    pub judge_retries: u32,
    /// How reasoning is cut into steps: separator (blank lines), keywords (before
    /// "alternatively", "but wait", ...) or llm (EvalScope's default: the judge reformats it
    /// into paragraphs, which are the steps; needs --judge-url).
    #[arg(long, default_value = "separator")]
    pub split: SplitStrategy,
    /// Samples per level: the first N (by sample index) whose output fits in --max-tokens.
    #[arg(long, default_value_t = 50)]
    pub count: usize,
    /// Longest output (reasoning + answer, in tokens) a sample may have to be counted.
    #[arg(long, default_value_t = 8000)]
    pub max_tokens: usize,
    /// Count the step holding the first correct answer in T̂ (EvalScope counts only the steps
    /// before it).
    #[arg(long)]
    pub include_correct_step: bool,
    /// Output folder.
    #[arg(short = 'o', long, default_value = "outputs/think_eval")]
    pub output: PathBuf,
}
