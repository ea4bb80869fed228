//! In-process agents of a local run: the same agent code, dialing the loopback listener. Each
//! runs on its own runtime thread, so killing one (for fault tests) is as abrupt as a crash: every
//! task it spawned dies and its sockets close, with no goodbye.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

/// One local agent's thread.
struct Local {
    kill: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// Handles on the in-process agents, usable while a stage borrows the cluster.
#[derive(Clone, Default)]
pub struct LocalAgents(Arc<Mutex<Vec<Local>>>);

impl LocalAgents {
    /// Starts local agent `i` on its own runtime thread.
    pub fn start(
        &self,
        i: u32,
        addr: SocketAddr,
        token: String,
        sandbox: swarm_sandbox::policy::SandboxPolicy,
        cancel: CancellationToken,
    ) -> std::io::Result<()> {
        let (kill_tx, kill_rx) = oneshot::channel::<()>();
        let workers = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        let thread = std::thread::Builder::new().name(format!("local-agent-{i}")).spawn(move || {
            let rt = match tokio::runtime::Builder::new_multi_thread()
                .worker_threads(workers)
                .thread_name(format!("agent-{i}"))
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    tracing::error!(agent = i, error = %e, "cannot start a runtime for a local agent");
                    return;
                }
            };
            let mut cfg = swarm_agent::session::AgentConfig::new(format!("http://{addr}"), format!("local-{i}"));
            cfg.labels.insert("region".into(), "local".into());
            cfg.token = Some(token);
            cfg.sandbox = sandbox;
            rt.block_on(async move {
                tokio::select! {
                    r = swarm_agent::session::run_agent(cfg, cancel) => {
                        if let Err(e) = r {
                            tracing::error!(agent = i, error = %e, "local agent stopped");
                        }
                    }
                    _ = kill_rx => tracing::warn!(agent = i, "local agent killed"),
                }
            });
            // dropping the runtime aborts every task the agent spawned
            rt.shutdown_background();
        })?;
        self.lock().push(Local {
            kill: Some(kill_tx),
            thread: Some(thread),
        });
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Local>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Kills local agent `i` abruptly, as a crash would. False if there is no such live agent.
    pub fn kill(&self, i: usize) -> bool {
        match self.lock().get_mut(i).and_then(|l| l.kill.take()) {
            Some(k) => k.send(()).is_ok(),
            None => false,
        }
    }

    /// Waits (off the async threads) for every agent thread to end after cancellation.
    pub async fn join(&self) {
        let threads: Vec<_> = self
            .lock()
            .iter_mut()
            .filter_map(|l| l.thread.take())
            .collect();
        let _ = tokio::task::spawn_blocking(move || {
            for t in threads {
                let _ = t.join();
            }
        })
        .await;
    }
}
