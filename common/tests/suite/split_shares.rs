//! Dividing stages across agents: exact totals, proportional shares, at least one each.

use proptest::prelude::*;
use swarm_common::schedule::{Arrival, LoadModel};
use swarm_common::split::{ShardLoad, SplitError, largest_remainder, reassign, split_stage};

fn closed(concurrency: u32) -> LoadModel {
    LoadModel::Closed { concurrency }
}

fn open(rate: f64, max_concurrency: Option<u32>) -> LoadModel {
    LoadModel::Open {
        rate,
        arrival: Arrival::Poisson,
        max_concurrency,
    }
}

fn users(shards: &[ShardLoad]) -> Vec<u32> {
    shards.iter().map(|s| s.load.concurrency()).collect()
}

fn numbers(shards: &[ShardLoad]) -> Vec<Option<u64>> {
    shards.iter().map(|s| s.number).collect()
}

#[test]
fn largest_remainder_exact_vectors() {
    assert_eq!(largest_remainder(10, &[1, 1, 1]), vec![4, 3, 3]);
    assert_eq!(largest_remainder(7, &[3, 1]), vec![5, 2]); // 5.25, 1.75
    assert_eq!(largest_remainder(5, &[1, 1]), vec![3, 2]); // tie → lower index
    assert_eq!(largest_remainder(2, &[1, 1, 1]), vec![1, 1, 0]);
    assert_eq!(largest_remainder(100, &[1, 2, 3, 4]), vec![10, 20, 30, 40]);
    assert_eq!(largest_remainder(10, &[1, 0, 2]), vec![3, 0, 7]); // 3.33, 0, 6.67
    assert_eq!(largest_remainder(1, &[1, 5, 5]), vec![0, 1, 0]); // .09 .45 .45
    assert_eq!(largest_remainder(0, &[4, 2]), vec![0, 0]);
    assert_eq!(largest_remainder(3, &[0, 1]), vec![0, 3]);
    // all zero: an equal split; none: nothing to share between
    assert_eq!(largest_remainder(5, &[0, 0]), vec![3, 2]);
    assert_eq!(largest_remainder(5, &[]), Vec::<u64>::new());
    // no overflow at the extremes
    assert_eq!(
        largest_remainder(u64::MAX, &[u64::MAX, u64::MAX]),
        vec![u64::MAX / 2 + 1, u64::MAX / 2]
    );
}

#[test]
fn closed_loop_splits_users_and_requests_together() {
    let s = split_stage(&closed(10), Some(100), &[1, 1, 1]).expect("splits");
    assert_eq!(users(&s), vec![4, 3, 3]);
    // requests follow the users: 40, 30, 30
    assert_eq!(numbers(&s), vec![Some(40), Some(30), Some(30)]);

    let s = split_stage(&closed(7), Some(10), &[3, 1]).expect("splits");
    assert_eq!(users(&s), vec![5, 2]);
    assert_eq!(numbers(&s), vec![Some(7), Some(3)]); // 7.14, 2.86

    let s = split_stage(&closed(8), None, &[1, 1]).expect("splits");
    assert_eq!(users(&s), vec![4, 4]);
    assert_eq!(numbers(&s), vec![None, None]);
}

#[test]
fn small_capacities_still_get_one_user() {
    // plain largest remainder would give [3, 0]: 2.73 and 0.27
    let s = split_stage(&closed(3), Some(30), &[10, 1]).expect("splits");
    assert_eq!(users(&s), vec![2, 1]);
    assert_eq!(numbers(&s), vec![Some(20), Some(10)]);
    let s = split_stage(&closed(3), None, &[1000, 1, 1]).expect("splits");
    assert_eq!(users(&s), vec![1, 1, 1]);
    let s = split_stage(&closed(5), None, &[100, 10, 1, 1]).expect("splits");
    assert_eq!(users(&s), vec![2, 1, 1, 1]);
    // iterated: 15 over [50, 10, 1 × 10] pins the ten 1s (quota 0.21 each); then 5 over
    // [50, 10] leaves the 10 a quota of 0.83, so it is pinned too and the 50 gets the last 4
    let mut ws = vec![50, 10];
    ws.extend([1; 10]);
    let s = split_stage(&closed(15), None, &ws).expect("splits");
    let mut want = vec![4, 1];
    want.extend([1; 10]);
    assert_eq!(users(&s), want);
}

