//! The body of a streamed answer: a state machine hyper polls for frames. Token i is due at
//! t0 + ttft + (sum of i gaps) on an absolute timeline, so sleeps never drift; every event
//! already due when the body is polled goes into the same frame, so with zero latency a whole
//! answer is one write.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::{Bytes, BytesMut};
use hyper::body::Frame;
use tokio::time::{Instant, Sleep};

use crate::Fault;
use crate::abort::{Abort, SimulatedReset};
use crate::conn::ResetSwitch;
use crate::plan::{Endpoint, Plan};
use crate::server::Shared;
use crate::sse::{self, EventWriter};
use crate::truth::TruthRecorder;

/// A frame is handed over once it holds this many bytes, even if more events are due.
const MAX_FRAME: usize = 32 * 1024;

/// Where the stream is.
#[derive(Debug)]
enum Phase {
    /// Sending tokens.
    Tokens,
    /// All tokens sent: usage (if asked) and `[DONE]` next.
    Tail,
    /// Hand over what is buffered, then end cleanly.
    End,
    /// Ended.
    Finished,
    /// Hand over what is buffered, then stall and/or reset.
    Abort(Abort),
}

/// A streamed answer in progress.
pub(crate) struct StreamBody {
    shared: Arc<Shared>,
    plan: Plan,
    events: EventWriter,
    reset: ResetSwitch,
    phase: Phase,
    /// Index of the next token to send.
    next_token: u32,
    /// When the next token is due.
    next_due: Instant,
    /// Whether the planned mid-stream fault is still to come.
    fault_pending: bool,
    buf: BytesMut,
    sleep: Option<Pin<Box<Sleep>>>,
    truth: Option<TruthRecorder>,
    /// The generation slot (`capacity`), released when the body ends or is dropped.
    slot: Option<tokio::sync::OwnedSemaphorePermit>,
}

impl StreamBody {
    /// A stream for `plan` whose clock started at `t0` (when the request arrived).
    pub fn new(
        shared: Arc<Shared>,
        plan: Plan,
        events: EventWriter,
        reset: ResetSwitch,
        t0: Instant,
        truth: Option<TruthRecorder>,
    ) -> Self {
        let next_due = t0 + plan.ttft;
        let zero_latency = shared.config.latency.itl_ms.is_zero();
        let events_per_frame = if zero_latency {
            plan.completion_tokens as usize + 3
        } else {
            2
        };
        let capacity = (events.token_event_len() * events_per_frame).min(MAX_FRAME + 1024);
        let fault_pending = !matches!(
            plan.fault,
            Fault::None | Fault::RateLimit | Fault::ServerError
        );
        StreamBody {
            shared,
            plan,
            events,
            reset,
            phase: Phase::Tokens,
            next_token: 0,
            next_due,
            fault_pending,
            buf: BytesMut::with_capacity(capacity),
            sleep: None,
            truth,
            slot: None,
        }
    }

    /// The same stream holding a generation slot until it ends.
    pub fn holding(mut self, slot: Option<tokio::sync::OwnedSemaphorePermit>) -> Self {
        self.slot = slot;
        self
    }

    /// Whether the body has ended.
    pub fn is_end_stream(&self) -> bool {
        matches!(self.phase, Phase::Finished)
    }

