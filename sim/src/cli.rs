//! The `llm-sim` command line: flags, config file loading and the serve-until-cancelled loop.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use tokio_util::sync::CancellationToken;

use crate::{AnswerKeyConfig, AnswerSelection, Dist, ReasoningMode, SimConfig};

/// Flags of the `llm-sim` binary. Flags override the config file, which overrides defaults.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "llm-sim",
    version,
    about = "A simulated OpenAI-compatible model server with a latency model and fault injection"
)]
pub struct Args {
    /// Address to listen on.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    pub host: IpAddr,
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 8000)]
    pub port: u16,
    /// YAML config file (see `SimConfig`).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Serve HTTPS (HTTP/2 or HTTP/1.1 by ALPN) with this certificate chain (PEM).
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM).
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Model id to list and to echo when a request names none.
    #[arg(long)]
    pub model: Option<String>,
    /// Global seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Fixed base time to first token, milliseconds.
    #[arg(long)]
    pub ttft_ms: Option<f64>,
    /// Extra time to first token per prompt token, microseconds.
    #[arg(long)]
    pub ttft_per_prompt_token_us: Option<f64>,
    /// Fixed inter-token latency, milliseconds.
    #[arg(long)]
    pub itl_ms: Option<f64>,
    /// Default `max_tokens` for requests that give none.
    #[arg(long)]
    pub max_tokens: Option<u32>,
    /// Reasoning mode: none, field or think_tags.
    #[arg(long)]
    pub reasoning: Option<ReasoningMode>,
    /// Reasoning tokens per answer.
    #[arg(long)]
    pub reasoning_tokens: Option<u32>,
    /// Probability of a 429 answer.
    #[arg(long)]
    pub fault_429: Option<f64>,
    /// Probability of a 500 answer.
    #[arg(long)]
    pub fault_500: Option<f64>,
    /// Probability of a connection reset mid-answer.
    #[arg(long)]
    pub fault_reset: Option<f64>,
    /// Probability of a stall mid-answer.
    #[arg(long)]
    pub fault_stall: Option<f64>,
    /// Probability of a malformed event.
    #[arg(long)]
    pub fault_malformed: Option<f64>,
    /// Probability of a truncated answer.
    #[arg(long)]
    pub fault_truncate: Option<f64>,
    /// Probability of a mid-stream error event.
    #[arg(long)]
    pub fault_stream_error: Option<f64>,
    /// Probability of accepting a request and never answering it (for `stall_max_ms`).
    #[arg(long)]
    pub fault_hang: Option<f64>,
    /// Probability of a slow-loris answer (one byte every `--dribble-ms`).
    #[arg(long)]
    pub fault_slow_loris: Option<f64>,
    /// The pause between two bytes of a slow-loris answer, milliseconds.
    #[arg(long)]
    pub dribble_ms: Option<u64>,
    /// Longest stall before the connection is reset, milliseconds.
    #[arg(long)]
    pub stall_max_ms: Option<u64>,
    /// Answer key (JSON lines of prompt_sha256, correct, wrong): keyed chat questions get the
    /// correct or wrong text instead of generated words.
    #[arg(long, value_name = "FILE")]
    pub answer_key: Option<PathBuf>,
    /// Fraction of the answer key's questions answered correctly (default 1).
    #[arg(long, value_name = "FRACTION")]
    pub answer_accuracy: Option<f64>,
    /// How correct questions are chosen: exact (exactly round(accuracy × N)) or per_question.
    #[arg(long)]
    pub answer_selection: Option<AnswerSelection>,
    /// Keep a prefix cache of chat prompts of this many message prefixes (LRU): cached tokens
    /// are reported in usage and left out of the time to first token.
    #[arg(long, value_name = "N")]
    pub prefix_cache_entries: Option<usize>,
}

impl Args {
    /// The effective config: defaults, then the config file, then flags; validated.
    pub async fn load_config(&self) -> anyhow::Result<SimConfig> {
        let mut config = match &self.config {
            Some(path) => {
                let text = tokio::fs::read_to_string(path)
                    .await
                    .with_context(|| format!("cannot read sim config {}", path.display()))?;
                SimConfig::from_yaml(&text)
                    .with_context(|| format!("in sim config {}", path.display()))?
            }
            None => SimConfig::default(),
        };
        self.apply(&mut config);
        if config.answer_key.is_none()
            && (self.answer_accuracy.is_some() || self.answer_selection.is_some())
        {
            anyhow::bail!(
                "--answer-accuracy and --answer-selection need an answer key (--answer-key FILE)"
            );
        }
        config.validate().context("invalid command line flags")?;
        Ok(config)
    }

