//! The `llm` split strategy's request: a judge model is asked to break reasoning into paragraphs,
//! one reasoning step each, without changing it (as EvalScope's thinkbench does before it looks for
//! the first correct step; the instructions are the same, the wording is ours — the parity spec
//! does not give that template). The judge's reply is then cut at blank lines
//! ([`super::split_steps`] with [`super::SplitStrategy::Llm`]).

/// The reasoning as EvalScope sends it for reformatting: every newline becomes a space, so the
/// judge's paragraphs are the only blank lines left.
pub fn flatten_lines(think: &str) -> String {
    think.replace('\n', " ")
}

/// The request up to where the problem goes.
const HEAD: &str = concat!(
    "Below are a math problem and a worked solution written as one block of text. Split the solution into paragraphs so that a reader can follow it step by step.\n",
    "\n",
    "Rules:\n",
    "\n",
    "* Separate paragraphs with \\n\\n. Keep every word and formula of the solution as it is; the one change allowed is described below for lists.\n",
    "\n",
    "  - One paragraph is one short reasoning step that moves the solution forward.\n",
    "\n",
    "  - A case being examined, a simplification or a derivation is a step of its own and gets its own paragraph.\n",
    "\n",
    "  - An opening analysis, if the solution has one, is the first paragraph.\n",
    "\n",
    "  - A formula stays in the paragraph of the sentence before it; never give a formula a paragraph of its own.\n",
    "\n",
    "* Rewrite itemized or numbered lists as running text (\"First, ... Second, ...\"). This is the only change of content allowed.\n",
    "\n",
    "* Prefer several short paragraphs to one long one that holds more than one step.\n",
    "\n",
    "* Whether the solution is right does not matter here; only its paragraphs do.\n",
    "\n",
    "* Answer with the split solution and nothing else.\n",
    "\n",
    "--------------------------------------------------\n",
    "\n",
    "[Math Problem]\n",
    "\n",
);

/// The reformat request for `problem` and the reasoning `think` (flattened with
/// [`flatten_lines`]).
pub fn reformat_prompt(problem: &str, think: &str) -> String {
    format!(
        "{HEAD}{problem}\n\n[Solution]\n\n{}\n",
        flatten_lines(think)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prompt_holds_the_problem_and_the_flattened_reasoning() {
        let p = reformat_prompt("What is 6*7?", "First, 6*7.\n\nIt is 42.\nDone.");
        assert!(p.starts_with("Below are a math problem and a worked solution"));
        assert!(p.contains("* Separate paragraphs with \\n\\n."));
        assert!(p.contains("\n  - One paragraph is one short reasoning step"));
        assert!(p.ends_with(
            "[Math Problem]\n\nWhat is 6*7?\n\n[Solution]\n\nFirst, 6*7.  It is 42. Done.\n"
        ));
        // the reasoning's own blank lines are gone; the template's remain
        let solution = p.rsplit("[Solution]\n\n").next().unwrap_or_default();
        assert!(!solution.trim_end().contains('\n'));
    }
}