    /// The next frame, error or end of the body.
    pub fn poll_frame(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, SimulatedReset>>> {
        let mut now: Option<Instant> = None;
        loop {
            match &mut self.phase {
                Phase::Tokens => {
                    let due = self.next_due;
                    if due > *now.get_or_insert_with(Instant::now) {
                        if !self.buf.is_empty() {
                            return Poll::Ready(Some(Ok(self.flush())));
                        }
                        ready!(self.poll_sleep(due, cx));
                        now = None;
                        continue;
                    }
                    if self.fault_pending && self.next_token == self.plan.fault_at {
                        self.strike();
                        continue;
                    }
                    self.write_token();
                    if self.buf.len() >= MAX_FRAME {
                        return Poll::Ready(Some(Ok(self.flush())));
                    }
                }
                Phase::Tail => {
                    if self.plan.include_usage {
                        self.events.usage(&mut self.buf, &self.plan);
                        self.record(false);
                    }
                    // a Responses stream ends with its `response.completed` event
                    if self.plan.endpoint != Endpoint::Responses {
                        self.buf.extend_from_slice(sse::DONE);
                        self.record(false);
                    }
                    self.phase = Phase::End;
                }
                Phase::End => {
                    self.phase = Phase::Finished;
                    if self.buf.is_empty() {
                        self.commit();
                        return Poll::Ready(None);
                    }
                    let frame = self.flush();
                    // Filed before the last bytes leave, so a client that saw them finds the entry.
                    self.commit();
                    return Poll::Ready(Some(Ok(frame)));
                }
                Phase::Finished => return Poll::Ready(None),
                Phase::Abort(abort) => {
                    if !self.buf.is_empty() {
                        return Poll::Ready(Some(Ok(self.flush())));
                    }
                    let err = ready!(abort.poll(cx));
                    self.phase = Phase::Finished;
                    self.commit();
                    return Poll::Ready(Some(Err(err)));
                }
            }
        }
    }

    /// Writes token `next_token` (with the role chunk before the first chat token).
    fn write_token(&mut self) {
        let i = self.next_token;
        if i == 0 && self.plan.endpoint != Endpoint::Completion {
            self.events.role(&mut self.buf);
            self.record(false);
        }
        let (text, channel) = self.plan.token(i);
        let last = i + 1 == self.plan.completion_tokens;
        let finish = last.then_some(self.plan.finish_reason);
        self.events.token(&mut self.buf, text, channel, finish);
        self.record(true);
        self.next_token = i + 1;
        if last {
            self.phase = Phase::Tail;
            // generation is over: the slot frees for the next queued answer
            self.slot = None;
        } else {
            self.next_due += self.plan.next_itl(&self.shared.config) + self.shared.batch_itl();
        }
    }

    /// The planned mid-stream fault happens now.
    fn strike(&mut self) {
        self.fault_pending = false;
        match self.plan.fault {
            Fault::Malformed => {
                self.buf.extend_from_slice(sse::MALFORMED_EVENT);
                self.record(false);
            }
            Fault::Truncate => self.phase = Phase::End,
            Fault::StreamError => {
                self.buf.extend_from_slice(self.events.error_event());
                self.record(false);
                self.phase = Phase::End;
            }
            Fault::Reset => self.phase = Phase::Abort(Abort::reset(self.reset.clone())),
            Fault::Stall => {
                let max = std::time::Duration::from_millis(self.shared.config.faults.stall_max_ms);
                self.phase =
                    Phase::Abort(Abort::stall(self.reset.clone(), max, &self.shared.cancel));
            }
            Fault::None
            | Fault::RateLimit
            | Fault::ServerError
            | Fault::Hang
            | Fault::SlowLoris => {}
        }
    }

    fn poll_sleep(&mut self, due: Instant, cx: &mut Context<'_>) -> Poll<()> {
        let sleep = match &mut self.sleep {
            Some(sleep) => {
                if sleep.deadline() != due {
                    sleep.as_mut().reset(due);
                }
                sleep
            }
            None => self.sleep.insert(Box::pin(tokio::time::sleep_until(due))),
        };
        sleep.as_mut().poll(cx)
    }

    fn record(&mut self, carries_token: bool) {
        if let Some(truth) = &mut self.truth {
            truth.event(carries_token);
        }
    }

    /// Hands over what is buffered as one frame.
    fn flush(&mut self) -> Frame<Bytes> {
        if let Some(truth) = &mut self.truth {
            truth.frame_sent();
        }
        Frame::data(self.buf.split().freeze())
    }

    fn commit(&mut self) {
        if let Some(truth) = &mut self.truth {
            truth.commit();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio_util::sync::CancellationToken;

    use super::*;
    use crate::openai::GenerateRequest;
    use crate::{Dist, SimConfig, TruthLog};

    /// Streams one answer under paused time; returns (ms after t0, body text) per frame.
    async fn frames(config: SimConfig, fault: Fault, max_tokens: u32) -> Vec<(u128, String)> {
        let shared = Arc::new(Shared::new(
            config,
            TruthLog::new(),
            CancellationToken::new(),
        ));
        let req = GenerateRequest::parse(
            format!(r#"{{"messages":[],"stream":true,"max_tokens":{max_tokens}}}"#).as_bytes(),
        )
        .unwrap();
        let plan = Plan::new(&shared.config, Endpoint::Chat, 0, &req, Some(fault)).unwrap();
        let events = EventWriter::new(&plan, "\"m\"", 0);
        let t0 = Instant::now();
        let mut body = StreamBody::new(shared, plan, events, ResetSwitch::default(), t0, None);
        let mut out = Vec::new();
        while let Some(frame) = std::future::poll_fn(|cx| body.poll_frame(cx)).await {
            let data = frame.unwrap().into_data().unwrap();
            out.push((
                (Instant::now() - t0).as_millis(),
                String::from_utf8(data.to_vec()).unwrap(),
            ));
        }
        assert!(body.is_end_stream());
        out
    }

    fn latency(ttft: f64, itl: f64) -> SimConfig {
        let mut c = SimConfig::instant();
        c.latency.ttft_ms = Dist::fixed(ttft);
        c.latency.itl_ms = Dist::fixed(itl);
        c
    }

    #[tokio::test(start_paused = true)]
    async fn tokens_leave_exactly_on_schedule() {
        let f = frames(latency(50.0, 10.0), Fault::None, 4).await;
        let times: Vec<u128> = f.iter().map(|(t, _)| *t).collect();
        // The last frame holds token 3 and [DONE]; the role chunk rides with token 0.
        assert_eq!(times, [50, 60, 70, 80]);
        assert!(f[0].1.contains(r#""role":"assistant""#) && f[0].1.contains("lorem "));
        assert_eq!(f[0].1.matches("data: ").count(), 2);
        assert!(f[3].1.ends_with("data: [DONE]\n\n"));
    }

    #[tokio::test(start_paused = true)]
    async fn zero_latency_is_one_frame() {
        let f = frames(latency(0.0, 0.0), Fault::None, 64).await;
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].0, 0);
        // role + 64 tokens + [DONE]
        assert_eq!(f[0].1.matches("data: ").count(), 66);
    }

    #[tokio::test(start_paused = true)]
    async fn late_polls_catch_up_without_drift() {
        let shared = Arc::new(Shared::new(
            latency(20.0, 10.0),
            TruthLog::new(),
            CancellationToken::new(),
        ));
        let req =
            GenerateRequest::parse(br#"{"prompt":"x","stream":true,"max_tokens":5}"#).unwrap();
        let plan = Plan::new(&shared.config, Endpoint::Completion, 0, &req, None).unwrap();
        let events = EventWriter::new(&plan, "\"m\"", 0);
        let t0 = Instant::now();
        let mut body = StreamBody::new(shared, plan, events, ResetSwitch::default(), t0, None);
        // The writer is busy until 45 ms: tokens due at 20, 30 and 40 ms leave together.
        tokio::time::sleep(Duration::from_millis(45)).await;
        let first = std::future::poll_fn(|cx| body.poll_frame(cx))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            first
                .into_data()
                .unwrap()
                .windows(5)
                .filter(|w| w == b"text\"")
                .count(),
            3
        );
        std::future::poll_fn(|cx| body.poll_frame(cx))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (Instant::now() - t0).as_millis(),
            50,
            "token 3 keeps its slot"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn stall_holds_until_its_limit_then_resets() {
        let mut c = latency(0.0, 0.0);
        c.faults.stall_max_ms = 2_000;
        let shared = Arc::new(Shared::new(c, TruthLog::new(), CancellationToken::new()));
        let req =
            GenerateRequest::parse(br#"{"messages":[],"stream":true,"max_tokens":9}"#).unwrap();
        let plan = Plan::new(&shared.config, Endpoint::Chat, 0, &req, Some(Fault::Stall)).unwrap();
        let events = EventWriter::new(&plan, "\"m\"", 0);
        let t0 = Instant::now();
        let reset = ResetSwitch::default();
        let mut body = StreamBody::new(shared, plan, events, reset, t0, None);
        let first = std::future::poll_fn(|cx| body.poll_frame(cx))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            first
                .into_data()
                .unwrap()
                .windows(9)
                .filter(|w| w == b"\"content\"")
                .count(),
            4
        );
        let end = std::future::poll_fn(|cx| body.poll_frame(cx))
            .await
            .unwrap();
        assert!(end.is_err());
        assert_eq!((Instant::now() - t0).as_millis(), 2_000);
    }
}
