//! One WebSocket connection: authenticate, then read commands, route them to context
//! and user actors and write replies (in command order). Pushes do not pass through
//! the session: the node's fan-out walkers write them to the connection's
//! [`Outlet`], the one ordered way out that the session's own writes take too.
//!
//! Generic over the [`Transport`], so it runs the same on TCP and over in-memory
//! channels (the unit tests). Layout:
//! - this module: the session's life — `connect`, the serve loop, command dispatch.
//! - `connection`: the socket — framing, writes within the time-out, the polite close.
//! - `command`: frame → session and actor commands, with typed errors.
//! - `stream`: the streams a session listens to (contexts, private): opening (its
//!   pushes start once the answer is written) and leaving.
//! - `private`: private chat commands other than opening the stream.

mod command;
mod connection;
mod private;
mod stream;
#[cfg(test)]
mod tests;

use std::{
    collections::{HashMap, HashSet},
    future::Future,
    sync::Arc,
    time::Duration,
};

use futures_util::{FutureExt, StreamExt, future::BoxFuture, stream::FuturesOrdered};
use plenary_actors::{ContextRegistry, Identity, Rejection, Role, context::validate_context_id};
use plenary_bus::now_ms;
use plenary_proto::{
    DecodeError, WireFormat,
    v1::{
        Ack, ClientFrame, ConnectOk, ErrorCode, Limits, Pong, ServerFrame,
        reply::Result as ReplyResult,
    },
};
use tokio::time::{Instant, MissedTickBehavior, timeout};
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;
use tracing::instrument;

use crate::{
    admission::{Admission, PendingPermit},
    auth::{Verified, Verifier},
    config::Config,
    directory::Directory,
    hub::Hub,
    limits::{ImplicitContexts, PrivateRates, UserLimits},
    outlet::{Failure, Outlet},
    presence::Presence,
    protocol::{self, CloseCode, error_reply, rejection_code, rejection_reply, reply},
    telemetry, text,
};
use command::{SessionCommand, command_name};
pub use connection::Transport;
use connection::{Connection, End, read_failure};
use stream::{Joined, Listening, Open, Opened};

/// Consecutive rate-limited commands after which the connection is closed.
const RATE_STRIKES_BEFORE_CLOSE: u32 = 50;
/// When the server closes a connection, the answers of commands already read are
/// written for at most this long before the close frame.
const CLOSE_FLUSH: Duration = Duration::from_secs(1);

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
    /// Reactions counted on this node since the last report ([`crate::live`]).
    pub reactions: Arc<crate::live::Reactions>,
}

impl Shared {
    /// What the sessions of a node share, with the budgets `config` sets.
    pub fn new(
        config: Config,
        verifier: Verifier,
        registry: Arc<ContextRegistry>,
        hub: Arc<Hub>,
        presence: Arc<Presence>,
        directory: Arc<Directory>,
    ) -> Self {
        let limits = UserLimits::new(
            config.max_connections_per_user,
            config.user_rate,
            config.user_burst,
            PrivateRates {
                requests_per_min: config.connect_requests_per_min,
                messages_per_sec: config.direct_messages_per_sec,
                searches_per_min: config.people_searches_per_min,
            },
        );
        let admission = Admission::new(
            config.max_pending_connections,
            config.max_pending_per_ip,
            config.max_connections,
        );
        let implicit_contexts = ImplicitContexts::new(
            config.implicit_contexts_per_user_per_hour,
            config.implicit_contexts_per_node_per_hour,
        );
        Shared {
            config,
            verifier,
            registry,
            hub,
            presence,
            limits,
            directory,
            admission,
            implicit_contexts,
            reactions: Arc::default(),
        }
    }
}

