//! The plan for one request: how long the answer is, how much of it is reasoning, when the
//! first token is due, and which fault it suffers. All randomness comes from per-request RNGs
//! derived from (global seed, request number, purpose), so lengths do not change when fault
//! rates do, and a run with the same seed and request order repeats exactly.

use std::time::Duration;

use rand::SeedableRng;
use rand::rngs::SmallRng;

use crate::openai::GenerateRequest;
use crate::script::Script;
use crate::vocab::{self, Channel};
use crate::{Fault, ReasoningMode, SimConfig};

/// Longest latency the simulator will wait for one step: one day.
const MAX_DELAY_MS: f64 = 86_400_000.0;

/// Which endpoint a request came in on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endpoint {
    /// `/v1/chat/completions`.
    Chat,
    /// `/v1/completions`.
    Completion,
    /// `/v1/responses` (the OpenAI Responses API).
    Responses,
}

/// Purposes of the per-request random streams.
#[derive(Debug, Clone, Copy)]
#[repr(u64)]
pub(crate) enum Stream {
    Length = 1,
    Faults = 2,
    Latency = 3,
}

/// The RNG for request number `request` and `purpose` under global `seed`.
pub(crate) fn request_rng(seed: u64, request: u64, purpose: Stream) -> SmallRng {
    let mixed = splitmix64(seed ^ splitmix64(request ^ splitmix64(purpose as u64).rotate_left(17)));
    SmallRng::seed_from_u64(mixed)
}

pub(crate) fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// Milliseconds as a duration, clamped to `[0, one day]` (NaN is zero).
pub(crate) fn ms_to_duration(ms: f64) -> Duration {
    if ms.is_nan() {
        return Duration::ZERO;
    }
    Duration::from_secs_f64(ms.clamp(0.0, MAX_DELAY_MS) / 1000.0)
}

/// Everything decided about a request before its answer starts.
#[derive(Debug)]
pub(crate) struct Plan {
    pub endpoint: Endpoint,
    /// Response id, `chatcmpl-sim-N` or `cmpl-sim-N`.
    pub id: String,
    pub prompt_tokens: u32,
    /// Prompt tokens served from the prefix cache (0 without one).
    pub cached_tokens: u32,
    /// Tokens in the answer, reasoning included (>= 1).
    pub completion_tokens: u32,
    /// How many of the first tokens are reasoning.
    pub reasoning_tokens: u32,
    /// Reasoning mode in effect (`field` is off for `/v1/completions`).
    pub reasoning: ReasoningMode,
    /// `"length"` when the answer hit `max_tokens`, else `"stop"`.
    pub finish_reason: &'static str,
    pub stream: bool,
    pub include_usage: bool,
    pub fault: Fault,
    /// Tokens sent before a mid-stream fault strikes.
    pub fault_at: u32,
    /// Time to first token.
    pub ttft: Duration,
    /// Draws inter-token gaps.
    pub latency_rng: SmallRng,
    /// The answer's text when it comes from an answer key (None: generated words).
    pub script: Option<Script>,
}

