//! A run's prompt set on disk: the kept prompts of a dataset as JSON lines in an unnamed
//! temporary file, an offset index and the set's content address. Agents pull the slices they
//! send through the `Prompts` call; the coordinator holds only the index (8 bytes a prompt), so
//! a dataset of any size costs it disk, not memory.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::os::unix::fs::FileExt;
use std::sync::{Arc, RwLock};

use sha2::{Digest, Sha256};
use swarm_common::prompt::Prompt;
use swarm_common::prompt_slice::PromptSlice;
use swarm_proto::MAX_MESSAGE_BYTES;

/// Room left in a `PromptsReply` for its own framing (field tags, lengths, `from`, `total`).
const REPLY_OVERHEAD: usize = 16 * 1024;
/// Per-prompt framing in a reply (tag + length varint).
const PER_PROMPT_OVERHEAD: usize = 8;

/// The largest prompt, as JSON, that fits in one reply.
pub const MAX_PROMPT_BYTES: usize = MAX_MESSAGE_BYTES - REPLY_OVERHEAD - PER_PROMPT_OVERHEAD;

/// Why a prompt set could not be built or read.
#[derive(Debug, thiserror::Error)]
pub enum PromptSetError {
    /// The temporary file failed.
    #[error("prompt set: {0}")]
    Io(#[from] std::io::Error),
    /// A prompt too large for any message.
    #[error(
        "prompt {index} is {bytes} bytes as JSON, more than the {MAX_PROMPT_BYTES} bytes one message may carry to an agent"
    )]
    TooLarge {
        /// 0-based index among the kept prompts.
        index: usize,
        /// Its size as JSON.
        bytes: usize,
    },
    /// A prompt could not be encoded.
    #[error("prompt {index} cannot be encoded: {source}")]
    Encode {
        /// 0-based index among the kept prompts.
        index: usize,
        /// Why.
        source: serde_json::Error,
    },
}

/// Writes prompts, one at a time, into a new set.
pub struct PromptSetWriter {
    out: BufWriter<File>,
    hasher: Sha256,
    offsets: Vec<u64>,
    pos: u64,
    line: Vec<u8>,
}

impl PromptSetWriter {
    /// A writer into a fresh unnamed temporary file in the system's temporary folder (removed
    /// when the set is dropped).
    pub fn new() -> Result<Self, PromptSetError> {
        Self::with_file(tempfile::tempfile()?)
    }

    /// A writer into a fresh unnamed temporary file in `dir` (a container's root file system
    /// may be read-only, its outputs volume is not); removed when the set is dropped.
    pub fn new_in(dir: &std::path::Path) -> Result<Self, PromptSetError> {
        std::fs::create_dir_all(dir)?;
        Self::with_file(tempfile::tempfile_in(dir)?)
    }

    fn with_file(file: File) -> Result<Self, PromptSetError> {
        Ok(Self {
            out: BufWriter::with_capacity(1 << 20, file),
            hasher: Sha256::new(),
            offsets: vec![0],
            pos: 0,
            line: Vec::new(),
        })
    }

    /// Appends `prompt`.
    pub fn push(&mut self, prompt: &Prompt) -> Result<(), PromptSetError> {
        self.push_line(prompt)
    }

    /// Appends any JSON line (a trace's lines: agents read them back as their own type).
    pub fn push_line(&mut self, item: &impl serde::Serialize) -> Result<(), PromptSetError> {
        let index = self.offsets.len() - 1;
        self.line.clear();
        serde_json::to_writer(&mut self.line, item)
            .map_err(|source| PromptSetError::Encode { index, source })?;
        if self.line.len() > MAX_PROMPT_BYTES {
            return Err(PromptSetError::TooLarge {
                index,
                bytes: self.line.len(),
            });
        }
        self.line.push(b'\n');
        self.hasher.update(&self.line);
        self.out.write_all(&self.line)?;
        self.pos += self.line.len() as u64;
        self.offsets.push(self.pos);
        Ok(())
    }