/// Runs a connection to its end. `pending` is its place in the pending budget, given
/// back when the `connect` succeeds and the connection takes a slot of the node.
/// `outlet` is the connection's way out, which `ws` writes through too.
#[instrument(skip_all, fields(format = ?format, user_id))]
pub async fn run<T: Transport>(
    ws: T,
    outlet: Arc<Outlet>,
    format: WireFormat,
    shared: Arc<Shared>,
    connect_deadline: Instant,
    pending: PendingPermit,
    shutdown: CancellationToken,
) {
    telemetry::connection_opened();
    let admission = shared.admission.clone();
    let mut session = Session {
        conn: Connection::new(ws, format, shared.config.write_timeout()),
        shared,
        outlet,
    };
    let mut pending = Some(pending);
    let mut slot = None;
    let end = match session.authenticate(connect_deadline, &shutdown).await {
        Ok((frame_id, verified)) => match admission.connection_slot() {
            Some(taken) => {
                slot = Some(taken);
                drop(pending.take());
                tracing::Span::current().record("user_id", verified.identity.user_id.as_str());
                session.serve(frame_id, verified, &shutdown).await
            }
            None => End::close(CloseCode::ServerFull, "server is at its connection limit"),
        },
        Err(end) => end,
    };
    match end.code {
        Some(code) => session.conn.close(code, &end).await,
        None => session.conn.let_go().await,
    }
    // The writer writes what is still queued (the close frame) and lets go.
    session.outlet.finish();
    telemetry::connection_closed(end.code, &end.reason);
    // The socket leaves its budget only now that it is closed.
    drop((pending, slot));
}

struct Session<T> {
    conn: Connection<T>,
    shared: Arc<Shared>,
    outlet: Arc<Outlet>,
}

/// A command's answer, ready in command order.
enum Completion {
    Reply(ServerFrame),
    /// A context joined or the private stream opened, or the refusal to send.
    Opened {
        id: u64,
        listening: Listening,
        role: Role,
        result: Result<Opened, ServerFrame>,
    },
}

struct SessionState {
    identity: Arc<Identity>,
    /// The token's expiry plus leeway (Unix seconds), checked at every ping tick.
    valid_until_secs: u64,
    user: Arc<str>,
    joined: HashMap<Arc<str>, Joined>,
    joining: HashSet<Arc<str>>,
    in_flight: FuturesOrdered<BoxFuture<'static, Completion>>,
    rate_strikes: u32,
}

impl SessionState {
    /// The joined contexts (not the private stream).
    fn contexts(&self) -> impl Iterator<Item = &Arc<str>> {
        self.joined.keys().filter(|k| !k.is_empty())
    }

    /// Queues an actor call: its answer, or its refusal (counted), comes in command
    /// order.
    fn call<T: Send + 'static>(
        &mut self,
        id: u64,
        call: impl Future<Output = Result<T, Rejection>> + Send + 'static,
        answer: fn(u64, T) -> ServerFrame,
    ) {
        self.in_flight.push_back(
            async move {
                Completion::Reply(match call.await {
                    Ok(ok) => answer(id, ok),
                    Err(rejection) => refused(id, &rejection),
                })
            }
            .boxed(),
        );
    }

    /// Queues an answer that needs no actor, behind any still in flight.
    fn ready(&mut self, frame: ServerFrame) {
        self.in_flight
            .push_back(futures_util::future::ready(Completion::Reply(frame)).boxed());
    }
}

