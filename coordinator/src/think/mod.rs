//! `coordinator think-eval`: thinking efficiency of reasoning models' math runs, side by side
//! (EvalScope's think-eval): read each run's predictions, measure every sample with
//! `swarm_eval::think` (steps cut locally or, `--split llm`, by the judge's
//! reformatting: `steps`), average per level, print a table per metric, write
//! `think_eval_results.json` and an SVG figure (`report::html::think::think_figure`).

pub mod args;
pub mod input;
pub mod judge;
pub mod run;
pub mod steps;
