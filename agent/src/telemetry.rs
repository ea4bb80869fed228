//! Process telemetry for the `agent` and `coordinator` binaries: structured logs to stderr, and
//! with the `otlp` cargo feature, spans (run, stage, session, shard) exported over OTLP/gRPC.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Keeps the exporter alive; dropping it flushes pending spans.
#[must_use = "dropping the guard stops trace export"]
pub struct TelemetryGuard {
    #[cfg(feature = "otlp")]
    provider: Option<opentelemetry_sdk::trace::SdkTracerProvider>,
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        #[cfg(feature = "otlp")]
        if let Some(p) = self.provider.take() {
            let _ = p.shutdown();
        }
    }
}

/// Installs the global subscriber: `RUST_LOG` (else `default_filter`) to stderr, plus OTLP
/// export to `otlp_endpoint` (e.g. `http://collector:4317`) when given.
pub fn init(
    service: &'static str,
    default_filter: &str,
    otlp_endpoint: Option<&str>,
) -> anyhow::Result<TelemetryGuard> {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
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
        let layer = provider
            .as_ref()
            .map(|p| tracing_opentelemetry::layer().with_tracer(p.tracer(service)));
        tracing_subscriber::registry()
            .with(filter)
            .with(fmt)
            .with(layer)
            .try_init()?;
        Ok(TelemetryGuard { provider })
    }
    #[cfg(not(feature = "otlp"))]
    {
        let _ = service;
        if let Some(endpoint) = otlp_endpoint {
            anyhow::bail!(
                "--otlp-endpoint {endpoint}: this build has no OTLP export; rebuild with --features otlp"
            );
        }
        tracing_subscriber::registry()
            .with(filter)
            .with(fmt)
            .try_init()?;
        Ok(TelemetryGuard {})
    }
}
