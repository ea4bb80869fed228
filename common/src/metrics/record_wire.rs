//! A [`RequestRecord`] on the wire: the protobuf `Record` of a `RecordBatch`, and back.
//! Decoding treats its input as hostile: a record that is not one the agent could have measured
//! (an unknown or unspecified enum value, a number out of its type's range, chunk times out of
//! order or too many, an error detail too long) is a [`RecordError`] naming the field, never a
//! panic and never a default put in its place.

use swarm_proto as pb;

use super::record::{ErrorClass, RequestRecord, TokenSource};

/// Most chunk arrival times one record carries: more text chunks than a 128k-token answer sends,
/// and at the ≤ 5 bytes a time takes for a request of under 9 hours, ~640 KiB, room within one
/// message. The agent sends a record with more without its chunk times.
pub const MAX_CHUNK_TIMES: usize = 1 << 17;

/// Longest error detail, in bytes: twice what the client keeps (512 bytes and an ellipsis).
/// [`to_wire`] cuts a longer one on a character boundary; [`from_wire`] refuses it.
pub const MAX_ERROR_DETAIL_BYTES: usize = 1024;

/// Why a wire record is not a [`RequestRecord`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    /// An enum field holds a value the protocol does not define.
    #[error("field `{field}`: unknown value {value}")]
    UnknownEnum {
        /// The field's name.
        field: &'static str,
        /// The value received.
        value: i32,
    },
    /// A field that must be set holds its UNSPECIFIED value.
    #[error("field `{field}`: unspecified")]
    Unspecified {
        /// The field's name.
        field: &'static str,
    },
    /// A number is larger than the field's type allows.
    #[error("field `{field}`: {value} is out of range (at most {max})")]
    OutOfRange {
        /// The field's name.
        field: &'static str,
        /// The value received.
        value: u64,
        /// The largest value allowed.
        max: u64,
    },
    /// A chunk arrival time is earlier than the one before it.
    #[error("field `chunk_us`: time {index} ({value}) is earlier than the one before it")]
    ChunksNotSorted {
        /// Index of the first time out of order.
        index: usize,
        /// That time.
        value: u64,
    },
    /// More chunk times than [`MAX_CHUNK_TIMES`].
    #[error("field `chunk_us`: {len} times, more than {MAX_CHUNK_TIMES}")]
    TooManyChunks {
        /// How many arrived.
        len: usize,
    },
    /// An error detail longer than [`MAX_ERROR_DETAIL_BYTES`].
    #[error("field `error_detail`: {len} bytes, more than {MAX_ERROR_DETAIL_BYTES}")]
    DetailTooLong {
        /// Its length in bytes.
        len: usize,
    },
}

/// The wire form of `r`. An error detail longer than [`MAX_ERROR_DETAIL_BYTES`] is cut on a
/// character boundary (it is a truncated text already); chunk times are sent as they are (the
/// agent checks their count against [`MAX_CHUNK_TIMES`] and the message bound).
pub fn to_wire(r: &RequestRecord) -> pb::Record {
    pb::Record {
        id: r.id,
        scheduled_us: r.scheduled_us,
        sent_us: r.sent_us,
        queue_us: r.queue_us,
        ttft_us: r.ttft_us,
        ttfo_us: r.ttfo_us,
        latency_us: r.latency_us,
        chunk_us: r.chunk_us.clone(),
        prompt_tokens: r.prompt_tokens,
        completion_tokens: r.completion_tokens,
        reasoning_tokens: r.reasoning_tokens,
        cached_tokens: r.cached_tokens,
        token_source: wire_source(r.token_source) as i32,
        status: u32::from(r.status),
        error: r.error.map(|e| wire_class(e) as i32),
        error_detail: r.error_detail.as_deref().map(clip_detail),
        conversation: r.conversation,
        turn: r.turn,
    }
}

