//! Plenary's WebSocket gateway: the edge where clients connect, and the wiring of the
//! whole embedded node (event log, bus, actors, admin API).
//!
//! Layout:
//! - [`config`]: flags and `PLENARY_*` variables, validated before start-up.
//! - [`auth`]: JWT verification (pinned algorithm) into an `Identity`.
//! - [`text`]: the rule for names and texts people see: cleaned or refused at the edge.
//! - [`server`]: the listener, WebSocket handshake and drain.
//! - [`app`]: the web app at `/app` (its files built into the binary) and, with
//!   `--demo-tokens` only, demo tokens.
//! - [`admission`]: the pending budget of unauthenticated sockets and the node's
//!   connection slots.
//! - [`session`]: one connection over any [`session::Transport`] (a `Sink + Stream` of
//!   WebSocket messages): `connect` and the serve loop; `connection` (framing, writes,
//!   the polite close), `command` (frame → command conversions), `stream` (joined
//!   contexts and the private stream, opened one way), `private` (private chat).
//! - [`hub`]: this node's fan-out: local channels and their gap heads, and one walker
//!   task per core writing each push to its share of the sockets.
//! - [`outbound`]: a push framed once per format (header included), shared by every
//!   socket; in cluster mode with the frames its publisher encoded.
//! - [`outlet`]: a connection's one ordered way out: writes without waiting, a writer
//!   task only for what the socket does not take at once, the slow-consumer rule.
//! - [`limits`]: per-user connection counts and command rate.
//! - [`presence`]: joined users per context.
//! - [`live`]: reactions counted here and attendee counts, reported to each context's
//!   actor once per window.
//! - [`directory`]: who was seen in which context, and `search` over it (private
//!   chat's people search).
//! - [`protocol`]: close codes and error-code mapping.
//! - [`admin`]: gRPC admin API and `/metrics`, `/healthz`, `/readyz`.
//! - [`cluster`]: cluster mode: Redis, shard ownership, cross-node presence.
//! - `telemetry`: log lines and metrics, emitted together.
//! - [`logging`]: the `PLENARY_LOG` filter, with crates that log payloads capped.

pub mod admin;
pub mod admission;
pub mod app;
pub mod auth;
pub mod cluster;
pub mod config;
pub mod directory;
pub mod hub;
pub mod limits;
pub mod live;
pub mod logging;
pub mod outbound;
pub mod outlet;
pub mod presence;
pub mod protocol;
pub mod server;
pub mod session;
mod telemetry;
pub mod text;
pub mod token;

use std::{
    net::SocketAddr,
    sync::{Arc, atomic::AtomicBool},
    time::Duration,
};

use anyhow::Context as _;
use plenary_actors::{ContextConfig, ContextRegistry, context::state::ChatLimits};
use plenary_bus::{Bus, EventLog};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tracing::info;

pub use config::{Config, Settings};

/// A running node's addresses, for callers that bound port 0.
#[derive(Clone, Copy, Debug)]
pub struct Bound {
    pub ws: SocketAddr,
    pub admin: SocketAddr,
}

