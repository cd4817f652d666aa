//! The streams a session listens to — its joined contexts and the user's private
//! stream: opening one (one path for both) and leaving it. Their pushes are written by
//! the node's fan-out walkers ([`crate::hub`]), from the moment the answer to the
//! opening is written.

use std::sync::Arc;

use futures_util::{FutureExt, future::BoxFuture};
use plenary_actors::{
    ContextRegistry, JoinRequest, Rejection, Role, context::JoinAnswer, user::user_stream_id,
};
use plenary_bus::Channel;
use plenary_proto::encoded::EncodedPush;
use plenary_proto::v1::{ErrorCode, Position, ServerFrame, reply::Result as ReplyResult};

use super::{Completion, End, Session, SessionState, Shared, Transport, rate_limited, refused};
use crate::{
    hub::Subscriber,
    limits::{CreationRefused, ImplicitContexts},
    protocol::{error_reply, reply},
    telemetry,
};

/// The key of the private stream among a session's joined streams (contexts have
/// non-empty ids); private pushes carry this empty `context_id`.
const PRIVATE: &str = "";

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
    /// A join's missed pushes as they were published, encoded once, for the reply
    /// to splice in (see [`JoinAnswer`]).
    missed: Vec<Arc<EncodedPush>>,
}

/// What listening to a context (or the private stream) holds: its subscription to the
/// node's hub and (in cluster mode) Redis subscriptions. Dropping it gives them back,
/// however the join or the session ends.
pub(super) struct Listening {
    shared: Arc<Shared>,
    /// The stream's key among the joined streams: the context id, or [`PRIVATE`].
    key: Arc<str>,
    user: Arc<str>,
    channel: Channel,
    /// Whether the bus subscriptions were taken.
    acquired: bool,
    /// The hub subscription, until muted or dropped.
    subscriber: Option<Arc<Subscriber>>,
}

impl Listening {
    /// Subscribes to `channel` (and, with `own`, the user's own pushes in the context)
    /// before the actor answers, so nothing falls between its answer and the pushes:
    /// they are held until [`Listening::open`].
    fn start(
        session: &Session<impl Transport>,
        key: Arc<str>,
        user: Arc<str>,
        channel: Channel,
        own: bool,
    ) -> Self {
        let shared = &session.shared;
        let mut channels = vec![channel.clone()];
        if own {
            channels.push(Channel::ContextUser(key.clone(), user.clone()));
        }
        let subscriber = shared.hub.subscribe(&session.outlet, key.clone(), channels);
        Listening {
            shared: shared.clone(),
            key,
            user,
            channel,
            acquired: false,
            subscriber: Some(subscriber),
        }
    }

    /// The answer (at `epoch`, `seq`) is written: the stream's pushes after it follow.
    fn open(&self, epoch: u64, seq: u64) {
        if let Some(subscriber) = &self.subscriber {
            self.shared.hub.open(subscriber, epoch, seq);
        }
    }

    /// Stops the stream's pushes now (a re-open replaces it).
    fn mute(&mut self) {
        if let Some(subscriber) = self.subscriber.take() {
            self.shared.hub.unsubscribe(&subscriber);
        }
    }

    /// A context's stream, not the private one: its listeners count in presence.
    fn is_context(&self) -> bool {
        !matches!(self.channel, Channel::Private(_))
    }
}

impl Drop for Listening {
    fn drop(&mut self) {
        self.mute();
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
        let reopen = match state.joined.get_mut(&key) {
            Some(joined) => {
                joined.listening.mute();
                true
            }
            None => false,
        };
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
        let mut listening = Listening::start(self, key.clone(), state.user.clone(), channel, own);
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
                        epoch: join.ok.epoch,
                        seq: join.ok.seq,
                        reply: ReplyResult::Join(join.ok),
                        missed: join.missed,
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
                    missed: Vec::new(),
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
        listening: Listening,
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
            self.outlet.set_toasts(toasts);
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
        let sent = match opened.reply {
            ReplyResult::Join(ok) if !opened.missed.is_empty() => {
                self.conn.send_join(id, &ok, &opened.missed).await
            }
            answer => self.conn.send(&reply(id, answer)).await,
        };
        // Pushes after the answer follow it.
        listening.open(opened.epoch, opened.seq);
        state.joined.insert(key, Joined { listening, role });
        sent
    }

    /// Stops listening to a stream this connection had open.
    pub(super) fn unjoin(&self, state: &mut SessionState, key: &Arc<str>, joined: Joined) {
        self.shared.presence.leave(key, &state.user);
        if joined.role == Role::Moderator {
            self.shared
                .registry
                .moderator_presence(key, &state.user, false);
        }
        drop(joined);
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
) -> Result<JoinAnswer, JoinRefused> {
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