    fn apply(&self, c: &mut SimConfig) {
        if let Some(path) = &self.answer_key {
            match &mut c.answer_key {
                Some(key) => key.path = path.clone(),
                None => c.answer_key = Some(AnswerKeyConfig::new(path.clone(), 1.0)),
            }
        }
        if let Some(key) = &mut c.answer_key {
            set(&mut key.accuracy, self.answer_accuracy);
            set(&mut key.selection, self.answer_selection);
        }
        set(&mut c.model, self.model.clone());
        set(&mut c.seed, self.seed);
        set(&mut c.latency.ttft_ms, self.ttft_ms.map(Dist::fixed));
        set(
            &mut c.latency.ttft_per_prompt_token_us,
            self.ttft_per_prompt_token_us,
        );
        set(&mut c.latency.itl_ms, self.itl_ms.map(Dist::fixed));
        set(&mut c.output.default_max_tokens, self.max_tokens);
        set(&mut c.reasoning.mode, self.reasoning);
        set(&mut c.reasoning.tokens, self.reasoning_tokens);
        let f = &mut c.faults;
        set(&mut f.rate_429, self.fault_429);
        set(&mut f.rate_500, self.fault_500);
        set(&mut f.reset, self.fault_reset);
        set(&mut f.stall, self.fault_stall);
        set(&mut f.malformed, self.fault_malformed);
        set(&mut f.truncate, self.fault_truncate);
        set(&mut f.stream_error, self.fault_stream_error);
        set(&mut f.hang, self.fault_hang);
        set(&mut f.slow_loris, self.fault_slow_loris);
        set(&mut f.dribble_ms, self.dribble_ms);
        set(&mut f.stall_max_ms, self.stall_max_ms);
        if let Some(n) = self.prefix_cache_entries {
            c.prefix_cache = Some(crate::PrefixCacheConfig { max_entries: n });
        }
    }
}

fn set<T>(slot: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *slot = v;
    }
}

/// Serves until `cancel` fires, then shuts down gracefully.
pub async fn run(args: Args, cancel: CancellationToken) -> anyhow::Result<()> {
    let config = args.load_config().await?;
    let bind = SocketAddr::new(args.host, args.port);
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(c), Some(k)) => Some(crate::SimTls {
            cert_pem: std::fs::read(c).with_context(|| format!("cannot read {}", c.display()))?,
            key_pem: std::fs::read(k).with_context(|| format!("cannot read {}", k.display()))?,
        }),
        _ => None,
    };
    let sim = crate::start_with(config, bind, tls, cancel.clone())
        .await
        .context("cannot start llm-sim")?;
    tracing::info!(url = %sim.url(), "serving; ctrl-c stops");
    cancel.cancelled().await;
    sim.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn flags_override_defaults() {
        let args = Args::parse_from([
            "llm-sim",
            "--ttft-ms",
            "7",
            "--reasoning",
            "think_tags",
            "--fault-reset",
            "0.5",
            "--max-tokens",
            "9",
        ]);
        let c = args.load_config().await.unwrap();
        assert_eq!(c.latency.ttft_ms, Dist::fixed(7.0));
        assert_eq!(c.reasoning.mode, ReasoningMode::ThinkTags);
        assert_eq!(c.faults.reset, 0.5);
        assert_eq!(c.output.default_max_tokens, 9);
        assert_eq!(args.port, 8000);
    }

    #[tokio::test]
    async fn bad_flag_values_rejected() {
        let args = Args::parse_from(["llm-sim", "--fault-stall", "2"]);
        let err = format!("{:#}", args.load_config().await.unwrap_err());
        assert!(err.contains("faults.stall") && err.contains('2'), "{err}");
        assert!(Args::try_parse_from(["llm-sim", "--reasoning", "deep"]).is_err());
    }

    #[tokio::test]
    async fn answer_key_flags() {
        let args = Args::parse_from([
            "llm-sim",
            "--answer-key",
            "key.jsonl",
            "--answer-accuracy",
            "0.7",
        ]);
        let key = args.load_config().await.unwrap().answer_key.unwrap();
        assert_eq!(key.path, PathBuf::from("key.jsonl"));
        assert_eq!(key.accuracy, 0.7);
        assert_eq!(key.selection, AnswerSelection::Exact);

        let args = Args::parse_from([
            "llm-sim",
            "--answer-key",
            "k",
            "--answer-selection",
            "per_question",
        ]);
        let key = args.load_config().await.unwrap().answer_key.unwrap();
        assert_eq!(
            (key.accuracy, key.selection),
            (1.0, AnswerSelection::PerQuestion)
        );

        let args = Args::parse_from(["llm-sim", "--answer-accuracy", "0.5"]);
        let err = format!("{:#}", args.load_config().await.unwrap_err());
        assert!(err.contains("--answer-key"), "{err}");
        let args = Args::parse_from(["llm-sim", "--answer-key", "k", "--answer-accuracy", "7"]);
        let err = format!("{:#}", args.load_config().await.unwrap_err());
        assert!(
            err.contains("answer_key.accuracy") && err.contains('7'),
            "{err}"
        );
    }

    #[tokio::test]
    async fn missing_config_file_names_the_path() {
        let args = Args::parse_from(["llm-sim", "--config", "/nonexistent/sim.yaml"]);
        let err = format!("{:#}", args.load_config().await.unwrap_err());
        assert!(err.contains("/nonexistent/sim.yaml"), "{err}");
    }
}
