//! Typed requests. Every operation the registry runs on an actor is a type whose
//! [`Call::Answer`] is what the actor answers, so each caller gets its own kind of
//! answer back, whether the actor runs on this node or the request went to its owner
//! ([`super::wire`] carries both between nodes).

use std::{future::Future, sync::Arc, time::Duration};

use plenary_proto::v1::{DirectHistoryOk, HistoryOk, Position, PrivateOk, events::Actor};
use tokio::sync::{
    mpsc::{self, error::SendTimeoutError, error::TrySendError},
    oneshot,
};

use super::wire::{Answer, Forward};
use crate::{
    context::{
        AdminCommand, ChatCommand, CommandOutcome, ContextHandle, ContextView, JoinAnswer,
        JoinRequest, Rejection, Request, reactions::NodeReport,
    },
    identity::Identity,
    user::{
        PairCommand, Party, SettingsPatch, UserCard,
        actor::{Notice, PrivateRequest, Reply},
    },
};

/// An operation on one actor, and the type of its answer.
pub(crate) trait Call: Forward + Clone + Send + 'static {
    type Answer: Answer;
    /// `None` when this call starts its actor if it is not running (most do). A call
    /// meant only for a running actor gives the answer it gets when there is none.
    fn without_actor() -> Option<Self::Answer> {
        None
    }
    /// The mailbox request that carries this call and answers on `reply`.
    fn mail(self, reply: Reply<Self::Answer>) -> Mail;
}

/// A call as a mailbox request, and the future of its answer.
pub(crate) fn asked<C: Call>(
    call: C,
) -> (
    Mail,
    impl Future<Output = Result<C::Answer, Rejection>> + Send + 'static,
) {
    let (reply, answer) = oneshot::channel();
    (call.mail(reply), async move {
        answer.await.unwrap_or_else(|_| {
            Err(Rejection::OutcomeUnknown(
                "the actor stopped before answering; retry".into(),
            ))
        })
    })
}

/// A mailbox request for a context actor or a private (user, conversation) actor.
pub(crate) enum Mail {
    Context(Request),
    Private(PrivateRequest),
}

/// The mailbox of a running actor.
#[derive(Clone, Debug)]
pub(crate) enum Handle {
    Context(ContextHandle),
    Private(mpsc::Sender<PrivateRequest>),
}

/// Why a request did not reach an actor's mailbox.
pub(crate) enum Undelivered {
    Closed,
    Full,
    /// A context request for a private stream or the other way round.
    WrongKind,
}

impl Undelivered {
    /// The refusal a caller gets for it.
    pub(crate) fn rejection(&self) -> Rejection {
        match self {
            Undelivered::Closed => Rejection::Unavailable("context actor stopped; retry".into()),
            Undelivered::Full => Rejection::Unavailable("context is overloaded; retry".into()),
            Undelivered::WrongKind => {
                Rejection::BadRequest("this id belongs to another kind of stream".into())
            }
        }
    }
}

impl Handle {
    pub(crate) fn is_closed(&self) -> bool {
        match self {
            Handle::Context(h) => h.tx.is_closed(),
            Handle::Private(tx) => tx.is_closed(),
        }
    }

    /// Queues a request, waiting up to `wait` for room.
    pub(crate) async fn send(&self, mail: Mail, wait: Duration) -> Result<(), Undelivered> {
        fn map<T>(e: SendTimeoutError<T>) -> Undelivered {
            match e {
                SendTimeoutError::Closed(_) => Undelivered::Closed,
                SendTimeoutError::Timeout(_) => Undelivered::Full,
            }
        }
        match (self, mail) {
            (Handle::Context(h), Mail::Context(r)) => h.tx.send_timeout(r, wait).await.map_err(map),
            (Handle::Private(tx), Mail::Private(r)) => tx.send_timeout(r, wait).await.map_err(map),
            _ => Err(Undelivered::WrongKind),
        }
    }

    /// Queues a request now or not at all.
    pub(crate) fn try_send(&self, mail: Mail) -> Result<(), Undelivered> {
        fn map<T>(e: TrySendError<T>) -> Undelivered {
            match e {
                TrySendError::Closed(_) => Undelivered::Closed,
                TrySendError::Full(_) => Undelivered::Full,
            }
        }
        match (self, mail) {
            (Handle::Context(h), Mail::Context(r)) => h.tx.try_send(r).map_err(map),
            (Handle::Private(tx), Mail::Private(r)) => tx.try_send(r).map_err(map),
            _ => Err(Undelivered::WrongKind),
        }
    }
}

// --- Context calls ---

impl Call for JoinRequest {
    type Answer = JoinAnswer;
    fn mail(self, reply: Reply<JoinAnswer>) -> Mail {
        Mail::Context(Request::Join { join: self, reply })
    }
}

/// A chat command of a joined user.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Chat {
    pub identity: Arc<Identity>,
    pub command: ChatCommand,
}

