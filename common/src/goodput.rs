//! Goodput, as vLLM defines it (`--goodput ttft:… tpot:… e2el:…`): the requests per second that
//! met every service-level objective given. A request that failed meets none.

use serde::{Deserialize, Serialize};

use crate::metrics::RequestRecord;

/// Latency objectives, milliseconds; any subset.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Goodput {
    /// Time to first token at most this.
    #[serde(default)]
    pub ttft_ms: Option<f64>,
    /// Time per output token (after the first) at most this.
    #[serde(default)]
    pub tpot_ms: Option<f64>,
    /// End-to-end latency at most this.
    #[serde(default)]
    pub e2el_ms: Option<f64>,
}

/// A bad `--goodput` term.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("--goodput {term:?}: {why} (write ttft:MS, tpot:MS or e2el:MS)")]
pub struct GoodputError {
    /// The term.
    pub term: String,
    /// What is wrong with it.
    pub why: String,
}

impl Goodput {
    /// Parses vLLM's terms: `ttft:500 tpot:50 e2el:2000` (milliseconds, any subset).
    pub fn parse<'a>(terms: impl IntoIterator<Item = &'a str>) -> Result<Self, GoodputError> {
        let mut g = Goodput::default();
        for term in terms {
            let bad = |why: &str| GoodputError {
                term: term.to_string(),
                why: why.to_string(),
            };
            let (name, value) = term.split_once(':').ok_or_else(|| bad("no `:`"))?;
            let ms: f64 = value.trim().parse().map_err(|_| bad("not a number"))?;
            if !(ms.is_finite() && ms > 0.0) {
                return Err(bad("must be a positive number of milliseconds"));
            }
            let slot = match name.trim().to_ascii_lowercase().as_str() {
                "ttft" => &mut g.ttft_ms,
                "tpot" => &mut g.tpot_ms,
                "e2el" => &mut g.e2el_ms,
                _ => return Err(bad("unknown metric")),
            };
            if slot.replace(ms).is_some() {
                return Err(bad("given twice"));
            }
        }
        if g.is_empty() {
            return Err(GoodputError {
                term: String::new(),
                why: "no objective".into(),
            });
        }
        Ok(g)
    }

    /// Whether no objective is set.
    pub fn is_empty(&self) -> bool {
        self.ttft_ms.is_none() && self.tpot_ms.is_none() && self.e2el_ms.is_none()
    }

    /// Whether `r` met every objective (vLLM's TPOT: (latency − TTFT) / (output tokens − 1),
    /// 0 for one token or fewer).
    pub fn met(&self, r: &RequestRecord) -> bool {
        if !r.is_success() {
            return false;
        }
        let within = |us: u64, ms: f64| us as f64 <= ms * 1e3;
        if let Some(ms) = self.ttft_ms {
            match r.ttft_us {
                Some(t) if within(t, ms) => {}
                _ => return false,
            }
        }
        if let Some(ms) = self.tpot_ms {
            let tpot_us = match (r.ttft_us, r.completion_tokens) {
                (Some(t), n) if n > 1 => r.latency_us.saturating_sub(t) / u64::from(n - 1),
                _ => 0,
            };
            if !within(tpot_us, ms) {
                return false;
            }
        }
        if let Some(ms) = self.e2el_ms
            && !within(r.latency_us, ms)
        {
            return false;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(ttft_ms: u64, latency_ms: u64, tokens: u32) -> RequestRecord {
        RequestRecord {
            ttft_us: Some(ttft_ms * 1000),
            latency_us: latency_ms * 1000,
            completion_tokens: tokens,
            status: 200,
            ..Default::default()
        }
    }

    #[test]
    fn terms_parse_as_vllm_writes_them() {
        let g = Goodput::parse(["ttft:500", "tpot:50", "e2el:2000"]).expect("parses");
        assert_eq!(g.ttft_ms, Some(500.0));
        assert_eq!(g.tpot_ms, Some(50.0));
        assert_eq!(g.e2el_ms, Some(2000.0));
        assert!(Goodput::parse(["ttft=5"]).is_err());
        assert!(Goodput::parse(["itl:5"]).is_err());
        assert!(Goodput::parse(["ttft:-1"]).is_err());
        assert!(Goodput::parse(["ttft:1", "ttft:2"]).is_err());
    }

    #[test]
    fn a_request_is_good_only_when_it_meets_every_objective() {
        let g = Goodput::parse(["ttft:100", "tpot:10", "e2el:1000"]).expect("parses");
        assert!(g.met(&rec(90, 450, 41)), "(450 - 90) / 40 = 9 ms per token");
        // (500 - 90) / 40 = 10.25 ms > 10: not met
        assert!(
            !Goodput::parse(["tpot:10"])
                .expect("p")
                .met(&rec(90, 500, 41))
        );
        assert!(
            Goodput::parse(["tpot:10.25"])
                .expect("p")
                .met(&rec(90, 500, 41))
        );
        assert!(!g.met(&rec(150, 500, 2)), "ttft over");
        assert!(!g.met(&rec(50, 1500, 2)), "latency over");
        let mut failed = rec(10, 20, 2);
        failed.error = Some(crate::metrics::ErrorClass::Http5xx);
        assert!(!g.met(&failed));
        assert!(
            Goodput::parse(["tpot:1"]).expect("p").met(&rec(10, 900, 1)),
            "one token: tpot 0"
        );
    }
}
