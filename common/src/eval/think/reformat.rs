//! The `llm` split strategy's request: EvalScope's reformat prompt (thinkbench's
//! `resources/reformat_template.txt`), asking a judge model to break reasoning into paragraphs
//! without changing it. The judge's reply is then cut at blank lines
//! ([`super::split_steps`] with [`super::SplitStrategy::Llm`]).

/// The reasoning as EvalScope sends it for reformatting: every newline becomes a space, so the
/// judge's paragraphs are the only blank lines left.
pub fn flatten_lines(think: &str) -> String {
    think.replace('\n', " ")
}

/// EvalScope's reformat template up to where the problem goes.
const HEAD: &str = concat!(
    "I will present you with a solution to a math problem. Unfortunately, the solution lacks proper paragraphing, making it hard to read. Your task is to improve readability by reformatting the solution into well-structured paragraphs. Follow these specific guidelines:\n",
    "\n",
    "* Insert \\n\\n for paragraph breaks within the original solution. Do **NOT** alter any content of the original solution (the only exception is for itemized lists; see below).\n",
    "\n",
    "  - Each paragraph should represent a distinct, concise reasoning step that logically advances the solution.\n",
    "\n",
    "  - Reasoning steps can include case discussions, formula simplifications, or formula derivations. Each of these should be treated as an individual reasoning step and paragraphed accordingly.\n",
    "\n",
    "  - If an introductory analysis exists in the original solution, treat it as an initial reasoning step and place it as the first paragraph.\n",
    "\n",
    "  - Do **NOT** place any mathematical formulas in their own separate paragraphs; instead, include them within the same paragraph as the preceding text to form a cohesive reasoning step.\n",
    "\n",
    "* For any itemized lists (ordered or unordered), convert them into a written format, such as \"First/Second/Third.\" This is the **ONLY** content modification allowed.\n",
    "\n",
    "* Avoid making paragraphs too lengthy, as long paragraphs might contain multiple reasoning steps that should be paragraphed separately.\n",
    "\n",
    "* Disregard the accuracy of the solution content. Do **NOT** alter any of the original solution's content; focus solely on structuring it into logical, readable paragraphs.\n",
    "\n",
    "* Reply with the reformatted solution directly.\n",
    "\n",
    "--------------------------------------------------\n",
    "\n",
    "Here is the math problem, and the solution that needs to be reformatted:\n",
    "\n",
    "[Math Problem]\n",
    "\n",
);

/// EvalScope's reformat prompt for `problem` and the reasoning `think` (flattened with
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
        assert!(p.starts_with("I will present you with a solution to a math problem."));
        assert!(p.contains("* Insert \\n\\n for paragraph breaks within the original solution."));
        assert!(p.contains("\n  - Each paragraph should represent"));
        assert!(p.ends_with(
            "[Math Problem]\n\nWhat is 6*7?\n\n[Solution]\n\nFirst, 6*7.  It is 42. Done.\n"
        ));
        // the reasoning's own blank lines are gone; the template's remain
        let solution = p.rsplit("[Solution]\n\n").next().unwrap_or_default();
        assert!(!solution.trim_end().contains('\n'));
    }
}
