//! The streams a session listens to — its joined contexts and the user's private
//! stream: opening one (one path for both), delivering its pushes, and leaving it.

use std::sync::Arc;

use futures_util::{FutureExt, StreamExt, future::BoxFuture};
use plenary_actors::{ContextRegistry, JoinRequest, Rejection, Role, user::user_stream_id};
use plenary_bus::Channel;
use plenary_proto::v1::{ErrorCode, JoinOk, Position, ServerFrame, reply::Result as ReplyResult};
use tokio::sync::broadcast;
use tokio_stream::wrappers::BroadcastStream;

use super::{Completion, End, Session, SessionState, Shared, Transport, rate_limited, refused};
use crate::{
    feed::{ContextFeed, FeedError},
    hub::Outbound,
    limits::{CreationRefused, ImplicitContexts},
    protocol::{CloseCode, error_reply, reply},
    telemetry,
};

/// The key of the private stream among a session's joined streams (contexts have
/// non-empty ids); private pushes carry this empty `context_id`.
const PRIVATE: &str = "";
/// Pushes written before one flush.
const PUSH_BATCH: usize = 64;
/// How often a session adds its written pushes to the shared metric.
const PUSH_METRIC_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

/// A stream to open.
pub(super) enum Open {
    /// A context, by its (valid) id.
    Context(Arc<str>),
    /// The user's private stream, kept under the key [`PRIVATE`].
    Private,
}

/// An actor's answer to an opened stream: where its pushes start, and the reply.
pub(super) struct Opened {
    epoch: u64,
    seq: u64,
    reply: ReplyResult,
}

/// What listening to a context (or the private stream) holds: the hub receivers until
/// they become the session's feed, local hub entries and (in cluster mode) Redis
/// subscriptions. Dropping it gives them back, however the join or the session ends —
/// the receivers first, so the hub sees its listeners gone.
pub(super) struct Listening {
    shared: Arc<Shared>,
    /// The stream's key among the joined streams: the context id, or [`PRIVATE`].
    key: Arc<str>,
    user: Arc<str>,
    channel: Channel,
    /// Whether the user's own queue (an attendee's in a context) is subscribed.
    own: bool,
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
    /// Subscribes to `channel` (and, with `own`, the user's own queue) before the
    /// actor answers, so nothing falls between its answer and the pushes.
    fn start(
        shared: &Arc<Shared>,
        key: Arc<str>,
        user: Arc<str>,
        channel: Channel,
        own: bool,
    ) -> Self {
        let receiver = shared.hub.subscribe(channel.clone());
        let own_queue = own.then(|| shared.hub.subscribe_user(&key, &user));
        Listening {
            shared: shared.clone(),
            key,
            user,
            channel,
            own,
            acquired: false,
            receivers: Some((receiver, own_queue)),
        }
    }

    /// The session's feed of this stream (once).
    fn feed(&mut self) -> Option<ContextFeed> {
        let (receiver, own) = self.receivers.take()?;
        Some(ContextFeed::new(BroadcastStream::new(receiver), own))
    }

    /// A context's stream, not the private one: its listeners count in presence.
    fn is_context(&self) -> bool {
        !matches!(self.channel, Channel::Private(_))
    }
}

impl Drop for Listening {
    fn drop(&mut self) {
        self.receivers.take();
        self.shared.hub.release(&self.channel);
        self.shared.hub.release_user(&self.key, &self.user);
        if self.acquired {
            self.shared
                .registry
                .bus()
                .release(&bus_channels(&self.channel, &self.user));
        }
    }
}

