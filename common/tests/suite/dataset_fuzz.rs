//! Arbitrary bytes never make the loaders panic, and every reported line exists.

use proptest::prelude::*;
use swarm_common::dataset::{BadLinePolicy, DatasetError, DatasetKind, DatasetSpec, load_bytes};

const FILE_KINDS: [DatasetKind; 5] = [
    DatasetKind::OpenQa,
    DatasetKind::Custom,
    DatasetKind::LineByLine,
    DatasetKind::LongAlpaca,
    DatasetKind::ShareGpt,
];

/// Bytes that look enough like JSON to reach past the first character.
fn jsonish() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(b"[".to_vec()),
        Just(b"]".to_vec()),
        Just(b"{".to_vec()),
        Just(b"}".to_vec()),
        Just(b",".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\"question\": ".to_vec()),
        Just(b"\"instruction\": ".to_vec()),
        Just(b"\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]".to_vec()),
        Just(b"\"conversations\": [{\"from\": \"human\", \"value\": \"q\"}]".to_vec()),
        Just(b"\"prompt\": \"text\"".to_vec()),
        Just(b"\"body\": ".to_vec()),
        Just(b"\"a string\"".to_vec()),
        Just(b"42".to_vec()),
        Just(b"\xef\xbb\xbf".to_vec()),
        Just(b"\xff".to_vec()),
        Just("中文".as_bytes().to_vec()),
        any::<u8>().prop_map(|b| vec![b]),
    ];
    prop::collection::vec(piece, 0..40).prop_map(|pieces| pieces.concat())
}

fn check(kind: DatasetKind, policy: BadLinePolicy, bytes: &[u8]) -> Result<(), TestCaseError> {
    let lines = bytes.iter().filter(|&&b| b == b'\n').count() + 1;
    let mut spec = DatasetSpec::new(kind, None);
    spec.on_bad_line = policy;
    match load_bytes(&spec, "fuzz.data".as_ref(), bytes, None) {
        Ok(out) => {
            prop_assert!(!out.prompts.is_empty());
            for e in &out.skipped {
                prop_assert!(
                    (1..=lines).contains(&e.line),
                    "{kind}: line {} of {lines}: {e}",
                    e.line
                );
            }
        }
        Err(DatasetError::BadLine(e)) => {
            prop_assert!(
                (1..=lines).contains(&e.line),
                "{kind}: line {} of {lines}: {e}",
                e.line
            );
            let prefix = format!("fuzz.data:{}: ", e.line);
            prop_assert!(e.to_string().starts_with(&prefix), "{e}");
        }
        Err(DatasetError::NotJsonArray { line, .. }) => prop_assert!((1..=lines).contains(&line)),
        Err(DatasetError::Empty { .. }) => {}
        Err(other) => prop_assert!(false, "{kind}: unexpected error {other}"),
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        for kind in FILE_KINDS {
            for policy in [BadLinePolicy::Skip, BadLinePolicy::Fail] {
                check(kind, policy, &bytes)?;
            }
        }
    }

    #[test]
    fn jsonish_bytes_never_panic(bytes in jsonish()) {
        for kind in FILE_KINDS {
            for policy in [BadLinePolicy::Skip, BadLinePolicy::Fail] {
                check(kind, policy, &bytes)?;
            }
        }
    }
}