impl<T: Transport> Session<T> {
    fn config(&self) -> &Config {
        &self.shared.config
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
                message = self.conn.read() => message,
            };
            let message = match message {
                None => return Err(End::gone("closed before connect")),
                Some(Err(e)) => return Err(read_failure(e)),
                Some(Ok(Message::Close(_))) => return Err(End::gone("closed before connect")),
                Some(Ok(m)) => m,
            };
            let Some(decoded) = self.conn.decode(message) else {
                continue;
            };
            let frame = match decoded {
                Ok(frame) => frame,
                Err(e) => {
                    self.conn
                        .send(&error_reply(
                            e.frame_id(),
                            ErrorCode::BadRequest,
                            e.to_string(),
                            0,
                        ))
                        .await?;
                    return Err(End::close(
                        CloseCode::ProtocolError,
                        "malformed frame before connect",
                    ));
                }
            };
            let Some(plenary_proto::v1::client_frame::Command::Connect(connect)) = frame.command
            else {
                self.conn
                    .send(&error_reply(
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
                    self.conn
                        .send(&error_reply(
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
            ..
        } = verified;
        let user: Arc<str> = Arc::from(identity.user_id.as_str());
        let Some(_slot) = self.shared.limits.connect(&user) else {
            let _ = self
                .conn
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
        if let Err(end) = self.conn.send(&connected).await {
            return end;
        }
        let mut state = SessionState {
            identity: Arc::new(identity),
            valid_until_secs,
            user,
            joined: HashMap::new(),
            joining: HashSet::new(),
            in_flight: FuturesOrdered::new(),
            rate_strikes: 0,
        };
        let end = self.serve_loop(&mut state, shutdown).await;
        if end.code.is_some_and(|code| code != CloseCode::SlowConsumer) {
            self.answer_in_flight(&mut state).await;
        }
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
                () = self.outlet.ended() => return match self.outlet.failure() {
                    Some(Failure::SlowConsumer) => End::close(
                        CloseCode::SlowConsumer,
                        "slow consumer: pushes not read; reconnect and recover",
                    ),
                    _ => End::gone("write failed"),
                },
                message = self.conn.read(), if state.in_flight.len() < config.max_in_flight => {
                    last_seen = Instant::now();
                    let message = match message {
                        None => return End::gone("client went away"),
                        Some(Err(e)) => return read_failure(e),
                        Some(Ok(Message::Close(_))) => return End::gone("client closed"),
                        Some(Ok(m)) => m,
                    };
                    if let Some(decoded) = self.conn.decode(message)
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
                    if let Err(end) = self.conn.write(Message::Ping(Default::default()), true).await {
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
    /// Checks a `refresh` token as at `connect`; one for the same user moves the
    /// connection's expiry to the new token's. Who the connection is (name, roles)
    /// stays as at `connect`. A refused token leaves the connection as it was.
    fn refresh(&self, state: &mut SessionState, id: u64, token: &str) -> ServerFrame {
        match self.shared.verifier.verify(token) {
            Ok(verified) if verified.identity.user_id != state.identity.user_id => {
                telemetry::command_refused(ErrorCode::Forbidden.as_str_name());
                error_reply(
                    id,
                    ErrorCode::Forbidden,
                    "the token is for another user: refresh needs a token for the connected user",
                    0,
                )
            }
            Ok(verified) => {
                state.valid_until_secs = verified.valid_until_secs;
                reply(id, ReplyResult::Ack(Ack { seq: 0 }))
            }
            Err(e) => {
                let code = protocol::auth_failure(&e);
                telemetry::command_refused(code.as_str_name());
                error_reply(id, code, e.to_string(), 0)
            }
        }
    }

    fn dispatch(
        &mut self,
        state: &mut SessionState,
        decoded: Result<ClientFrame, DecodeError>,
    ) -> Result<(), End> {
        // Every frame spends the user's budget, malformed and unknown ones included.
        let frame_id = match &decoded {
            Ok(frame) => frame.id,
            Err(e) => e.frame_id(),
        };
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
                state.ready(error_reply(
                    frame_id,
                    ErrorCode::BadRequest,
                    e.to_string(),
                    0,
                ));
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
        let command = match SessionCommand::try_from(command) {
            Ok(command) => command,
            Err(e) => {
                state.ready(refused(id, &Rejection::BadRequest(e.to_string())));
                return Ok(());
            }
        };
        match command {
            SessionCommand::Ping => state.ready(reply(
                id,
                ReplyResult::Pong(Pong {
                    server_time_ms: now_ms(),
                }),
            )),
            SessionCommand::Connect => state.ready(error_reply(
                id,
                ErrorCode::AlreadyConnected,
                "already connected",
                0,
            )),
            SessionCommand::Refresh { token } => {
                let frame = self.refresh(state, id, &token);
                state.ready(frame);
            }
            SessionCommand::Join { context_id, since } => match validate_context_id(&context_id) {
                Ok(()) => self.open_stream(state, id, Open::Context(Arc::from(context_id)), since),
                Err(why) => state.ready(error_reply(id, ErrorCode::BadRequest, why, 0)),
            },
            SessionCommand::PrivateOpen { since } => {
                self.open_stream(state, id, Open::Private, since)
            }
            SessionCommand::Private(command) => self.private_command(state, id, command),
            SessionCommand::Leave { context_id } => {
                let frame = match state.joined.remove(context_id.as_str()) {
                    Some(joined) => {
                        let context: Arc<str> = Arc::from(context_id.as_str());
                        self.unjoin(state, &context, joined);
                        reply(id, ReplyResult::Ack(Ack { seq: 0 }))
                    }
                    None => error_reply(id, ErrorCode::NotJoined, "not joined to this context", 0),
                };
                state.ready(frame);
            }
            SessionCommand::Chat {
                context_id,
                command,
            } => self.to_context(
                state,
                id,
                context_id,
                |registry, identity, context| async move {
                    registry.chat(&context, identity, command).await
                },
                protocol::outcome_reply,
            ),
            SessionCommand::History {
                context_id,
                before_id,
                limit,
                backchannel,
                thread_id,
            } => self.to_context(
                state,
                id,
                context_id,
                move |registry, identity, context| async move {
                    let page = (before_id, limit, backchannel, thread_id);
                    registry.chat_history(&context, identity, page).await
                },
                |id, page| reply(id, ReplyResult::History(page)),
            ),
            SessionCommand::React {
                context_id,
                reaction,
                crowd,
            } => {
                let frame = self.react(state, id, &context_id, reaction, crowd);
                state.ready(frame);
            }
        }
        Ok(())
    }

    /// Counts a reaction on this node (the context's actor hears of it with the next
    /// report): joined contexts only, crowd reactions from moderators only.
    fn react(
        &self,
        state: &SessionState,
        id: u64,
        context_id: &str,
        reaction: usize,
        crowd: bool,
    ) -> ServerFrame {
        let joined = (!context_id.is_empty())
            .then(|| state.joined.get_key_value(context_id))
            .flatten();
        let Some((context, joined)) = joined else {
            telemetry::command_refused(ErrorCode::NotJoined.as_str_name());
            return error_reply(id, ErrorCode::NotJoined, "join the context first", 0);
        };
        if crowd && joined.role != Role::Moderator {
            return refused(id, &Rejection::Forbidden);
        }
        self.shared.reactions.react(context, reaction, crowd);
        reply(id, ReplyResult::Ack(Ack { seq: 0 }))
    }

    /// Refuses a command for a context the connection has not joined (`false`).
    fn joined_or_refuse(state: &mut SessionState, id: u64, context_id: &str) -> bool {
        // The private stream sits among the joined streams under the empty id: it is
        // not a context.
        if context_id.is_empty() || !state.joined.contains_key(context_id) {
            telemetry::command_refused(ErrorCode::NotJoined.as_str_name());
            state.ready(error_reply(
                id,
                ErrorCode::NotJoined,
                "join the context first",
                0,
            ));
            return false;
        }
        true
    }

    /// Runs `call` on the actor of a joined context (refused when not joined) and
    /// answers with `answer`.
    fn to_context<A: Send + 'static, F>(
        &self,
        state: &mut SessionState,
        id: u64,
        context_id: String,
        call: impl FnOnce(Arc<ContextRegistry>, Arc<Identity>, String) -> F,
        answer: fn(u64, A) -> ServerFrame,
    ) where
        F: Future<Output = Result<A, Rejection>> + Send + 'static,
    {
        if Self::joined_or_refuse(state, id, &context_id) {
            let call = call(
                self.shared.registry.clone(),
                state.identity.clone(),
                context_id,
            );
            state.call(id, call, answer);
        }
    }

    /// Writes a command's answer. Boxed: an answer is rare next to pushes, and its
    /// future (a stream's opening holds its snapshot reply) would otherwise make
    /// every idle connection's task that much larger.
    fn complete<'a>(
        &'a mut self,
        state: &'a mut SessionState,
        done: Completion,
    ) -> BoxFuture<'a, Result<(), End>> {
        async move {
            match done {
                Completion::Reply(frame) => self.conn.send(&frame).await,
                Completion::Opened {
                    id,
                    listening,
                    role,
                    result,
                } => self.opened(state, id, listening, role, result).await,
            }
        }
        .boxed()
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

/// A refusal, counted and answered.
fn refused(id: u64, rejection: &Rejection) -> ServerFrame {
    telemetry::command_refused(rejection_code(rejection).0.as_str_name());
    rejection_reply(id, rejection)
}
