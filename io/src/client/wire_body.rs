//! A request body that notes when the connection first takes it: the moment the request is on
//! the wire, after any wait on the client for a connection (HTTP/1.1) or a stream (HTTP/2).
//! That wait is reported apart (`client_queue`) so it can never hide inside TTFT.

use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::time::Instant;

/// One buffer of bytes, sent whole, with the instant it was first polled.
pub struct WireBody {
    data: Option<Bytes>,
    len: u64,
    taken: Arc<OnceLock<Instant>>,
}

impl WireBody {
    /// A body of `data`; `taken` is set when the connection first asks for it.
    pub fn new(data: Bytes, taken: Arc<OnceLock<Instant>>) -> Self {
        Self {
            len: data.len() as u64,
            data: Some(data),
            taken,
        }
    }
}

impl Body for WireBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        let _ = this.taken.set(Instant::now());
        Poll::Ready(this.data.take().map(|d| Ok(Frame::data(d))))
    }

    fn is_end_stream(&self) -> bool {
        self.data.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        // exact: sent with a content-length, not chunked
        SizeHint::with_exact(self.len)
    }
}
