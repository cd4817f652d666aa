//! One WebSocket connection: authenticate, then read commands, route them to context
//! actors and write replies (in command order) and pushes (shared, pre-encoded).
//!
//! Generic over the transport, so it runs the same on TCP and in-memory streams.

use plenary_bus::now_ms;
use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
    time::Duration,
};

use futures_util::{
    FutureExt, SinkExt, StreamExt,
    future::{BoxFuture, poll_fn},
    stream::FuturesOrdered,
};
use plenary_actors::{
    ChatCommand, ContextRegistry, Identity, JoinRequest, Rejection, Role,
    context::{command::ThreadAction, validate_context_id},
    user::{ConnectionAction, PairCommand, SettingsPatch, user_stream_id},
};
use plenary_bus::Channel;
use plenary_proto::{
    DecodeError, WireFormat,
    v1::{
        Ack, ClientFrame, ConnectOk, ConnectionActionKind, ErrorCode, JoinOk, Limits, PeopleOk,
        Pong, PrivateOk, ServerFrame, client_frame::Command, reply::Result as ReplyResult,
    },
    wire,
};
use tokio::{
    io::{AsyncRead, AsyncReadExt, AsyncWrite},
    sync::broadcast,
    time::{Instant, MissedTickBehavior, timeout},
};
use tokio_stream::{StreamMap, wrappers::BroadcastStream};
use tokio_tungstenite::{
    WebSocketStream,
    tungstenite::{
        self, Message,
        protocol::{CloseFrame, frame::coding::CloseCode as WsCloseCode},
    },
};
use tokio_util::sync::CancellationToken;
use tracing::instrument;

use crate::{
    admission::{Admission, PendingPermit},
    auth::{Verified, Verifier},
    config::Config,
    directory::{Directory, find_people},
    feed::{ContextFeed, FeedError},
    hub::{Hub, Outbound},
    limits::{CreationRefused, ImplicitContexts, UserLimits},
    presence::Presence,
    protocol::{self, CloseCode, error_reply, rejection_code, rejection_reply, reply},
    telemetry, text,
};

/// Consecutive rate-limited commands after which the connection is closed.
const RATE_STRIKES_BEFORE_CLOSE: u32 = 50;
/// Longest user id accepted in private chat commands.
const MAX_USER_ID_BYTES: usize = 128;
/// The key of the private stream among a session's joined streams (contexts have
/// non-empty ids); private pushes carry this empty `context_id`.
const PRIVATE: &str = "";
/// Default and largest number of people in one search answer.
const PEOPLE_DEFAULT: usize = 20;
const PEOPLE_MAX: usize = 50;
/// Pushes written before one flush.
const PUSH_BATCH: usize = 64;
/// How often a session adds its written pushes to the shared metric.
const PUSH_METRIC_INTERVAL: Duration = Duration::from_secs(1);
/// When the server closes a connection, the answers of commands already read are
/// written for at most this long before the close frame.
const CLOSE_FLUSH: Duration = Duration::from_secs(1);
/// After the close frame, the client's input is read and dropped until its own close
/// frame arrives, for at most this long and at most this many bytes and frames.
const CLOSE_LINGER: Duration = Duration::from_secs(1);
const CLOSE_DRAIN_BYTES: usize = 1 << 20;
const CLOSE_DRAIN_FRAMES: usize = 10_000;

/// What every session shares.
#[derive(Debug)]
pub struct Shared {
    pub config: Config,
    pub verifier: Verifier,
    pub registry: Arc<ContextRegistry>,
    pub hub: Arc<Hub>,
    pub presence: Arc<Presence>,
    pub limits: Arc<UserLimits>,
    pub directory: Arc<Directory>,
    pub admission: Arc<Admission>,
    /// Budgets of contexts created by joins.
    pub implicit_contexts: Arc<ImplicitContexts>,
}

/// Why a session ended.
#[derive(Debug)]
struct End {
    code: Option<CloseCode>,
    reason: String,
    /// Whether the client's frames can still be told apart: a read error may leave the
    /// frame decoder in the middle of a frame.
    framing_intact: bool,
}

impl End {
    fn gone(reason: impl Into<String>) -> Self {
        End {
            code: None,
            reason: reason.into(),
            framing_intact: true,
        }
    }
    fn close(code: CloseCode, reason: impl Into<String>) -> Self {
        End {
            code: Some(code),
            reason: reason.into(),
            framing_intact: true,
        }
    }
    fn framing_lost(self) -> Self {
        End {
            framing_intact: false,
            ..self
        }
    }
}

/// What may still be read from a client after the close frame.
struct DrainBudget {
    bytes: usize,
    frames: usize,
}

impl DrainBudget {
    /// Spends one read of `bytes`; false once the budget is spent.
    fn spend(&mut self, bytes: usize) -> bool {
        self.bytes = self.bytes.saturating_sub(bytes);
        self.frames = self.frames.saturating_sub(1);
        self.bytes > 0 && self.frames > 0
    }
}

/// Runs a connection to its end. `pending` is its place in the pending budget, given
/// back when the `connect` succeeds and the connection takes a slot of the node.
#[instrument(skip_all, fields(format = ?format, user_id))]
pub async fn run<S>(
    ws: WebSocketStream<S>,
    format: WireFormat,
    shared: Arc<Shared>,
    connect_deadline: Instant,
    pending: PendingPermit,
    shutdown: CancellationToken,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    telemetry::connection_opened();
    let admission = shared.admission.clone();
    let mut conn = Connection { ws, format, shared };
    let mut pending = Some(pending);
    let mut slot = None;
    let end = match conn.authenticate(connect_deadline, &shutdown).await {
        Ok((frame_id, verified)) => match admission.connection_slot() {
            Some(taken) => {
                slot = Some(taken);
                drop(pending.take());
                tracing::Span::current().record("user_id", verified.identity.user_id.as_str());
                conn.serve(frame_id, verified, &shutdown).await
            }
            None => End::close(CloseCode::ServerFull, "server is at its connection limit"),
        },
        Err(end) => end,
    };
    match end.code {
        Some(code) => conn.close(code, &end).await,
        // The client closed or the connection broke: answer a close frame if the client
        // sent one (it is queued), and let go.
        None => {
            let _ = timeout(CLOSE_LINGER, conn.ws.flush()).await;
        }
    }
    telemetry::connection_closed(end.code, &end.reason);
    // The socket leaves its budget only now that it is closed.
    drop((pending, slot));
}

