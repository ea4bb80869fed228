//! Sparse histogram deltas: the non-empty bins of an interval histogram, decoded straight from
//! its V2 bytes. An agent's one-second delta touches a few hundred bins of the tens of
//! thousands a 3-significant-figure histogram has, so decoding into a full histogram and adding
//! it bin by bin (what `Histogram::add` does) costs ~100× more than applying the sparse bins.
//! This is the coordinator's hot path when 1,000 agents report every second.

use super::histogram::{HistError, HistSpec};

/// V2 cookie of an uncompressed histogram; bits 4–7 carry a word-size hint and are ignored.
const V2_COOKIE: u32 = 0x1c84_9303;
/// Cookie + payload length + normalizing offset + digits + low + high + ratio.
const V2_HEADER: usize = 4 + 4 + 4 + 4 + 8 + 8 + 8;

/// The non-empty bins of one histogram: (lowest value of the bin, count).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SparseHist {
    /// Non-empty bins, ascending.
    pub bins: Vec<(u64, u64)>,
    /// Values that were clamped at the high bound.
    pub high_outliers: u64,
    /// The largest clamped value.
    pub highest_outlier: u64,
}

/// How `spec`'s counts array is laid out (the same formulas as the `hdrhistogram` crate).
#[derive(Debug, Clone, Copy)]
struct Layout {
    unit_magnitude: u32,
    half_count_magnitude: u32,
    half_count: u64,
}

impl Layout {
    fn of(spec: HistSpec) -> Self {
        let largest = 2.0 * 10f64.powi(i32::from(spec.sigfig));
        let count_magnitude = largest.log2().ceil() as u32;
        let half_count_magnitude = count_magnitude.saturating_sub(1);
        Self {
            unit_magnitude: (spec.low.max(1) as f64).log2().floor() as u32,
            half_count_magnitude,
            half_count: 1u64 << half_count_magnitude,
        }
    }

    /// The lowest value of counts-array slot `index`.
    fn value_at(&self, index: u64) -> Option<u64> {
        // an index past any bucket of a u64 range is no value (and must not wrap negative)
        let bucket = i64::try_from(index >> self.half_count_magnitude).ok()? - 1;
        let mut sub = (index & (self.half_count - 1)) + self.half_count;
        let mut bucket = bucket;
        if bucket < 0 {
            sub -= self.half_count;
            bucket = 0;
        }
        // a bucket past u32 must not wrap to a small shift (and a small value)
        let shift = u32::try_from(bucket)
            .ok()?
            .checked_add(self.unit_magnitude)?;
        if shift >= 64 || sub.leading_zeros() < shift {
            return None;
        }
        Some(sub << shift)
    }
}

fn varint(bytes: &[u8], pos: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    for i in 0..9 {
        let b = *bytes.get(*pos)?;
        *pos += 1;
        if i == 8 {
            return Some(value | (u64::from(b) << 56));
        }
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some(value);
        }
    }
    Some(value)
}

fn bad(spec: HistSpec, reason: String) -> HistError {
    HistError::BadSpec { spec, reason }
}

