//! Which agent session holds which unit of work, and what a message about a unit is worth.

use std::collections::{BTreeMap, HashMap};

use swarm_proto::{Cancel, coordinator_message::Msg};

use crate::cluster::Registry;

/// Who sent a message about a unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Voice {
    /// No unit of that id was handed out: ignored (and counted).
    Unknown,
    /// Another agent or session than the one it was handed to: ignored (and counted).
    Foreign,
    /// The session it was handed to (it may have finished or been lost since).
    Holder,
}

/// Every unit handed out, by id: its holder (kept after it is returned, so that late
/// messages are judged by who they come from) and, while held, what the caller keeps with it.
pub struct Holdings<U> {
    /// Held units: agent, session, what is kept with it.
    held: BTreeMap<String, (String, u64, U)>,
    /// Units returned (finished, failed or lost): who held them.
    returned: HashMap<String, (String, u64)>,
    foreign: BTreeMap<String, u64>,
    what: &'static str,
}

impl<U> Holdings<U> {
    /// Nothing handed out yet; `what` names the units in notes and errors (`shards`).
    pub fn new(what: &'static str) -> Self {
        let (held, returned, foreign) = Default::default();
        Self {
            held,
            returned,
            foreign,
            what,
        }
    }

    /// The units' name (`shards`, `batches`).
    pub fn what(&self) -> &'static str {
        self.what
    }

    /// Hands unit `id` to `agent`'s `session`.
    pub fn hold(&mut self, id: &str, agent: &str, session: u64, unit: U) {
        self.returned.remove(id);
        self.held
            .insert(id.to_string(), (agent.to_string(), session, unit));
    }

    /// Who sent a message about `id`; a foreign message, or one about a unit never handed out,
    /// is counted against `agent`.
    pub fn voice(&mut self, id: &str, agent: &str, session: u64) -> Voice {
        let holder = self.held.get(id).map(|(a, s, _)| (a, s));
        let Some((a, s)) = holder.or(self.returned.get(id).map(|(a, s)| (a, s))) else {
            self.count_foreign(agent);
            return Voice::Unknown;
        };
        if a == agent && *s == session {
            return Voice::Holder;
        }
        self.count_foreign(agent);
        Voice::Foreign
    }

    /// Counts a message from `agent` that no unit it holds explains (ignored by the caller).
    pub fn count_foreign(&mut self, agent: &str) {
        *self.foreign.entry(agent.to_string()).or_default() += 1;
    }

    /// What is kept with `id` while it is held.
    pub fn held(&self, id: &str) -> Option<&U> {
        self.held.get(id).map(|(_, _, u)| u)
    }

    /// Takes `id` back (finished or failed); None if it was not held.
    pub fn release(&mut self, id: &str) -> Option<U> {
        let (agent, session, unit) = self.held.remove(id)?;
        self.returned.insert(id.to_string(), (agent, session));
        Some(unit)
    }

    /// Takes back everything `agent`'s `session` held, by id: what a lost agent leaves.
    pub fn lose(&mut self, agent: &str, session: u64) -> Vec<(String, U)> {
        let mine = |(id, (a, s, _)): (&String, &(String, u64, U))| {
            (a == agent && *s == session).then(|| id.clone())
        };
        let ids: Vec<String> = self.held.iter().filter_map(mine).collect();
        let mut back = Vec::new();
        for id in ids {
            if let Some(u) = self.release(&id) {
                back.push((id, u));
            }
        }
        back
    }

    /// The units held, by id.
    pub fn out(&self) -> impl Iterator<Item = (&str, &str, &U)> {
        let held = self.held.iter();
        held.map(|(id, (agent, _, u))| (id.as_str(), agent.as_str(), u))
    }

    /// Units `agent` holds (any session).
    pub fn held_by(&self, agent: &str) -> usize {
        self.out().filter(|(_, a, _)| *a == agent).count()
    }

    /// Sends a `Cancel` for every held unit to its holder.
    pub fn cancel_all(&self, registry: &Registry, reason: &str) {
        for (id, agent, _) in self.out() {
            let (shard_id, reason) = (id.to_string(), reason.to_string());
            registry.send(agent, Msg::Cancel(Cancel { shard_id, reason }));
        }
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.held.is_empty()
    }

    /// The units held, for an error: `a, b, c and 4 more`.
    pub fn names(&self) -> String {
        const SHOWN: usize = 5;
        let ids: Vec<&str> = self.out().map(|(id, _, _)| id).collect();
        let mut s = ids[..ids.len().min(SHOWN)].join(", ");
        if ids.len() > SHOWN {
            s += &format!(" and {} more", ids.len() - SHOWN);
        }
        s
    }

    /// Foreign messages ignored so far, all agents together.
    pub fn foreign(&self) -> u64 {
        self.foreign.values().sum()
    }

    /// One line per agent that sent foreign messages (then forgotten).
    pub fn foreign_notes(&mut self) -> Vec<String> {
        let what = self.what;
        std::mem::take(&mut self.foreign)
            .into_iter()
            .map(|(agent, n)| {
                format!(
                    "agent {agent}: {n} messages for {what} its session does not hold were ignored"
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn three() -> Holdings<u32> {
        let mut h = Holdings::new("shards");
        h.hold("s0", "a", 1, 10);
        h.hold("s1", "b", 2, 11);
        h.hold("s2", "a", 1, 12);
        h
    }

    #[test]
    fn a_lost_session_returns_what_it_held_and_nothing_else() {
        let mut h = three();
        assert_eq!(h.release("s2"), Some(12));
        assert_eq!(h.lose("a", 7), vec![], "another session of a holds nothing");
        assert_eq!(h.lose("a", 1), vec![("s0".to_string(), 10)]);
        assert_eq!(h.lose("a", 1), vec![], "returned once");
        assert_eq!(h.held_by("a"), 0);
        assert_eq!(h.held_by("b"), 1);
        assert_eq!(h.names(), "s1");
        assert!(!h.is_empty());
        assert_eq!(h.release("s1"), Some(11));
        assert!(h.is_empty());
        assert_eq!(h.release("s1"), None);
    }

    #[test]
    fn only_the_holding_session_speaks_for_a_unit() {
        let mut h = three();
        assert_eq!(h.voice("s0", "a", 1), Voice::Holder);
        assert_eq!(h.voice("s0", "a", 2), Voice::Foreign, "a later session");
        assert_eq!(h.voice("s0", "b", 2), Voice::Foreign, "another agent");
        assert_eq!(h.voice("s1", "b", 2), Voice::Holder);
        assert_eq!(h.voice("nope", "b", 2), Voice::Unknown);
        h.lose("a", 1);
        assert_eq!(
            h.voice("s0", "a", 1),
            Voice::Holder,
            "still its holder once lost"
        );
        assert_eq!(h.voice("s0", "b", 2), Voice::Foreign);
        // a unit never handed out counts too ("nope" above)
        assert_eq!(h.foreign(), 4);
        assert_eq!(
            h.foreign_notes(),
            [
                "agent a: 1 messages for shards its session does not hold were ignored",
                "agent b: 3 messages for shards its session does not hold were ignored"
            ]
        );
        assert_eq!(h.foreign(), 0);
    }

    #[test]
    fn many_units_out_are_named_briefly() {
        let mut h = Holdings::new("batches");
        for i in 0..7 {
            h.hold(&format!("b{i}"), "a", 1, ());
        }
        assert_eq!(h.names(), "b0, b1, b2, b3, b4 and 2 more");
    }
}