struct Connection<S> {
    ws: WebSocketStream<S>,
    format: WireFormat,
    shared: Arc<Shared>,
}

/// What listening to a context (or the private stream) holds: the hub receivers until
/// they become the session's feed, local hub entries and (in cluster mode) Redis
/// subscriptions. Dropping it gives them back, however the join or the session ends —
/// the receivers first, so the hub sees its listeners gone.
struct Listening {
    shared: Arc<Shared>,
    context: Arc<str>,
    user: Arc<str>,
    channel: Channel,
    /// Whether the bus subscriptions were taken.
    acquired: bool,
    /// The shared broadcast and (attendees) their own queue, until taken by `feed`.
    receivers: Option<Receivers>,
}

/// A stream's hub receivers: the shared broadcast, and an attendee's own queue.
type Receivers = (
    broadcast::Receiver<Arc<Outbound>>,
    Option<tokio::sync::mpsc::Receiver<Arc<Outbound>>>,
);

impl Listening {
    /// Subscribes to `channel` (and, for an attendee, their own queue) before the
    /// actor answers, so nothing falls between its answer and the pushes.
    fn start(
        shared: &Arc<Shared>,
        context: Arc<str>,
        user: Arc<str>,
        channel: Channel,
        own: bool,
    ) -> Self {
        let receiver = shared.hub.subscribe(channel.clone());
        let own = own.then(|| shared.hub.subscribe_user(&context, &user));
        Listening {
            shared: shared.clone(),
            context,
            user,
            channel,
            acquired: false,
            receivers: Some((receiver, own)),
        }
    }

    /// The session's feed of this stream (once).
    fn feed(&mut self) -> Option<ContextFeed> {
        let (receiver, own) = self.receivers.take()?;
        Some(ContextFeed::new(BroadcastStream::new(receiver), own))
    }
}

impl Drop for Listening {
    fn drop(&mut self) {
        self.receivers.take();
        self.shared.hub.release(&self.channel);
        self.shared.hub.release_user(&self.context, &self.user);
        if self.acquired {
            self.shared
                .registry
                .bus()
                .release(&bus_channels(&self.channel, &self.user));
        }
    }
}

/// A joined context.
struct Joined {
    listening: Listening,
    role: Role,
    /// The epoch of the pushes delivered; a push from another epoch means the context
    /// restarted (Redis lost its data) and the client must resync.
    epoch: u64,
    /// The highest seq delivered; older pushes are duplicates and skipped.
    last_seq: u64,
}

/// The bus channels a listener of `channel` needs: moderators get public pushes too,
/// attendees their own.
fn bus_channels(channel: &Channel, user: &Arc<str>) -> Vec<Channel> {
    match channel {
        Channel::ContextPublic(id) => vec![
            channel.clone(),
            Channel::ContextUser(id.clone(), user.clone()),
        ],
        Channel::ContextModerators(id) => vec![Channel::ContextPublic(id.clone()), channel.clone()],
        Channel::ContextUser(..) | Channel::Private(_) => vec![channel.clone()],
    }
}

/// A command's answer, ready in command order.
enum Completion {
    Reply(ServerFrame),
    Join {
        id: u64,
        listening: Listening,
        role: Role,
        /// The snapshot, or the refusal to send.
        result: Result<JoinOk, ServerFrame>,
    },
    PrivateOpen {
        id: u64,
        listening: Listening,
        result: Result<PrivateOk, Rejection>,
    },
}

fn decode(format: WireFormat, message: Message) -> Option<Result<ClientFrame, DecodeError>> {
    Some(match (format, message) {
        (WireFormat::Json, Message::Text(text)) => wire::decode_client_frame_json(text.as_str()),
        (WireFormat::Proto, Message::Binary(bytes)) => wire::decode_client_frame_proto(&bytes),
        (WireFormat::Json, Message::Binary(_)) => Err(DecodeError::WrongFrameType {
            got: "binary",
            expected: WireFormat::JSON_SUBPROTOCOL,
        }),
        (WireFormat::Proto, Message::Text(_)) => Err(DecodeError::WrongFrameType {
            got: "text",
            expected: WireFormat::PROTO_SUBPROTOCOL,
        }),
        _ => return None,
    })
}

fn command_name(command: &Command) -> &'static str {
    match command {
        Command::Connect(_) => "connect",
        Command::Join(_) => "join",
        Command::Leave(_) => "leave",
        Command::Send(_) => "send",
        Command::Like(_) => "like",
        Command::Unlike(_) => "unlike",
        Command::Delete(_) => "delete",
        Command::Pin(_) => "pin",
        Command::Unpin(_) => "unpin",
        Command::Block(_) => "block",
        Command::Unblock(_) => "unblock",
        Command::Ping(_) => "ping",
        Command::PostUpdate(_) => "post_update",
        Command::Ask(_) => "ask",
        Command::ThreadAction(_) => "thread_action",
        Command::PublishQa(_) => "publish_qa",
        Command::Unpublish(_) => "unpublish",
        Command::PrivateOpen(_) => "private_open",
        Command::Connection(_) => "connection",
        Command::DmSend(_) => "dm_send",
        Command::DmDelete(_) => "dm_delete",
        Command::DmRead(_) => "dm_read",
        Command::DmHistory(_) => "dm_history",
        Command::Settings(_) => "settings",
        Command::People(_) => "people",
    }
}

/// Checks the other user named in a private chat command.
fn check_peer(me: &str, peer: &str) -> Result<(), Rejection> {
    if peer.is_empty() || peer.len() > MAX_USER_ID_BYTES || peer.chars().any(char::is_control) {
        return Err(Rejection::BadRequest(format!(
            "user_id must be 1 to {MAX_USER_ID_BYTES} bytes without control characters"
        )));
    }
    if peer == me {
        return Err(Rejection::BadRequest(
            "that is you: pick another user".into(),
        ));
    }
    Ok(())
}

