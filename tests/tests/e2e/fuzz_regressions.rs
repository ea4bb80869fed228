//! Every input a fuzzer once crashed on (kept in `fuzz/regressions/<target>/`) and a few seeds
//! replay through the same target bodies, so a fixed crash stays fixed on stable Rust.

use std::path::Path;

use swarm_tests::fuzzing::TARGETS;

#[test]
fn kept_fuzz_inputs_replay_without_panicking() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/regressions");
    let mut replayed = 0;
    for (name, target) in TARGETS {
        let dir = root.join(name);
        assert!(dir.is_dir(), "{} missing", dir.display());
        for e in std::fs::read_dir(&dir).expect("read dir").flatten() {
            let p = e.path();
            if p.file_name().is_some_and(|n| n == ".keep") {
                continue;
            }
            let bytes = std::fs::read(&p).expect("read input");
            target(&bytes);
            replayed += 1;
        }
    }
    eprintln!("{replayed} kept inputs replayed");
}

#[test]
fn targets_accept_hostile_shapes() {
    let inputs: [&[u8]; 6] = [
        b"",
        b"\xff\xfe\x00",
        b"data: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\n\ndata: [DONE]\n\n",
        b"version: 1\nname: x\ntargets: [{name: t, url: 'http://${HOST}/v1'}]\n",
        b"\\boxed{\\frac{1}{0}} ANSWER: Z \xe7\xad\x94\xe6\xa1\x88\xef\xbc\x9aA",
        &[0x22, 0x05, 0x0a, 0x01, 0x61, 0x10, 0xff],
    ];
    for (_, target) in TARGETS {
        for i in inputs {
            target(i);
        }
    }
}