/// A joined context, or the open private stream.
pub(super) struct Joined {
    listening: Listening,
    pub(super) role: Role,
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

impl<T: Transport> Session<T> {
    /// Opens a stream: joins a context, or opens the private stream. A re-open (to
    /// recover after a gap) replaces the subscription: the old feed stops now, since
    /// the answer covers everything until the actor takes the request, and the stream
    /// stays open meanwhile, so commands on it go on.
    pub(super) fn open_stream(
        &mut self,
        state: &mut SessionState,
        id: u64,
        open: Open,
        since: Option<Position>,
    ) {
        let key: Arc<str> = match &open {
            Open::Context(context) => context.clone(),
            Open::Private => Arc::from(PRIVATE),
        };
        if state.joining.contains(&key) {
            let why = match open {
                Open::Context(_) => "a join of this context is in progress",
                Open::Private => "opening the private stream is in progress",
            };
            state.ready(error_reply(id, ErrorCode::BadRequest, why, 0));
            return;
        }
        let reopen = state.joined.contains_key(&key);
        if reopen {
            state.pushes.remove(&key);
        }
        if !reopen
            && matches!(open, Open::Context(_))
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
        let (role, channel) = match &open {
            Open::Context(context) => {
                let role = state.identity.role_in(context);
                let channel = match role {
                    Role::Moderator => Channel::ContextModerators(context.clone()),
                    Role::Attendee => Channel::ContextPublic(context.clone()),
                };
                (role, channel)
            }
            Open::Private => (
                Role::Attendee,
                Channel::Private(Arc::from(user_stream_id(&state.user))),
            ),
        };
        // Pushes the answer already covers are skipped by seq.
        let own = matches!(open, Open::Context(_)) && role == Role::Attendee;
        let mut listening =
            Listening::start(&self.shared, key.clone(), state.user.clone(), channel, own);
        state.joining.insert(key);
        let answer = self.answer(state, id, open, since);
        let registry = self.shared.registry.clone();
        state.in_flight.push_back(
            async move {
                // In cluster mode, the node must be subscribed before the snapshot.
                let channels = bus_channels(&listening.channel, &listening.user);
                let result = match registry.bus().acquire(&channels).await {
                    Ok(()) => {
                        listening.acquired = true;
                        answer.await
                    }
                    Err(e) => Err(refused(id, &Rejection::Unavailable(format!("{e}; retry")))),
                };
                Completion::Opened {
                    id,
                    listening,
                    role,
                    result,
                }
            }
            .boxed(),
        );
    }

    /// The actor's answer to opening a stream, asked once the session listens to it.
    fn answer(
        &self,
        state: &SessionState,
        id: u64,
        open: Open,
        since: Option<Position>,
    ) -> BoxFuture<'static, Result<Opened, ServerFrame>> {
        let registry = self.shared.registry.clone();
        let identity = state.identity.clone();
        match open {
            Open::Context(context) => {
                let directory = self.shared.directory.clone();
                let budgets = (!self.config().require_created_contexts)
                    .then(|| self.shared.implicit_contexts.clone());
                let user = state.user.clone();
                let request = JoinRequest {
                    identity: identity.clone(),
                    since,
                    create: false,
                };
                async move {
                    let join =
                        join_or_create(&registry, budgets.as_deref(), &user, &context, request)
                            .await
                            .map_err(|refusal| refusal.frame(id))?;
                    // Before the reply, so a search right after the join finds them.
                    directory
                        .add(
                            &context,
                            &identity.user_id,
                            &identity.given_name,
                            &identity.family_name,
                        )
                        .await;
                    Ok(Opened {
                        epoch: join.epoch,
                        seq: join.seq,
                        reply: ReplyResult::Join(join),
                    })
                }
                .boxed()
            }
            Open::Private => async move {
                let ok = registry
                    .private_open(identity, since)
                    .await
                    .map_err(|rejection| refused(id, &rejection))?;
                Ok(Opened {
                    epoch: ok.epoch,
                    seq: ok.seq,
                    reply: ReplyResult::PrivateOpen(ok),
                })
            }
            .boxed(),
        }
    }