/// Maps a read error to how the session ends.
fn read_failure(e: tungstenite::Error) -> End {
    match e {
        tungstenite::Error::Capacity(e) => {
            End::close(CloseCode::MessageTooBig, format!("message too big: {e}")).framing_lost()
        }
        tungstenite::Error::Protocol(e) => {
            End::close(CloseCode::ProtocolError, format!("protocol error: {e}")).framing_lost()
        }
        tungstenite::Error::Utf8(_) => {
            End::close(CloseCode::ProtocolError, "text frame is not valid UTF-8").framing_lost()
        }
        other => End::gone(format!("connection lost: {other}")),
    }
}

impl<S> Connection<S>
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    fn config(&self) -> &Config {
        &self.shared.config
    }

    fn encode(&self, frame: &ServerFrame) -> Message {
        match self.format {
            WireFormat::Json => Message::text(wire::encode_json(frame)),
            WireFormat::Proto => Message::binary(wire::encode_proto(frame)),
        }
    }

    /// Writes one frame and flushes, within the write time-out.
    async fn send(&mut self, frame: &ServerFrame) -> Result<(), End> {
        let message = self.encode(frame);
        self.write(message, true).await
    }

    /// Queues a message in the socket's write buffer and, with `flush`, writes it out.
    /// The write time-out only costs a timer when the socket is actually blocked: the
    /// common case completes on the first poll.
    async fn write(&mut self, message: Message, flush: bool) -> Result<(), End> {
        let write_timeout = self.config().write_timeout();
        let ready = match poll_fn(|cx| self.ws.poll_ready_unpin(cx)).now_or_never() {
            Some(ready) => ready,
            None => timeout(write_timeout, poll_fn(|cx| self.ws.poll_ready_unpin(cx)))
                .await
                .map_err(|_| slow_consumer())?,
        };
        ready
            .and_then(|()| self.ws.start_send_unpin(message))
            .map_err(|e| End::gone(format!("write failed: {e}")))?;
        if flush { self.flush().await } else { Ok(()) }
    }

    /// Writes out everything buffered, within the write time-out.
    async fn flush(&mut self) -> Result<(), End> {
        let result = match self.ws.flush().now_or_never() {
            Some(result) => result,
            None => timeout(self.config().write_timeout(), self.ws.flush())
                .await
                .map_err(|_| slow_consumer())?,
        };
        result.map_err(|e| End::gone(format!("write failed: {e}")))
    }

    /// Closes politely, whatever the reason: the close frame, then the client's input
    /// read and dropped until its own close frame arrives (within [`CLOSE_LINGER`] and
    /// the drain budget), so the socket ends with a FIN. A socket closed with unread
    /// input is reset by the kernel instead, and a reset can destroy what was written
    /// just before it: the last replies and the close frame, which the client then
    /// never sees (it reports 1006).
    async fn close(&mut self, code: CloseCode, end: &End) {
        let deadline = Instant::now() + CLOSE_LINGER;
        // Close reasons are limited to 123 bytes by the protocol.
        let mut reason = end.reason.clone();
        while reason.len() > 120 {
            reason.pop();
        }
        let frame = CloseFrame {
            code: WsCloseCode::from(code as u16),
            reason: reason.into(),
        };
        if !matches!(
            tokio::time::timeout_at(deadline, self.ws.close(Some(frame))).await,
            Ok(Ok(()))
        ) {
            // The close frame cannot get through: nothing would be saved by waiting.
            return;
        }
        let mut budget = DrainBudget {
            bytes: CLOSE_DRAIN_BYTES,
            frames: CLOSE_DRAIN_FRAMES,
        };
        if end.framing_intact && !self.drain_frames(deadline, &mut budget).await {
            return;
        }
        self.drain_bytes(deadline, &mut budget).await;
    }

    /// Reads and drops the client's frames until its close frame, the end of the
    /// stream, `deadline` or the end of `budget`. True when framing broke on the way, so
    /// the rest can only be drained as bytes.
    async fn drain_frames(&mut self, deadline: Instant, budget: &mut DrainBudget) -> bool {
        loop {
            let message = match tokio::time::timeout_at(deadline, self.ws.next()).await {
                Ok(Some(Ok(message))) => message,
                Ok(Some(Err(
                    tungstenite::Error::Capacity(_)
                    | tungstenite::Error::Protocol(_)
                    | tungstenite::Error::Utf8(_),
                ))) => return true,
                // The stream ended, the connection broke, or the deadline passed.
                Ok(Some(Err(_)) | None) | Err(_) => return false,
            };
            if matches!(message, Message::Close(_)) || !budget.spend(message.len()) {
                return false;
            }
        }
    }

    /// Reads and drops raw input until the client ends the stream, `deadline` or the
    /// end of `budget`: after a read error, frames can no longer be told apart.
    async fn drain_bytes(&mut self, deadline: Instant, budget: &mut DrainBudget) {
        let mut scratch = vec![0u8; 4096];
        let stream = self.ws.get_mut();
        while let Ok(Ok(n @ 1..)) =
            tokio::time::timeout_at(deadline, stream.read(&mut scratch)).await
        {
            if !budget.spend(n) {
                return;
            }
        }
    }

    /// Waits for a valid `connect` frame until `deadline` (counted from the TCP accept).
    async fn authenticate(
        &mut self,
        deadline: Instant,
        shutdown: &CancellationToken,
    ) -> Result<(u64, Verified), End> {
        let deadline = tokio::time::sleep_until(deadline);
        tokio::pin!(deadline);
        loop {
            let message = tokio::select! {
                () = shutdown.cancelled() => return Err(End::close(CloseCode::Restart, "server restarting")),
                () = &mut deadline => {
                    telemetry::auth_refused("connect_timeout");
                    return Err(End::close(CloseCode::ConnectTimeout, "no connect frame in time"));
                }
                message = self.ws.next() => message,
            };
            let message = match message {
                None => return Err(End::gone("closed before connect")),
                Some(Err(e)) => return Err(read_failure(e)),
                Some(Ok(Message::Close(_))) => return Err(End::gone("closed before connect")),
                Some(Ok(m)) => m,
            };
            let Some(decoded) = decode(self.format, message) else {
                continue;
            };
            let frame = match decoded {
                Ok(frame) => frame,
                Err(e) => {
                    self.send(&error_reply(0, ErrorCode::BadRequest, e.to_string(), 0))
                        .await?;
                    return Err(End::close(
                        CloseCode::ProtocolError,
                        "malformed frame before connect",
                    ));
                }
            };
            let Some(Command::Connect(connect)) = frame.command else {
                self.send(&error_reply(
                    frame.id,
                    ErrorCode::Unauthorized,
                    "send connect first",
                    0,
                ))
                .await?;
                telemetry::auth_refused("command_before_connect");
                return Err(End::close(CloseCode::Unauthorized, "connect first"));
            };
            return match self.shared.verifier.verify(&connect.token) {
                Ok(verified) => Ok((frame.id, verified)),
                Err(e) => {
                    telemetry::auth_refused(&e.to_string());
                    self.send(&error_reply(
                        frame.id,
                        protocol::auth_failure(&e),
                        e.to_string(),
                        0,
                    ))
                    .await?;
                    Err(End::close(CloseCode::Unauthorized, e.to_string()))
                }
            };
        }
    }

    /// The authenticated part of the connection.
    async fn serve(
        &mut self,
        connect_id: u64,
        verified: Verified,
        shutdown: &CancellationToken,
    ) -> End {
        let Verified {
            identity,
            valid_until_secs,
        } = verified;
        let user: Arc<str> = Arc::from(identity.user_id.as_str());
        let Some(_slot) = self.shared.limits.connect(&user) else {
            let _ = self
                .send(&error_reply(
                    connect_id,
                    ErrorCode::LimitReached,
                    "too many connections for this user",
                    0,
                ))
                .await;
            return End::close(
                CloseCode::TooManyConnections,
                "too many connections for this user",
            );
        };
        let shared = self.shared.clone();
        let config = &shared.config;
        let connected = reply(
            connect_id,
            ReplyResult::Connect(ConnectOk {
                user_id: identity.user_id.clone(),
                server_time_ms: now_ms(),
                node_id: config.node_id.clone().unwrap_or_default(),
                limits: Some(Limits {
                    max_frame_bytes: config.max_frame_bytes,
                    max_text_chars: config.max_text_chars,
                    commands_per_sec: config.user_rate,
                    command_burst: config.user_burst.max(config.user_rate),
                    max_joined_contexts: config.max_joined_contexts,
                }),
            }),
        );
        if let Err(end) = self.send(&connected).await {
            return end;
        }
        let mut state = SessionState {
            identity: Arc::new(identity),
            valid_until_secs,
            user,
            joined: HashMap::new(),
            joining: HashSet::new(),
            pushes: StreamMap::new(),
            in_flight: FuturesOrdered::new(),
            rate_strikes: 0,
            pushes_unreported: 0,
            pushes_reported_at: Instant::now(),
        };
        let end = self.serve_loop(&mut state, shutdown).await;
        if end.code.is_some_and(|code| code != CloseCode::SlowConsumer) {
            self.answer_in_flight(&mut state).await;
        }
        state.report_pushes();
        let joined: Vec<(Arc<str>, Joined)> = state.joined.drain().collect();
        for (context, joined) in joined {
            self.unjoin(&mut state, &context, joined);
        }
        // Joins still in flight give back what they took as they are dropped.
        state.in_flight.clear();
        end
    }

    /// Before the server closes the connection: writes the answers of the commands
    /// already read, in order, for at most [`CLOSE_FLUSH`]. A client told to go away
    /// (a rate-limit close above all) learns how each command it sent was answered,
    /// `RATE_LIMITED` included. A slow consumer is not waited for.
    async fn answer_in_flight(&mut self, state: &mut SessionState) {
        let _ = timeout(CLOSE_FLUSH, async {
            while let Some(done) = state.in_flight.next().await {
                if self.complete(state, done).await.is_err() {
                    return;
                }
            }
        })
        .await;
    }

    /// Stops listening to a context this connection had joined.
    fn unjoin(&self, state: &mut SessionState, context: &Arc<str>, joined: Joined) {
        // The feed (the receivers) goes first, so the hub sees its listeners gone.
        state.pushes.remove(context);
        self.shared.presence.leave(context, &state.user);
        if joined.role == Role::Moderator {
            self.shared
                .registry
                .moderator_presence(context, &state.user, false);
        }
        drop(joined);
    }

    async fn serve_loop(&mut self, state: &mut SessionState, shutdown: &CancellationToken) -> End {
        let shared = self.shared.clone();
        let config = &shared.config;
        let mut ping = tokio::time::interval_at(
            Instant::now() + config.ping_interval(),
            config.ping_interval(),
        );
        ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut last_seen = Instant::now();
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return End::close(CloseCode::Restart, "server restarting"),
                Some(done) = state.in_flight.next(), if !state.in_flight.is_empty() => {
                    if let Err(end) = self.complete(state, done).await {
                        return end;
                    }
                }
                Some((context, item)) = state.pushes.next(), if !state.pushes.is_empty() => {
                    if let Err(end) = self.deliver(state, context, item).await {
                        return end;
                    }
                }
                message = self.ws.next(), if state.in_flight.len() < config.max_in_flight => {
                    last_seen = Instant::now();
                    let message = match message {
                        None => return End::gone("client went away"),
                        Some(Err(e)) => return read_failure(e),
                        Some(Ok(Message::Close(_))) => return End::gone("client closed"),
                        Some(Ok(m)) => m,
                    };
                    if let Some(decoded) = decode(self.format, message)
                        && let Err(end) = self.dispatch(state, decoded)
                    {
                        return end;
                    }
                }
                _ = ping.tick() => {
                    if last_seen.elapsed() > config.idle_timeout() {
                        return End::close(CloseCode::IdleTimeout, "idle time-out");
                    }
                    if now_ms() / 1000 > state.valid_until_secs {
                        return End::close(CloseCode::Unauthorized, "token expired: reconnect with a fresh token");
                    }
                    if let Err(end) = self.write(Message::Ping(Default::default()), true).await {
                        return end;
                    }
                    // A context actor started after this join (passivation, new owner
                    // node) learns from these reports who is still here.
                    for (context, joined) in &state.joined {
                        if joined.role == Role::Moderator {
                            self.shared.registry.moderator_presence(context, &state.user, true);
                        }
                    }
                }
            }
        }
    }

    /// Handles one decoded frame: answers at once or queues the actor call, keeping
    /// replies in command order.
    fn dispatch(
        &mut self,
        state: &mut SessionState,
        decoded: Result<ClientFrame, DecodeError>,
    ) -> Result<(), End> {
        // Every frame spends the user's budget, malformed and unknown ones included.
        let frame_id = decoded.as_ref().map_or(0, |f| f.id);
        if let Err(wait) = self.shared.limits.check_rate(&state.user) {
            state.rate_strikes += 1;
            if state.rate_strikes > RATE_STRIKES_BEFORE_CLOSE {
                return Err(End::close(
                    CloseCode::RateLimited,
                    "rate limit exceeded repeatedly",
                ));
            }
            state.ready(rate_limited(frame_id, wait, "commands"));
            return Ok(());
        }
        state.rate_strikes = 0;
        let frame = match decoded {
            Ok(frame) => frame,
            Err(e) => {
                telemetry::command_refused(ErrorCode::BadRequest.as_str_name());
                state.ready(error_reply(0, ErrorCode::BadRequest, e.to_string(), 0));
                return Ok(());
            }
        };
        let id = frame.id;
        let Some(mut command) = frame.command else {
            telemetry::command_refused(ErrorCode::UnknownCommand.as_str_name());
            state.ready(error_reply(
                id,
                ErrorCode::UnknownCommand,
                "unknown or missing command",
                0,
            ));
            return Ok(());
        };
        telemetry::commands_received(command_name(&command));
        // Texts people will see are checked here, before any actor has them.
        if let Err(e) = text::check_command(&mut command) {
            telemetry::command_refused(e.code().as_str_name());
            state.ready(error_reply(id, e.code(), e.to_string(), 0));
            return Ok(());
        }
        let registry = self.shared.registry.clone();
        let identity = state.identity.clone();
        let (context_id, chat) = match command {
            Command::Ping(_) => {
                state.ready(reply(
                    id,
                    ReplyResult::Pong(Pong {
                        server_time_ms: now_ms(),
                    }),
                ));
                return Ok(());
            }
            Command::Connect(_) => {
                state.ready(error_reply(
                    id,
                    ErrorCode::AlreadyConnected,
                    "already connected",
                    0,
                ));
                return Ok(());
            }
            Command::Join(join) => {
                self.join(state, id, join.context_id, join.since);
                return Ok(());
            }
            Command::PrivateOpen(open) => {
                self.private_open(state, id, open.since);
                return Ok(());
            }
            command @ (Command::Connection(_)
            | Command::DmSend(_)
            | Command::DmDelete(_)
            | Command::DmRead(_)
            | Command::DmHistory(_)
            | Command::Settings(_)
            | Command::People(_)) => {
                self.private_command(state, id, command);
                return Ok(());
            }
            Command::Leave(leave) => {
                let frame = match state.joined.remove(leave.context_id.as_str()) {
                    Some(joined) => {
                        let context: Arc<str> = Arc::from(leave.context_id.as_str());
                        self.unjoin(state, &context, joined);
                        reply(id, ReplyResult::Ack(Ack { seq: 0 }))
                    }
                    None => error_reply(id, ErrorCode::NotJoined, "not joined to this context", 0),
                };
                state.ready(frame);
                return Ok(());
            }
            Command::Send(c) => (
                c.context_id,
                ChatCommand::Send {
                    text: c.text,
                    client_msg_id: c.client_msg_id,
                    reply_to: c.reply_to,
                    backchannel: c.backchannel,
                    thread_id: c.thread_id,
                },
            ),
            Command::PublishQa(c) => (
                c.context_id,
                ChatCommand::PublishQa {
                    thread_id: c.thread_id,
                    question_id: c.question_id,
                    answer_id: c.answer_id,
                },
            ),
            Command::Unpublish(c) => (c.context_id, ChatCommand::Unpublish { item_id: c.item_id }),
            Command::Ask(c) => (
                c.context_id,
                ChatCommand::Ask {
                    text: c.text,
                    client_msg_id: c.client_msg_id,
                    thread_id: c.thread_id,
                },
            ),
            Command::ThreadAction(c) => {
                let action = match plenary_proto::v1::ThreadActionKind::try_from(c.action) {
                    Ok(plenary_proto::v1::ThreadActionKind::Claim) => ThreadAction::Claim,
                    Ok(plenary_proto::v1::ThreadActionKind::Release) => ThreadAction::Release,
                    Ok(plenary_proto::v1::ThreadActionKind::Resolve) => ThreadAction::Resolve,
                    Ok(plenary_proto::v1::ThreadActionKind::Clear) => ThreadAction::Clear,
                    // A missing action must not default to anything, least of all a claim.
                    Ok(plenary_proto::v1::ThreadActionKind::Unspecified) | Err(_) => {
                        state.ready(error_reply(
                            id,
                            ErrorCode::BadRequest,
                            "missing or unknown thread action",
                            0,
                        ));
                        return Ok(());
                    }
                };
                (
                    c.context_id,
                    ChatCommand::Thread {
                        thread_id: c.thread_id,
                        action,
                    },
                )
            }
            Command::PostUpdate(c) => (
                c.context_id,
                ChatCommand::PostUpdate {
                    title: c.title,
                    text: c.text,
                    toast: c.toast,
                },
            ),
            Command::Like(c) => (
                c.context_id,
                ChatCommand::Like {
                    message_id: c.message_id,
                },
            ),
            Command::Unlike(c) => (
                c.context_id,
                ChatCommand::Unlike {
                    message_id: c.message_id,
                },
            ),
            Command::Delete(c) => (
                c.context_id,
                ChatCommand::Delete {
                    message_id: c.message_id,
                },
            ),
            Command::Pin(c) => (
                c.context_id,
                ChatCommand::Pin {
                    message_id: c.message_id,
                },
            ),
            Command::Unpin(c) => (
                c.context_id,
                ChatCommand::Unpin {
                    message_id: c.message_id,
                },
            ),
            Command::Block(c) => (c.context_id, ChatCommand::Block { user_id: c.user_id }),
            Command::Unblock(c) => (c.context_id, ChatCommand::Unblock { user_id: c.user_id }),
        };
        // The private stream sits among the joined streams under the empty id: it is
        // not a context.
        if context_id.is_empty() || !state.joined.contains_key(context_id.as_str()) {
            telemetry::command_refused(ErrorCode::NotJoined.as_str_name());
            state.ready(error_reply(
                id,
                ErrorCode::NotJoined,
                "join the context first",
                0,
            ));
            return Ok(());
        }
        state.in_flight.push_back(
            async move {
                let frame = match registry.chat(&context_id, identity, chat).await {
                    Ok(outcome) => protocol::outcome_reply(id, outcome),
                    Err(rejection) => refused(id, &rejection),
                };
                Completion::Reply(frame)
            }
            .boxed(),
        );
        Ok(())
    }

    fn join(
        &mut self,
        state: &mut SessionState,
        id: u64,
        context_id: String,
        since: Option<plenary_proto::v1::Position>,
    ) {
        if let Err(why) = validate_context_id(&context_id) {
            state.ready(error_reply(id, ErrorCode::BadRequest, why, 0));
            return;
        }
        let context: Arc<str> = Arc::from(context_id.as_str());
        if state.joining.contains(&context) {
            state.ready(error_reply(
                id,
                ErrorCode::BadRequest,
                "a join of this context is in progress",
                0,
            ));
            return;
        }
        // A re-join (to recover after a gap) replaces the subscription: the old feed
        // stops now, since the answer covers everything until the actor takes the
        // join. The context stays joined meanwhile, so commands on it go on.
        let rejoin = state.joined.contains_key(&context);
        if rejoin {
            state.pushes.remove(&context);
        }
        if !rejoin
            && state.contexts().count() + state.joining.len()
                >= self.config().max_joined_contexts as usize
        {
            state.ready(error_reply(
                id,
                ErrorCode::LimitReached,
                "too many joined contexts",
                0,
            ));
            return;
        }
        let role = state.identity.role_in(&context);
        let channel = match role {
            Role::Moderator => Channel::ContextModerators(context.clone()),
            Role::Attendee => Channel::ContextPublic(context.clone()),
        };
        // Pushes the snapshot already covers are skipped by seq.
        let mut listening = Listening::start(
            &self.shared,
            context.clone(),
            state.user.clone(),
            channel.clone(),
            role == Role::Attendee,
        );
        state.joining.insert(context.clone());
        let registry = self.shared.registry.clone();
        let directory = self.shared.directory.clone();
        let identity = state.identity.clone();
        let request = JoinRequest {
            identity: identity.clone(),
            since,
            create: false,
        };
        let budgets = (!self.config().require_created_contexts)
            .then(|| self.shared.implicit_contexts.clone());
        state.in_flight.push_back(
            async move {
                // In cluster mode, the node must be subscribed before the snapshot.
                let result = match registry
                    .bus()
                    .acquire(&bus_channels(&channel, &listening.user))
                    .await
                {
                    Ok(()) => {
                        listening.acquired = true;
                        let user = &listening.user;
                        join_or_create(&registry, budgets.as_deref(), user, &context, request)
                            .await
                            .map_err(|refusal| refusal.frame(id))
                    }
                    Err(e) => Err(refused(id, &Rejection::Unavailable(format!("{e}; retry")))),
                };
                if result.is_ok() {
                    // Before the reply, so a search right after the join finds them.
                    directory
                        .add(
                            &context,
                            &identity.user_id,
                            &identity.given_name,
                            &identity.family_name,
                        )
                        .await;
                }
                Completion::Join {
                    id,
                    listening,
                    role,
                    result,
                }
            }
            .boxed(),
        );
    }

    /// Opens the user's private stream: like a join, under the key [`PRIVATE`].
    fn private_open(
        &mut self,
        state: &mut SessionState,
        id: u64,
        since: Option<plenary_proto::v1::Position>,
    ) {
        let key: Arc<str> = Arc::from(PRIVATE);
        if state.joining.contains(&key) {
            state.ready(error_reply(
                id,
                ErrorCode::BadRequest,
                "opening the private stream is in progress",
                0,
            ));
            return;
        }
        if let Some(previous) = state.joined.remove(&key) {
            self.unjoin(state, &key, previous);
        }
        let channel = Channel::Private(Arc::from(user_stream_id(&state.user)));
        let mut listening = Listening::start(
            &self.shared,
            key.clone(),
            state.user.clone(),
            channel.clone(),
            false,
        );
        state.joining.insert(key);
        let registry = self.shared.registry.clone();
        let identity = state.identity.clone();
        state.in_flight.push_back(
            async move {
                let result = match registry.bus().acquire(&[channel]).await {
                    Ok(()) => {
                        listening.acquired = true;
                        registry.private_open(identity, since).await
                    }
                    Err(e) => Err(Rejection::Unavailable(format!("{e}; retry"))),
                };
                Completion::PrivateOpen {
                    id,
                    listening,
                    result,
                }
            }
            .boxed(),
        );
    }

    /// Private chat commands other than opening the stream.
    fn private_command(&mut self, state: &mut SessionState, id: u64, command: Command) {
        let registry = self.shared.registry.clone();
        let directory = self.shared.directory.clone();
        let identity = state.identity.clone();
        let contexts: Vec<Arc<str>> = state.contexts().cloned().collect();
        let limits = &self.shared.limits;
        let refuse = |state: &mut SessionState, rejection: Rejection| {
            state.ready(refused(id, &rejection));
        };
        let rate_limited = |state: &mut SessionState, wait: Duration, what: &str| {
            state.ready(rate_limited(id, wait, what));
        };
        // The peer and the command on the conversation, for the pair commands.
        let (peer, pair_command) = match command {
            Command::Connection(c) => {
                let action = match ConnectionActionKind::try_from(c.action) {
                    Ok(ConnectionActionKind::Request) => ConnectionAction::Request,
                    Ok(ConnectionActionKind::Accept) => ConnectionAction::Accept,
                    Ok(ConnectionActionKind::Ignore) => ConnectionAction::Ignore,
                    Ok(ConnectionActionKind::Remove) => ConnectionAction::Remove,
                    Ok(ConnectionActionKind::Unspecified) | Err(_) => {
                        return refuse(
                            state,
                            Rejection::BadRequest("missing or unknown connection action".into()),
                        );
                    }
                };
                if action == ConnectionAction::Request
                    && check_peer(&state.user, &c.user_id).is_ok()
                    && let Err(wait) = limits.check_request(&state.user)
                {
                    return rate_limited(state, wait, "connection requests");
                }
                (c.user_id, PairCommand::Connection(action))
            }
            Command::DmSend(c) => {
                if let Err(wait) = limits.check_direct(&state.user) {
                    return rate_limited(state, wait, "private messages");
                }
                (
                    c.user_id,
                    PairCommand::Send {
                        text: c.text,
                        client_msg_id: c.client_msg_id,
                    },
                )
            }
            Command::DmDelete(c) => (
                c.user_id,
                PairCommand::Delete {
                    message_id: c.message_id,
                },
            ),
            Command::DmRead(c) => (
                c.user_id,
                PairCommand::Read {
                    message_id: c.message_id,
                },
            ),
            Command::DmHistory(c) => {
                if let Err(rejection) = check_peer(&state.user, &c.user_id) {
                    return refuse(state, rejection);
                }
                let limit = if c.limit == 0 { 50 } else { c.limit as usize };
                state.in_flight.push_back(
                    async move {
                        let frame = match registry
                            .history(&identity.user_id, &c.user_id, c.before_id, limit)
                            .await
                        {
                            Ok(page) => reply(id, ReplyResult::DmHistory(page)),
                            Err(rejection) => refused(id, &rejection),
                        };
                        Completion::Reply(frame)
                    }
                    .boxed(),
                );
                return;
            }
            Command::Settings(c) => {
                let patch = SettingsPatch {
                    toast: c.toast,
                    private_chat: c.private_chat,
                    show_last_name: c.show_last_name,
                };
                state.in_flight.push_back(
                    async move {
                        let frame = match registry.update_settings(&identity.user_id, patch).await {
                            Ok(outcome) => protocol::outcome_reply(id, outcome),
                            Err(rejection) => refused(id, &rejection),
                        };
                        Completion::Reply(frame)
                    }
                    .boxed(),
                );
                return;
            }
            Command::People(c) => {
                if let Err(wait) = limits.check_search(&state.user) {
                    return rate_limited(state, wait, "people searches");
                }
                let limit = match c.limit {
                    0 => PEOPLE_DEFAULT,
                    n => (n as usize).min(PEOPLE_MAX),
                };
                state.in_flight.push_back(
                    async move {
                        let frame = match find_people(
                            &registry, &directory, &identity, &contexts, &c.query, limit,
                        )
                        .await
                        {
                            Ok(people) => reply(id, ReplyResult::People(PeopleOk { people })),
                            Err(rejection) => refused(id, &rejection),
                        };
                        Completion::Reply(frame)
                    }
                    .boxed(),
                );
                return;
            }
            _ => {
                return refuse(
                    state,
                    Rejection::BadRequest("not a private chat command".into()),
                );
            }
        };
        if let Err(rejection) = check_peer(&state.user, &peer) {
            return refuse(state, rejection);
        }
        state.in_flight.push_back(
            async move {
                // A peer who never opened private chat is known by the names a shared
                // context recorded.
                let hint = if pair_command == PairCommand::Connection(ConnectionAction::Request) {
                    directory
                        .find(&contexts, &peer)
                        .await
                        .map(|m| (m.given_name, m.family_name))
                } else {
                    None
                };
                let frame = match registry
                    .pair_command(&identity, &peer, hint, pair_command)
                    .await
                {
                    Ok(outcome) => protocol::outcome_reply(id, outcome),
                    Err(rejection) => refused(id, &rejection),
                };
                Completion::Reply(frame)
            }
            .boxed(),
        );
    }

    async fn complete(&mut self, state: &mut SessionState, done: Completion) -> Result<(), End> {
        match done {
            Completion::Reply(frame) => self.send(&frame).await,
            Completion::PrivateOpen {
                id,
                mut listening,
                result,
            } => {
                let key = listening.context.clone();
                state.joining.remove(&key);
                match result {
                    Ok(ok) => {
                        self.shared
                            .hub
                            .joined_at(&listening.channel, None, ok.epoch, ok.seq);
                        if let Some(feed) = listening.feed() {
                            state.pushes.insert(key.clone(), feed);
                        }
                        state.joined.insert(
                            key,
                            Joined {
                                listening,
                                role: Role::Attendee,
                                epoch: ok.epoch,
                                last_seq: ok.seq,
                            },
                        );
                        self.send(&reply(id, ReplyResult::PrivateOpen(ok))).await
                    }
                    Err(rejection) => {
                        drop(listening);
                        self.send(&refused(id, &rejection)).await
                    }
                }
            }
            Completion::Join {
                id,
                mut listening,
                role,
                result,
            } => {
                let context = listening.context.clone();
                state.joining.remove(&context);
                let previous = state.joined.remove(&context);
                match result {
                    Ok(join) => {
                        if previous.is_some() {
                            // Replaced, not left: presence is counted again below.
                            self.shared.presence.leave(&context, &state.user);
                        }
                        drop(previous);
                        let (epoch, last_seq) = (join.epoch, join.seq);
                        self.shared
                            .presence
                            .join(&context, &state.user, role == Role::Moderator);
                        let own =
                            (role == Role::Attendee).then(|| (context.clone(), state.user.clone()));
                        self.shared.hub.joined_at(
                            &listening.channel,
                            own.as_ref(),
                            epoch,
                            last_seq,
                        );

                        if let Some(feed) = listening.feed() {
                            state.pushes.insert(context.clone(), feed);
                        }
                        state.joined.insert(
                            context,
                            Joined {
                                listening,
                                role,
                                epoch,
                                last_seq,
                            },
                        );
                        self.send(&reply(id, ReplyResult::Join(join))).await
                    }
                    Err(refusal) => {
                        drop(listening);
                        if let Some(previous) = previous {
                            self.unjoin(state, &context, previous);
                        }
                        self.send(&refusal).await
                    }
                }
            }
        }
    }

    /// Writes a push and any others already waiting, then flushes once.
    async fn deliver(
        &mut self,
        state: &mut SessionState,
        context: Arc<str>,
        item: Result<Arc<Outbound>, FeedError>,
    ) -> Result<(), End> {
        let mut next = Some((context, item));
        let mut written = 0u64;
        while let Some((context, item)) = next.take() {
            let outbound = match item {
                Ok(outbound) => outbound,
                Err(FeedError::UserQueueOverflow) => {
                    return Err(End::close(
                        CloseCode::SlowConsumer,
                        "slow consumer: own pushes not read; reconnect and recover",
                    ));
                }
                Err(FeedError::Lagged(n)) => {
                    return Err(End::close(
                        CloseCode::SlowConsumer,
                        format!("slow consumer: {n} pushes dropped; reconnect and recover"),
                    ));
                }
            };
            if let Some(joined) = state.joined.get_mut(&context) {
                if outbound.resync {
                    // Pushes may have been lost on the way: the client must rejoin
                    // with `since`. Until it does, pass everything on.
                    joined.epoch = 0;
                    joined.last_seq = 0;
                    self.write(outbound.message(self.format), false).await?;
                    written += 1;
                } else {
                    if joined.epoch != 0 && outbound.epoch != joined.epoch {
                        // The context restarted with a new epoch.
                        self.write(outbound.epoch_resync(self.format), false)
                            .await?;
                        joined.last_seq = 0;
                    }
                    if outbound.seq > joined.last_seq {
                        joined.epoch = outbound.epoch;
                        joined.last_seq = outbound.seq;
                        debug_assert!(
                            joined.role == Role::Moderator
                                || matches!(
                                    joined.listening.channel,
                                    Channel::ContextPublic(_) | Channel::Private(_)
                                )
                        );
                        self.write(outbound.message(self.format), false).await?;
                        written += 1;
                    }
                }
            }
            if written < PUSH_BATCH as u64 {
                next = state.pushes.next().now_or_never().flatten();
            }
        }
        self.flush().await?;
        state.pushes_unreported += written;
        if state.pushes_reported_at.elapsed() >= PUSH_METRIC_INTERVAL {
            state.report_pushes();
        }
        Ok(())
    }
}

