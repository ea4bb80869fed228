//! A slow-loris answer: whatever the inner body sends leaves one byte at a time, one byte every
//! `every`, so the connection is never idle for long and the answer is never done in time.

use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::{Buf, Bytes};
use hyper::body::{Body, Frame};
use tokio::time::Sleep;

use crate::abort::SimulatedReset;
use crate::body::SimBody;

/// Re-times an inner body to one byte per `every`.
pub(crate) struct DribbleBody {
    inner: SimBody,
    pending: Bytes,
    every: Duration,
    sleep: Pin<Box<Sleep>>,
    inner_done: bool,
}

impl DribbleBody {
    /// Dribbles `inner`, one byte every `every` (the first byte after one pause).
    pub fn new(inner: SimBody, every: Duration) -> Self {
        DribbleBody {
            inner,
            pending: Bytes::new(),
            every,
            sleep: Box::pin(tokio::time::sleep(every)),
            inner_done: false,
        }
    }

    /// The next byte once its pause is over; inner errors pass through at once.
    pub fn poll_frame(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, SimulatedReset>>> {
        while self.pending.is_empty() {
            if self.inner_done {
                return Poll::Ready(None);
            }
            match ready!(Pin::new(&mut self.inner).poll_frame(cx)) {
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        self.pending = data;
                    }
                }
                Some(Err(e)) => return Poll::Ready(Some(Err(e))),
                None => self.inner_done = true,
            }
        }
        ready!(self.sleep.as_mut().poll(cx));
        let next = tokio::time::Instant::now() + self.every;
        self.sleep.as_mut().reset(next);
        let byte = self.pending.slice(..1);
        self.pending.advance(1);
        Poll::Ready(Some(Ok(Frame::data(byte))))
    }

    /// Whether nothing is left to send.
    pub fn is_end_stream(&self) -> bool {
        self.inner_done && self.pending.is_empty()
    }
}
