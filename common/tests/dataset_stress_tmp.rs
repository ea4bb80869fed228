use swarm_common::dataset::{DatasetKind, DatasetSpec, load};
use swarm_common::tokenize::load_tokenizer;
#[test]
fn stress() {
    for spec_name in [concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tokenizers/smollm2-135m"), "cl100k_base", "o200k_base", "r50k_base", "p50k_base"] {
        let tok = load_tokenizer(spec_name).unwrap();
        for seed in 0..5u64 {
            for prefix in [0usize, 1, 100] {
                let mut spec = DatasetSpec::new(DatasetKind::Random, None);
                spec.number = 100; spec.min_prompt_length = 1; spec.max_prompt_length = 2000; spec.prefix_length = prefix; spec.seed = seed;
                let t = std::time::Instant::now();
                match load(&spec, Some(tok.as_ref())) {
                    Ok(out) => { for p in &out.prompts { assert_eq!(tok.count(&p.plain_text()), p.tokens.unwrap() as usize); } }
                    Err(e) => println!("FAIL {spec_name} seed {seed} prefix {prefix}: {e}"),
                }
                println!("{spec_name} seed {seed} prefix {prefix}: {:?}", t.elapsed());
            }
        }
    }
}