struct SessionState {
    identity: Arc<Identity>,
    /// The token's expiry plus leeway (Unix seconds), checked at every ping tick.
    valid_until_secs: u64,
    user: Arc<str>,
    joined: HashMap<Arc<str>, Joined>,
    joining: HashSet<Arc<str>>,
    pushes: StreamMap<Arc<str>, ContextFeed>,
    in_flight: FuturesOrdered<BoxFuture<'static, Completion>>,
    rate_strikes: u32,
    /// Pushes written since the metric was last updated: a hot counter, batched per
    /// session instead of one shared atomic add per push.
    pushes_unreported: u64,
    pushes_reported_at: Instant,
}

impl SessionState {
    /// The joined contexts (not the private stream).
    fn contexts(&self) -> impl Iterator<Item = &Arc<str>> {
        self.joined.keys().filter(|k| !k.is_empty())
    }

    fn report_pushes(&mut self) {
        telemetry::pushes_written(std::mem::take(&mut self.pushes_unreported));
        self.pushes_reported_at = Instant::now();
    }

    /// Queues an answer that needs no actor, behind any still in flight.
    fn ready(&mut self, frame: ServerFrame) {
        self.in_flight
            .push_back(futures_util::future::ready(Completion::Reply(frame)).boxed());
    }
}

