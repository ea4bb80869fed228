//! The one response body type the server hands hyper: a fixed buffer, a single frame with
//! truth recording and an optional faulty ending, or a token stream.

use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};

use crate::abort::{Abort, SimulatedReset};
use crate::dribble::DribbleBody;
use crate::stream::StreamBody;
use crate::truth::TruthRecorder;

/// A response body.
pub(crate) enum SimBody {
    /// A complete body known up front (sent with `content-length`).
    Full(Option<Bytes>),
    /// One frame, recorded in the truth log and/or followed by an [`Abort`].
    Once(Box<OnceBody>),
    /// A streamed answer.
    Stream(Box<StreamBody>),
    /// Another body, one byte at a time (the slow-loris fault).
    Dribble(Box<DribbleBody>),
}

impl SimBody {
    /// A complete body.
    pub fn full(data: impl Into<Bytes>) -> Self {
        SimBody::Full(Some(data.into()))
    }

    /// An empty body.
    pub fn empty() -> Self {
        SimBody::Full(None)
    }
}

/// A single frame of a non-streamed answer.
pub(crate) struct OnceBody {
    data: Option<Bytes>,
    /// Whether the frame carries the answer's tokens (for the truth log).
    carries_tokens: bool,
    /// What happens after the frame: nothing (clean end) or a stall/reset.
    then: Option<Abort>,
    truth: Option<TruthRecorder>,
}

impl OnceBody {
    /// A body of `data`, then `then` if given.
    pub fn new(
        data: Bytes,
        carries_tokens: bool,
        then: Option<Abort>,
        truth: Option<TruthRecorder>,
    ) -> Self {
        OnceBody {
            data: Some(data),
            carries_tokens,
            then,
            truth,
        }
    }

    fn poll_frame(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, SimulatedReset>>> {
        if let Some(data) = self.data.take() {
            if let Some(truth) = &mut self.truth {
                truth.event(self.carries_tokens);
                truth.frame_sent();
                if self.then.is_none() {
                    truth.commit();
                }
            }
            return Poll::Ready(Some(Ok(Frame::data(data))));
        }
        if let Some(abort) = &mut self.then {
            let err = ready!(abort.poll(cx));
            self.then = None;
            if let Some(truth) = &mut self.truth {
                truth.commit();
            }
            return Poll::Ready(Some(Err(err)));
        }
        Poll::Ready(None)
    }
}

impl Body for SimBody {
    type Data = Bytes;
    type Error = SimulatedReset;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, SimulatedReset>>> {
        match self.get_mut() {
            SimBody::Full(data) => Poll::Ready(data.take().map(|d| Ok(Frame::data(d)))),
            SimBody::Once(once) => once.poll_frame(cx),
            SimBody::Stream(stream) => stream.poll_frame(cx),
            SimBody::Dribble(d) => d.poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            SimBody::Full(data) => data.is_none(),
            SimBody::Once(once) => once.data.is_none() && once.then.is_none(),
            SimBody::Stream(stream) => stream.is_end_stream(),
            SimBody::Dribble(d) => d.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            SimBody::Full(data) => {
                SizeHint::with_exact(data.as_ref().map_or(0, |d| d.len() as u64))
            }
            SimBody::Once(once) if once.then.is_none() => {
                SizeHint::with_exact(once.data.as_ref().map_or(0, |d| d.len() as u64))
            }
            SimBody::Once(_) | SimBody::Stream(_) | SimBody::Dribble(_) => SizeHint::default(),
        }
    }
}
