//! Dividing a stage across agents: integer quantities (users, request counts) by the largest
//! remainder method, so the shares add up exactly to the stage's totals; rates proportionally.
//!
//! Weights are agent capacities (`Hello.capacity`, at least 1). Duration bounds are not split:
//! every agent runs for the stage's whole duration.

use crate::schedule::LoadModel;

/// One agent's part of a stage.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ShardLoad {
    /// How this agent offers load (its users, or its share of the rate and in-flight cap).
    pub load: LoadModel,
    /// This agent's request count bound (None when the stage has none).
    pub number: Option<u64>,
}

/// Why a stage cannot be divided across the given agents.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum SplitError {
    /// There is no agent to give the stage to.
    #[error("cannot split a stage across zero agents")]
    NoAgents,
    /// An agent announced capacity 0.
    #[error("agent {agent} has capacity 0; capacities must be at least 1")]
    ZeroCapacity {
        /// The agent's position in the weights.
        agent: usize,
    },
    /// Fewer users (closed loop) or in-flight slots (open loop) than agents.
    #[error(
        "cannot split parallel {parallel} across {agents} agents: every agent needs at least one user"
    )]
    TooFewUsers {
        /// The stage's `parallel`.
        parallel: u64,
        /// How many agents it was to be split over.
        agents: usize,
    },
    /// Fewer requests than agents.
    #[error(
        "cannot split number {number} across {agents} agents: every agent needs at least one request"
    )]
    TooFewRequests {
        /// The stage's `number`.
        number: u64,
        /// How many agents it was to be split over.
        agents: usize,
    },
    /// The open-loop rate is not a positive finite number.
    #[error("cannot split rate {0}: it must be a positive number of requests per second")]
    BadRate(f64),
}

/// Shares of `total` proportional to `weights` that add up exactly to `total` (Hamilton's
/// largest remainder method): each share is the floor of its quota, and the units left over go
/// to the largest fractional remainders, ties to the lower index. A zero weight gets 0.
/// When every weight is 0 the total is split equally (as if every weight were 1); with no
/// weights at all the result is empty.
pub fn largest_remainder(total: u64, weights: &[u64]) -> Vec<u64> {
    if weights.is_empty() {
        return Vec::new();
    }
    if weights.iter().all(|w| *w == 0) {
        return largest_remainder(total, &vec![1; weights.len()]);
    }
    let sum: u128 = weights.iter().map(|w| u128::from(*w)).sum();
    let t = u128::from(total);
    let mut shares = Vec::with_capacity(weights.len());
    let mut remainders = Vec::with_capacity(weights.len());
    for (i, w) in weights.iter().enumerate() {
        let exact = t * u128::from(*w);
        // share ≤ total, so it fits in u64
        shares.push(u64::try_from(exact / sum).unwrap_or(total));
        if *w > 0 {
            remainders.push((exact % sum, i));
        }
    }
    let given: u64 = shares.iter().sum();
    let left = total - given;
    // largest remainder first, then lower index
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    // left < number of positive weights, so it never runs past the remainders
    for (_, i) in remainders.into_iter().take(left as usize) {
        shares[i] += 1;
    }
    shares
}

/// Shares of `total` proportional to `weights` in which every agent gets at least one, or None
/// when `total` is smaller than the number of agents. Equal to [`largest_remainder`] whenever
/// that already gives everyone one or more; otherwise each agent whose proportional share is
/// below one gets exactly one and the rest is shared among the others the same way.
fn at_least_one_each(total: u64, weights: &[u64]) -> Option<Vec<u64>> {
    let n = weights.len() as u64;
    if total < n {
        return None;
    }
    let plain = largest_remainder(total, weights);
    if plain.iter().all(|s| *s >= 1) {
        return Some(plain);
    }
    let mut pinned = vec![false; weights.len()];
    loop {
        let free: Vec<usize> = (0..weights.len()).filter(|i| !pinned[*i]).collect();
        let rest = total - (n - free.len() as u64);
        let sum: u128 = free.iter().map(|i| u128::from(weights[*i])).sum();
        // quota below one ⇔ rest × w < Σw
        let below: Vec<usize> = free
            .iter()
            .copied()
            .filter(|i| u128::from(rest) * u128::from(weights[*i]) < sum)
            .collect();
        if below.is_empty() {
            // every free quota is ≥ 1, so every floor is ≥ 1
            let free_weights: Vec<u64> = free.iter().map(|i| weights[*i]).collect();
            let mut out = vec![1; weights.len()];
            for (i, s) in free.iter().zip(largest_remainder(rest, &free_weights)) {
                out[*i] = s;
            }
            return Some(out);
        }
        // The free quotas add up to rest ≥ |free|, so not all of them are below one and the
        // free set never empties.
        for i in below {
            pinned[i] = true;
        }
    }
}

