//! Log set-up: `PLENARY_LOG` chooses what is logged, except that crates which log
//! payloads are capped whatever it says (tokens and message texts are never logged,
//! docs/OPERATIONS.md §10).

use tracing_subscriber::{
    EnvFilter, Layer, Registry,
    filter::{FilterExt, LevelFilter, Targets},
    layer::{Filter, SubscriberExt},
    util::SubscriberInitExt,
};

use crate::config::LogFormat;

/// Crates whose verbose levels carry payloads, and the most they may log.
/// `tungstenite` writes every frame it reads or sends at trace (the `connect` token,
/// message texts) and close frames at debug; `tokio_tungstenite` is capped with it.
/// Checked and left alone: `h2` leaves headers and data out of its frame logs, `hyper`
/// and `tonic` log sizes and errors only, `sqlx` logs statements with their `?`
/// placeholders but never the bound values, and `redis` logs errors only.
pub const CAPPED: [(&str, LevelFilter); 2] = [
    ("tungstenite", LevelFilter::INFO),
    ("tokio_tungstenite", LevelFilter::INFO),
];

/// The filter for a `PLENARY_LOG` value (`None` or an invalid value: `info`), with the
/// [`CAPPED`] crates capped: an event passes only when both allow it, so no directive
/// in `spec`, however specific, lifts a cap.
pub fn filter<S>(spec: Option<&str>) -> impl Filter<S> + Send + Sync + 'static
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    let requested = spec
        .and_then(|s| EnvFilter::try_new(s).ok())
        .unwrap_or_else(|| EnvFilter::new("info"));
    let caps = Targets::new()
        .with_default(LevelFilter::TRACE)
        .with_targets(CAPPED);
    requested.and(caps)
}

/// Installs the global subscriber: stdout, in `format`, filtered by `PLENARY_LOG`.
pub fn init(format: LogFormat) {
    let spec = std::env::var("PLENARY_LOG").ok();
    let layer: Box<dyn Layer<Registry> + Send + Sync> = match format {
        LogFormat::Json => tracing_subscriber::fmt::layer().json().boxed(),
        LogFormat::Text => tracing_subscriber::fmt::layer().boxed(),
    };
    tracing_subscriber::registry()
        .with(layer.with_filter(filter(spec.as_deref())))
        .init();
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::fmt::MakeWriter;

    use super::*;

    /// Collects what a subscriber writes.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Captured {
        type Writer = Captured;
        fn make_writer(&'a self) -> Captured {
            self.clone()
        }
    }

    /// What gets through the filter for `spec`, with one event per target and level.
    fn logged(spec: &str) -> String {
        let out = Captured::default();
        let subscriber = tracing_subscriber::registry().with(
            tracing_subscriber::fmt::layer()
                .with_writer(out.clone())
                .with_ansi(false)
                .with_filter(filter(Some(spec))),
        );
        tracing::subscriber::with_default(subscriber, || {
            tracing::trace!(target: "tungstenite::protocol", "SECRET tungstenite trace");
            tracing::debug!(target: "tungstenite::protocol", "SECRET tungstenite debug");
            tracing::trace!(target: "tokio_tungstenite::compat", "SECRET tokio_tungstenite trace");
            tracing::info!(target: "tungstenite::protocol", "tungstenite info");
            tracing::trace!(target: "plenary_gateway::session", "gateway trace");
            tracing::trace!(target: "h2::codec", "h2 trace");
        });
        String::from_utf8(out.0.lock().unwrap().clone()).unwrap()
    }

    #[test]
    fn payload_crates_are_capped_whatever_the_filter_says() {
        for spec in [
            "trace",
            "tungstenite=trace,tokio_tungstenite=trace,trace",
            "tungstenite::protocol=trace,tokio_tungstenite::compat=trace,trace",
            "info,tungstenite::protocol[span]=trace,trace",
        ] {
            let out = logged(spec);
            assert!(!out.contains("SECRET"), "{spec}: {out}");
            assert!(out.contains("tungstenite info"), "{spec}: {out}");
            assert!(out.contains("gateway trace"), "{spec}: {out}");
            assert!(out.contains("h2 trace"), "{spec}: {out}");
        }
    }

    #[test]
    fn the_filter_still_filters() {
        let out = logged("info");
        assert!(out.contains("tungstenite info"), "{out}");
        assert!(!out.contains("trace"), "{out}");
        let out = logged("not a [valid filter");
        assert!(
            out.contains("tungstenite info") && !out.contains("trace"),
            "{out}"
        );
    }
}
