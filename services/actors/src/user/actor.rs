//! The user actor: one per user (stream `~u/<user>`), on the shared runtime
//! ([`crate::runtime`]). It holds the user's profile, settings and what their devices
//! were told of each conversation, takes each conversation's [`Notice`]s (a notice
//! repeated after a retry or a restart is recognised by the conversation's seq and
//! dropped) and pushes them to every device of its user.
//!
//! The mailbox requests of both private actors, user and conversation, are here; the
//! conversation actor is in `conversation`.

use std::{collections::BTreeMap, future::Future, sync::Arc, time::Duration};

use plenary_bus::{Bus, Channel};
use plenary_proto::v1::{
    DirectHistoryOk, PeerUpdate, Position, PrivateOk, Push,
    events::{Actor, UserEvent},
    internal::BusPush,
};
use tokio::sync::{mpsc, oneshot};
use tracing::info_span;

use super::{
    inbox::{Profile, SettingsPatch, UserState},
    pair::{PairCommand, Party},
};
use crate::{
    context::{CommandOutcome, ContextConfig, Rejection},
    identity::Identity,
    runtime::{Held, Journal, Machine, Replayed, Start, Stop},
    telemetry::ActorKind,
};

/// A user as a conversation (or a people search) needs them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserCard {
    pub party: Party,
    /// Whether the user ever opened private chat (has a profile).
    pub known: bool,
    /// Each peer's `PeerStatus` number (only when asked for).
    pub statuses: BTreeMap<String, i32>,
    /// Whether others see the family name.
    pub shows_last_name: bool,
    /// Where the user was last told about the peer asked for (`about`):
    /// the conversation's `(epoch, seq)`.
    pub told: (u64, u64),
}

/// What a conversation tells one of its users.
#[derive(Clone, Debug, PartialEq)]
pub struct Notice {
    pub user_id: String,
    pub pair_epoch: u64,
    pub pair_seq: u64,
    pub update: PeerUpdate,
}

pub(crate) type Call<T> = std::pin::Pin<Box<dyn Future<Output = Result<T, Rejection>> + Send>>;

/// Recent events a user actor keeps for recovery (at most; a smaller
/// `--recovery-window` wins): a device further behind gets a snapshot.
const PRIVATE_RECOVERY_WINDOW: usize = 500;

pub(crate) type Reply<T> = oneshot::Sender<Result<T, Rejection>>;

/// A message in a private actor's mailbox.
pub(crate) enum PrivateRequest {
    /// A device opens the user's private stream.
    Open {
        identity: Arc<Identity>,
        since: Option<Position>,
        reply: Reply<PrivateOk>,
    },
    Settings {
        patch: SettingsPatch,
        reply: Reply<CommandOutcome>,
    },
    Card {
        with_peers: bool,
        /// Also say where the user was last told about this peer.
        about: Option<String>,
        reply: Reply<UserCard>,
    },
    /// One user's notices, in order.
    Notices {
        notices: Vec<Notice>,
        reply: Reply<()>,
    },
    /// A command of `me` on the conversation with `peer` (boxed: it is much larger
    /// than the other requests, and a mailbox's slots are as large as the largest).
    Pair {
        op: Box<(Party, Party, PairCommand)>,
        reply: Reply<CommandOutcome>,
    },
    History {
        viewer: String,
        before_id: u64,
        limit: usize,
        reply: Reply<DirectHistoryOk>,
    },
}

impl PrivateRequest {
    pub(crate) fn refuse(self, why: &Rejection) {
        let why = why.clone();
        match self {
            PrivateRequest::Open { reply, .. } => drop(reply.send(Err(why))),
            PrivateRequest::Settings { reply, .. } | PrivateRequest::Pair { reply, .. } => {
                drop(reply.send(Err(why)))
            }
            PrivateRequest::Card { reply, .. } => drop(reply.send(Err(why))),
            PrivateRequest::Notices { reply, .. } => drop(reply.send(Err(why))),
            PrivateRequest::History { reply, .. } => drop(reply.send(Err(why))),
        }
    }
}

/// The refusal of a request sent to the other kind of private stream.
pub(crate) fn not_for(kind: &str) -> Rejection {
    Rejection::BadRequest(format!("not a {kind} stream"))
}

/// Starts a user actor for `user_id` (once its predecessor has exited).
pub(crate) fn spawn_user(start: Start, user_id: String, bus: Bus) -> mpsc::Sender<PrivateRequest> {
    let actor = UserActor {
        channel: Channel::Private(start.id.clone()),
        head: 0,
        state: UserState::new(&user_id),
        bus,
    };
    let window = start.config.recovery_window.min(PRIVATE_RECOVERY_WINDOW);
    // Root spans, here and for conversations: an actor's logs carry its stream, never
    // the session (another user, perhaps) whose command started it.
    let span = info_span!(parent: None, "user", stream = %start.id);
    start.spawn(actor, window, span)
}

struct UserActor {
    state: UserState,
    channel: Channel,
    /// The seq of the last push sent on the private stream (this epoch): every push
    /// carries the previous one, so a gateway can tell it missed some.
    head: u64,
    bus: Bus,
}

impl Machine for UserActor {
    type Request = PrivateRequest;
    type State = UserState;
    const KIND: ActorKind = ActorKind::User;

