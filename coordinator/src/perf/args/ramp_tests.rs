use clap::Parser;

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    perf: super::PerfArgs,
}

fn stages(flags: &str) -> anyhow::Result<Vec<crate::plan::model::StageDef>> {
    let argv = ["perf", "--sim"]
        .into_iter()
        .chain(flags.split_whitespace());
    Cli::try_parse_from(argv).expect("flags").perf.stages()
}

#[test]
fn vllm_ramp_flags_make_a_ramped_stage() {
    let s = stages(
        "--model m --ramp-up-strategy linear --ramp-up-start-rps 1 --ramp-up-end-rps 8 --number 40",
    )
    .expect("ramp");
    let r = s[0].ramp.clone().expect("ramp");
    assert_eq!(
        (r.from, r.to, r.over_s),
        (1.0, 8.0, None),
        "over the requests, as vLLM"
    );
    assert_eq!(r.strategy.as_deref(), Some("linear"));
    assert_eq!(s[0].arrival.as_deref(), Some("poisson"));
    assert_eq!(s[0].parallel, None);
    // without --number: over --duration
    let d = stages(
        "--model m --ramp-up-strategy exponential --ramp-up-start-rate 2 --ramp-up-end-rate 8 --duration 5",
    )
    .expect("ramp");
    assert_eq!(d[0].ramp.clone().expect("ramp").over_s, Some(5.0));
    let spec = crate::plan::build::stage_spec(&d[0]).expect("stage");
    assert_eq!(spec.ramp.expect("ramp").over_s, Some(5.0));
}

#[test]
fn bad_ramp_flags_say_which_flag() {
    let err = |f: &str| {
        format!(
            "{:#}",
            stages(&format!("--model m --number 9 {f}")).expect_err(f)
        )
    };
    assert!(
        err("--ramp-up-strategy linear --ramp-up-start-rps 1 --ramp-up-end-rps 4 --rate 3")
            .contains("--rate")
    );
    assert!(err("--ramp-up-strategy linear --ramp-up-start-rps 1").contains("--ramp-up-end-rps"));
    assert!(err("--ramp-up-start-rps 1 --ramp-up-end-rps 2").contains("--ramp-up-strategy"));
    assert!(
        err("--ramp-up-strategy linear --ramp-up-start-rps=-1 --ramp-up-end-rps 2")
            .contains("--ramp-up-start-rps")
    );
    assert!(
        err("--ramp-up-strategy linear --ramp-up-start-rps 5 --ramp-up-end-rps 2")
            .contains("above")
    );
    assert!(
        err("--ramp-up-strategy exponential --ramp-up-start-rps 0 --ramp-up-end-rps 2")
            .contains("--ramp-up-start-rps")
    );
}
