//! Eval samples of a run, indexed once in memory and then filtered and paged on the server:
//! each prediction line joined with its review line (gold answer, score), with a lower-cased
//! search text. Reads our lines and EvalScope's own.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::Deserialize;
use serde_json::Value;

use super::index::eval_roots;
use crate::report::run_data::subdirs;

/// One generated answer to one sample.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleRow {
    /// Benchmark (`gsm8k`).
    pub dataset: String,
    /// Subset (`main`, `Level 1`).
    pub subset: String,
    /// The model folder.
    pub model: String,
    /// The sample's index within its subset.
    pub index: String,
    /// Which generation of the sample.
    pub repeat: u32,
    /// The last user message.
    pub question: String,
    /// The reasoning content, if any.
    pub reasoning: String,
    /// The answer content.
    pub answer: String,
    /// What the scorer extracted from the answer.
    pub extracted: String,
    /// The gold answer.
    pub gold: String,
    /// The main metric's value, if scored.
    pub score: Option<f64>,
    /// The request's error, if it failed.
    pub error: Option<String>,
    search: String,
}

impl SampleRow {
    /// Full credit on the main metric.
    pub fn correct(&self) -> bool {
        self.score.is_some_and(|s| s >= 1.0 - 1e-9)
    }
}

/// What the samples page asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleQuery {
    /// Benchmark, empty for any.
    pub dataset: String,
    /// Subset, empty for any.
    pub subset: String,
    /// Some(true): only full-credit answers; Some(false): only the others.
    pub correct: Option<bool>,
    /// Case-insensitive text searched in question, reasoning, answer and gold.
    pub text: String,
    /// 1-based page.
    pub page: usize,
    /// Rows per page (1..=200).
    pub per_page: usize,
}

impl Default for SampleQuery {
    fn default() -> Self {
        Self {
            dataset: String::new(),
            subset: String::new(),
            correct: None,
            text: String::new(),
            page: 1,
            per_page: 20,
        }
    }
}

/// One page of matching samples.
#[derive(Debug)]
pub struct SamplePage<'a> {
    /// Samples matching the filters.
    pub matched: usize,
    /// Of which full credit.
    pub matched_correct: usize,
    /// The rows of the page asked for.
    pub rows: Vec<&'a SampleRow>,
}

/// Every sample of a run.
#[derive(Debug, Default)]
pub struct SampleIndex {
    /// Rows in file order.
    pub rows: Vec<SampleRow>,
    /// Benchmark → its subsets.
    pub facets: BTreeMap<String, BTreeSet<String>>,
    /// Lines that could not be read, as `file:line: why`.
    pub skipped: Vec<String>,
}

#[derive(Deserialize)]
struct Message {
    #[serde(default)]
    role: String,
    #[serde(default)]
    content: Value,
}

#[derive(Deserialize, Default)]
struct Swarm {
    #[serde(default)]
    benchmark: String,
    #[serde(default)]
    subset: String,
    #[serde(default)]
    repeat: u32,
    #[serde(default)]
    completion: String,
    #[serde(default)]
    reasoning: String,
    #[serde(default)]
    extracted: String,
    #[serde(default)]
    score: Option<SwarmScore>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize, Default)]
struct SwarmScore {
    #[serde(default)]
    values: BTreeMap<String, f64>,
    #[serde(default)]
    main: String,
}

#[derive(Deserialize, Default)]
struct OutMessage {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    reasoning_content: Option<String>,
}

#[derive(Deserialize, Default)]
struct Choice {
    #[serde(default)]
    message: OutMessage,
}

#[derive(Deserialize, Default)]
struct ModelOutput {
    #[serde(default)]
    choices: Vec<Choice>,
}

#[derive(Deserialize)]
struct PredictionLine {
    #[serde(default)]
    index: Value,
    #[serde(default)]
    swarm: Option<Swarm>,
    #[serde(default)]
    model_output: ModelOutput,
    #[serde(default)]
    messages: Vec<Message>,
    #[serde(default)]
    metadata: Value,
}

#[derive(Deserialize)]
struct ReviewLine {
    #[serde(default)]
    index: Value,
    #[serde(default)]
    target: Value,
    #[serde(default)]
    repeat: Option<u32>,
    #[serde(default)]
    sample_score: Value,
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p["text"].as_str())
            .collect::<Vec<_>>()
            .join("\n"),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}

fn main_score(values: &BTreeMap<String, f64>, main: &str) -> Option<f64> {
    values
        .get(main)
        .or_else(|| values.get("acc"))
        .or_else(|| values.values().next())
        .copied()
}

struct Review {
    gold: String,
    score: Option<f64>,
    extracted: String,
}

