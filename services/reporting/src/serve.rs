//! `plenary-reporting serve`: the reporting service as its own process (cluster mode).
//! It ingests the cluster's reporting streams from Redis into PostgreSQL
//! ([`crate::cluster`]) and serves the `Reporting` gRPC service, standard gRPC health
//! and reflection, and Prometheus `/metrics` on one port. Tokens are checked with the
//! gateway's own JWT flags and environment (`--jwt-*`, `PLENARY_JWT_SECRET`); the
//! admin API key is `PLENARY_ADMIN_API_KEY`. Several processes may run against one
//! cluster: they share the consumer group and split the shards between them.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use axum::routing::get;
use metrics_exporter_prometheus::PrometheusBuilder;
use plenary_auth::{JwtArgs, TokenVerifier};
use plenary_bus::redis::{
    ClusterConfig,
    report::{ReportConsumer, ReportConsumerConfig},
};
use plenary_proto::v1::reporting::reporting_server::ReportingServer;
use tokio_util::sync::CancellationToken;
use tracing::info;

use crate::{ReportingService, Store, access::reporting_access, cluster, ingest::Progress};

/// Flags of `plenary-reporting serve` (each with a `PLENARY_*` environment variable;
/// the Redis and JWT ones are the gateway's own, so one environment serves both).
#[derive(Clone, Debug, clap::Args)]
pub struct ServeArgs {
    /// Listen address: gRPC (reports, health, reflection) and `/metrics`.
    #[arg(
        long,
        env = "PLENARY_REPORTING_LISTEN",
        default_value = "127.0.0.1:9190"
    )]
    pub listen: SocketAddr,
    /// The cluster's Redis (`redis://host:port/`).
    #[arg(long, env = "PLENARY_REDIS_URL")]
    pub redis_url: String,
    /// The cluster's key prefix (the gateways' `--redis-prefix`).
    #[arg(long, env = "PLENARY_REDIS_PREFIX", default_value = "plenary")]
    pub redis_prefix: String,
    /// The cluster's shard count (the gateways' `--shards`).
    #[arg(long, env = "PLENARY_SHARDS", default_value_t = 64)]
    pub shards: u32,
    /// The reporting store (`postgres://user@host:port/database`).
    #[arg(long, env = "PLENARY_POSTGRES_URL")]
    pub postgres: String,
    /// A schema of its own in that database (created if missing). Unset: the
    /// connection's default (`public`).
    #[arg(long, env = "PLENARY_POSTGRES_SCHEMA")]
    pub postgres_schema: Option<String>,
    /// This process's name in the consumer group; unique per process (default:
    /// host name and process id).
    #[arg(long, env = "PLENARY_REPORTING_CONSUMER")]
    pub consumer: Option<String>,
    /// Shard lease time-to-live: the shards of a reporter that died move to another
    /// after about this long.
    #[arg(long, env = "PLENARY_REPORTING_LEASE_TTL_MS", default_value_t = 10_000)]
    pub lease_ttl_ms: u64,
    #[command(flatten)]
    pub jwt: JwtArgs,
}

/// Why `serve` could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("configuration error: {0}")]
    Config(String),
    #[error("cannot connect to Redis at {url} (is redis-server running?): {source}")]
    Redis {
        url: String,
        source: plenary_bus::BusError,
    },
    #[error("cannot open the reporting store (is PostgreSQL running?): {0}")]
    Store(#[from] crate::StoreError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("serving: {0}")]
    Serve(std::io::Error),
}

impl ServeArgs {
    fn check(&self) -> Result<(), ServeError> {
        let err = |m: &str| Err(ServeError::Config(m.to_owned()));
        if !(1..=4096).contains(&self.shards) {
            return err("--shards must be between 1 and 4096 (the gateways' value)");
        }
        if self.redis_prefix.is_empty() || self.redis_prefix.contains(['{', '}']) {
            return err("--redis-prefix must be non-empty and contain no braces");
        }
        if self.lease_ttl_ms < 1_000 {
            return err("--lease-ttl-ms must be at least 1000");
        }
        // A lease holds `<consumer>:<fence>`: a name with ':' could pass for another's.
        if self
            .consumer
            .as_deref()
            .is_some_and(|c| c.is_empty() || c.contains(':') || c.len() > 200)
        {
            return err("--consumer must be 1 to 200 characters without ':'");
        }
        Ok(())
    }

    fn consumer_name(&self) -> String {
        self.consumer.clone().unwrap_or_else(|| {
            let host = std::fs::read_to_string("/etc/hostname")
                .map(|h| h.trim().to_owned())
                .unwrap_or_default();
            format!(
                "{}-{}",
                if host.is_empty() { "reporter" } else { &host },
                std::process::id()
            )
        })
    }
}

