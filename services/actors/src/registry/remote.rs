//! Forwarding between nodes: a call for a stream another node owns goes to that node
//! through Redis ([`RedisBus::call`](plenary_bus::redis::RedisBus::call)) in the
//! format of [`super::wire`], and this node serves the calls others forward to it.

use plenary_bus::{BusError, redis::RpcHandler};
use tracing::{debug, warn};

use super::{
    ContextRegistry, Route,
    call::{Call, asked},
    wire::{self, LEGACY_REFUSAL, Request},
};
use crate::{context::Rejection, telemetry};

impl ContextRegistry {
    /// Sends a call to `node`, the owner of `id`, and waits for its answer.
    pub(super) async fn forward<C: Call>(
        &self,
        node: &str,
        id: &str,
        call: C,
    ) -> Result<C::Answer, Rejection> {
        let Some(cluster) = &self.cluster else {
            return Err(Rejection::Unavailable("not in cluster mode".into()));
        };
        telemetry::command_forwarded(node);
        let reply = cluster
            .rpc
            .call(node, wire::encode_request(id, call))
            .await
            .map_err(|e| match e {
                // It went out: the owner may have run it before it stopped answering.
                BusError::NoAnswer(_) => Rejection::OutcomeUnknown(format!("{e}; retry")),
                _ => Rejection::Unavailable(format!("{e}; retry")),
            })?;
        wire::decode_answer(&reply).map_err(|e| {
            warn!(error = %e, %node, "unreadable answer from another node");
            Rejection::Unavailable(format!("unreadable answer from {node} ({e}); retry"))
        })?
    }

    /// Serves one forwarded call: queued in arrival order, answered when done.
    fn serve<C: Call>(
        &self,
        stream_id: &str,
        call: C,
        reply: impl FnOnce(Vec<u8>) + Send + 'static,
    ) {
        let refuse = |why: Rejection| wire::encode_answer::<C::Answer>(Err(why));
        let handle = match self.route_for::<C>(stream_id) {
            Some(Route::Local(handle)) => handle,
            None => {
                let answer = C::without_actor().ok_or_else(super::stopped);
                return reply(wire::encode_answer(answer));
            }
            Some(Route::Remote(_) | Route::Unowned(_)) => {
                debug!(%stream_id, "forwarded to a node that no longer owns it");
                return reply(refuse(Rejection::Unavailable(
                    "context is moving between nodes; retry".into(),
                )));
            }
        };
        let (mail, answer) = asked(call);
        // Queue in arrival order or refuse at once: waiting here would let a later
        // command overtake this one, or run it after the caller gave up and retried.
        match handle.try_send(mail) {
            Ok(()) => {
                tokio::spawn(async move { reply(wire::encode_answer(answer.await)) });
            }
            Err(why) => reply(refuse(self.undelivered(why))),
        }
    }
}

impl RpcHandler for ContextRegistry {
    /// A call forwarded by another node.
    fn handle(&self, from: String, id: u64, body: Vec<u8>) {
        let Some(cluster) = self.cluster.clone() else {
            return;
        };
        self.serve_forwarded(&body, move |bytes| cluster.rpc.reply(&from, id, &bytes));
    }
}

impl ContextRegistry {
    /// Decodes a forwarded call, runs it and answers on `reply`, whatever the bytes.
    pub(super) fn serve_forwarded(
        &self,
        body: &[u8],
        reply: impl FnOnce(Vec<u8>) + Send + 'static,
    ) {
        if wire::is_legacy_json(body) {
            warn!("a JSON request from a node of an older release refused (rolling upgrade?)");
            return reply(LEGACY_REFUSAL.to_vec());
        }
        let refuse = |why: String| {
            warn!(error = %why, "unreadable forwarded request");
            wire::encode_answer::<()>(Err(Rejection::BadRequest(format!(
                "unreadable forwarded request: {why}"
            ))))
        };
        let forwarded = match wire::decode_request(body) {
            Ok(forwarded) => forwarded,
            Err(e) => return reply(refuse(e.to_string())),
        };
        let Some(op) = forwarded.op else {
            warn!("a forwarded request of a kind this node does not know (rolling upgrade?)");
            return reply(wire::encode_answer::<()>(Err(Rejection::Unavailable(
                "the owner node runs an older release that does not know this request; retry"
                    .into(),
            ))));
        };
        let stream = forwarded.stream_id.as_str();
        match Request::try_from(op) {
            Err(e) => reply(refuse(e.to_string())),
            Ok(Request::Join(call)) => self.serve(stream, call, reply),
            Ok(Request::Chat(call)) => self.serve(stream, call, reply),
            Ok(Request::Admin(call)) => self.serve(stream, call, reply),
            Ok(Request::Get(call)) => self.serve(stream, call, reply),
            Ok(Request::ChatHistory(call)) => self.serve(stream, call, reply),
            Ok(Request::ModeratorPresence(call)) => self.serve(stream, call, reply),
            Ok(Request::Report(call)) => self.serve(stream, call, reply),
            Ok(Request::Reacted(call)) => self.serve(stream, call, reply),
            Ok(Request::PrivateOpen(call)) => self.serve(stream, call, reply),
            Ok(Request::Settings(call)) => self.serve(stream, call, reply),
            Ok(Request::Card(call)) => self.serve(stream, call, reply),
            Ok(Request::Notices(call)) => self.serve(stream, call, reply),
            Ok(Request::Pair(call)) => self.serve(stream, call, reply),
            Ok(Request::History(call)) => self.serve(stream, call, reply),
        }
    }
}