/// A `RATE_LIMITED` reply for `what` (a budget of the user's), counted.
fn rate_limited(id: u64, wait: Duration, what: &str) -> ServerFrame {
    telemetry::command_refused(ErrorCode::RateLimited.as_str_name());
    error_reply(
        id,
        ErrorCode::RateLimited,
        format!("too many {what}"),
        (wait.as_millis() as u64).max(1),
    )
}

/// Why a join was refused: by the context, or by a budget of implicit creation.
enum JoinRefused {
    Rejected(Rejection),
    Budget(CreationRefused),
}

impl JoinRefused {
    /// The error reply, counted.
    fn frame(&self, id: u64) -> ServerFrame {
        match self {
            JoinRefused::Rejected(rejection) => refused(id, rejection),
            JoinRefused::Budget(CreationRefused::User(wait)) => {
                telemetry::implicit_context_refused("user");
                rate_limited(
                    id,
                    *wait,
                    "contexts created by joining unknown ids for this user",
                )
            }
            JoinRefused::Budget(CreationRefused::Node(wait)) => {
                telemetry::implicit_context_refused("node");
                rate_limited(
                    id,
                    *wait,
                    "contexts created by joining unknown ids on this node",
                )
            }
        }
    }
}

/// Joins a context. One that does not exist is created (named after its id) only by a
/// second join that may create, once the user's and the node's budgets allow one
/// more; `budgets` is `None` when the node requires created contexts. Asking first
/// without creating keeps joins of existing contexts away from the budgets, and the
/// context's actor (perhaps on another node) alone decides whether it exists.
async fn join_or_create(
    registry: &ContextRegistry,
    budgets: Option<&ImplicitContexts>,
    user: &Arc<str>,
    context: &str,
    mut request: JoinRequest,
) -> Result<JoinOk, JoinRefused> {
    let rejection = match registry.join(context, request.clone()).await {
        Ok(joined) => return Ok(joined),
        Err(rejection) => rejection,
    };
    let (Rejection::ContextNotFound(_), Some(budgets)) = (&rejection, budgets) else {
        return Err(JoinRefused::Rejected(rejection));
    };
    budgets.spend(user).map_err(JoinRefused::Budget)?;
    request.create = true;
    registry
        .join(context, request)
        .await
        .map_err(JoinRefused::Rejected)
}

/// A refusal, counted and answered.
fn refused(id: u64, rejection: &Rejection) -> ServerFrame {
    telemetry::command_refused(rejection_code(rejection).0.as_str_name());
    rejection_reply(id, rejection)
}

fn slow_consumer() -> End {
    End::close(CloseCode::SlowConsumer, "slow consumer: write timed out")
}