    /// Prompts written so far.
    pub fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Whether nothing was written.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The finished set.
    pub fn finish(self) -> Result<PromptSet, PromptSetError> {
        let file = self.out.into_inner().map_err(|e| e.into_error())?;
        file.sync_data().ok();
        let id = self
            .hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Ok(PromptSet {
            id,
            file,
            offsets: self.offsets,
        })
    }
}

impl swarm_common::dataset::PromptSink for PromptSetWriter {
    fn push(&mut self, prompt: Prompt) -> Result<(), swarm_common::dataset::DatasetError> {
        PromptSetWriter::push(self, &prompt)
            .map_err(|e| swarm_common::dataset::DatasetError::Sink(e.to_string()))
    }
}

/// A finished, read-only prompt set.
#[derive(Debug)]
pub struct PromptSet {
    id: String,
    file: File,
    offsets: Vec<u64>,
}

impl PromptSet {
    /// A set of `prompts` (tests, generated datasets).
    pub fn from_prompts<'a>(
        prompts: impl IntoIterator<Item = &'a Prompt>,
    ) -> Result<Self, PromptSetError> {
        let mut w = PromptSetWriter::new()?;
        for p in prompts {
            w.push(p)?;
        }
        w.finish()
    }

    /// The content address (SHA-256 of the JSON lines, hex).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Prompts in the set.
    pub fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes of the set's JSON lines.
    pub fn bytes(&self) -> u64 {
        self.offsets.last().copied().unwrap_or(0)
    }

    fn line_len(&self, i: usize) -> u64 {
        match (self.offsets.get(i), self.offsets.get(i + 1)) {
            (Some(a), Some(b)) => b - a,
            _ => 0,
        }
    }

    /// A slice of `count` prompts from `start` (wrapping; both reduced into the set).
    pub fn slice(&self, start: u64, count: u64) -> PromptSlice {
        let total = self.len() as u64;
        PromptSlice {
            set: self.id.clone(),
            total,
            start: if total == 0 { 0 } else { start % total },
            count: count.clamp(1, total.max(1)),
        }
    }

    /// Bytes of the prompts of `slice` as JSON (what an agent must fetch for it).
    pub fn slice_bytes(&self, slice: &PromptSlice) -> u64 {
        let n = self.len() as u64;
        if n == 0 {
            return 0;
        }
        let start = slice.start % n;
        let count = slice.count.min(n);
        let end = start + count;
        let range = |a: u64, b: u64| {
            let at = |i: u64| self.offsets.get(i as usize).copied().unwrap_or(0);
            at(b) - at(a)
        };
        if end <= n {
            range(start, end)
        } else {
            range(start, n) + range(0, end - n)
        }
    }

    /// Up to `max_count` consecutive prompts from `from` (not wrapping), as their JSON, no more
    /// than fit in one reply; at least one when `from` is in the set.
    pub fn read(&self, from: u64, max_count: u32) -> Result<Vec<Vec<u8>>, PromptSetError> {
        let n = self.len();
        let Ok(from) = usize::try_from(from) else {
            return Ok(Vec::new());
        };
        if from >= n {
            return Ok(Vec::new());
        }
        let budget = (MAX_MESSAGE_BYTES - REPLY_OVERHEAD) as u64;
        let mut end = from;
        let mut used = 0u64;
        while end < n && end - from < max_count.max(1) as usize {
            let len = self.line_len(end) - 1 + PER_PROMPT_OVERHEAD as u64;
            if end > from && used + len > budget {
                break;
            }
            used += len;
            end += 1;
        }
        let (a, b) = (self.offsets[from], self.offsets[end]);
        let mut buf = vec![0u8; (b - a) as usize];
        self.file.read_exact_at(&mut buf, a)?;
        let mut out = Vec::with_capacity(end - from);
        for line in buf.split(|&c| c == b'\n').take(end - from) {
            out.push(line.to_vec());
        }
        Ok(out)
    }

    /// Prompt `i`, decoded (tests and tools).
    pub fn get(&self, i: usize) -> Option<Prompt> {
        let lines = self.read(i as u64, 1).ok()?;
        serde_json::from_slice(lines.first()?).ok()
    }
}