/// Binds both listeners (so a caller can learn the ports before serving).
pub async fn bind(settings: &Settings) -> anyhow::Result<(TcpListener, TcpListener, Bound)> {
    let ws = TcpListener::bind(settings.config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", settings.config.listen))?;
    let admin = TcpListener::bind(settings.config.admin_listen)
        .await
        .with_context(|| format!("cannot listen on {}", settings.config.admin_listen))?;
    let bound = Bound {
        ws: ws.local_addr()?,
        admin: admin.local_addr()?,
    };
    Ok((ws, admin, bound))
}

/// Runs an embedded node until `shutdown` is cancelled, then drains and returns.
pub async fn run(
    settings: Settings,
    listener: TcpListener,
    admin_listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let mut config = settings.config.clone();
    if config.redis_url.is_some() && config.node_id.is_none() {
        config.node_id = Some(format!("node-{:08x}", rand::random::<u32>()));
    }
    // Install the metrics recorder before anything records (the first ownership round).
    let _ = admin::metrics_handle();
    let verifier = auth::Verifier::new(&settings).map_err(anyhow::Error::msg)?;
    let hub = Arc::new(hub::Hub::per_core());
    let context_config = context_config(&config);
    let presence = Arc::new(presence::Presence::default());
    let (registry, cluster, reporting) = match &config.redis_url {
        Some(url) => {
            let (registry, node) = cluster::join(&config, url, context_config).await?;
            node.spawn_presence(presence.clone(), shutdown.clone());
            node.spawn_resync_on_data_loss(hub.clone());
            (registry, Some(node), None)
        }
        None => {
            let log = EventLog::open(&config.data_dir, config.sync_mode)
                .await
                .context("cannot open the event log")?;
            // Reports in-process, from the same log, into data_dir/reporting.db.
            let reporting =
                plenary_reporting::start_embedded(log.clone(), &config.data_dir, shutdown.clone())
                    .await
                    .context("cannot open the reporting store")?;
            (
                ContextRegistry::new(context_config, log, Bus::memory()),
                None,
                Some(reporting),
            )
        }
    };
    registry.bus().attach(hub.clone());
    let directory = Arc::new(match &cluster {
        Some(node) => node.directory(),
        None => directory::Directory::memory(),
    });
    let shared = Arc::new(session::Shared::new(
        config.clone(),
        verifier,
        registry,
        hub,
        presence,
        directory,
    ));
    let ready = Arc::new(AtomicBool::new(true));
    live::spawn(
        shared.reactions.clone(),
        shared.presence.clone(),
        shared.registry.clone(),
        shutdown.clone(),
    );

    let admin_router = admin::router(
        admin::AdminService {
            registry: shared.registry.clone(),
            presence: shared.presence.clone(),
            cluster: cluster.clone(),
        },
        reporting.map(|r| (r, shared.verifier.clone())),
        settings.admin_api_key.clone(),
        ready.clone(),
    );
    // The admin port outlives the drain, so /readyz answers 503 while connections close.
    let admin_stop = CancellationToken::new();
    let admin_stop_after_drain = admin_stop.clone();
    let admin_task = tokio::spawn(async move {
        axum::serve(admin_listener, admin_router)
            .with_graceful_shutdown(async move { admin_stop.cancelled().await })
            .await
    });
    let pruner_limits = shared.limits.clone();
    let pruner_stop = shutdown.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tokio::select! {
                () = pruner_stop.cancelled() => break,
                _ = tick.tick() => pruner_limits.prune(),
            }
        }
    });
    spawn_context_pruner(
        shared.directory.clone(),
        shared.presence.clone(),
        shared.implicit_contexts.clone(),
        Duration::from_secs(config.context_passivate_secs.max(1)),
        shutdown.clone(),
    );
    let mode = if cluster.is_some() {
        "cluster"
    } else {
        "embedded"
    };
    info!(listen = %listener.local_addr()?, admin = %admin_listener_addr(&config), mode, "plenary is serving");
    let app = Arc::new(app::App::new(&settings));
    server::serve(listener, shared, app, ready, shutdown).await;
    if let Some(node) = &cluster {
        node.leave().await;
    }
    admin_stop_after_drain.cancel();
    if let Ok(Ok(Err(e))) = tokio::time::timeout(Duration::from_secs(2), admin_task).await {
        tracing::warn!(error = %e, "admin server stopped with an error");
    }
    Ok(())
}

/// How the node's context actors run, from its configuration.
pub(crate) fn context_config(config: &Config) -> ContextConfig {
    ContextConfig {
        limits: ChatLimits {
            max_text_chars: config.max_text_chars as usize,
            ..ChatLimits::default()
        },
        snapshot_messages: config.snapshot_messages,
        snapshot_every: config.snapshot_every,
        recovery_window: config.recovery_window,
        auto_create: !config.require_created_contexts,
        qa_auto_release: (config.qa_auto_release_secs > 0)
            .then(|| Duration::from_secs(config.qa_auto_release_secs)),
        // Sessions report their moderators every ping interval.
        moderator_presence_grace: config.ping_interval() * 2 + Duration::from_secs(5),
        private_passivate_after: Duration::from_secs(config.private_passivate_secs.max(1)),
        passivate_after: Duration::from_secs(config.context_passivate_secs.max(1)),
        joins_window: Duration::from_millis(config.joins_window_ms),
        room_deliveries_per_sec: config.room_deliveries_per_sec,
        ..ContextConfig::default()
    }
}

/// Every minute, gives back what contexts nobody uses hold at the edge: the directory's
/// people of contexts idle for `idle` (embedded mode) and the creation budgets of
/// users back at a full one.
fn spawn_context_pruner(
    directory: Arc<directory::Directory>,
    presence: Arc<presence::Presence>,
    implicit_contexts: Arc<limits::ImplicitContexts>,
    idle: Duration,
    stop: CancellationToken,
) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tokio::select! {
                () = stop.cancelled() => break,
                _ = tick.tick() => {
                    directory.forget_idle(idle, |context| presence.counts(context).connections > 0);
                    implicit_contexts.prune();
                }
            }
        }
    });
}

fn admin_listener_addr(config: &Config) -> String {
    config.admin_listen.to_string()
}