/// Runs until `stop`: ingestion, and the server on `--listen`. Secrets come from the
/// environment (`PLENARY_JWT_SECRET`, `PLENARY_ADMIN_API_KEY`).
pub async fn run(args: ServeArgs, stop: CancellationToken) -> Result<(), ServeError> {
    args.check()?;
    let jwt_key = args
        .jwt
        .key(std::env::var("PLENARY_JWT_SECRET").ok())
        .map_err(ServeError::Config)?;
    let tokens = TokenVerifier::new(&args.jwt, &jwt_key).map_err(ServeError::Config)?;
    let api_key = std::env::var("PLENARY_ADMIN_API_KEY").ok().map(Arc::from);
    if api_key.is_none() {
        tracing::warn!(
            "PLENARY_ADMIN_API_KEY is not set: only tokens with `report_contexts` read reports"
        );
    }

    let lease_ttl = Duration::from_millis(args.lease_ttl_ms);
    let cluster = ClusterConfig {
        redis_url: args.redis_url.clone(),
        prefix: args.redis_prefix.clone(),
        node_id: args.consumer_name(),
        shards: args.shards,
        lease_ttl,
        forward_timeout: Duration::from_secs(2),
        stream_cap: 0,
        snapshot_every: 0,
    };
    let (_, conn) = plenary_bus::redis::connect(&cluster)
        .await
        .map_err(|source| ServeError::Redis {
            url: args.redis_url.clone(),
            source,
        })?;
    let consumer = ReportConsumer::new(
        ReportConsumerConfig {
            prefix: args.redis_prefix.clone(),
            shards: args.shards,
            consumer: cluster.node_id.clone(),
            lease_ttl,
        },
        conn,
    )
    .await
    .map_err(|source| ServeError::Redis {
        url: args.redis_url.clone(),
        source,
    })?;
    let store = Store::connect_postgres(&args.postgres, args.postgres_schema.as_deref()).await?;
    let progress = Arc::new(Progress::default());
    let ingestion = cluster::spawn(
        consumer,
        store.clone(),
        progress.clone(),
        lease_ttl / 3,
        stop.clone(),
    );

    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|source| ServeError::Listen {
            addr: args.listen,
            source,
        })?;
    info!(listen = %args.listen, consumer = %cluster.node_id, shards = args.shards,
        prefix = %args.redis_prefix, "plenary-reporting serving");
    let router = routes(ReportingService::new(store, progress), api_key, tokens);
    let served = axum::serve(listener, router)
        .with_graceful_shutdown(stop.clone().cancelled_owned())
        .await
        .map_err(ServeError::Serve);
    stop.cancel();
    let _ = ingestion.await;
    served
}

/// The gRPC services (reports behind the access check; health and reflection open:
/// they tell what is served, nothing of its data) and `/metrics`.
fn routes(
    reporting: ReportingService,
    api_key: Option<Arc<str>>,
    tokens: TokenVerifier,
) -> axum::Router {
    let grpc = tonic::service::Routes::new(ReportingServer::with_interceptor(
        reporting,
        reporting_access(api_key, tokens),
    ));
    let grpc = with_health_and_reflection(grpc, &["", "plenary.v1.reporting.Reporting"]);
    let metrics = PrometheusBuilder::new().install_recorder().ok();
    grpc.into_axum_router().route(
        "/metrics",
        get(move || {
            let text = metrics.as_ref().map(|m| m.render()).unwrap_or_default();
            async move { text }
        }),
    )
}

/// Adds the standard gRPC health service, reporting `serving` (service names; `""`
/// for the server as a whole) as SERVING, and server reflection of Plenary's protos,
/// so `grpcurl` needs no .proto files. Both are open (no key): they tell what is
/// served, nothing of its data. The gateway's admin port serves them the same way.
pub fn with_health_and_reflection(
    grpc: tonic::service::Routes,
    serving: &[&'static str],
) -> tonic::service::Routes {
    let (health, health_service) = tonic_health::server::health_reporter();
    let names = serving.to_vec();
    tokio::spawn(async move {
        for name in names {
            health
                .set_service_status(name, tonic_health::ServingStatus::Serving)
                .await;
        }
    });
    let grpc = grpc.add_service(health_service);
    match tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(plenary_proto::v1::FILE_DESCRIPTOR_SET)
        .build_v1()
    {
        Ok(reflection) => grpc.add_service(reflection),
        Err(e) => {
            tracing::warn!(error = %e, "gRPC reflection is off: the descriptors did not load");
            grpc
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        serve: ServeArgs,
    }

    fn check(extra: &[&str]) -> Result<(), String> {
        let mut args = vec![
            "plenary-reporting",
            "--redis-url",
            "redis://127.0.0.1:6379/",
            "--postgres",
            "postgres://postgres@127.0.0.1:5432/test",
        ];
        args.extend_from_slice(extra);
        let cli = Cli::try_parse_from(args).map_err(|e| e.to_string())?;
        cli.serve.check().map_err(|e| e.to_string())
    }

    #[test]
    fn bad_settings_are_refused_by_name_before_anything_starts() {
        assert_eq!(check(&[]), Ok(()));
        for (extra, named) in [
            (&["--shards", "0"][..], "--shards"),
            (&["--redis-prefix", "a{b}"][..], "--redis-prefix"),
            (&["--lease-ttl-ms", "10"][..], "--lease-ttl-ms"),
            (&["--consumer", "r:1"][..], "--consumer"),
        ] {
            let refused = check(extra).expect_err("refused");
            assert!(refused.contains(named), "{refused}");
        }
    }
}
