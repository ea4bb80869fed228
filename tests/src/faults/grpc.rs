//! A bare gRPC client of the agent protocol for the hostile-agent rows: HTTP/2 with prior
//! knowledge over loopback TCP, written by hand so that it can send what no well-behaved
//! client would — a message that is not protobuf at all — and needs no gRPC stack. It opens one
//! `Session` call, sends length-prefixed messages on it and hands the coordinator's messages
//! over a channel; the coordinator's headers are read past (HPACK is never decoded).

use std::sync::Arc;

use anyhow::Context;
use prost::Message;
use swarm_proto::{AgentMessage, CoordinatorMessage};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::{Mutex, mpsc};

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
const DATA: u8 = 0;
const HEADERS: u8 = 1;
const RST_STREAM: u8 = 3;
const SETTINGS: u8 = 4;
const PING: u8 = 6;
const GOAWAY: u8 = 7;
const WINDOW_UPDATE: u8 = 8;
const END_STREAM: u8 = 0x1;
const ACK: u8 = 0x1;
const END_HEADERS: u8 = 0x4;
const PADDED: u8 = 0x8;
/// The one stream of the connection.
const STREAM: u32 = 1;
/// The largest frame payload a peer must accept.
const MAX_FRAME: usize = 16_384;

/// One open `Session` call.
pub struct RawSession {
    /// Our half of the call.
    pub tx: RawSender,
    /// The coordinator's messages; closed when its half of the stream ends.
    pub inbound: mpsc::Receiver<CoordinatorMessage>,
}

/// Our half of a call, shared by the tasks that speak on it.
#[derive(Clone)]
pub struct RawSender {
    writer: Arc<Mutex<OwnedWriteHalf>>,
}

fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = payload.len() as u32;
    let mut f = Vec::with_capacity(9 + payload.len());
    f.extend_from_slice(&len.to_be_bytes()[1..]);
    f.push(kind);
    f.push(flags);
    f.extend_from_slice(&stream.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// An HPACK integer with an `n`-bit prefix.
fn hpack_int(out: &mut Vec<u8>, mut v: usize, n: u32) {
    let max = (1usize << n) - 1;
    if v < max {
        out.push(v as u8);
        return;
    }
    out.push(max as u8);
    v -= max;
    while v >= 128 {
        out.push((v % 128) as u8 | 0x80);
        v /= 128;
    }
    out.push(v as u8);
}

/// A header as an HPACK literal without indexing, new name, no Huffman coding.
fn hpack_literal(out: &mut Vec<u8>, name: &str, value: &str) {
    out.push(0);
    hpack_int(out, name.len(), 7);
    out.extend_from_slice(name.as_bytes());
    hpack_int(out, value.len(), 7);
    out.extend_from_slice(value.as_bytes());
}

impl RawSession {
    /// Dials `127.0.0.1:port` and opens a `Session` call with `token`.
    pub async fn open(port: u16, token: &str) -> anyhow::Result<Self> {
        let tcp = TcpStream::connect(("127.0.0.1", port))
            .await
            .with_context(|| format!("cannot dial 127.0.0.1:{port}"))?;
        tcp.set_nodelay(true)?;
        let (mut rd, mut wr) = tcp.into_split();
        let mut block = Vec::new();
        for (k, v) in [
            (":method", "POST"),
            (":scheme", "http"),
            (":path", "/swarm.v1.Coordinator/Session"),
            (":authority", &format!("127.0.0.1:{port}")),
            ("content-type", "application/grpc"),
            ("te", "trailers"),
            ("authorization", &format!("Bearer {token}")),
        ] {
            hpack_literal(&mut block, k, v);
        }
        let mut hello = PREFACE.to_vec();
        hello.extend(frame(SETTINGS, 0, 0, &[]));
        hello.extend(frame(HEADERS, END_HEADERS, STREAM, &block));
        wr.write_all(&hello).await?;
        let writer = Arc::new(Mutex::new(wr));
        let (tx, inbound) = mpsc::channel(256);
        let w = writer.clone();
        tokio::spawn(async move {
            let _ = read_frames(&mut rd, &w, &tx).await;
        });
        Ok(Self {
            tx: RawSender { writer },
            inbound,
        })
    }
}

impl RawSender {
    /// Sends `m` on the call.
    pub async fn send(&self, m: &AgentMessage) -> anyhow::Result<()> {
        self.send_raw(&m.encode_to_vec()).await
    }

    /// Sends `bytes` as one gRPC message, whatever they hold.
    pub async fn send_raw(&self, bytes: &[u8]) -> anyhow::Result<()> {
        let mut msg = Vec::with_capacity(5 + bytes.len());
        msg.push(0);
        msg.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
        msg.extend_from_slice(bytes);
        let mut out = Vec::new();
        for piece in msg.chunks(MAX_FRAME) {
            out.extend(frame(DATA, 0, STREAM, piece));
        }
        self.writer.lock().await.write_all(&out).await?;
        Ok(())
    }
}

/// Reads the coordinator's frames until its half of the stream (or the connection) ends:
/// answers SETTINGS and PING, returns every byte of DATA to the flow-control windows, and
/// decodes the length-prefixed messages of the stream.
async fn read_frames(
    rd: &mut tokio::net::tcp::OwnedReadHalf,
    writer: &Mutex<OwnedWriteHalf>,
    tx: &mpsc::Sender<CoordinatorMessage>,
) -> anyhow::Result<()> {
    let mut buf: Vec<u8> = Vec::new();
    loop {
        let mut head = [0u8; 9];
        rd.read_exact(&mut head).await?;
        let len = u32::from_be_bytes([0, head[0], head[1], head[2]]) as usize;
        let (kind, flags) = (head[3], head[4]);
        let stream = u32::from_be_bytes([head[5], head[6], head[7], head[8]]) & 0x7fff_ffff;
        let mut payload = vec![0u8; len];
        rd.read_exact(&mut payload).await?;
        match kind {
            DATA => {
                if len > 0 {
                    let inc = (len as u32).to_be_bytes();
                    let mut w = frame(WINDOW_UPDATE, 0, 0, &inc);
                    w.extend(frame(WINDOW_UPDATE, 0, stream, &inc));
                    writer.lock().await.write_all(&w).await?;
                }
                let mut body = &payload[..];
                if flags & PADDED != 0 {
                    let pad = usize::from(*body.first().unwrap_or(&0));
                    body = body.get(1..body.len().saturating_sub(pad)).unwrap_or(&[]);
                }
                buf.extend_from_slice(body);
                while buf.len() >= 5 {
                    let n = u32::from_be_bytes([buf[1], buf[2], buf[3], buf[4]]) as usize;
                    if buf.len() < 5 + n {
                        break;
                    }
                    if let Ok(m) = CoordinatorMessage::decode(&buf[5..5 + n]) {
                        let _ = tx.send(m).await;
                    }
                    buf.drain(..5 + n);
                }
                if flags & END_STREAM != 0 {
                    return Ok(());
                }
            }
            HEADERS if flags & END_STREAM != 0 => return Ok(()),
            RST_STREAM | GOAWAY => return Ok(()),
            SETTINGS if flags & ACK == 0 => {
                writer
                    .lock()
                    .await
                    .write_all(&frame(SETTINGS, ACK, 0, &[]))
                    .await?;
            }
            PING if flags & ACK == 0 => {
                writer
                    .lock()
                    .await
                    .write_all(&frame(PING, ACK, 0, &payload))
                    .await?;
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hpack_integers_follow_the_prefix_rule() {
        let mut v = Vec::new();
        hpack_int(&mut v, 10, 7);
        assert_eq!(v, [10]);
        v.clear();
        // RFC 7541 C.1.2: 1337 with a 5-bit prefix
        hpack_int(&mut v, 1337, 5);
        assert_eq!(v, [31, 154, 10]);
    }
}
