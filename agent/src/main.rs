use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    swarm_io::tls::install_crypto_provider();
    let args = swarm_agent::cli::AgentArgs::parse();
    let _telemetry =
        match swarm_io::telemetry::init("swarm-agent", "info", args.otlp_endpoint.as_deref()) {
            Ok(g) => g,
            Err(e) => {
                eprintln!("error: {e:#}");
                return std::process::ExitCode::FAILURE;
            }
        };
    swarm_io::nofile::raise_and_log();
    let cancel = swarm_io::signal::cancel_on_signal(
        "interrupted: stopping shards, reporting what was measured (Ctrl-C again to abort)",
    );
    match swarm_agent::cli::run(args, cancel).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
