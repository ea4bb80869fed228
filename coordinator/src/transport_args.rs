//! The flags that choose how agents connect to a target (perf and eval share them).

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;
use swarm_common::shard::Transport;

/// `--http2`, `--http2-connections`, `--tls-ca`.
#[derive(Debug, Clone, Default, Args)]
pub struct TransportArgs {
    /// Speak HTTP/2 to the target (only h2 is offered by ALPN over https). Without it each
    /// request in flight has its own HTTP/1.1 connection, as EvalScope and wrk do.
    #[arg(long)]
    pub http2: bool,
    /// With --http2: connections per agent the streams are spread over (servers allow about 100
    /// streams per connection; more wait on the client, inside TTFT).
    #[arg(long, default_value_t = 1, requires = "http2",
          value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub http2_connections: u32,
    /// With --http2: streams one connection carries at once (nginx allows 128, hypercorn 100);
    /// more requests wait on the client, measured apart as client queueing, never inside TTFT.
    #[arg(long, default_value_t = 100, requires = "http2",
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub http2_max_streams: u32,
    /// A CA certificate (PEM) to trust besides the system roots, for a private endpoint.
    #[arg(long)]
    pub tls_ca: Option<PathBuf>,
}

/// A transport of `http2` over `connections` of `max_streams` streams each, trusting the CA in `ca` (read now).
pub fn transport(
    http2: bool,
    connections: u32,
    max_streams: u32,
    ca: Option<&std::path::Path>,
) -> anyhow::Result<Transport> {
    if connections == 0 {
        bail!("http2_connections must be at least 1");
    }
    if max_streams == 0 {
        bail!("http2_max_streams must be at least 1");
    }
    let ca_pem = match ca {
        Some(p) => {
            let pem = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read the CA certificate {}", p.display()))?;
            if !pem.contains("-----BEGIN CERTIFICATE-----") {
                bail!("{}: not a PEM certificate", p.display());
            }
            Some(pem)
        }
        None => None,
    };
    Ok(Transport {
        http2,
        http2_connections: connections,
        http2_max_streams: max_streams,
        ca_pem,
        ..Transport::default()
    })
}