    fn state(&mut self) -> &mut UserState {
        &mut self.state
    }

    fn fresh(&self) -> UserState {
        UserState::new(&self.state.user_id)
    }

    fn passivate_after(config: &ContextConfig) -> Duration {
        config.private_passivate_after
    }

    async fn started(
        &mut self,
        _: &mut Journal<UserEvent>,
        tail: &[UserEvent],
    ) -> Result<(), Stop> {
        self.announce_head(tail).await;
        Ok(())
    }

    fn handle(
        &mut self,
        journal: &mut Journal<UserEvent>,
        request: PrivateRequest,
        held: &mut Vec<Held>,
    ) {
        match request {
            PrivateRequest::Open {
                identity,
                since,
                reply,
            } => {
                if let Some(kind) = self.state.decide_profile(Profile::of(&identity)) {
                    self.emit(journal, kind);
                }
                let mut ok = PrivateOk {
                    epoch: self.state.epoch,
                    seq: self.state.seq,
                    ..Default::default()
                };
                match since.and_then(|since| self.missed_since(journal, since)) {
                    Some(missed) => {
                        ok.recovered = true;
                        ok.missed = missed;
                    }
                    None => ok.snapshot = Some(self.state.snapshot()),
                }
                held.push(Held::new(reply, Ok(ok)));
            }
            PrivateRequest::Settings { patch, reply } => {
                let seq = match self.state.decide_settings(&patch) {
                    Some(kind) => self.emit(journal, kind),
                    None => 0,
                };
                held.push(Held::new(reply, Ok(CommandOutcome::Done { seq })));
            }
            PrivateRequest::Card {
                with_peers,
                about,
                reply,
            } => {
                let card = UserCard {
                    party: self.state.party(),
                    known: self.state.profile.is_some(),
                    statuses: if with_peers {
                        self.state.statuses()
                    } else {
                        BTreeMap::new()
                    },
                    shows_last_name: self.state.settings.show_last_name,
                    told: about.map_or((0, 0), |peer| self.state.told(&peer)),
                };
                held.push(Held::new(reply, Ok(card)));
            }
            PrivateRequest::Notices { notices, reply } => {
                for notice in notices {
                    if let Some(kind) =
                        self.state
                            .decide_notice(notice.pair_epoch, notice.pair_seq, &notice.update)
                    {
                        self.emit(journal, kind);
                    }
                }
                held.push(Held::new(reply, Ok(())));
            }
            other @ (PrivateRequest::Pair { .. } | PrivateRequest::History { .. }) => {
                other.refuse(&not_for("conversation"));
            }
        }
    }

    async fn committed(
        &mut self,
        _: &mut Journal<UserEvent>,
        events: Vec<UserEvent>,
        held: Vec<Held>,
    ) -> Result<(), Stop> {
        Held::answer(held);
        for push in events.iter().filter_map(push_of) {
            let prev_seq = std::mem::replace(&mut self.head, push.seq);
            let push = BusPush {
                push: Some(push),
                prev_seq,
                announce: false,
                ..Default::default()
            };
            self.bus.publish(&self.channel, push).await;
        }
        Ok(())
    }

    fn refuse(request: PrivateRequest, why: &Rejection) {
        request.refuse(why);
    }
}

impl UserActor {
    /// Announces the last seq the log holds for the private stream: devices whose
    /// gateway relayed less missed pushes a previous actor committed but never
    /// published, and resync (see the context actor's `announce_heads`).
    async fn announce_head(&mut self, tail: &[UserEvent]) {
        let epoch = self.state.epoch;
        self.head = tail
            .iter()
            .rev()
            .find(|e| e.epoch == epoch && push_of(e).is_some())
            .map_or(0, |e| e.seq);
        if self.head == 0 {
            return;
        }
        let announcement = BusPush {
            push: Some(Push {
                context_id: String::new(),
                epoch,
                seq: self.head,
                body: None,
            }),
            prev_seq: self.head,
            announce: true,
            ..Default::default()
        };
        self.bus.publish(&self.channel, announcement).await;
    }

    fn actor_record(&self) -> Actor {
        let profile = self.state.profile.clone().unwrap_or_default();
        Actor {
            user_id: self.state.user_id.clone(),
            email: profile.email,
            given_name: profile.given_name,
            family_name: profile.family_name,
            moderator: profile.moderator,
        }
    }

    fn emit(
        &mut self,
        journal: &mut Journal<UserEvent>,
        kind: plenary_proto::v1::events::user_event::Kind,
    ) -> u64 {
        let actor = self.actor_record();
        journal.emit(&mut self.state, actor, kind).seq
    }

    /// The pushes a device at `since` missed, or `None` when it cannot be replayed.
    fn missed_since(&self, journal: &Journal<UserEvent>, since: Position) -> Option<Vec<Push>> {
        Some(
            journal
                .since(self.state.position(), since)?
                .filter_map(push_of)
                .collect(),
        )
    }
}

fn push_of(event: &UserEvent) -> Option<Push> {
    UserState::push_body(event).map(|body| Push {
        // Private pushes have no context.
        context_id: String::new(),
        epoch: event.epoch,
        seq: event.seq,
        body: Some(body),
    })
}
