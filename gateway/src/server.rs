//! The listener: WebSocket handshakes (path, origin allowlist, subprotocol), the
//! connection limit, and the drain on shutdown.

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use plenary_proto::WireFormat;
use tokio::{net::TcpListener, sync::Semaphore, time::timeout};
use tokio_tungstenite::{
    accept_hdr_async_with_config,
    tungstenite::{
        handshake::server::{ErrorResponse, Request, Response},
        http::{HeaderValue, StatusCode},
        protocol::WebSocketConfig,
    },
};
use tokio_util::{sync::CancellationToken, task::TaskTracker};
use tracing::{debug, info, warn};

use crate::{protocol::CloseCode, session, session::Shared, telemetry};

fn refuse(status: StatusCode, why: &'static str) -> ErrorResponse {
    telemetry::handshake_refused(why);
    let mut response = ErrorResponse::new(Some(why.to_string()));
    *response.status_mut() = status;
    response
}

/// Checks the upgrade request and picks the wire format. The error type is fixed by
/// tungstenite's handshake callback.
#[allow(clippy::result_large_err)]
fn handshake(
    request: &Request,
    mut response: Response,
    allowed_origins: &[String],
    format: &mut WireFormat,
) -> Result<Response, ErrorResponse> {
    let path = request.uri().path();
    if path != "/ws" && path != "/" {
        return Err(refuse(StatusCode::NOT_FOUND, "unknown path: use /ws"));
    }
    // A browser sends one `Origin`; with several, which one to judge is a guess (the
    // first let `[allowed, evil]` in), so none is.
    let mut origins = request.headers().get_all("origin").iter();
    let origin = origins.next();
    if origins.next().is_some() {
        return Err(refuse(StatusCode::BAD_REQUEST, "several origin headers"));
    }
    if !allowed_origins.is_empty()
        && let Some(origin) = origin
        && !allowed_origins
            .iter()
            .any(|o| origin.as_bytes() == o.as_bytes())
    {
        return Err(refuse(StatusCode::FORBIDDEN, "origin not allowed"));
    }
    let offered: Vec<&str> = request
        .headers()
        .get_all("sec-websocket-protocol")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    if offered.is_empty() {
        // No subprotocol offered: JSON, so `websocat ws://…/ws` just works.
        *format = WireFormat::Json;
        return Ok(response);
    }
    let Some(chosen) = WireFormat::negotiate(offered) else {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            "unsupported subprotocol: offer plenary.v1.json or plenary.v1.proto",
        ));
    };
    *format = chosen;
    response.headers_mut().insert(
        "sec-websocket-protocol",
        HeaderValue::from_static(chosen.subprotocol()),
    );
    Ok(response)
}

/// Accepts connections until `shutdown`, then closes every session with 1012 and
/// waits up to the drain grace for them to finish.
#[allow(clippy::result_large_err)] // the handshake callback's signature is tungstenite's
pub async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    ready: Arc<AtomicBool>,
    shutdown: CancellationToken,
) {
    let config = shared.config.clone();
    let ws_config = WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(8 * 1024)
        .max_write_buffer_size(4 * 1024 * 1024)
        .max_message_size(Some(config.max_frame_bytes as usize))
        .max_frame_size(Some(config.max_frame_bytes as usize));
    let slots = Arc::new(Semaphore::new(config.max_connections as usize));
    let tracker = TaskTracker::new();
    let sessions_stop = CancellationToken::new();
    loop {
        let (stream, peer): (_, SocketAddr) = tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let shared = shared.clone();
        let stop = sessions_stop.clone();
        let slot = slots.clone().try_acquire_owned();
        let origins = config.allowed_origins.clone();
        let handshake_timeout = config.connect_timeout();
        let connect_deadline = tokio::time::Instant::now() + handshake_timeout;
        tracker.spawn(async move {
            let mut format = WireFormat::Json;
            let accept = accept_hdr_async_with_config(
                stream,
                |req: &Request, resp: Response| handshake(req, resp, &origins, &mut format),
                Some(ws_config),
            );
            let mut ws = match tokio::time::timeout_at(connect_deadline, accept).await {
                Ok(Ok(ws)) => ws,
                Ok(Err(e)) => {
                    debug!(%peer, error = %e, "handshake failed");
                    return;
                }
                Err(_) => {
                    telemetry::handshake_refused("handshake_timeout");
                    return;
                }
            };
            let Ok(_slot) = slot else {
                telemetry::handshake_refused("server_full");
                let frame = tokio_tungstenite::tungstenite::protocol::CloseFrame {
                    code: (CloseCode::ServerFull as u16).into(),
                    reason: "server is at its connection limit".into(),
                };
                let _ = timeout(std::time::Duration::from_secs(1), ws.close(Some(frame))).await;
                return;
            };
            session::run(ws, format, shared, connect_deadline, stop).await;
        });
    }
    ready.store(false, Ordering::Relaxed);
    drop(listener);
    telemetry::drain_started(tracker.len());
    sessions_stop.cancel();
    tracker.close();
    if timeout(config.drain_grace(), tracker.wait()).await.is_err() {
        warn!(
            remaining = tracker.len(),
            "drain grace elapsed with connections still open"
        );
    } else {
        info!("all connections drained");
    }
}
