//! Math answer extraction and equivalence, with EvalScope parity.
//!
//! The pipeline EvalScope uses for `gsm8k` and `math_500` (ported from Qwen2.5-Math):
//! a completion goes through [`extract_answer`] (last `\boxed{}` or an "answer is" phrase or the
//! last number, then [`strip_answer_string`]); the gold answer goes through
//! [`strip_answer_string`]; [`math_equal`] decides. [`math_equal`] normalises both sides itself,
//! so callers may pass raw strings.
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
mod normalize;
mod parse;
mod words;

pub use boxed::{extract_answer, extract_last_boxed};
pub use equal::{MathEqualOptions, math_equal, math_equal_with};
pub use normalize::strip_answer_string;
