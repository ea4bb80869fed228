//! How a faulted body dies: optionally stall (send nothing, keep the connection open), then
//! fail so hyper drops the connection, which the [`ResetSwitch`] turns into a TCP reset.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::time::Sleep;
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

use crate::conn::ResetSwitch;

/// The body error that makes hyper abort the connection mid-body.
#[derive(Debug, thiserror::Error)]
#[error("simulated connection reset")]
pub(crate) struct SimulatedReset;

/// Sends nothing until `max` has passed or the server shuts down.
#[derive(Debug)]
struct Stall {
    sleep: Pin<Box<Sleep>>,
    cancelled: Pin<Box<WaitForCancellationFutureOwned>>,
}

impl Stall {
    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if self.cancelled.as_mut().poll(cx).is_ready() {
            return Poll::Ready(());
        }
        self.sleep.as_mut().poll(cx)
    }
}

/// The end of a faulted body: an optional stall, then a connection reset.
#[derive(Debug)]
pub(crate) struct Abort {
    stall: Option<Stall>,
    /// Whether hyper already had a turn to flush what was sent before the reset.
    yielded: bool,
    reset: ResetSwitch,
}

impl Abort {
    /// Reset the connection as soon as what was sent so far is flushed.
    pub fn reset(reset: ResetSwitch) -> Self {
        Abort {
            stall: None,
            yielded: false,
            reset,
        }
    }

    /// Send nothing for `max` (or until `cancel`), then reset.
    pub fn stall(reset: ResetSwitch, max: Duration, cancel: &CancellationToken) -> Self {
        Abort {
            stall: Some(Stall {
                sleep: Box::pin(tokio::time::sleep(max)),
                cancelled: Box::pin(cancel.clone().cancelled_owned()),
            }),
            yielded: false,
            reset,
        }
    }

    /// Ready with the error to hand hyper once the stall (if any) is over.
    pub fn poll(&mut self, cx: &mut Context<'_>) -> Poll<SimulatedReset> {
        if let Some(stall) = &mut self.stall {
            ready!(stall.poll(cx));
            self.stall = None;
        }
        if !self.yielded {
            // Let hyper write out the frames already handed over before the connection dies.
            self.yielded = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        self.reset.trigger();
        Poll::Ready(SimulatedReset)
    }
}