fn read_reviews(path: &Path) -> HashMap<(String, u32), Review> {
    let mut out = HashMap::new();
    let Ok(f) = std::fs::File::open(path) else {
        return out;
    };
    for line in std::io::BufReader::new(f).lines().map_while(Result::ok) {
        let Ok(r) = serde_json::from_str::<ReviewLine>(&line) else {
            continue;
        };
        let score = &r.sample_score["score"];
        let values: BTreeMap<String, f64> = score["value"]
            .as_object()
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| v.as_f64().map(|f| (k.clone(), f)))
                    .collect()
            })
            .unwrap_or_default();
        out.insert(
            (text_of(&r.index), r.repeat.unwrap_or(0)),
            Review {
                gold: text_of(&r.target),
                score: main_score(&values, score["main_score_name"].as_str().unwrap_or("")),
                extracted: score["extracted_prediction"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            },
        );
    }
    out
}

/// `<bench>_<subset>` split with the registry's names (longest match), else at the first `_`.
fn split_stem(stem: &str) -> (String, String) {
    let known = swarm_common::eval::registry::names();
    match known
        .iter()
        .filter(|b| stem.starts_with(&format!("{b}_")))
        .max_by_key(|b| b.len())
    {
        Some(b) => (b.to_string(), stem[b.len() + 1..].to_string()),
        None => match stem.split_once('_') {
            Some((b, s)) => (b.to_string(), s.to_string()),
            None => (stem.to_string(), "default".to_string()),
        },
    }
}

fn jsonl_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// The prediction and review files of a run, with size and modification time: when this
/// changes, the index is stale.
pub fn signature(run: &Path) -> Vec<(PathBuf, u64, Option<SystemTime>)> {
    let mut out = Vec::new();
    for root in eval_roots(run) {
        for kind in ["predictions", "reviews"] {
            for m in subdirs(&root.join(kind)) {
                for f in jsonl_files(&m) {
                    let meta = std::fs::metadata(&f).ok();
                    out.push((
                        f,
                        meta.as_ref().map(|m| m.len()).unwrap_or(0),
                        meta.and_then(|m| m.modified().ok()),
                    ));
                }
            }
        }
    }
    out
}

