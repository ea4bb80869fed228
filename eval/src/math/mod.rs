//! Math answer extraction and equivalence, with EvalScope parity.
//!
//! EvalScope 1.14.1 (what `gsm8k`, `math_500` and `aime*` use): [`extract_answer`] is
//! Math-Verify 0.9.0's `parse` as EvalScope calls it (see `verify.rs`), and
//! [`evalscope_score`] its `compare_answers(extracted, gold)`. The older pipeline (EvalScope up
//! to 1.10, ported from Qwen2.5-Math) stays available: [`extract_answer_qwen`] (last `\boxed{}`
//! or an "answer is" phrase or the last number, then [`strip_answer_string`]) and
//! [`math_equal`], which normalises both sides itself.
//!
//! Equivalence is decided without a computer algebra system: a small LaTeX expression parser
//! evaluates both sides over complex numbers (at several fixed pseudo-random points when there
//! are free variables), which decides the same questions EvalScope settles with SymPy for the
//! answers found in MATH-style benchmarks. Every function here is total: no input panics.
//!
//! Where an EvalScope verdict is an accident of its implementation (`1,000` sorted as the list
//! `0,1`, `2^6` read by Python as xor, `52_8` read by `float()` as 528), Math-Verify's verdict is
//! taken instead; each such deviation is listed on the function it concerns.
//! [`MathEqualOptions::STRICT`] drops EvalScope's remaining leniencies (percentage scaling,
//! interval brackets, 1e-4 tolerance on integers).

mod boxed;
mod complex;
mod equal;
mod latex_norm;
mod normalize;
mod parse;
mod verify;
mod verify_score;
mod words;

pub use boxed::{extract_answer_qwen, extract_last_boxed};
pub use equal::{MathEqualOptions, math_equal, math_equal_with};
pub use normalize::strip_answer_string;
pub use verify::extract_answer;
pub use verify_score::evalscope_score;