    /// A stream's answer, in command order: the stream joins the session's (replacing
    /// one it re-opens) and the reply goes out; or the refusal does, and a stream it
    /// would have replaced is left.
    pub(super) async fn opened(
        &mut self,
        state: &mut SessionState,
        id: u64,
        mut listening: Listening,
        role: Role,
        result: Result<Opened, ServerFrame>,
    ) -> Result<(), End> {
        let key = listening.key.clone();
        state.joining.remove(&key);
        let previous = state.joined.remove(&key);
        let opened = match result {
            Ok(opened) => opened,
            Err(refusal) => {
                drop(listening);
                if let Some(previous) = previous {
                    self.unjoin(state, &key, previous);
                }
                return self.conn.send(&refusal).await;
            }
        };
        if let ReplyResult::PrivateOpen(ok) = &opened.reply
            && let Some(toasts) = toast_setting(ok)
        {
            state.toasts = toasts;
        }
        let presence = &self.shared.presence;
        if previous.is_some() && listening.is_context() {
            // Replaced, not left: presence is counted again below.
            presence.leave(&key, &state.user);
        }
        drop(previous);
        if listening.is_context() {
            presence.join(&key, &state.user, role == Role::Moderator);
        }
        let own = listening.own.then(|| (key.clone(), state.user.clone()));
        self.shared
            .hub
            .joined_at(&listening.channel, own.as_ref(), opened.epoch, opened.seq);
        if let Some(feed) = listening.feed() {
            state.pushes.insert(key.clone(), feed);
        }
        state.joined.insert(
            key,
            Joined {
                listening,
                role,
                epoch: opened.epoch,
                last_seq: opened.seq,
            },
        );
        self.conn.send(&reply(id, opened.reply)).await
    }

    /// Stops listening to a stream this connection had open.
    pub(super) fn unjoin(&self, state: &mut SessionState, key: &Arc<str>, joined: Joined) {
        // The feed (the receivers) goes first, so the hub sees its listeners gone.
        state.pushes.remove(key);
        self.shared.presence.leave(key, &state.user);
        if joined.role == Role::Moderator {
            self.shared
                .registry
                .moderator_presence(key, &state.user, false);
        }
        drop(joined);
    }

    /// Writes a push and any others already waiting, then flushes once.
    pub(super) async fn deliver(
        &mut self,
        state: &mut SessionState,
        key: Arc<str>,
        item: Result<Arc<Outbound>, FeedError>,
    ) -> Result<(), End> {
        let format = self.conn.format();
        let mut next = Some((key, item));
        let mut written = 0u64;
        while let Some((key, item)) = next.take() {
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
            if let Some(joined) = state.joined.get_mut(&key) {
                if outbound.resync {
                    // Pushes may have been lost on the way: the client must rejoin
                    // with `since`. Until it does, pass everything on.
                    joined.epoch = 0;
                    joined.last_seq = 0;
                    self.conn.write(outbound.message(format), false).await?;
                    written += 1;
                } else if outbound.ephemeral {
                    // Not an event: no position to check or move.
                    self.conn.write(outbound.message(format), false).await?;
                    written += 1;
                } else {
                    if joined.epoch != 0 && outbound.epoch != joined.epoch {
                        // The context restarted with a new epoch.
                        self.conn
                            .write(outbound.epoch_resync(format), false)
                            .await?;
                        joined.last_seq = 0;
                    }
                    if let Some(toasts) = outbound.toast_setting {
                        state.toasts = toasts;
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
                        self.conn
                            .write(outbound.message_for(format, state.toasts), false)
                            .await?;
                        written += 1;
                    }
                }
            }
            if written < PUSH_BATCH as u64 {
                next = state.pushes.next().now_or_never().flatten();
            }
        }
        self.conn.flush().await?;
        state.pushes_unreported += written;
        if state.pushes_reported_at.elapsed() >= PUSH_METRIC_INTERVAL {
            state.report_pushes();
        }
        Ok(())
    }
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

/// The user's toast setting as an opened private stream tells it: the snapshot's, or
/// the last `settings` push among those recovered.
fn toast_setting(ok: &plenary_proto::v1::PrivateOk) -> Option<bool> {
    use plenary_proto::v1::push::Body;
    let recovered = ok.missed.iter().rev().find_map(|p| match &p.body {
        Some(Body::Settings(s)) => Some(s.toast),
        _ => None,
    });
    recovered.or_else(|| {
        ok.snapshot
            .as_ref()
            .and_then(|s| s.settings.as_ref())
            .map(|s| s.toast)
    })
}
