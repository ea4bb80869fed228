//! Test helpers: a seeded RNG and a one-shot HTTP/1.1 server that replays a recorded body in
//! small, paced pieces.

use std::io::ErrorKind;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// SplitMix64: small, seeded, good enough to pick split points.
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A value in `0..=max`.
    pub fn upto(&mut self, max: usize) -> usize {
        (self.next_u64() % (max as u64 + 1)) as usize
    }
}

/// Sorted random cut points in `0..=len`.
pub fn random_cuts(rng: &mut Rng, len: usize, max_cuts: usize) -> Vec<usize> {
    let n = 1 + rng.upto(max_cuts - 1);
    let mut cuts: Vec<usize> = (0..n).map(|_| rng.upto(len)).collect();
    cuts.sort_unstable();
    cuts
}

/// How the response body is delimited.
#[derive(Debug, Clone, Copy)]
pub enum Framing {
    /// `transfer-encoding: chunked`, one HTTP chunk per piece.
    Chunked,
    /// No length: the body ends when the server closes the connection.
    Close,
}

/// Pause after every second piece, so pieces arrive in separate reads.
pub const PAUSE: Duration = Duration::from_millis(1);

/// Where to cut a body for the wire: inside every `data:` field name, between every `\r` and
/// what follows it, and at a few seeded random places.
pub fn wire_pieces(body: &[u8], seed: u64) -> Vec<usize> {
    let mut cuts: Vec<usize> = Vec::new();
    for (i, w) in body.windows(5).enumerate() {
        if w == b"data:" {
            cuts.push(i + 2);
        }
    }
    cuts.extend(
        body.iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\r')
            .map(|(i, _)| i + 1),
    );
    let mut rng = Rng(seed);
    cuts.extend(random_cuts(&mut rng, body.len(), 8));
    cuts.retain(|&c| c > 0 && c < body.len());
    cuts.sort_unstable();
    cuts.dedup();
    cuts
}

/// Total pause the server takes while writing `n_pieces` pieces.
pub fn total_pause(n_pieces: usize) -> Duration {
    PAUSE * (n_pieces.saturating_sub(1) / 2) as u32
}

/// How the server's side of the exchange ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Served {
    /// The whole body was written.
    All,
    /// The client hung up before the body was written.
    HungUp,
}

/// Starts a server that answers one request with `body` cut at `cuts`. Returns its address and
/// the task, which fails if the exchange did.
pub async fn replay(
    body: Vec<u8>,
    content_type: &'static str,
    framing: Framing,
    cuts: Vec<usize>,
) -> (SocketAddr, JoinHandle<std::io::Result<Served>>) {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a local port");
    let addr = listener.local_addr().expect("bound address");
    let task = tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await?;
        sock.set_nodelay(true)?;
        read_request(&mut sock).await?;
        match write_response(&mut sock, &body, content_type, framing, cuts).await {
            Ok(()) => Ok(Served::All),
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::BrokenPipe | ErrorKind::ConnectionReset | ErrorKind::NotConnected
                ) =>
            {
                Ok(Served::HungUp)
            }
            Err(e) => Err(e),
        }
    });
    (addr, task)
}

async fn write_response(
    sock: &mut TcpStream,
    body: &[u8],
    content_type: &str,
    framing: Framing,
    cuts: Vec<usize>,
) -> std::io::Result<()> {
    let framing_header = match framing {
        Framing::Chunked => "transfer-encoding: chunked\r\n",
        Framing::Close => "connection: close\r\n",
    };
    let head = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ncache-control: no-cache\r\n{framing_header}\r\n"
    );
    sock.write_all(head.as_bytes()).await?;
    let mut bounds = vec![0];
    bounds.extend(cuts);
    bounds.push(body.len());
    for (i, w) in bounds.windows(2).enumerate() {
        let piece = &body[w[0]..w[1]];
        match framing {
            Framing::Chunked => {
                let mut frame = format!("{:x}\r\n", piece.len()).into_bytes();
                frame.extend_from_slice(piece);
                frame.extend_from_slice(b"\r\n");
                sock.write_all(&frame).await?;
            }
            Framing::Close => sock.write_all(piece).await?,
        }
        sock.flush().await?;
        if i % 2 == 1 {
            tokio::time::sleep(PAUSE).await;
        }
    }
    if let Framing::Chunked = framing {
        sock.write_all(b"0\r\n\r\n").await?;
    }
    sock.shutdown().await
}

/// Reads one request: headers, then `content-length` bytes of body.
async fn read_request(sock: &mut TcpStream) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let mut tmp = [0u8; 4096];
    let head_end = loop {
        let n = sock.read(&mut tmp).await?;
        if n == 0 {
            return Err(std::io::Error::other(
                "client closed before sending a request",
            ));
        }
        buf.extend_from_slice(&tmp[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + len {
        let n = sock.read(&mut tmp).await?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&tmp[..n]);
    }
    Ok(())
}