impl SampleIndex {
    /// Reads every prediction (and its review) of the run folder `run`; files are read in
    /// parallel, rows kept in file order.
    pub fn build(run: &Path) -> Self {
        let mut jobs = Vec::new();
        for root in eval_roots(run) {
            for mdir in subdirs(&root.join("predictions")) {
                let model = mdir
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                for f in jsonl_files(&mdir) {
                    let stem = f
                        .file_stem()
                        .map(|s| s.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    let review = root
                        .join("reviews")
                        .join(&model)
                        .join(format!("{stem}.jsonl"));
                    jobs.push((f, stem, model.clone(), review));
                }
            }
        }
        let threads = std::thread::available_parallelism()
            .map(usize::from)
            .unwrap_or(1)
            .clamp(1, 8);
        let next = std::sync::atomic::AtomicUsize::new(0);
        let mut parts: Vec<(usize, SampleIndex)> = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..threads.min(jobs.len()))
                .map(|_| {
                    scope.spawn(|| {
                        let mut done = Vec::new();
                        // each job is taken once; the loop ends when the list is used up
                        loop {
                            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            let Some((f, stem, model, review)) = jobs.get(i) else {
                                break;
                            };
                            let mut part = SampleIndex::default();
                            part.read_predictions(f, stem, model, &read_reviews(review));
                            done.push((i, part));
                        }
                        done
                    })
                })
                .collect();
            workers
                .into_iter()
                .flat_map(|w| w.join().unwrap_or_default())
                .collect()
        });
        parts.sort_by_key(|(i, _)| *i);
        let mut ix = Self::default();
        for (_, part) in parts {
            ix.skipped.extend(part.skipped);
            for row in part.rows {
                ix.facets
                    .entry(row.dataset.clone())
                    .or_default()
                    .insert(row.subset.clone());
                ix.rows.push(row);
            }
        }
        ix
    }

    fn read_predictions(
        &mut self,
        f: &Path,
        stem: &str,
        model: &str,
        reviews: &HashMap<(String, u32), Review>,
    ) {
        let Ok(file) = std::fs::File::open(f) else {
            self.skipped.push(format!("{}: cannot open", f.display()));
            return;
        };
        let (file_bench, file_subset) = split_stem(stem);
        for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
            let Ok(line) = line else {
                self.skipped
                    .push(format!("{}:{}: not UTF-8", f.display(), n + 1));
                continue;
            };
            if line.trim().is_empty() {
                continue;
            }
            let p: PredictionLine = match serde_json::from_str(&line) {
                Ok(p) => p,
                Err(e) => {
                    self.skipped.push(format!("{}:{}: {e}", f.display(), n + 1));
                    continue;
                }
            };
            let sw = p.swarm.unwrap_or_default();
            let repeat = if sw.benchmark.is_empty() {
                p.metadata["repeat"].as_u64().unwrap_or(0) as u32
            } else {
                sw.repeat
            };
            let index = text_of(&p.index);
            let review = reviews.get(&(index.clone(), repeat));
            let mut message = p
                .model_output
                .choices
                .into_iter()
                .next()
                .map(|c| c.message)
                .unwrap_or_default();
            let pick = |ours: String, theirs: &mut Option<String>| {
                if ours.is_empty() {
                    theirs.take().unwrap_or_default()
                } else {
                    ours
                }
            };
            let question = p
                .messages
                .iter()
                .rev()
                .find(|m| m.role == "user")
                .map(|m| text_of(&m.content))
                .unwrap_or_default();
            let score = match &sw.score {
                Some(s) if !s.values.is_empty() => main_score(&s.values, &s.main),
                _ => review.and_then(|r| r.score),
            };
            let row = SampleRow {
                dataset: if sw.benchmark.is_empty() {
                    file_bench.clone()
                } else {
                    sw.benchmark
                },
                subset: if sw.subset.is_empty() {
                    file_subset.clone()
                } else {
                    sw.subset
                },
                model: model.to_string(),
                repeat,
                answer: pick(sw.completion, &mut message.content),
                reasoning: pick(sw.reasoning, &mut message.reasoning_content),
                extracted: if sw.extracted.is_empty() {
                    review.map(|r| r.extracted.clone()).unwrap_or_default()
                } else {
                    sw.extracted
                },
                gold: review.map(|r| r.gold.clone()).unwrap_or_default(),
                score,
                error: sw.error,
                question,
                index,
                search: String::new(),
            };
            self.push(row);
        }
    }

    /// Adds a row (its search text is computed here).
    pub fn push(&mut self, mut row: SampleRow) {
        row.search = format!(
            "{}\n{}\n{}\n{}",
            row.question, row.reasoning, row.answer, row.gold
        )
        .to_lowercase();
        self.facets
            .entry(row.dataset.clone())
            .or_default()
            .insert(row.subset.clone());
        self.rows.push(row);
    }

    /// The rows matching `q`, counted, and the page `q` asks for.
    pub fn query(&self, q: &SampleQuery) -> SamplePage<'_> {
        let text = q.text.trim().to_lowercase();
        let per_page = q.per_page.clamp(1, 200);
        let skip = q.page.max(1).saturating_sub(1).saturating_mul(per_page);
        let mut matched = 0;
        let mut matched_correct = 0;
        let mut rows = Vec::with_capacity(per_page);
        for r in &self.rows {
            if (!q.dataset.is_empty() && r.dataset != q.dataset)
                || (!q.subset.is_empty() && r.subset != q.subset)
                || q.correct.is_some_and(|c| r.correct() != c)
                || (!text.is_empty() && !r.search.contains(&text))
            {
                continue;
            }
            if matched >= skip && rows.len() < per_page {
                rows.push(r);
            }
            matched += 1;
            if r.correct() {
                matched_correct += 1;
            }
        }
        SamplePage {
            matched,
            matched_correct,
            rows,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(dataset: &str, subset: &str, answer: &str, score: f64) -> SampleRow {
        SampleRow {
            dataset: dataset.into(),
            subset: subset.into(),
            model: "m".into(),
            index: "0".into(),
            repeat: 0,
            question: "What is 2+2?".into(),
            reasoning: String::new(),
            answer: answer.into(),
            extracted: String::new(),
            gold: "4".into(),
            score: Some(score),
            error: None,
            search: String::new(),
        }
    }

    #[test]
    fn filters_and_pages() {
        let mut ix = SampleIndex::default();
        for i in 0..45 {
            ix.push(row(
                if i % 3 == 0 { "gsm8k" } else { "math_500" },
                if i % 2 == 0 { "A" } else { "B" },
                &format!("answer {i}"),
                if i % 5 == 0 { 1.0 } else { 0.0 },
            ));
        }
        let all = ix.query(&SampleQuery::default());
        assert_eq!(
            (all.matched, all.matched_correct, all.rows.len()),
            (45, 9, 20)
        );
        let p3 = ix.query(&SampleQuery {
            page: 3,
            ..Default::default()
        });
        assert_eq!(p3.rows.len(), 5);
        assert_eq!(p3.rows[0].answer, "answer 40");
        let gsm = ix.query(&SampleQuery {
            dataset: "gsm8k".into(),
            correct: Some(true),
            ..Default::default()
        });
        assert_eq!(gsm.matched, 3, "i in 0, 15, 30");
        let text = ix.query(&SampleQuery {
            text: "ANSWER 4".into(),
            ..Default::default()
        });
        assert_eq!(text.matched, 6, "4 and 40..44");
        assert_eq!(ix.facets["gsm8k"].len(), 2);
    }

    #[test]
    fn stems_split_on_known_benchmarks() {
        assert_eq!(
            split_stem("math_500_Level 1"),
            ("math_500".to_string(), "Level 1".to_string())
        );
        assert_eq!(split_stem("x"), ("x".to_string(), "default".to_string()));
    }
}
