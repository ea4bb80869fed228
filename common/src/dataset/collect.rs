//! Turning parsed records into the kept prompts: bad-line policy, length filter, `number`.

use std::path::{Path, PathBuf};

use super::field::FieldError;
use super::{BadLinePolicy, DatasetError, DatasetSpec, LineError, LoadedDataset, system};
use crate::prompt::Prompt;
use crate::tokenize::TokenCounter;

/// Gathers prompts from one file, record by record.
pub(crate) struct Collector<'a> {
    spec: &'a DatasetSpec,
    path: PathBuf,
    tokenizer: Option<&'a dyn TokenCounter>,
    prompts: Vec<Prompt>,
    skipped: Vec<LineError>,
    records: usize,
    filtered: usize,
}

impl<'a> Collector<'a> {
    pub fn new(
        spec: &'a DatasetSpec,
        path: &Path,
        tokenizer: Option<&'a dyn TokenCounter>,
    ) -> Self {
        Self {
            spec,
            path: path.to_path_buf(),
            tokenizer,
            prompts: Vec::new(),
            skipped: Vec::new(),
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
                        self.skipped.push(error);
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
        // EvalScope keeps `min < length < max`, both bounds exclusive.
        if length <= self.spec.min_prompt_length || length >= self.spec.max_prompt_length {
            self.filtered += 1;
            return Ok(true);
        }
        if let Some(sys) = &self.spec.system_prompt {
            prompt = system::prepend(prompt, sys);
        }
        self.prompts.push(prompt);
        Ok(self.spec.number == 0 || self.prompts.len() < self.spec.number)
    }

    /// The kept prompts, or [`DatasetError::Empty`] if there are none.
    pub fn finish(self) -> Result<LoadedDataset, DatasetError> {
        if self.prompts.is_empty() {
            return Err(DatasetError::Empty {
                path: self.path,
                records: self.records,
                skipped: self.skipped.len(),
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
        Ok(LoadedDataset {
            prompts: self.prompts,
            skipped: self.skipped,
        })
    }
}
