use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    swarm_agent::tls::install_crypto_provider();
    let cli = swarm_coordinator::cli::Cli::parse();
    let _telemetry = match swarm_agent::telemetry::init(
        "swarm-coordinator",
        "warn",
        cli.otlp_endpoint.as_deref(),
    ) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("error: {e:#}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let cancel = swarm_agent::signal::cancel_on_signal(match cli.command {
        swarm_coordinator::cli::Command::App(_) => "dashboard stopped",
        _ => "interrupted: stopping, writing what was measured (Ctrl-C again to abort)",
    });
    match swarm_coordinator::run(cli, cancel).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
