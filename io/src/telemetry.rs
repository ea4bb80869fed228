//! Process telemetry for the `agent` and `coordinator` binaries: structured logs to stderr, and
//! with the `otlp` cargo feature, spans (run, stage, session, shard) and metrics (see
//! [`metrics`]) exported over OTLP/gRPC.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Keeps the exporter alive; dropping it flushes pending spans.
#[must_use = "dropping the guard stops trace export"]
pub struct TelemetryGuard {
    #[cfg(feature = "otlp")]
    provider: Option<opentelemetry_sdk::trace::SdkTracerProvider>,
    #[cfg(feature = "otlp")]
    meters: Option<opentelemetry_sdk::metrics::SdkMeterProvider>,
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        #[cfg(feature = "otlp")]
        {
            if let Some(p) = self.provider.take() {
                let _ = p.shutdown();
            }
            if let Some(m) = self.meters.take() {
                let _ = m.shutdown();
            }
        }
    }
}

/// Installs the global subscriber: `RUST_LOG` (else `default_filter`) to stderr, plus OTLP
/// export to `otlp_endpoint` (e.g. `http://collector:4317`) when given. The export has its own
/// filter (`SWARM_OTLP_FILTER`, default `info`), so what is exported does not depend on the
/// console's log level. A build without the `otlp` feature warns that it exports nothing and
/// runs (an OpenTelemetry operator sets `OTEL_EXPORTER_OTLP_ENDPOINT` in every pod).
pub fn init(
    service: &'static str,
    default_filter: &str,
    otlp_endpoint: Option<&str>,
) -> anyhow::Result<TelemetryGuard> {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    // colours only on a terminal: log files and pod logs get plain text
    let fmt = tracing_subscriber::fmt::layer()
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    #[cfg(feature = "otlp")]
    {
        use opentelemetry::trace::TracerProvider as _;
        use opentelemetry_otlp::WithExportConfig as _;
        let provider = match otlp_endpoint {
            Some(endpoint) => {
                let exporter = opentelemetry_otlp::SpanExporter::builder()
                    .with_tonic()
                    .with_endpoint(endpoint)
                    .build()
                    .map_err(|e| anyhow::anyhow!("otlp exporter for {endpoint}: {e}"))?;
                Some(
                    opentelemetry_sdk::trace::SdkTracerProvider::builder()
                        .with_batch_exporter(exporter)
                        .with_resource(
                            opentelemetry_sdk::Resource::builder()
                                .with_service_name(service)
                                .build(),
                        )
                        .build(),
                )
            }
            None => None,
        };
        let meters = match otlp_endpoint {
            Some(endpoint) => {
                let exporter = opentelemetry_otlp::MetricExporter::builder()
                    .with_tonic()
                    .with_endpoint(endpoint)
                    .build()
                    .map_err(|e| anyhow::anyhow!("otlp metric exporter for {endpoint}: {e}"))?;
                let m = opentelemetry_sdk::metrics::SdkMeterProvider::builder()
                    .with_periodic_exporter(exporter)
                    .with_resource(
                        opentelemetry_sdk::Resource::builder()
                            .with_service_name(service)
                            .build(),
                    )
                    .build();
                opentelemetry::global::set_meter_provider(m.clone());
                Some(m)
            }
            None => None,
        };
        use tracing_subscriber::Layer as _;
        let otlp_filter = std::env::var("SWARM_OTLP_FILTER")
            .ok()
            .and_then(|f| EnvFilter::try_new(f).ok())
            .unwrap_or_else(|| EnvFilter::new("info"));
        let layer = provider.as_ref().map(|p| {
            tracing_opentelemetry::layer()
                .with_tracer(p.tracer(service))
                .with_filter(otlp_filter)
        });
        tracing_subscriber::registry()
            .with(fmt.with_filter(filter))
            .with(layer)
            .try_init()?;
        Ok(TelemetryGuard { provider, meters })
    }
    #[cfg(not(feature = "otlp"))]
    {
        let _ = service;
        use tracing_subscriber::Layer as _;
        tracing_subscriber::registry()
            .with(fmt.with_filter(filter))
            .try_init()?;
        if let Some(endpoint) = otlp_endpoint {
            tracing::warn!(
                endpoint,
                "this build has no OTLP export (built without --features otlp): nothing is exported"
            );
        }
        Ok(TelemetryGuard {})
    }
}

/// Live-run metrics, recorded through the global OpenTelemetry meter (no-ops unless the `otlp`
/// feature is on and an endpoint was given).
pub mod metrics {
    /// Adds a stage's newly merged requests: `swarm.requests` and `swarm.requests.failed`,
    /// attributed by workload and stage.
    pub fn requests(workload: &str, stage: &str, total: u64, failed: u64) {
        #[cfg(feature = "otlp")]
        {
            use opentelemetry::KeyValue;
            let meter = opentelemetry::global::meter("swarmbench");
            let attrs = [
                KeyValue::new("workload", workload.to_string()),
                KeyValue::new("stage", stage.to_string()),
            ];
            meter
                .u64_counter("swarm.requests")
                .build()
                .add(total, &attrs);
            meter
                .u64_counter("swarm.requests.failed")
                .build()
                .add(failed, &attrs);
        }
        #[cfg(not(feature = "otlp"))]
        let _ = (workload, stage, total, failed);
    }

    /// Records the number of live agents.
    pub fn agents(alive: u64) {
        #[cfg(feature = "otlp")]
        opentelemetry::global::meter("swarmbench")
            .u64_gauge("swarm.agents")
            .build()
            .record(alive, &[]);
        #[cfg(not(feature = "otlp"))]
        let _ = alive;
    }
}
