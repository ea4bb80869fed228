//! Which fault, if any, a request suffers: forced by the `x-sim-fault` header or drawn from the
//! configured probabilities.

use std::fmt;
use std::str::FromStr;

use rand::Rng;

use crate::FaultConfig;

/// The request header that forces a fault (or `none`) for one request.
pub const FAULT_HEADER: &str = "x-sim-fault";

/// A fault injected into one request. See [`FaultConfig`] for what each does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fault {
    /// No fault: a normal answer.
    None,
    /// 429 with `retry-after: 1`.
    RateLimit,
    /// 500 with an error body.
    ServerError,
    /// Connection reset mid-body.
    Reset,
    /// Body stops mid-way while the connection stays open.
    Stall,
    /// One event's data line is not valid JSON.
    Malformed,
    /// Body ends cleanly mid-way, without finish reason, usage or `[DONE]`.
    Truncate,
    /// An error event mid-stream, then the body ends.
    StreamError,
    /// Accept the request and send nothing (not even headers) for `stall_max_ms`, then 504.
    Hang,
    /// A slow-loris server: the answer arrives one byte every `dribble_ms`.
    SlowLoris,
}

/// An `x-sim-fault` header value that names no fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown x-sim-fault value {0:?}, expected none, 429, 500, reset, stall, malformed, truncate, stream_error, hang or slow_loris"
)]
pub struct UnknownFault(pub String);

impl Fault {
    /// Every fault, in the order the configured probabilities are tried (then `None`).
    pub const ALL: [Fault; 10] = [
        Fault::RateLimit,
        Fault::ServerError,
        Fault::Reset,
        Fault::Stall,
        Fault::Malformed,
        Fault::Truncate,
        Fault::StreamError,
        Fault::Hang,
        Fault::SlowLoris,
        Fault::None,
    ];

    /// The `x-sim-fault` spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Fault::None => "none",
            Fault::RateLimit => "429",
            Fault::ServerError => "500",
            Fault::Reset => "reset",
            Fault::Stall => "stall",
            Fault::Malformed => "malformed",
            Fault::Truncate => "truncate",
            Fault::StreamError => "stream_error",
            Fault::Hang => "hang",
            Fault::SlowLoris => "slow_loris",
        }
    }

    /// Draws a fault: each probability in [`FaultConfig::rates`] order, the first hit wins.
    pub(crate) fn draw<R: Rng + ?Sized>(config: &FaultConfig, rng: &mut R) -> Fault {
        for (fault, (_, p)) in Fault::ALL.into_iter().zip(config.rates()) {
            if p > 0.0 && rng.random::<f64>() < p {
                return fault;
            }
        }
        Fault::None
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Fault {
    type Err = UnknownFault;

    /// Accepts the [`Fault::as_str`] spellings plus `rate_429` and `rate_500`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.trim() {
            "none" => Fault::None,
            "429" | "rate_429" => Fault::RateLimit,
            "500" | "rate_500" => Fault::ServerError,
            "reset" => Fault::Reset,
            "stall" => Fault::Stall,
            "malformed" => Fault::Malformed,
            "truncate" => Fault::Truncate,
            "stream_error" => Fault::StreamError,
            "hang" => Fault::Hang,
            "slow_loris" => Fault::SlowLoris,
            other => return Err(UnknownFault(other.to_owned())),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::SmallRng;

    #[test]
    fn header_spellings_round_trip() {
        for f in Fault::ALL {
            assert_eq!(f.as_str().parse::<Fault>().unwrap(), f);
        }
        assert_eq!("rate_429".parse::<Fault>().unwrap(), Fault::RateLimit);
        let err = "boom".parse::<Fault>().unwrap_err().to_string();
        assert!(err.contains("\"boom\""), "{err}");
    }

    #[test]
    fn draw_respects_probabilities_and_order() {
        let mut rng = SmallRng::seed_from_u64(1);
        let none = FaultConfig::default();
        assert!((0..1000).all(|_| Fault::draw(&none, &mut rng) == Fault::None));

        let always = FaultConfig {
            reset: 1.0,
            truncate: 1.0,
            ..FaultConfig::default()
        };
        assert!((0..100).all(|_| Fault::draw(&always, &mut rng) == Fault::Reset));

        let some = FaultConfig {
            rate_500: 0.25,
            ..FaultConfig::default()
        };
        let hits = (0..10_000)
            .filter(|_| Fault::draw(&some, &mut rng) == Fault::ServerError)
            .count();
        assert!((2_200..2_800).contains(&hits), "{hits}");
    }
}
