//! Everything the gateway reports: each event here is a log line and a metric
//! together, so the two never drift. Metric names are listed in docs/OPERATIONS.md.

use std::net::IpAddr;

use tracing::{debug, info, warn};

use crate::protocol::CloseCode;

pub(crate) fn connection_opened() {
    metrics::gauge!("plenary_connections").increment(1.0);
    metrics::counter!("plenary_connections_opened_total").increment(1);
}

pub(crate) fn connection_closed(code: Option<CloseCode>, reason: &str) {
    metrics::gauge!("plenary_connections").decrement(1.0);
    let label = code.map_or("none".to_string(), |c| (c as u16).to_string());
    metrics::counter!("plenary_connections_closed_total", "code" => label.clone()).increment(1);
    match code {
        Some(CloseCode::SlowConsumer | CloseCode::RateLimited | CloseCode::TooManyConnections) => {
            warn!(close_code = %label, reason, "connection closed")
        }
        _ => debug!(close_code = %label, reason, "connection closed"),
    }
}

pub(crate) fn handshake_refused(reason: &'static str) {
    metrics::counter!("plenary_handshakes_refused_total", "reason" => reason).increment(1);
    debug!(reason, "WebSocket handshake refused");
}

pub(crate) fn pending_admitted() {
    metrics::gauge!("plenary_pending_connections").increment(1.0);
}

pub(crate) fn pending_released() {
    metrics::gauge!("plenary_pending_connections").decrement(1.0);
}

/// A socket refused before its handshake (HTTP 503): too many sockets waiting to
/// authenticate, in total or from its source address.
pub(crate) fn pending_refused(reason: &'static str, peer: IpAddr) {
    metrics::counter!("plenary_pending_refused_total", "reason" => reason).increment(1);
    debug!(reason, %peer, "socket refused before the handshake");
}

pub(crate) fn auth_refused(reason: &str) {
    metrics::counter!("plenary_auth_refused_total", "reason" => reason.to_string()).increment(1);
    info!(reason, "token refused");
}

pub(crate) fn command_refused(code: &'static str) {
    metrics::counter!("plenary_command_errors_total", "code" => code).increment(1);
}

pub(crate) fn commands_received(command: &'static str) {
    metrics::counter!("plenary_commands_total", "command" => command).increment(1);
}

/// A push reached this node's local listeners (once per push, however many sockets
/// get it). Counted only: one log line per push would drown everything else.
pub(crate) fn push_published() {
    metrics::counter!("plenary_pushes_published_total").increment(1);
}

pub(crate) fn pushes_written(n: u64) {
    metrics::counter!("plenary_pushes_written_total").increment(n);
}

/// A fan-out walker had `queue` pushes waiting: the node cannot write pushes as fast
/// as they come. It drops pushes until it catches up, and its connections are told to
/// resync.
pub(crate) fn walker_overflow(queue: usize) {
    metrics::counter!("plenary_fanout_overflows_total").increment(1);
    warn!(
        queue,
        "a fan-out walker fell behind: pushes dropped, its connections resync"
    );
}

pub(crate) fn drain_started(connections: usize) {
    info!(connections, "draining: closing connections with 1012");
}

/// A local channel missed pushes (a dying owner committed events it never published,
/// or a publish to Redis failed): its listeners are told to resync.
pub(crate) fn push_gap(channel: &'static str, prev_seq: u64) {
    metrics::counter!("plenary_push_gaps_total", "channel" => channel).increment(1);
    warn!(
        channel,
        prev_seq, "pushes were missed on a channel; its listeners resync"
    );
}

/// A join that would have created a context was refused: `budget` ("user" or "node")
/// of implicit creation is spent.
pub(crate) fn implicit_context_refused(budget: &'static str) {
    metrics::counter!("plenary_implicit_contexts_refused_total", "budget" => budget).increment(1);
    debug!(
        budget,
        "join refused: the budget of contexts created by joins is spent"
    );
}