#[test]
fn too_few_users_or_requests() {
    let err = split_stage(&closed(2), None, &[1, 1, 1]).expect_err("2 users, 3 agents");
    assert_eq!(
        err,
        SplitError::TooFewUsers {
            parallel: 2,
            agents: 3
        }
    );
    assert_eq!(
        err.to_string(),
        "cannot split parallel 2 across 3 agents: every agent needs at least one user"
    );
    let err = split_stage(&closed(3), Some(2), &[1, 1, 1]).expect_err("2 requests");
    assert_eq!(
        err,
        SplitError::TooFewRequests {
            number: 2,
            agents: 3
        }
    );
    assert!(err.to_string().contains("at least one request"));
    assert_eq!(
        split_stage(&open(5.0, Some(1)), None, &[1, 1]),
        Err(SplitError::TooFewUsers {
            parallel: 1,
            agents: 2
        })
    );
    assert_eq!(
        split_stage(&open(5.0, None), Some(1), &[1, 1]),
        Err(SplitError::TooFewRequests {
            number: 1,
            agents: 2
        })
    );
}

#[test]
fn bad_weights_and_rates() {
    assert_eq!(
        split_stage(&closed(4), None, &[]),
        Err(SplitError::NoAgents)
    );
    assert_eq!(
        split_stage(&closed(4), None, &[1, 0]),
        Err(SplitError::ZeroCapacity { agent: 1 })
    );
    assert_eq!(
        split_stage(&open(0.0, None), None, &[1]),
        Err(SplitError::BadRate(0.0))
    );
    assert!(split_stage(&open(f64::NAN, None), None, &[1]).is_err());
}

#[test]
fn open_loop_splits_rate_cap_and_requests_by_capacity() {
    let s = split_stage(&open(40.0, Some(32)), Some(80), &[1, 1, 2]).expect("splits");
    let rates: Vec<f64> = s.iter().filter_map(|x| x.load.rate()).collect();
    assert_eq!(rates, vec![10.0, 10.0, 20.0]);
    assert_eq!(users(&s), vec![8, 8, 16]);
    assert_eq!(numbers(&s), vec![Some(20), Some(20), Some(40)]);
    for x in &s {
        assert!(matches!(
            x.load,
            LoadModel::Open {
                arrival: Arrival::Poisson,
                ..
            }
        ));
    }
    // no cap stays no cap
    let s = split_stage(&open(1.0, None), None, &[1, 1, 1]).expect("splits");
    assert!(s.iter().all(|x| matches!(
        x.load,
        LoadModel::Open {
            max_concurrency: None,
            ..
        }
    )));
    let total: f64 = s.iter().filter_map(|x| x.load.rate()).sum();
    assert!((total - 1.0).abs() < 1e-12, "{total}");
}

#[test]
fn one_agent_gets_the_whole_stage() {
    for load in [closed(5), open(3.5, Some(9)), open(2.0, None)] {
        let s = split_stage(&load, Some(17), &[7]).expect("splits");
        assert_eq!(
            s,
            vec![ShardLoad {
                load,
                number: Some(17)
            }]
        );
    }
}

#[test]
fn reassign_shares_a_lost_budget() {
    assert_eq!(reassign(10, &[1, 1, 1]), vec![4, 3, 3]);
    assert_eq!(reassign(1, &[1, 1]), vec![1, 0]);
    assert_eq!(reassign(9, &[2, 1]), vec![6, 3]);
    assert_eq!(reassign(0, &[1, 1]), vec![0, 0]);
    assert_eq!(reassign(5, &[]), Vec::<u64>::new());
}

fn weights() -> impl Strategy<Value = Vec<u64>> {
    prop::collection::vec(1u64..50, 1..12)
}

/// `share` is within one of the exact proportional quota `total × w / Σw`.
fn near_quota(share: u64, total: u64, w: u64, sum: u64) -> bool {
    let exact = u128::from(total) * u128::from(w);
    let s = u128::from(share) * u128::from(sum);
    // |share − quota| < 1  ⇔  |share·Σw − total·w| < Σw
    s.abs_diff(exact) < u128::from(sum)
}