impl Plan {
    /// Plans request number `request`. `forced` is the fault from the `x-sim-fault` header.
    /// Errors are messages for a 400 answer.
    pub fn new(
        config: &SimConfig,
        endpoint: Endpoint,
        request: u64,
        req: &GenerateRequest,
        forced: Option<Fault>,
    ) -> Result<Plan, String> {
        let prompt_tokens = match endpoint {
            Endpoint::Chat => req.messages.map(|m| m.0),
            Endpoint::Completion => req.prompt.map(|p| p.0),
            Endpoint::Responses => req.input.map(|i| i.0),
        };
        let Some(prompt_tokens) = prompt_tokens else {
            let field = match endpoint {
                Endpoint::Chat => "messages",
                Endpoint::Completion => "prompt",
                Endpoint::Responses => "input",
            };
            return Err(format!("missing field `{field}`"));
        };
        let prompt_tokens = u32::try_from(prompt_tokens).unwrap_or(u32::MAX);

        let max = req.max_tokens().unwrap_or(config.output.default_max_tokens);
        if max == 0 {
            return Err("max_tokens must be at least 1, got 0".to_owned());
        }
        let min = req.min_tokens.unwrap_or(0);
        if min > max {
            return Err(format!("min_tokens {min} exceeds max_tokens {max}"));
        }
        let completion_tokens = match &config.output.length {
            None => max,
            Some(dist) => {
                let mut rng = request_rng(config.seed, request, Stream::Length);
                let sampled = dist.sample(&mut rng).round().min(f64::from(u32::MAX)) as u32;
                sampled.clamp(min.max(1), max)
            }
        };

        let reasoning = match (endpoint, config.reasoning.mode) {
            (Endpoint::Completion, ReasoningMode::Field) => ReasoningMode::None,
            (_, mode) => mode,
        };
        let reasoning_tokens = match reasoning {
            ReasoningMode::None => 0,
            _ => config.reasoning.tokens.min(completion_tokens),
        };

        let fault = match forced {
            Some(f) => f,
            None if config.faults.any() => {
                let mut rng = request_rng(config.seed, request, Stream::Faults);
                Fault::draw(&config.faults, &mut rng)
            }
            None => Fault::None,
        };

        let mut latency_rng = request_rng(config.seed, request, Stream::Latency);
        let ttft_ms = config.latency.ttft_ms.sample(&mut latency_rng)
            + config.latency.ttft_per_prompt_token_us * f64::from(prompt_tokens) / 1000.0;

        let id = match endpoint {
            Endpoint::Chat => format!("chatcmpl-sim-{request}"),
            Endpoint::Completion => format!("cmpl-sim-{request}"),
            Endpoint::Responses => format!("resp-sim-{request}"),
        };
        Ok(Plan {
            endpoint,
            id,
            prompt_tokens,
            cached_tokens: 0,
            completion_tokens,
            reasoning_tokens,
            reasoning,
            finish_reason: if completion_tokens == max {
                "length"
            } else {
                "stop"
            },
            stream: req.stream(),
            // a Responses stream always ends with `response.completed` and its usage
            include_usage: endpoint == Endpoint::Responses || req.include_usage(),
            fault,
            fault_at: config
                .faults
                .after_tokens
                .min(completion_tokens.saturating_sub(1)),
            ttft: ms_to_duration(ttft_ms),
            latency_rng,
            script: None,
        })
    }

    /// The plan answering with `script` instead of generated words: as many tokens as the script
    /// has pieces, cut at the request's `max_tokens` if it gives one (the configured length and
    /// `default_max_tokens` do not apply); finish reason `"length"` only when cut.
    pub fn scripted(mut self, script: Script, config: &SimConfig, max_tokens: Option<u32>) -> Plan {
        let len = script.len();
        self.completion_tokens = max_tokens.map_or(len, |max| len.min(max));
        self.finish_reason = if self.completion_tokens < len {
            "length"
        } else {
            "stop"
        };
        self.reasoning_tokens = script.reasoning().min(self.completion_tokens);
        self.fault_at = config
            .faults
            .after_tokens
            .min(self.completion_tokens.saturating_sub(1));
        self.script = Some(script);
        self
    }

    /// The text (JSON-escaped) and channel of token `i`.
    pub fn token(&self, i: u32) -> (&str, Channel) {
        match &self.script {
            Some(script) => script.piece(i),
            None => vocab::token(i, self.reasoning_tokens, self.reasoning),
        }
    }