impl SparseHist {
    /// Decodes uncompressed V2 bytes built with exactly `spec`. Anything else (another spec,
    /// compression, a truncated payload, bins above the high bound) is an error, never a panic.
    pub fn from_v2(
        spec: HistSpec,
        bytes: &[u8],
        high_outliers: u64,
        highest_outlier: u64,
    ) -> Result<Self, HistError> {
        let header = bytes.get(..V2_HEADER).ok_or_else(|| {
            HistError::Decode(format!("{} bytes is shorter than a V2 header", bytes.len()))
        })?;
        let be32 = |at: usize| {
            u32::from_be_bytes([header[at], header[at + 1], header[at + 2], header[at + 3]])
        };
        let be64 = |at: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&header[at..at + 8]);
            u64::from_be_bytes(b)
        };
        if be32(0) & !0xf0 != V2_COOKIE {
            return Err(HistError::Decode(format!(
                "cookie {:#x} is not an uncompressed V2 histogram",
                be32(0)
            )));
        }
        let payload_len = be32(4) as usize;
        let (digits, low, high) = (be32(12), be64(16), be64(24));
        if digits != u32::from(spec.sigfig) || low != spec.low || high != spec.high {
            return Err(bad(
                spec,
                format!("snapshot histogram has low {low}, high {high}, {digits} digits"),
            ));
        }
        let payload = bytes
            .get(V2_HEADER..V2_HEADER + payload_len)
            .ok_or_else(|| {
                HistError::Decode(format!("payload of {payload_len} bytes is truncated"))
            })?;
        let layout = Layout::of(spec);
        let mut bins = Vec::new();
        let (mut pos, mut index) = (0usize, 0u64);
        while pos < payload.len() {
            let zz = varint(payload, &mut pos)
                .ok_or_else(|| HistError::Decode("truncated varint".into()))?;
            let n = ((zz >> 1) as i64) ^ -((zz & 1) as i64);
            if n < 0 {
                // no encoder writes a run of 2^63 zeros (zigzag u64::MAX), and the hdrhistogram
                // decoder negates it with overflow: refused here, before `MetricHist::from_v2`
                // hands the bytes to that decoder
                if n == i64::MIN {
                    return Err(HistError::Decode("a zero run of 2^63 slots".into()));
                }
                // a skip past every slot of a u64 range cannot be followed by a count
                index = index.checked_add(n.unsigned_abs()).ok_or_else(|| {
                    HistError::Decode("a zero run overflows the counts array".into())
                })?;
                continue;
            }
            if n > 0 {
                let value = layout
                    .value_at(index)
                    .filter(|v| *v <= spec.high)
                    .ok_or_else(|| {
                        HistError::Decode(format!(
                            "bin {index} lies above the high bound {}",
                            spec.high
                        ))
                    })?;
                bins.push((value, n as u64));
            }
            index = index
                .checked_add(1)
                .ok_or_else(|| HistError::Decode("the counts array overflows".into()))?;
        }
        Ok(Self {
            bins,
            high_outliers,
            highest_outlier,
        })
    }

    /// Total count (saturating: hostile counts that add past 2^64 read as `u64::MAX`, which
    /// every bound refuses, instead of wrapping to a small number).
    pub fn len(&self) -> u64 {
        self.bins
            .iter()
            .fold(0u64, |total, (_, c)| total.saturating_add(*c))
    }

    /// Whether no bin is set.
    pub fn is_empty(&self) -> bool {
        self.bins.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::histogram::MetricHist;

    #[test]
    fn sparse_decode_equals_the_full_decode() {
        for spec in [
            HistSpec::DURATION_US,
            HistSpec::TOKENS,
            HistSpec::RATE_MILLI,
            HistSpec {
                low: 1,
                high: 1_000_000,
                sigfig: 2,
            },
        ] {
            let mut h = MetricHist::new(spec).expect("valid");
            let mut x = 7u64;
            for _ in 0..5000 {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
                h.record((x >> 20) % spec.high.min(10_000_000_000));
            }
            h.record(0);
            let sparse = SparseHist::from_v2(spec, &h.to_v2(), 0, 0).expect("decodes");
            let mut rebuilt = MetricHist::new(spec).expect("valid");
            rebuilt.add_sparse(&sparse);
            assert_eq!(sparse.len(), h.len());
            for p in [0.0, 1.0, 25.0, 50.0, 90.0, 99.0, 99.9, 100.0] {
                assert_eq!(rebuilt.percentile(p), h.percentile(p), "{spec:?} p{p}");
            }
            assert_eq!(rebuilt.to_v2(), h.to_v2(), "{spec:?}");
        }
    }

    #[test]
    fn hostile_bytes_are_errors() {
        let spec = HistSpec::TOKENS;
        let good = {
            let mut h = MetricHist::new(spec).expect("valid");
            h.record(5);
            h.to_v2()
        };
        assert!(SparseHist::from_v2(spec, &good[..10], 0, 0).is_err());
        assert!(SparseHist::from_v2(HistSpec::DURATION_US, &good, 0, 0).is_err());
        let mut truncated = good.clone();
        truncated.truncate(good.len() - 1);
        assert!(SparseHist::from_v2(spec, &truncated, 0, 0).is_err());
        let mut far = good[..V2_HEADER].to_vec();
        far[4..8].copy_from_slice(&4u32.to_be_bytes());
        far.extend_from_slice(&[0xff, 0xff, 0xff, 0x0f]); // a huge zero run
        far[4..8].copy_from_slice(&5u32.to_be_bytes());
        far.push(2); // then a count: lies far above the bound
        assert!(SparseHist::from_v2(spec, &far, 0, 0).is_err());
        for cut in 0..good.len() {
            let _ = SparseHist::from_v2(spec, &good[..cut], 0, 0);
        }
    }

    /// Zig-zag LEB128 of `n`, as the V2 payload encodes counts and zero runs.
    fn zz(n: i64) -> Vec<u8> {
        let mut v = ((n << 1) ^ (n >> 63)) as u64;
        let mut out = Vec::new();
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(b);
                return out;
            }
            out.push(b | 0x80);
        }
    }

    fn with_payload(spec: HistSpec, payload: &[u8]) -> Vec<u8> {
        let mut h = MetricHist::new(spec).expect("valid").to_v2();
        h.truncate(V2_HEADER);
        h[4..8].copy_from_slice(&(payload.len() as u32).to_be_bytes());
        h.extend_from_slice(payload);
        h
    }

    #[test]
    fn counts_that_overflow_are_refused_not_wrapped() {
        let spec = HistSpec::TOKENS;
        // two bins of 2^62 + 2^62 + 2^63: the sum passes 2^64 and would wrap to a small number
        let mut payload = Vec::new();
        payload.extend(zz(1 << 62));
        payload.extend(zz(1 << 62));
        payload.extend(zz(i64::MAX));
        let h = SparseHist::from_v2(spec, &with_payload(spec, &payload), 0, 0).expect("decodes");
        assert_eq!(
            h.len(),
            u64::MAX,
            "saturated, so MAX_HIST_VALUES refuses it"
        );

        // a zero run of 2^63 - 1 twice, then a count: the index would overflow u64
        let mut payload = Vec::new();
        payload.extend(zz(-i64::MAX));
        payload.extend(zz(-i64::MAX));
        payload.extend(zz(-i64::MAX));
        payload.extend(zz(1));
        assert!(SparseHist::from_v2(spec, &with_payload(spec, &payload), 0, 0).is_err());

        // a zero run to just below 2^63 slots, then a count: no bin there, never a low value
        let mut payload = Vec::new();
        payload.extend(zz(-(i64::MAX - 3)));
        payload.extend(zz(7));
        assert!(SparseHist::from_v2(spec, &with_payload(spec, &payload), 0, 0).is_err());
    }

    #[test]
    fn a_slot_past_u32_buckets_is_no_value() {
        let spec = HistSpec::DURATION_US;
        // a zero run to slot 2^42 + 1024: its bucket, (index >> 10) - 1 = 2^32, must not wrap
        // to bucket 0 and decode as the value 1024
        let mut payload = Vec::new();
        payload.extend(zz(-((1i64 << 42) + 1024)));
        payload.extend(zz(1));
        assert!(SparseHist::from_v2(spec, &with_payload(spec, &payload), 0, 0).is_err());
    }

    #[test]
    fn a_zero_run_of_two_to_the_63_is_refused_by_both_decoders() {
        let spec = HistSpec::DURATION_US;
        // zigzag u64::MAX (a run of 2^63) as the V2 varint writes it: nine bytes of 0xff (the
        // shape the agent_message fuzzer found: a first run, this one, then a short run).
        // The hdrhistogram decoder alone negates it with overflow, count after it or not.
        for tail in [&[][..], &zz(1)[..], &zz(-192)[..]] {
            let mut payload = zz(-(1i64 << 49));
            payload.extend([0xff; 9]);
            payload.extend_from_slice(tail);
            let bytes = with_payload(spec, &payload);
            assert!(SparseHist::from_v2(spec, &bytes, 0, 0).is_err());
            assert!(MetricHist::from_v2(spec, &bytes, 0, 0).is_err());
        }
    }
}