/// The record `w` carries, or the first field that makes it one no agent measured.
pub fn from_wire(w: &pb::Record) -> Result<RequestRecord, RecordError> {
    if w.chunk_us.len() > MAX_CHUNK_TIMES {
        return Err(RecordError::TooManyChunks {
            len: w.chunk_us.len(),
        });
    }
    if let Some(i) = w.chunk_us.windows(2).position(|p| p[1] < p[0]) {
        return Err(RecordError::ChunksNotSorted {
            index: i + 1,
            value: w.chunk_us[i + 1],
        });
    }
    if let Some(d) = &w.error_detail
        && d.len() > MAX_ERROR_DETAIL_BYTES
    {
        return Err(RecordError::DetailTooLong { len: d.len() });
    }
    let status = u16::try_from(w.status).map_err(|_| RecordError::OutOfRange {
        field: "status",
        value: u64::from(w.status),
        max: u64::from(u16::MAX),
    })?;
    let token_source = match enum_value::<pb::TokenSource>("token_source", w.token_source)? {
        pb::TokenSource::Unspecified => {
            return Err(RecordError::Unspecified {
                field: "token_source",
            });
        }
        pb::TokenSource::Usage => TokenSource::Usage,
        pb::TokenSource::Tokenizer => TokenSource::Tokenizer,
        pb::TokenSource::Chunks => TokenSource::Unknown,
    };
    let error = match w.error {
        None => None,
        Some(v) => Some(class_of(enum_value::<pb::ErrorClass>("error", v)?)?),
    };
    Ok(RequestRecord {
        id: w.id,
        scheduled_us: w.scheduled_us,
        sent_us: w.sent_us,
        queue_us: w.queue_us,
        ttft_us: w.ttft_us,
        ttfo_us: w.ttfo_us,
        latency_us: w.latency_us,
        chunk_us: w.chunk_us.clone(),
        prompt_tokens: w.prompt_tokens,
        completion_tokens: w.completion_tokens,
        reasoning_tokens: w.reasoning_tokens,
        cached_tokens: w.cached_tokens,
        token_source,
        status,
        error,
        error_detail: w.error_detail.clone(),
        conversation: w.conversation,
        turn: w.turn,
    })
}

impl TryFrom<&pb::Record> for RequestRecord {
    type Error = RecordError;

    fn try_from(w: &pb::Record) -> Result<Self, Self::Error> {
        from_wire(w)
    }
}

impl From<&RequestRecord> for pb::Record {
    fn from(r: &RequestRecord) -> Self {
        to_wire(r)
    }
}

fn enum_value<E: TryFrom<i32>>(field: &'static str, value: i32) -> Result<E, RecordError> {
    E::try_from(value).map_err(|_| RecordError::UnknownEnum { field, value })
}

fn clip_detail(d: &str) -> String {
    if d.len() <= MAX_ERROR_DETAIL_BYTES {
        return d.to_owned();
    }
    let mut end = MAX_ERROR_DETAIL_BYTES;
    while !d.is_char_boundary(end) {
        end -= 1;
    }
    d[..end].to_owned()
}

fn wire_source(s: TokenSource) -> pb::TokenSource {
    match s {
        TokenSource::Usage => pb::TokenSource::Usage,
        TokenSource::Tokenizer => pb::TokenSource::Tokenizer,
        TokenSource::Unknown => pb::TokenSource::Chunks,
    }
}

fn wire_class(e: ErrorClass) -> pb::ErrorClass {
    match e {
        ErrorClass::Connect => pb::ErrorClass::Connect,
        ErrorClass::Timeout => pb::ErrorClass::Timeout,
        ErrorClass::Http4xx => pb::ErrorClass::Http4xx,
        ErrorClass::Http5xx => pb::ErrorClass::Http5xx,
        ErrorClass::Reset => pb::ErrorClass::Reset,
        ErrorClass::Malformed => pb::ErrorClass::Malformed,
        ErrorClass::StreamError => pb::ErrorClass::StreamError,
        ErrorClass::Truncated => pb::ErrorClass::Truncated,
        ErrorClass::Cancelled => pb::ErrorClass::Cancelled,
        ErrorClass::TooLarge => pb::ErrorClass::TooLarge,
        ErrorClass::Other => pb::ErrorClass::Other,
    }
}

