//! `strip_answer_string`: EvalScope's normalisation, outputs checked against EvalScope's
//! Python (evalscope/metrics/math_parser.py) except where marked as a deviation.

use swarm_eval::math::strip_answer_string;

#[test]
fn normalises_like_evalscope() {
    let cases: &[(&str, &str)] = &[
        (r"  \frac{1}{2}.  ", r"\frac{1}{2}"),
        (r"\dfrac{3}{4}", r"\frac{3}{4}"),
        (r"\tfrac12", r"\frac{1}{2}"),
        (r"\frac12", r"\frac{1}{2}"),
        (r"\frac1{72}", r"\frac{1}{72}"),
        (r"\left( 3, \frac{\pi}{2} \right)", r"(3,\frac{\pi}{2})"),
        (r"\{1, 2\}", r"{1,2}"),
        (r"90^\circ", r"90"),
        (r"90^{\circ}", r"90"),
        (r"10\%", r"10"),
        (r"10%", r"10"),
        (r"\$18.90", r"18.90"),
        (r"$x^2$", r"x^2"),
        (r"\(5\)", r"5"),
        (r"x=5", r"5"),
        (r"y = 2x + 3", r"2x+3"),
        (r"k = 7", r"7"),
        (r"\text{five}", r"5"),
        (r"\text{Evelyn}", r"Evelyn"),
        (r"\text{(C)}", r"(C)"),
        (r"5.4 \text{ cents}", r"5.4"),
        (r"864 \mbox{ inches}^2", r"864"),
        (r"15\mbox{ cm}^2", r"15"),
        (r"\frac{270}7\text{ degrees}", r"\frac{270}7"),
        (r"\emptyset", r"{}"),
        (r"(-\infty,\infty)", r"\mathbb{R}"),
        (r"infinity", r"\infty"),
        (r".5", r"0.5"),
        (r"{.5}", r"{0.5}"),
        (r"5.00", r"5"),
        (r"2.50", r"2.50"),
        (r"3.0x", r"3x"),
        (r"\sqrt2", r"\sqrt{2}"),
        (r"11\sqrt2", r"11\sqrt{2}"),
        (r"\sqrt{3}", r"\sqrt{3}"),
        (r"3/4", r"\frac{3}{4}"),
        (r"-1/3", r"\frac{-1}{3}"),
        (r"\sqrt{2}/2", r"\frac{\sqrt{2}}{2}"),
        (r"1/2/3", r"1/2/3"),
        (r"\neq", r"\ne"),
        (r"\leq 3", r"\le3"),
        (
            r"\begin{array}{cc} 1 & 2 \end{array}",
            r"\begin{pmatrix}1&2\end{pmatrix}",
        ),
        // deviation: EvalScope gives "\\begin{pmatrix}1\\2\\end{pmatrix}"
        (
            r"\begin{bmatrix} 1 \\ 2 \end{bmatrix}",
            r"\begin{pmatrix}1\\2\end{pmatrix}",
        ),
        (r"3, 1, 2", r"1,2,3"),
        (r"-2, 10, 3", r"-2,3,10"),
        (r"12thgrade", r"12"),
        (r"2+3j", r"2+3i"),
        (r"\mathbf{v}", r"{v}"),
        (r"a and b", r"ab"),
        (r"x\in[1,2]", r"[1,2]"),
        (r"\!", r""),
        // deviation: EvalScope gives "10,80"
        (r"10,\!080", r"10080"),
        // deviation: EvalScope gives "0,1"
        (r"1,000", r"1000"),
        // deviation: EvalScope gives "0,0,1"
        (r"1,000,000", r"1000000"),
        // deviation: EvalScope gives "58,500"
        (r"58,500", r"58500"),
        (r"\text{ }", r""),
        (r"5x - 7y + 11z + 4 = 0", r"5x-7y+11z+4=0"),
        // deviation: EvalScope gives "2\\,000"
        (r"2\,000", r"2000"),
        // deviation: EvalScope gives "10{,}080"
        (r"10{,}080", r"10080"),
        // deviation: EvalScope gives "x\\in[-2,7]"
        (r"x \in [-2,7]", r"[-2,7]"),
        // deviation: EvalScope gives "(-\\infty,\\infty)"
        (r"(-\infty, \infty)", r"\mathbb{R}"),
        (r"-x=5", r"-5"),
    ];
    for (input, expected) in cases {
        assert_eq!(strip_answer_string(input), *expected, "{input:?}");
    }
}

#[test]
fn normalisation_is_idempotent_on_its_outputs() {
    for input in [
        r"\left( 3, \frac{\pi}{2} \right)",
        r"10,\!080",
        r"x \in [-2,7]",
        "3, 1, 2",
        r"\tfrac12",
    ] {
        let once = strip_answer_string(input);
        assert_eq!(strip_answer_string(&once), once, "{input:?}");
    }
}
