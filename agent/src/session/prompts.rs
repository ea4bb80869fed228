//! The prompts a shard sends, pulled from the coordinator (`Prompts` calls, each reply under the
//! protocol's message bound) and kept in a cache bounded in bytes, so a sweep's later stages and
//! a re-assigned shard reuse what this agent already holds.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use prost::Message;
use swarm_common::prompt::Prompt;
use swarm_common::prompt_slice::PromptSlice;
use swarm_proto::PromptsRequest;
use tokio_util::sync::CancellationToken;

use crate::transport::SessionClient;

/// Default bytes of prompts (as JSON) the cache keeps.
pub const DEFAULT_CACHE_BYTES: usize = 512 << 20;
/// Longest one `Prompts` call may take.
pub const CALL_DEADLINE: Duration = Duration::from_secs(30);
/// Longest pulling one shard's prompts may take in all.
pub const FETCH_DEADLINE: Duration = Duration::from_secs(600);

/// Why a shard's prompts could not be had.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The slice is malformed.
    #[error("bad prompt slice: {0}")]
    Slice(String),
    /// A call failed.
    #[error("cannot pull prompts {from}.. of set {set:.12}: {status}")]
    Call {
        /// The set.
        set: String,
        /// First index asked for.
        from: u64,
        /// The gRPC status.
        status: String,
    },
    /// The coordinator answered something other than what was asked.
    #[error("coordinator answered prompts of set {set:.12} wrongly: {why}")]
    Reply {
        /// The set.
        set: String,
        /// What was wrong.
        why: String,
    },
    /// A deadline passed.
    #[error("pulling prompts took longer than {0:?}")]
    Deadline(Duration),
    /// The shard was cancelled while pulling.
    #[error("cancelled while pulling prompts")]
    Cancelled,
}

/// What pulling a shard's prompts cost.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FetchStats {
    /// Encoded bytes of the replies received.
    pub bytes: u64,
    /// Prompts received.
    pub prompts: u64,
    /// Distinct prompts of the slice.
    pub used: u64,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<(Arc<str>, u64), (Arc<Prompt>, usize)>,
    order: VecDeque<(Arc<str>, u64)>,
    bytes: usize,
}

/// Prompts this agent pulled, by (set, index); the oldest are dropped beyond the byte budget.
pub struct PromptCache {
    inner: Mutex<Inner>,
    budget: usize,
}

impl std::fmt::Debug for PromptCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PromptCache")
            .field("budget", &self.budget)
            .finish()
    }
}

impl Default for PromptCache {
    fn default() -> Self {
        Self::new(DEFAULT_CACHE_BYTES)
    }
}

impl PromptCache {
    /// A cache keeping up to `budget` bytes of prompts.
    pub fn new(budget: usize) -> Self {
        Self {
            inner: Mutex::new(Inner::default()),
            budget,
        }
    }

    fn get(&self, set: &str, i: u64) -> Option<Arc<Prompt>> {
        let inner = self.inner.lock().ok()?;
        inner
            .entries
            .get(&(Arc::from(set), i))
            .map(|(p, _)| Arc::clone(p))
    }

    fn put(&self, set: &Arc<str>, i: u64, prompt: Arc<Prompt>, bytes: usize) {
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        let key = (Arc::clone(set), i);
        if inner.entries.insert(key.clone(), (prompt, bytes)).is_none() {
            inner.order.push_back(key);
            inner.bytes += bytes;
        }
        while inner.bytes > self.budget {
            let Some(old) = inner.order.pop_front() else {
                break;
            };
            if let Some((_, b)) = inner.entries.remove(&old) {
                inner.bytes -= b;
            }
        }
    }

    /// Bytes of prompts held.
    pub fn bytes(&self) -> usize {
        self.inner.lock().map(|i| i.bytes).unwrap_or(0)
    }
}

