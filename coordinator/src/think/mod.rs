//! `coordinator think-eval`: thinking efficiency of reasoning models' math runs, side by side
//! (EvalScope's think-eval): read each run's predictions, measure every sample with
//! `swarm_common::eval::think`, average per level, print a table per metric, write
//! `think_eval_results.json` and an SVG figure (`report::html::think::think_figure`).

pub mod args;
pub mod input;
pub mod judge;
pub mod run;
