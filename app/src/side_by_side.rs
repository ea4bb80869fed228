//! Two models' answers to the same samples, paired: which samples one gets right and the other
//! does not, counted, and whether the difference in accuracy is more than chance (McNemar's
//! exact test on the discordant pairs).

use std::collections::HashMap;

use super::samples::store::{Keyed, SampleKey};

/// Which pairs to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Show {
    /// Every pair.
    All,
    /// One side has full credit and the other has not.
    #[default]
    Differ,
    /// Only the first side has full credit.
    OnlyA,
    /// Only the second side has full credit.
    OnlyB,
    /// Both have full credit.
    Both,
    /// Neither has.
    Neither,
    /// The sample was answered on one side only.
    Unmatched,
}

impl Show {
    /// Every choice with its URL value and label, in the order the form lists them.
    pub const ALL: [(Show, &'static str, &'static str); 7] = [
        (Show::Differ, "differ", "one right, one not"),
        (Show::OnlyA, "a", "only A right"),
        (Show::OnlyB, "b", "only B right"),
        (Show::Both, "both", "both right"),
        (Show::Neither, "neither", "neither right"),
        (Show::Unmatched, "unmatched", "answered by one side only"),
        (Show::All, "all", "all"),
    ];

    /// The choice a URL value names (the default for anything else).
    pub fn parse(value: &str) -> Self {
        Self::ALL
            .iter()
            .find(|(_, v, _)| *v == value)
            .map(|(s, _, _)| *s)
            .unwrap_or_default()
    }

    /// Its URL value.
    pub fn value(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(s, _, _)| *s == self)
            .map(|(_, v, _)| *v)
            .unwrap_or("differ")
    }

    fn keeps(self, p: &Pair) -> bool {
        let (a, b) = (
            p.a.as_ref().map(|k| k.correct),
            p.b.as_ref().map(|k| k.correct),
        );
        match self {
            Show::All => true,
            Show::Differ => matches!((a, b), (Some(x), Some(y)) if x != y),
            Show::OnlyA => (a, b) == (Some(true), Some(false)),
            Show::OnlyB => (a, b) == (Some(false), Some(true)),
            Show::Both => (a, b) == (Some(true), Some(true)),
            Show::Neither => (a, b) == (Some(false), Some(false)),
            Show::Unmatched => a.is_none() || b.is_none(),
        }
    }
}

/// One sample and each side's answer to it.
#[derive(Debug, Clone, PartialEq)]
pub struct Pair {
    /// The sample.
    pub key: SampleKey,
    /// The first side's answer, if it answered.
    pub a: Option<Keyed>,
    /// The second side's answer, if it answered.
    pub b: Option<Keyed>,
}

/// The pairs counted by outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tally {
    /// Both full credit.
    pub both: usize,
    /// Only the first.
    pub only_a: usize,
    /// Only the second.
    pub only_b: usize,
    /// Neither.
    pub neither: usize,
    /// Answered by the first side only.
    pub a_alone: usize,
    /// Answered by the second side only.
    pub b_alone: usize,
}

impl Tally {
    /// Counts `pairs`.
    pub fn of(pairs: &[Pair]) -> Self {
        let mut t = Self::default();
        for p in pairs {
            match (&p.a, &p.b) {
                (Some(a), Some(b)) => match (a.correct, b.correct) {
                    (true, true) => t.both += 1,
                    (true, false) => t.only_a += 1,
                    (false, true) => t.only_b += 1,
                    (false, false) => t.neither += 1,
                },
                (Some(_), None) => t.a_alone += 1,
                (None, Some(_)) => t.b_alone += 1,
                (None, None) => {}
            }
        }
        t
    }

    /// Pairs answered by both sides.
    pub fn matched(&self) -> usize {
        self.both + self.only_a + self.only_b + self.neither
    }

    /// McNemar's exact two-sided p-value: how likely a split of the discordant pairs at least as
    /// uneven as this one is when both sides are equally accurate. `None` without discordant pairs.
    pub fn mcnemar_p(&self) -> Option<f64> {
        let n = self.only_a + self.only_b;
        if n == 0 {
            return None;
        }
        let low = self.only_a.min(self.only_b);
        // P(X ≤ low) for X ~ Binomial(n, 1/2), summed in log space (n may be in the thousands)
        let ln_half_n = n as f64 * 0.5f64.ln();
        let mut ln_choose = 0.0f64; // ln C(n, 0)
        let mut tail = 0.0;
        for k in 0..=low {
            if k > 0 {
                ln_choose += ((n - k + 1) as f64).ln() - (k as f64).ln();
            }
            tail += (ln_choose + ln_half_n).exp();
        }
        Some((2.0 * tail).min(1.0))
    }
}