proptest! {
    #[test]
    fn largest_remainder_is_exact_and_proportional(
        total in 0u64..100_000,
        ws in prop::collection::vec(0u64..50, 1..12),
    ) {
        let shares = largest_remainder(total, &ws);
        prop_assert_eq!(shares.len(), ws.len());
        prop_assert_eq!(shares.iter().sum::<u64>(), total);
        let sum: u64 = ws.iter().sum();
        if sum > 0 {
            for (s, w) in shares.iter().zip(&ws) {
                prop_assert!(near_quota(*s, total, *w, sum), "{} of {} for weight {}", s, total, w);
                if *w == 0 {
                    prop_assert_eq!(*s, 0);
                }
            }
        }
    }

    #[test]
    fn closed_split_is_exact_and_never_starves(
        parallel in 1u32..500,
        number in prop::option::of(1u64..10_000),
        ws in weights(),
    ) {
        let n = ws.len() as u64;
        match split_stage(&closed(parallel), number, &ws) {
            Ok(s) => {
                let u: Vec<u64> = users(&s).into_iter().map(u64::from).collect();
                prop_assert_eq!(u.iter().sum::<u64>(), u64::from(parallel));
                prop_assert!(u.iter().all(|x| *x >= 1));
                let sum: u64 = ws.iter().sum();
                let all_quotas_reach_one =
                    ws.iter().all(|w| u64::from(parallel) * w >= sum);
                if all_quotas_reach_one {
                    for (x, w) in u.iter().zip(&ws) {
                        prop_assert!(near_quota(*x, u64::from(parallel), *w, sum));
                    }
                }
                if let Some(total) = number {
                    let k: Vec<u64> = s.iter().map(|x| x.number.unwrap_or(0)).collect();
                    prop_assert_eq!(k.iter().sum::<u64>(), total);
                    prop_assert!(k.iter().all(|x| *x >= 1));
                    let by_users = u.iter().all(|x| total * x >= u64::from(parallel));
                    if by_users {
                        for (x, users) in k.iter().zip(&u) {
                            prop_assert!(near_quota(*x, total, *users, u64::from(parallel)));
                        }
                    }
                } else {
                    prop_assert!(s.iter().all(|x| x.number.is_none()));
                }
            }
            Err(SplitError::TooFewUsers { .. }) => prop_assert!(u64::from(parallel) < n),
            Err(SplitError::TooFewRequests { number: k, .. }) => {
                prop_assert!(k < n && u64::from(parallel) >= n)
            }
            Err(e) => prop_assert!(false, "unexpected {}", e),
        }
    }

    #[test]
    fn open_split_is_exact(
        rate in 0.001f64..100_000.0,
        cap in prop::option::of(1u32..500),
        number in prop::option::of(1u64..10_000),
        ws in weights(),
    ) {
        let n = ws.len() as u64;
        match split_stage(&open(rate, cap), number, &ws) {
            Ok(s) => {
                let total: f64 = s.iter().filter_map(|x| x.load.rate()).sum();
                prop_assert!((total - rate).abs() <= rate * 1e-9, "{} vs {}", total, rate);
                prop_assert!(s.iter().filter_map(|x| x.load.rate()).all(|r| r > 0.0));
                if let Some(c) = cap {
                    let u: u64 = users(&s).into_iter().map(u64::from).sum();
                    prop_assert_eq!(u, u64::from(c));
                    prop_assert!(users(&s).iter().all(|x| *x >= 1));
                }
                if let Some(k) = number {
                    let got: Vec<u64> = s.iter().map(|x| x.number.unwrap_or(0)).collect();
                    prop_assert_eq!(got.iter().sum::<u64>(), k);
                    prop_assert!(got.iter().all(|x| *x >= 1));
                }
            }
            Err(SplitError::TooFewUsers { parallel, .. }) => prop_assert!(parallel < n),
            Err(SplitError::TooFewRequests { number: k, .. }) => prop_assert!(k < n),
            Err(e) => prop_assert!(false, "unexpected {}", e),
        }
    }

    #[test]
    fn reassign_sums_exactly(remaining in 0u64..1_000_000, ws in weights()) {
        let r = reassign(remaining, &ws);
        prop_assert_eq!(r.iter().sum::<u64>(), remaining);
    }
}