/// The prompt sets a cluster serves, by content address.
#[derive(Debug, Clone, Default)]
pub struct PromptSets(Arc<RwLock<HashMap<String, Arc<PromptSet>>>>);

impl PromptSets {
    /// Serves `set` (again: a no-op).
    pub fn insert(&self, set: Arc<PromptSet>) {
        if let Ok(mut m) = self.0.write() {
            m.entry(set.id().to_string()).or_insert(set);
        }
    }

    /// The set with address `id`.
    pub fn get(&self, id: &str) -> Option<Arc<PromptSet>> {
        self.0.read().ok()?.get(id).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prompts(n: usize, len: usize) -> Vec<Prompt> {
        (0..n)
            .map(|i| Prompt::text(format!("{i:06}{}", "x".repeat(len))))
            .collect()
    }

    #[test]
    fn reads_back_what_was_written_in_order() {
        let ps = prompts(50, 10);
        let set = PromptSet::from_prompts(&ps).expect("set");
        assert_eq!(set.len(), 50);
        assert_eq!(set.get(0), Some(ps[0].clone()));
        assert_eq!(set.get(49), Some(ps[49].clone()));
        assert_eq!(set.get(50), None);
        let lines = set.read(10, 5).expect("read");
        assert_eq!(lines.len(), 5);
        let p: Prompt = serde_json::from_slice(&lines[4]).expect("json");
        assert_eq!(p, ps[14]);
        assert_eq!(
            set.read(48, 5).expect("read").len(),
            2,
            "no wrap in one read"
        );
    }

    #[test]
    fn the_address_is_the_content() {
        let a = PromptSet::from_prompts(&prompts(5, 3)).expect("set");
        let b = PromptSet::from_prompts(&prompts(5, 3)).expect("set");
        let c = PromptSet::from_prompts(&prompts(6, 3)).expect("set");
        assert_eq!(a.id(), b.id());
        assert_ne!(a.id(), c.id());
        assert_eq!(a.id().len(), 64);
    }

    #[test]
    fn a_read_never_exceeds_one_message() {
        // 300 prompts of ~10 KB: 3 MB in all
        let set = PromptSet::from_prompts(&prompts(300, 10_000)).expect("set");
        let lines = set.read(0, 10_000).expect("read");
        let bytes: usize = lines.iter().map(|l| l.len() + PER_PROMPT_OVERHEAD).sum();
        assert!(bytes <= MAX_MESSAGE_BYTES - REPLY_OVERHEAD, "{bytes}");
        assert!(lines.len() > 50 && lines.len() < 300, "{}", lines.len());
    }

    #[test]
    fn a_prompt_larger_than_a_message_is_refused() {
        let big = Prompt::text("y".repeat(MAX_MESSAGE_BYTES));
        let err = PromptSet::from_prompts([&big]).unwrap_err();
        assert!(
            matches!(err, PromptSetError::TooLarge { index: 0, .. }),
            "{err}"
        );
    }

    #[test]
    fn a_set_lives_where_it_is_told() {
        let dir = tempfile::tempdir().expect("tempdir");
        let scratch = dir.path().join("outputs");
        let mut w = PromptSetWriter::new_in(&scratch).expect("writer");
        w.push(&Prompt::text("x")).expect("push");
        let set = w.finish().expect("set");
        assert_eq!(set.get(0), Some(Prompt::text("x")));
        assert!(scratch.is_dir(), "created when missing");
        // unnamed: nothing is left behind in the outputs folder
        assert_eq!(std::fs::read_dir(&scratch).expect("dir").count(), 0);
    }

    #[test]
    fn slice_bytes_wrap() {
        let set = PromptSet::from_prompts(&prompts(10, 4)).expect("set");
        let line = set.bytes() / 10;
        assert_eq!(set.slice_bytes(&set.slice(8, 4)), 4 * line);
        assert_eq!(set.slice_bytes(&set.slice(0, 100)), set.bytes());
        assert_eq!(set.slice(23, 3).start, 3);
    }
}