/// `a` and `b` paired by sample: `a`'s order, then the samples only `b` answered in its order.
pub fn pair(a: Vec<Keyed>, b: Vec<Keyed>) -> Vec<Pair> {
    let mut b_order: Vec<SampleKey> = Vec::with_capacity(b.len());
    let mut by_key: HashMap<SampleKey, Keyed> = HashMap::with_capacity(b.len());
    for k in b {
        b_order.push(k.key.clone());
        by_key.insert(k.key.clone(), k);
    }
    let mut out: Vec<Pair> = a
        .into_iter()
        .map(|k| Pair {
            key: k.key.clone(),
            b: by_key.remove(&k.key),
            a: Some(k),
        })
        .collect();
    for key in b_order {
        if let Some(k) = by_key.remove(&key) {
            out.push(Pair {
                key,
                a: None,
                b: Some(k),
            });
        }
    }
    out
}

/// The pairs `show` keeps.
pub fn shown(pairs: &[Pair], show: Show) -> Vec<&Pair> {
    pairs.iter().filter(|p| show.keeps(p)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keyed(id: i64, index: &str, correct: bool) -> Keyed {
        Keyed {
            id,
            key: SampleKey {
                dataset: "gsm8k".into(),
                subset: "main".into(),
                index: index.into(),
                repeat: 0,
            },
            score: Some(if correct { 1.0 } else { 0.0 }),
            correct,
        }
    }

    #[test]
    fn answers_pair_by_sample_and_are_counted_by_outcome() {
        let a = vec![
            keyed(1, "0", true),
            keyed(2, "1", true),
            keyed(3, "2", false),
            keyed(4, "3", false),
            keyed(5, "4", true),
        ];
        let b = vec![
            keyed(10, "9", true),
            keyed(11, "3", true),
            keyed(12, "2", false),
            keyed(13, "1", false),
            keyed(14, "0", true),
        ];
        let pairs = pair(a, b);
        let order: Vec<(&str, Option<i64>, Option<i64>)> = pairs
            .iter()
            .map(|p| {
                (
                    p.key.index.as_str(),
                    p.a.as_ref().map(|k| k.id),
                    p.b.as_ref().map(|k| k.id),
                )
            })
            .collect();
        assert_eq!(
            order,
            vec![
                ("0", Some(1), Some(14)),
                ("1", Some(2), Some(13)),
                ("2", Some(3), Some(12)),
                ("3", Some(4), Some(11)),
                ("4", Some(5), None),
                ("9", None, Some(10)),
            ]
        );
        let t = Tally::of(&pairs);
        assert_eq!(
            t,
            Tally {
                both: 1,
                only_a: 1,
                only_b: 1,
                neither: 1,
                a_alone: 1,
                b_alone: 1
            }
        );
        assert_eq!(t.matched(), 4);
        let idx = |show| -> Vec<String> {
            shown(&pairs, show)
                .iter()
                .map(|p| p.key.index.clone())
                .collect()
        };
        assert_eq!(idx(Show::Differ), ["1", "3"]);
        assert_eq!(idx(Show::OnlyA), ["1"]);
        assert_eq!(idx(Show::OnlyB), ["3"]);
        assert_eq!(idx(Show::Both), ["0"]);
        assert_eq!(idx(Show::Neither), ["2"]);
        assert_eq!(idx(Show::Unmatched), ["4", "9"]);
        assert_eq!(idx(Show::All).len(), 6);
        assert_eq!(Show::parse("b"), Show::OnlyB);
        assert_eq!(Show::parse("<x>"), Show::Differ);
        assert!(Show::ALL.iter().all(|(s, v, _)| s.value() == *v));
    }

    #[test]
    fn mcnemar_exact_p_values() {
        let t = |only_a, only_b| Tally {
            only_a,
            only_b,
            ..Default::default()
        };
        assert_eq!(t(0, 0).mcnemar_p(), None);
        // 1 vs 0 discordant: P = 2 · 0.5 = 1
        assert_eq!(t(1, 0).mcnemar_p(), Some(1.0));
        // 10 vs 0: 2 · 0.5^10
        let p = t(10, 0).mcnemar_p().expect("p");
        assert!((p - 2.0 / 1024.0).abs() < 1e-12, "{p}");
        // 8 vs 2 (n = 10): 2 · (1 + 10 + 45) / 1024 = 0.109375 (scipy.stats.binomtest)
        let p = t(2, 8).mcnemar_p().expect("p");
        assert!((p - 0.109375).abs() < 1e-12, "{p}");
        // a large, even split stays at 1; a large, uneven one is tiny, and finite
        assert_eq!(t(5000, 5000).mcnemar_p(), Some(1.0));
        let p = t(4000, 6000).mcnemar_p().expect("p");
        assert!(p > 0.0 && p < 1e-80, "{p}");
    }
}