/// The prompts of `slice`, in slice order: from the cache, the rest pulled through `client`.
pub async fn fetch(
    client: &SessionClient,
    cache: &PromptCache,
    slice: &PromptSlice,
    cancel: &CancellationToken,
) -> Result<(Vec<Prompt>, FetchStats), FetchError> {
    slice.check().map_err(FetchError::Slice)?;
    let work = fetch_all(client.clone(), cache, slice);
    tokio::select! {
        r = tokio::time::timeout(FETCH_DEADLINE, work) => r.map_err(|_| FetchError::Deadline(FETCH_DEADLINE))?,
        _ = cancel.cancelled() => Err(FetchError::Cancelled),
    }
}

async fn fetch_all(
    mut client: SessionClient,
    cache: &PromptCache,
    slice: &PromptSlice,
) -> Result<(Vec<Prompt>, FetchStats), FetchError> {
    let set: Arc<str> = Arc::from(slice.set.as_str());
    let count = usize::try_from(slice.count).map_err(|_| FetchError::Slice("too many".into()))?;
    let mut got: Vec<Option<Arc<Prompt>>> = vec![None; count];
    let mut stats = FetchStats {
        used: slice.count,
        ..Default::default()
    };
    let mut i = 0usize;
    while i < count {
        let at = slice.set_index(i as u64);
        if let Some(p) = cache.get(&set, at) {
            got[i] = Some(p);
            i += 1;
            continue;
        }
        // a run of missing prompts that does not wrap: [i, j)
        let mut j = i + 1;
        while j < count && slice.set_index(j as u64) == at + (j - i) as u64 {
            j += 1;
        }
        let want = u32::try_from(j - i).unwrap_or(u32::MAX);
        let call = client.prompts(PromptsRequest {
            prompt_set: slice.set.clone(),
            from: at,
            max_count: want,
        });
        let reply = tokio::time::timeout(CALL_DEADLINE, call)
            .await
            .map_err(|_| FetchError::Deadline(CALL_DEADLINE))?
            .map_err(|s| FetchError::Call {
                set: slice.set.clone(),
                from: at,
                status: format!("{}: {}", s.code(), s.message()),
            })?
            .into_inner();
        let bad = |why: String| FetchError::Reply {
            set: slice.set.clone(),
            why,
        };
        if reply.from != at || reply.total != slice.total {
            return Err(bad(format!(
                "asked for {at} of {}, got {} of {}",
                slice.total, reply.from, reply.total
            )));
        }
        if reply.prompts.is_empty() || reply.prompts.len() > want as usize {
            return Err(bad(format!(
                "asked for up to {want} prompts, got {}",
                reply.prompts.len()
            )));
        }
        stats.bytes += reply.encoded_len() as u64;
        for (k, raw) in reply.prompts.iter().enumerate() {
            let prompt: Prompt = serde_json::from_slice(raw)
                .map_err(|e| bad(format!("prompt {} is not a prompt: {e}", at + k as u64)))?;
            let prompt = Arc::new(prompt);
            cache.put(&set, at + k as u64, Arc::clone(&prompt), raw.len());
            got[i + k] = Some(prompt);
            stats.prompts += 1;
        }
        i += reply.prompts.len();
    }
    let prompts = got
        .into_iter()
        .map(|p| p.map(|p| Prompt::clone(&p)))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| FetchError::Reply {
            set: slice.set.clone(),
            why: "a prompt is missing".into(),
        })?;
    Ok((prompts, stats))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_keeps_its_budget() {
        let cache = PromptCache::new(100);
        let set: Arc<str> = Arc::from("s");
        for i in 0..10 {
            cache.put(&set, i, Arc::new(Prompt::text("x")), 30);
        }
        assert!(cache.bytes() <= 100, "{}", cache.bytes());
        assert!(cache.get("s", 9).is_some(), "the newest stays");
        assert!(cache.get("s", 0).is_none(), "the oldest goes");
    }
}