    /// The next inter-token gap.
    pub fn next_itl(&mut self, config: &SimConfig) -> Duration {
        if config.latency.itl_ms.is_zero() {
            Duration::ZERO
        } else {
            ms_to_duration(config.latency.itl_ms.sample(&mut self.latency_rng))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Dist, FaultConfig};

    fn req(json: &str) -> GenerateRequest {
        GenerateRequest::parse(json.as_bytes()).unwrap()
    }

    #[test]
    fn length_defaults_and_limits() {
        let c = SimConfig::instant();
        let p = Plan::new(&c, Endpoint::Chat, 0, &req(r#"{"messages":[]}"#), None).unwrap();
        assert_eq!(p.completion_tokens, 128);
        assert_eq!(p.finish_reason, "length");
        let p = Plan::new(
            &c,
            Endpoint::Chat,
            0,
            &req(r#"{"messages":[],"max_tokens":5}"#),
            None,
        )
        .unwrap();
        assert_eq!(p.completion_tokens, 5);
        assert_eq!(p.fault_at, 3);
        let err = Plan::new(
            &c,
            Endpoint::Chat,
            0,
            &req(r#"{"messages":[],"max_tokens":5,"min_tokens":6}"#),
            None,
        )
        .unwrap_err();
        assert!(err.contains('6') && err.contains('5'), "{err}");
        let err = Plan::new(
            &c,
            Endpoint::Completion,
            0,
            &req(r#"{"messages":[]}"#),
            None,
        )
        .unwrap_err();
        assert_eq!(err, "missing field `prompt`");
    }

    #[test]
    fn sampled_lengths_are_clamped_and_seeded() {
        let mut c = SimConfig::instant();
        c.seed = 9;
        c.output.length = Some(Dist::Uniform {
            min: 1.0,
            max: 100.0,
        });
        let r = req(r#"{"prompt":"x","max_tokens":60,"min_tokens":20}"#);
        let lens = |c: &SimConfig| -> Vec<u32> {
            (0..200)
                .map(|k| {
                    Plan::new(c, Endpoint::Completion, k, &r, None)
                        .unwrap()
                        .completion_tokens
                })
                .collect()
        };
        let a = lens(&c);
        assert!(a.iter().all(|n| (20..=60).contains(n)));
        assert!(a.contains(&20) && a.contains(&60));
        assert!(a.iter().any(|n| *n > 20 && *n < 60));
        assert_eq!(a, lens(&c), "same seed, same lengths");
        c.faults = FaultConfig {
            stall: 0.5,
            ..FaultConfig::default()
        };
        assert_eq!(a, lens(&c), "fault rates do not shift lengths");
        c.seed = 10;
        assert_ne!(a, lens(&c), "another seed, other lengths");
    }

    #[test]
    fn reasoning_capped_and_off_for_completions_field() {
        let mut c = SimConfig::instant();
        c.reasoning.mode = ReasoningMode::Field;
        c.reasoning.tokens = 10;
        let chat = req(r#"{"messages":[],"max_tokens":4}"#);
        let p = Plan::new(&c, Endpoint::Chat, 0, &chat, None).unwrap();
        assert_eq!(p.reasoning_tokens, 4);
        let p = Plan::new(&c, Endpoint::Completion, 0, &req(r#"{"prompt":""}"#), None).unwrap();
        assert_eq!(p.reasoning_tokens, 0);
        assert_eq!(p.reasoning, ReasoningMode::None);
    }

    #[test]
    fn ttft_grows_with_prompt() {
        let mut c = SimConfig::instant();
        c.latency.ttft_ms = Dist::fixed(5.0);
        c.latency.ttft_per_prompt_token_us = 1000.0;
        let p = Plan::new(
            &c,
            Endpoint::Completion,
            0,
            &req(r#"{"prompt":"a b c"}"#),
            None,
        )
        .unwrap();
        assert_eq!(p.ttft, Duration::from_millis(8));
        assert_eq!(p.prompt_tokens, 3);
    }

    #[test]
    fn forced_fault_wins_over_config() {
        let mut c = SimConfig::instant();
        c.faults.reset = 1.0;
        let r = req(r#"{"prompt":"a"}"#);
        let p = Plan::new(&c, Endpoint::Completion, 0, &r, Some(Fault::None)).unwrap();
        assert_eq!(p.fault, Fault::None);
        let p = Plan::new(&c, Endpoint::Completion, 0, &r, None).unwrap();
        assert_eq!(p.fault, Fault::Reset);
    }

    #[test]
    fn durations_clamp() {
        assert_eq!(ms_to_duration(-5.0), Duration::ZERO);
        assert_eq!(ms_to_duration(f64::NAN), Duration::ZERO);
        assert_eq!(ms_to_duration(1.5), Duration::from_micros(1500));
        assert_eq!(ms_to_duration(1e300), Duration::from_secs(86_400));
    }
}
