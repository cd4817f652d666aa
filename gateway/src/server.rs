//! The listener: admission of new sockets (the pending budget), WebSocket handshakes
//! (path, origin allowlist, subprotocol), and the drain on shutdown.

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use plenary_proto::WireFormat;
use tokio::{
    net::{TcpListener, TcpStream},
    time::timeout,
};
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

use crate::{
    admission::Refusal,
    app::{self, App},
    outlet::{Outlet, OutletIo},
    session,
    session::Shared,
    telemetry,
};

/// The answer to a socket over the pending budget, written before its request is read.
const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\n\
Connection: close\r\n\
Retry-After: 1\r\n\
Content-Type: text/plain\r\n\
Content-Length: 44\r\n\
\r\n\
too many connections waiting to authenticate";

/// Refuses a socket over the pending budget as cheaply as possible: no task, no
/// handshake, no waiting. The 503 goes out at once, and input that already arrived is
/// read (without waiting for more) so the close is usually a FIN rather than a reset.
fn refuse_busy(stream: TcpStream, peer: SocketAddr, refusal: Refusal) {
    telemetry::pending_refused(refusal.reason(), peer.ip());
    let _ = stream.try_write(BUSY);
    let mut scratch = [0u8; 2048];
    for _ in 0..4 {
        if !matches!(stream.try_read(&mut scratch), Ok(1..)) {
            break;
        }
    }
}

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
/// waits up to the drain grace for them to finish. A socket takes a place in the
/// pending budget at the accept, before its handshake; one over the budget is refused
/// with HTTP 503 there and then. A request for the web app (`/app`) is answered by
/// `app` and never reaches the handshake.
#[allow(clippy::result_large_err)] // the handshake callback's signature is tungstenite's
pub async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    app: Arc<App>,
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
    let admission = shared.admission.clone();
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
        let pending = match admission.admit(peer.ip()) {
            Ok(pending) => pending,
            Err(refusal) => {
                refuse_busy(stream, peer, refusal);
                continue;
            }
        };
        let shared = shared.clone();
        let stop = sessions_stop.clone();
        let origins = config.allowed_origins.clone();
        let handshake_timeout = config.connect_timeout();
        let connect_deadline = tokio::time::Instant::now() + handshake_timeout;
        let write_timeout = config.write_timeout();
        let max_queued = config.outbound_queue;
        let app = app.clone();
        tracker.spawn(async move {
            let is_app = tokio::select! {
                () = stop.cancelled() => return,
                is_app = app::is_app_request(&stream, connect_deadline) => is_app,
            };
            if is_app {
                return app.serve(stream, connect_deadline).await;
            }
            let mut format = WireFormat::Json;
            // Every byte out, the handshake's included, goes through the outlet.
            let outlet = Outlet::tcp(stream, write_timeout, max_queued);
            let accept = accept_hdr_async_with_config(
                OutletIo(outlet.clone()),
                |req: &Request, resp: Response| handshake(req, resp, &origins, &mut format),
                Some(ws_config),
            );
            let upgraded = tokio::select! {
                // Draining: a socket still in its handshake has no session to close.
                () = stop.cancelled() => None,
                upgraded = tokio::time::timeout_at(connect_deadline, accept) => Some(upgraded),
            };
            let ws = match upgraded {
                Some(Ok(Ok(ws))) => ws,
                None => return outlet.finish(),
                Some(Ok(Err(e))) => {
                    debug!(%peer, error = %e, "handshake failed");
                    return outlet.finish();
                }
                Some(Err(_)) => {
                    telemetry::handshake_refused("handshake_timeout");
                    return outlet.finish();
                }
            };
            outlet.set_format(format);
            session::run(ws, outlet, format, shared, connect_deadline, pending, stop).await;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_busy_answer_is_well_formed() {
        let text = std::str::from_utf8(BUSY).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 503 Service Unavailable\r\n"));
        assert!(head.contains(&format!("\r\nContent-Length: {}", body.len())));
    }
}