/// Divides one stage across agents with capacities `weights`.
///
/// Closed loop: the users (`concurrency`) are shared by capacity, at least one per agent, and
/// `number` in proportion to each agent's users, so every user sends about as many requests.
/// Open loop: the rate is shared by capacity (f64, adding up to the rate within rounding), the
/// in-flight cap and `number` by capacity, at least one per agent. An agent whose proportional
/// share is below one still gets one; splitting fails only when there are fewer users or
/// requests than agents (or no agents, or a capacity of 0).
pub fn split_stage(
    load: &LoadModel,
    number: Option<u64>,
    weights: &[u64],
) -> Result<Vec<ShardLoad>, SplitError> {
    if weights.is_empty() {
        return Err(SplitError::NoAgents);
    }
    if let Some(agent) = weights.iter().position(|w| *w == 0) {
        return Err(SplitError::ZeroCapacity { agent });
    }
    let agents = weights.len();
    let users = |parallel: u32| {
        at_least_one_each(u64::from(parallel), weights).ok_or(SplitError::TooFewUsers {
            parallel: u64::from(parallel),
            agents,
        })
    };
    let numbers = |by: &[u64]| -> Result<Vec<Option<u64>>, SplitError> {
        match number {
            None => Ok(vec![None; agents]),
            Some(n) => Ok(at_least_one_each(n, by)
                .ok_or(SplitError::TooFewRequests { number: n, agents })?
                .into_iter()
                .map(Some)
                .collect()),
        }
    };
    match *load {
        LoadModel::Closed { concurrency } => {
            let users = users(concurrency)?;
            let numbers = numbers(&users)?;
            Ok(users
                .into_iter()
                .zip(numbers)
                .map(|(u, number)| ShardLoad {
                    load: LoadModel::Closed {
                        concurrency: to_u32(u, concurrency),
                    },
                    number,
                })
                .collect())
        }
        LoadModel::Open {
            rate,
            arrival,
            max_concurrency,
        } => {
            if !(rate.is_finite() && rate > 0.0) {
                return Err(SplitError::BadRate(rate));
            }
            let caps = match max_concurrency {
                None => vec![None; agents],
                Some(c) => users(c)?.into_iter().map(|u| Some(to_u32(u, c))).collect(),
            };
            let numbers = numbers(weights)?;
            let sum: f64 = weights.iter().map(|w| *w as f64).sum();
            Ok(weights
                .iter()
                .zip(caps)
                .zip(numbers)
                .map(|((w, max_concurrency), number)| ShardLoad {
                    load: LoadModel::Open {
                        rate: rate * (*w as f64) / sum,
                        arrival,
                        max_concurrency,
                    },
                    number,
                })
                .collect())
        }
    }
}

/// A share of a u32 total fits in u32.
fn to_u32(share: u64, total: u32) -> u32 {
    u32::try_from(share).unwrap_or(total)
}

/// Re-shares `remaining` requests of a lost agent's budget over the survivors with capacities
/// `weights` (largest remainder; a survivor may get 0 when there are fewer requests than
/// survivors). Empty when there are no survivors.
pub fn reassign(remaining: u64, weights: &[u64]) -> Vec<u64> {
    largest_remainder(remaining, weights)
}
