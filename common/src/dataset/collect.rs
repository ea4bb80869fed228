//! Turning parsed records into the kept prompts: bad-line policy, length filter, `number`.

use std::path::{Path, PathBuf};

use super::field::FieldError;
use super::{BadLinePolicy, DatasetError, DatasetSpec, LineError, LoadStats, PromptSink, system};
use crate::prompt::Prompt;
use crate::tokenize::TokenCounter;

/// Sends one file's prompts to a sink, record by record.
pub(crate) struct Collector<'a> {
    spec: &'a DatasetSpec,
    path: PathBuf,
    tokenizer: Option<&'a dyn TokenCounter>,
    sink: &'a mut dyn PromptSink,
    /// The first `max_skipped` bad records.
    skipped: Vec<LineError>,
    max_skipped: usize,
    skipped_total: usize,
    kept: usize,
    records: usize,
    filtered: usize,
}

impl<'a> Collector<'a> {
    /// Keeps at most `max_skipped` bad records in [`LoadStats::skipped`]; all are counted.
    pub fn new(
        spec: &'a DatasetSpec,
        path: &Path,
        tokenizer: Option<&'a dyn TokenCounter>,
        sink: &'a mut dyn PromptSink,
        max_skipped: usize,
    ) -> Self {
        Self {
            spec,
            path: path.to_path_buf(),
            tokenizer,
            sink,
            skipped: Vec::new(),
            max_skipped,
            skipped_total: 0,
            kept: 0,
            records: 0,
            filtered: 0,
        }
    }

    /// Takes the record at `line`; `Ok(false)` once `number` prompts are kept.
    pub fn push(
        &mut self,
        line: usize,
        parsed: Result<Prompt, FieldError>,
    ) -> Result<bool, DatasetError> {
        self.records += 1;
        let mut prompt = match parsed {
            Ok(prompt) => prompt,
            Err(FieldError { field, message }) => {
                let error = LineError {
                    path: self.path.clone(),
                    line,
                    field,
                    message,
                };
                return match self.spec.on_bad_line {
                    BadLinePolicy::Skip => {
                        self.skipped_total += 1;
                        if self.skipped.len() < self.max_skipped {
                            self.skipped.push(error);
                        }
                        Ok(true)
                    }
                    BadLinePolicy::Fail => Err(DatasetError::BadLine(error)),
                };
            }
        };
        let text = prompt.plain_text();
        let length = match self.tokenizer {
            Some(tok) => {
                let n = tok.count(&text);
                prompt.tokens = Some(u32::try_from(n).unwrap_or(u32::MAX));
                n
            }
            None => text.chars().count(),
        };
        // EvalScope (since 1.10, `check_prompt_length`) keeps `min <= length <= max`.
        if length < self.spec.min_prompt_length || length > self.spec.max_prompt_length {
            self.filtered += 1;
            return Ok(true);
        }
        if let Some(sys) = &self.spec.system_prompt {
            prompt = system::prepend(prompt, sys);
        }
        self.sink.push(prompt)?;
        self.kept += 1;
        Ok(self.spec.number == 0 || self.kept < self.spec.number)
    }

    /// What was kept and skipped, or [`DatasetError::Empty`] if nothing was kept.
    pub fn finish(self) -> Result<LoadStats, DatasetError> {
        if self.kept == 0 {
            return Err(DatasetError::Empty {
                path: self.path,
                records: self.records,
                skipped: self.skipped_total,
                filtered: self.filtered,
                min: self.spec.min_prompt_length,
                max: self.spec.max_prompt_length,
                unit: if self.tokenizer.is_some() {
                    "tokens"
                } else {
                    "characters"
                },
            });
        }
        Ok(LoadStats {
            kept: self.kept,
            skipped: self.skipped,
            skipped_total: self.skipped_total,
        })
    }
}