fn class_of(e: pb::ErrorClass) -> Result<ErrorClass, RecordError> {
    Ok(match e {
        pb::ErrorClass::Unspecified => return Err(RecordError::Unspecified { field: "error" }),
        pb::ErrorClass::Connect => ErrorClass::Connect,
        pb::ErrorClass::Timeout => ErrorClass::Timeout,
        pb::ErrorClass::Http4xx => ErrorClass::Http4xx,
        pb::ErrorClass::Http5xx => ErrorClass::Http5xx,
        pb::ErrorClass::Reset => ErrorClass::Reset,
        pb::ErrorClass::Malformed => ErrorClass::Malformed,
        pb::ErrorClass::StreamError => ErrorClass::StreamError,
        pb::ErrorClass::Truncated => ErrorClass::Truncated,
        pb::ErrorClass::Cancelled => ErrorClass::Cancelled,
        pb::ErrorClass::TooLarge => ErrorClass::TooLarge,
        pb::ErrorClass::Other => ErrorClass::Other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn failed() -> RequestRecord {
        RequestRecord {
            id: 7,
            scheduled_us: Some(10),
            sent_us: 12,
            queue_us: Some(3),
            ttft_us: Some(40),
            ttfo_us: None,
            latency_us: 90,
            chunk_us: vec![40, 40, 55],
            prompt_tokens: 11,
            completion_tokens: 3,
            reasoning_tokens: 1,
            cached_tokens: 2,
            token_source: TokenSource::Tokenizer,
            status: 503,
            error: Some(ErrorClass::Http5xx),
            error_detail: Some("overloaded".into()),
            conversation: Some(4),
            turn: Some(2),
        }
    }

    fn rejected(w: &pb::Record) -> RecordError {
        match from_wire(w) {
            Ok(r) => panic!("accepted {r:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn every_class_and_source_round_trips() {
        for class in ErrorClass::ALL.into_iter().map(Some).chain([None]) {
            for source in [
                TokenSource::Usage,
                TokenSource::Tokenizer,
                TokenSource::Unknown,
            ] {
                let r = RequestRecord {
                    error: class,
                    token_source: source,
                    ..failed()
                };
                assert_eq!(from_wire(&to_wire(&r)), Ok(r));
            }
        }
        let plain = RequestRecord::default();
        assert_eq!(
            RequestRecord::try_from(&pb::Record::from(&plain)),
            Ok(plain)
        );
    }

    #[test]
    fn unknown_and_unspecified_enums_are_refused_by_field() {
        let mut w = to_wire(&failed());
        w.token_source = 99;
        assert_eq!(
            rejected(&w),
            RecordError::UnknownEnum {
                field: "token_source",
                value: 99
            }
        );
        w.token_source = pb::TokenSource::Unspecified as i32;
        assert_eq!(
            rejected(&w),
            RecordError::Unspecified {
                field: "token_source"
            }
        );
        let mut w = to_wire(&failed());
        w.error = Some(-3);
        assert_eq!(
            rejected(&w),
            RecordError::UnknownEnum {
                field: "error",
                value: -3
            }
        );
        w.error = Some(pb::ErrorClass::Unspecified as i32);
        let e = rejected(&w);
        assert_eq!(e, RecordError::Unspecified { field: "error" });
        assert_eq!(e.to_string(), "field `error`: unspecified");
    }

    #[test]
    fn a_status_past_u16_is_refused() {
        let mut w = to_wire(&failed());
        w.status = 65_536;
        let e = rejected(&w);
        assert_eq!(
            e,
            RecordError::OutOfRange {
                field: "status",
                value: 65_536,
                max: 65_535
            }
        );
        assert!(e.to_string().contains("`status`"), "{e}");
        w.status = 65_535;
        assert_eq!(from_wire(&w).map(|r| r.status), Ok(65_535));
    }

    #[test]
    fn chunk_times_must_be_in_order_and_bounded() {
        let mut w = to_wire(&failed());
        w.chunk_us = vec![5, 9, 8, 10];
        assert_eq!(
            rejected(&w),
            RecordError::ChunksNotSorted { index: 2, value: 8 }
        );
        w.chunk_us = vec![1; MAX_CHUNK_TIMES + 1];
        assert_eq!(
            rejected(&w),
            RecordError::TooManyChunks {
                len: MAX_CHUNK_TIMES + 1
            }
        );
        w.chunk_us = vec![1; MAX_CHUNK_TIMES];
        assert!(from_wire(&w).is_ok());
    }

    #[test]
    fn a_long_detail_is_refused_and_clipped_when_sent() {
        let mut w = to_wire(&failed());
        w.error_detail = Some("x".repeat(MAX_ERROR_DETAIL_BYTES + 1));
        let e = rejected(&w);
        assert_eq!(
            e,
            RecordError::DetailTooLong {
                len: MAX_ERROR_DETAIL_BYTES + 1
            }
        );
        assert!(e.to_string().contains("`error_detail`"), "{e}");
        // sent: cut on a character boundary, within the bound
        let r = RequestRecord {
            error_detail: Some("é".repeat(MAX_ERROR_DETAIL_BYTES)),
            ..failed()
        };
        let w = to_wire(&r);
        let d = w.error_detail.as_deref().unwrap_or_default();
        assert_eq!(d.len(), MAX_ERROR_DETAIL_BYTES);
        assert!(d.chars().all(|c| c == 'é'));
        assert!(from_wire(&w).is_ok());
    }

    fn class() -> impl Strategy<Value = Option<ErrorClass>> {
        proptest::option::of(proptest::sample::select(ErrorClass::ALL.to_vec()))
    }

    fn source() -> impl Strategy<Value = TokenSource> {
        proptest::sample::select(vec![
            TokenSource::Usage,
            TokenSource::Tokenizer,
            TokenSource::Unknown,
        ])
    }

    prop_compose! {
        fn record()(
            id in any::<u64>(),
            scheduled_us in any::<Option<u64>>(),
            sent_us in any::<u64>(),
            queue_us in any::<Option<u64>>(),
            ttft_us in any::<Option<u64>>(),
            ttfo_us in any::<Option<u64>>(),
            latency_us in any::<u64>(),
            chunk_us in proptest::collection::vec(any::<u64>(), 0..64),
            tokens in any::<(u32, u32, u32, u32)>(),
            token_source in source(),
            status in any::<u16>(),
            error in class(),
            error_detail in proptest::option::of("\\PC{0,200}"),
            conversation in proptest::option::of(any::<u64>()),
            turn in proptest::option::of(any::<u32>()),
        ) -> RequestRecord {
            let mut chunk_us = chunk_us;
            chunk_us.sort_unstable();
            RequestRecord {
                id, scheduled_us, sent_us, queue_us, ttft_us, ttfo_us, latency_us, chunk_us,
                prompt_tokens: tokens.0,
                completion_tokens: tokens.1,
                reasoning_tokens: tokens.2,
                cached_tokens: tokens.3,
                token_source, status, error, error_detail, conversation, turn,
            }
        }
    }

    proptest! {
        #[test]
        fn records_round_trip_through_protobuf(r in record()) {
            let bytes = prost::Message::encode_to_vec(&to_wire(&r));
            let w: pb::Record = prost::Message::decode(bytes.as_slice())
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(from_wire(&w), Ok(r));
        }

        #[test]
        fn any_wire_record_converts_or_is_refused_without_panic(
            token_source in -2..6i32,
            error in proptest::option::of(-2..14i32),
            status in any::<u32>(),
            chunk_us in proptest::collection::vec(any::<u64>(), 0..16),
        ) {
            let w = pb::Record { token_source, error, status, chunk_us, ..Default::default() };
            if let Ok(r) = from_wire(&w) {
                prop_assert_eq!(to_wire(&r), w);
            }
        }
    }
}