impl Call for Chat {
    type Answer = CommandOutcome;
    fn mail(self, reply: Reply<CommandOutcome>) -> Mail {
        let Chat { identity, command } = self;
        Mail::Context(Request::Chat {
            identity,
            command,
            reply,
        })
    }
}

/// An admin API command.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Admin {
    pub actor: Actor,
    pub command: AdminCommand,
}

impl Call for Admin {
    type Answer = ContextView;
    fn mail(self, reply: Reply<ContextView>) -> Mail {
        let Admin { actor, command } = self;
        Mail::Context(Request::Admin {
            actor,
            command,
            reply,
        })
    }
}

pub(crate) use crate::context::ChatHistory;

impl Call for ChatHistory {
    type Answer = HistoryOk;
    fn mail(self, reply: Reply<HistoryOk>) -> Mail {
        Mail::Context(Request::History { query: self, reply })
    }
}

/// A context's settings and position.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Get;

impl Call for Get {
    type Answer = ContextView;
    fn mail(self, reply: Reply<ContextView>) -> Mail {
        Mail::Context(Request::Get { reply })
    }
}

/// A moderator's connection is (or is no longer) in the context: drives the automatic
/// release of claims. Fire and forget, and never starts an actor (a fresh one learns
/// from the next reports).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ModeratorPresence {
    pub user_id: String,
    pub present: bool,
}

impl Call for ModeratorPresence {
    type Answer = ();
    fn without_actor() -> Option<()> {
        Some(())
    }
    fn mail(self, reply: Reply<()>) -> Mail {
        // Nothing answers: taken is all there is to say.
        let _ = reply.send(Ok(()));
        let ModeratorPresence { user_id, present } = self;
        Mail::Context(Request::ModeratorPresence { user_id, present })
    }
}

/// What a gateway node saw of a context since its last report: `Report<true>` carries
/// reactions and starts the actor if it is not running (a click is a request like any
/// other: a context passivated while attendees stayed joined must still get it);
/// `Report<false>` only attendee counts, for a running actor only (a fresh one learns
/// them from the next refresh, and counts alone must not keep idle contexts loaded).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Report<const REACTIONS: bool>(pub NodeReport);

impl<const REACTIONS: bool> Call for Report<REACTIONS> {
    type Answer = ();
    fn without_actor() -> Option<()> {
        (!REACTIONS).then_some(())
    }
    fn mail(self, reply: Reply<()>) -> Mail {
        let _ = reply.send(Ok(()));
        Mail::Context(Request::NodeReport(self.0))
    }
}

// --- Private chat calls ---

/// A device opens its user's private stream.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct PrivateOpen {
    pub identity: Arc<Identity>,
    pub since: Option<Position>,
}

impl Call for PrivateOpen {
    type Answer = PrivateOk;
    fn mail(self, reply: Reply<PrivateOk>) -> Mail {
        let PrivateOpen { identity, since } = self;
        Mail::Private(PrivateRequest::Open {
            identity,
            since,
            reply,
        })
    }
}

/// A user's private chat settings change.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct UserSettings(pub SettingsPatch);

impl Call for UserSettings {
    type Answer = CommandOutcome;
    fn mail(self, reply: Reply<CommandOutcome>) -> Mail {
        Mail::Private(PrivateRequest::Settings {
            patch: self.0,
            reply,
        })
    }
}

/// A user as a conversation needs them.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Card {
    pub with_peers: bool,
    pub about: Option<String>,
}

impl Call for Card {
    type Answer = UserCard;
    fn mail(self, reply: Reply<UserCard>) -> Mail {
        let Card { with_peers, about } = self;
        Mail::Private(PrivateRequest::Card {
            with_peers,
            about,
            reply,
        })
    }
}

/// One user's notices from a conversation, in order.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Notices(pub Vec<Notice>);

impl Call for Notices {
    type Answer = ();
    fn mail(self, reply: Reply<()>) -> Mail {
        Mail::Private(PrivateRequest::Notices {
            notices: self.0,
            reply,
        })
    }
}

/// A command of `me` on the conversation with `peer`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Pair {
    pub me: Party,
    pub peer: Party,
    pub command: PairCommand,
}

impl Call for Pair {
    type Answer = CommandOutcome;
    fn mail(self, reply: Reply<CommandOutcome>) -> Mail {
        let Pair { me, peer, command } = self;
        Mail::Private(PrivateRequest::Pair {
            op: Box::new((me, peer, command)),
            reply,
        })
    }
}

/// A page of a conversation, as `viewer` sees it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct History {
    pub viewer: String,
    pub before_id: u64,
    pub limit: usize,
}

impl Call for History {
    type Answer = DirectHistoryOk;
    fn mail(self, reply: Reply<DirectHistoryOk>) -> Mail {
        let History {
            viewer,
            before_id,
            limit,
        } = self;
        Mail::Private(PrivateRequest::History {
            viewer,
            before_id,
            limit,
            reply,
        })
    }
}
