use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    swarm_io::tls::install_crypto_provider();
    let cli = swarm_coordinator::cli::Cli::parse();
    let _telemetry = match swarm_io::telemetry::init(
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
    // local agents run in this process: they need the sockets too
    swarm_io::nofile::raise_and_log();
    // the dashboard ends by Ctrl-C: that is its normal end, not a cancelled run
    let serves = matches!(cli.command, swarm_coordinator::cli::Command::App(_));
    let cancel = swarm_io::signal::cancel_on_signal(match cli.command {
        swarm_coordinator::cli::Command::App(_) => "dashboard stopped",
        _ => "interrupted: stopping, writing what was measured (Ctrl-C again to abort)",
    });
    use swarm_coordinator::outcome::{Exit, exit_of};
    let result = swarm_coordinator::run(cli, cancel.clone()).await;
    let exit = match &result {
        Ok(()) => Exit::Ok,
        Err(e) => {
            eprintln!("error: {e:#}");
            exit_of(e)
        }
    };
    // a cancelled run says so whatever else happened (what it measured is written)
    let exit = if cancel.is_cancelled() && !serves && exit != Exit::Usage {
        Exit::Cancelled
    } else {
        exit
    };
    std::process::ExitCode::from(exit.code())
}
