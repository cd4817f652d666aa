//! The forwarding format between nodes (`proto/plenary/v1/internal.proto`): a call
//! travels as a `Forwarded` request, its answer or refusal as an `Answer`. Decoding
//! checks what the schema cannot say (an identity present, an enum value known) and
//! fails with a [`WireError`] naming what was wrong, never a panic.
//!
//! Before protobuf, nodes forwarded JSON. A JSON body starts with `{`, which no
//! message here can start with (`{` would be field 15 as a group), so bytes from a node
//! of that older release are recognised and refused with UNAVAILABLE instead of being
//! misread; see docs/OPERATIONS.md, "Rolling upgrades".

use std::{borrow::Cow, collections::BTreeMap, sync::Arc};

use plenary_proto::encoded;
use plenary_proto::v1::{DirectHistoryOk, HistoryOk, PrivateOk, internal as pb};
use prost::Message;

use super::call::{
    Admin, Call, Card, Chat, ChatHistory, Get, History, ModeratorPresence, Notices, Pair,
    PrivateOpen, Report, UserSettings,
};
use crate::{
    context::{
        AdminCommand, ChatCommand, CommandOutcome, ContextView, InteractionAction, JoinAnswer,
        JoinRequest, Rejection, SettingsPatch,
        command::ThreadAction,
        interactions::{Ballot, Spec},
        reactions::{self, NodeReport},
    },
    identity::Identity,
    user::{ConnectionAction, PairCommand, Party, UserCard, actor::Notice, inbox},
};

/// Why bytes from another node could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct WireError(Cow<'static, str>);

fn missing(what: &'static str) -> WireError {
    WireError(Cow::Owned(format!("{what} is missing")))
}

/// The forwarding format of a node of the release before protobuf.
pub(crate) fn is_legacy_json(bytes: &[u8]) -> bool {
    bytes.first() == Some(&b'{')
}

/// What this node answers a JSON request from a node of the older release, in the
/// JSON it reads (`Result<OpResult, Rejection>`): UNAVAILABLE, retry.
pub(crate) const LEGACY_REFUSAL: &[u8] = br#"{"Err":{"Unavailable":"the owner node runs a newer release that forwards in protobuf; retry once the rolling upgrade is done"}}"#;

/// A call as forwarded to its owner.
pub(crate) trait Forward {
    fn forward(self) -> pb::forwarded::Op;
}

/// A request for the actor of `stream_id`, as bytes for the owner.
pub(crate) fn encode_request<C: Call>(stream_id: &str, call: C) -> Vec<u8> {
    pb::Forwarded {
        stream_id: stream_id.to_owned(),
        op: Some(call.forward()),
    }
    .encode_to_vec()
}

/// A forwarded request from its bytes.
pub(crate) fn decode_request(bytes: &[u8]) -> Result<pb::Forwarded, WireError> {
    if is_legacy_json(bytes) {
        return Err(WireError(
            "a JSON request from a node of an older release".into(),
        ));
    }
    pb::Forwarded::decode(bytes).map_err(|e| WireError(format!("unreadable request: {e}").into()))
}

/// What a call answers, as it travels back.
pub(crate) trait Answer: Sized + Send + 'static {
    /// What the answer is, for errors ("a join answer").
    const WHAT: &'static str;
    fn into_wire(self) -> pb::answer::Result;
    /// `None` when the owner answered another kind of answer.
    fn from_wire(result: pb::answer::Result) -> Option<Self>;
    /// The answer as the bytes of an `Answer` message.
    fn encode(self) -> Vec<u8> {
        pb::Answer {
            result: Some(self.into_wire()),
        }
        .encode_to_vec()
    }
}

/// An answer or a refusal, as bytes for the caller.
pub(crate) fn encode_answer<A: Answer>(result: Result<A, Rejection>) -> Vec<u8> {
    match result {
        Ok(answer) => answer.encode(),
        Err(rejection) => pb::Answer {
            result: Some(pb::answer::Result::Refused(rejection.into())),
        }
        .encode_to_vec(),
    }
}

/// The answer or refusal the owner sent back.
pub(crate) fn decode_answer<A: Answer>(bytes: &[u8]) -> Result<Result<A, Rejection>, WireError> {
    if is_legacy_json(bytes) {
        return Err(WireError(
            "a JSON answer: the owner node runs an older release".into(),
        ));
    }
    let answer = pb::Answer::decode(bytes)
        .map_err(|e| WireError(format!("unreadable answer: {e}").into()))?;
    match answer.result {
        None => Err(WireError(
            "an answer of a kind this node does not know (the owner runs a newer release)".into(),
        )),
        Some(pb::answer::Result::Refused(refused)) => Ok(Err(refused.into())),
        Some(result) => A::from_wire(result)
            .map(Ok)
            .ok_or_else(|| WireError(format!("not {}", A::WHAT).into())),
    }
}

// --- Answers ---

impl Answer for JoinAnswer {
    const WHAT: &'static str = "a join answer";
    fn into_wire(self) -> pb::answer::Result {
        pb::answer::Result::Joined(self.into_join_ok())
    }
    fn from_wire(result: pb::answer::Result) -> Option<Self> {
        match result {
            pb::answer::Result::Joined(ok) => Some(ok.into()),
            _ => None,
        }
    }
    /// Pushes published lately travel as they were encoded, spliced into the
    /// `JoinOk`, not decoded and encoded again; the caller reads them as usual.
    fn encode(self) -> Vec<u8> {
        let join = encoded::join_ok_proto(&self.ok, &self.missed);
        let mut answer = Vec::with_capacity(join.len() + 6);
        encoded::nest(ANSWER_JOINED, &join, &mut answer);
        answer
    }
}

/// The field number of `Answer.joined` (checked against prost in the tests).
const ANSWER_JOINED: u32 = 2;

impl Answer for PrivateOk {
    const WHAT: &'static str = "a private stream answer";
    fn into_wire(self) -> pb::answer::Result {
        pb::answer::Result::Opened(self)
    }
    fn from_wire(result: pb::answer::Result) -> Option<Self> {
        match result {
            pb::answer::Result::Opened(ok) => Some(ok),
            _ => None,
        }
    }
}

impl Answer for DirectHistoryOk {
    const WHAT: &'static str = "a history page";
    fn into_wire(self) -> pb::answer::Result {
        pb::answer::Result::History(self)
    }
    fn from_wire(result: pb::answer::Result) -> Option<Self> {
        match result {
            pb::answer::Result::History(ok) => Some(ok),
            _ => None,
        }
    }
}

impl Answer for HistoryOk {
    const WHAT: &'static str = "a chat history page";
    fn into_wire(self) -> pb::answer::Result {
        pb::answer::Result::ChatHistory(self)
    }
    fn from_wire(result: pb::answer::Result) -> Option<Self> {
        match result {
            pb::answer::Result::ChatHistory(ok) => Some(ok),
            _ => None,
        }
    }
}

impl Answer for () {
    const WHAT: &'static str = "an acknowledgement";
    fn into_wire(self) -> pb::answer::Result {
        pb::answer::Result::Done(pb::Done {})
    }
    fn from_wire(result: pb::answer::Result) -> Option<Self> {
        matches!(result, pb::answer::Result::Done(_)).then_some(())
    }
}

impl Answer for CommandOutcome {
    const WHAT: &'static str = "a command outcome";
    fn into_wire(self) -> pb::answer::Result {
        use pb::outcome::{Liked, Outcome, Sent};
        let outcome = match self {
            CommandOutcome::Sent {
                message_id,
                seq,
                duplicate,
                thread_id,
            } => Outcome::Sent(Sent {
                message_id,
                seq,
                duplicate,
                thread_id,
            }),
            CommandOutcome::Liked {
                message_id,
                like_count,
                seq,
            } => Outcome::Liked(Liked {
                message_id,
                like_count,
                seq,
            }),
            CommandOutcome::Done { seq } => Outcome::Done(seq),
            CommandOutcome::Interaction {
                interaction_id,
                seq,
            } => Outcome::Interaction(pb::outcome::Interaction {
                interaction_id,
                seq,
            }),
            CommandOutcome::Voted {
                interaction_id,
                seq,
                duplicate,
            } => Outcome::Voted(pb::outcome::Voted {
                interaction_id,
                seq,
                duplicate,
            }),
        };
        pb::answer::Result::Outcome(pb::Outcome {
            outcome: Some(outcome),
        })
    }
    fn from_wire(result: pb::answer::Result) -> Option<Self> {
        use pb::outcome::{Liked, Outcome, Sent};
        let pb::answer::Result::Outcome(outcome) = result else {
            return None;
        };
        Some(match outcome.outcome? {
            Outcome::Sent(Sent {
                message_id,
                seq,
                duplicate,
                thread_id,
            }) => CommandOutcome::Sent {
                message_id,
                seq,
                duplicate,
                thread_id,
            },
            Outcome::Liked(Liked {
                message_id,
                like_count,
                seq,
            }) => CommandOutcome::Liked {
                message_id,
                like_count,
                seq,
            },
            Outcome::Done(seq) => CommandOutcome::Done { seq },
            Outcome::Interaction(pb::outcome::Interaction {
                interaction_id,
                seq,
            }) => CommandOutcome::Interaction {
                interaction_id,
                seq,
            },
            Outcome::Voted(pb::outcome::Voted {
                interaction_id,
                seq,
                duplicate,
            }) => CommandOutcome::Voted {
                interaction_id,
                seq,
                duplicate,
            },
        })
    }
}

impl Answer for ContextView {
    const WHAT: &'static str = "a context view";
    fn into_wire(self) -> pb::answer::Result {
        pb::answer::Result::View(pb::ContextView {
            id: self.id,
            settings: Some(self.settings),
            created_at_ms: self.created_at_ms,
            epoch: self.epoch,
            seq: self.seq,
            moderator_activity: self
                .moderator_activity
                .into_iter()
                .map(
                    |(user_id, email, at_ms)| pb::context_view::ModeratorActivity {
                        user_id,
                        email,
                        at_ms,
                    },
                )
                .collect(),
        })
    }
    fn from_wire(result: pb::answer::Result) -> Option<Self> {
        let pb::answer::Result::View(view) = result else {
            return None;
        };
        Some(ContextView {
            id: view.id,
            settings: view.settings.unwrap_or_default(),
            created_at_ms: view.created_at_ms,
            epoch: view.epoch,
            seq: view.seq,
            moderator_activity: view
                .moderator_activity
                .into_iter()
                .map(|a| (a.user_id, a.email, a.at_ms))
                .collect(),
        })
    }
}

impl Answer for UserCard {
    const WHAT: &'static str = "a user card";
    fn into_wire(self) -> pb::answer::Result {
        pb::answer::Result::Card(pb::UserCard {
            party: Some(self.party.into()),
            known: self.known,
            statuses: self.statuses.into_iter().collect(),
            shows_last_name: self.shows_last_name,
            told_epoch: self.told.0,
            told_seq: self.told.1,
        })
    }
    fn from_wire(result: pb::answer::Result) -> Option<Self> {
        let pb::answer::Result::Card(card) = result else {
            return None;
        };
        Some(UserCard {
            party: card.party.map(Party::from).unwrap_or_default(),
            known: card.known,
            statuses: card.statuses.into_iter().collect::<BTreeMap<_, _>>(),
            shows_last_name: card.shows_last_name,
            told: (card.told_epoch, card.told_seq),
        })
    }
}

impl From<Rejection> for pb::Refused {
    fn from(rejection: Rejection) -> Self {
        use pb::refused::Reason as R;
        let mut retry_after_ms = 0;
        let (reason, detail, max) = match rejection {
            Rejection::Forbidden => (R::Forbidden, String::new(), 0),
            Rejection::NotFound(what) => (R::NotFound, what.into_owned(), 0),
            Rejection::ContextNotFound(id) => (R::ContextNotFound, id, 0),
            Rejection::ContextExists(id) => (R::ContextExists, id, 0),
            Rejection::Blocked => (R::Blocked, String::new(), 0),
            Rejection::InvalidText { max } => (
                R::InvalidText,
                String::new(),
                max.try_into().unwrap_or(u32::MAX),
            ),
            Rejection::BadRequest(why) => (R::BadRequest, why, 0),
            Rejection::LimitReached(what) => (R::LimitReached, what.into_owned(), 0),
            Rejection::Unavailable(why) => (R::Unavailable, why, 0),
            Rejection::AlreadyClaimed(by) => (R::AlreadyClaimed, by, 0),
            Rejection::InvalidState(state) => (R::InvalidState, state, 0),
            Rejection::NotConnected => (R::NotConnected, String::new(), 0),
            Rejection::PrivateChatDisabled => (R::PrivateChatDisabled, String::new(), 0),
            Rejection::OutcomeUnknown(why) => (R::OutcomeUnknown, why, 0),
            Rejection::AlreadyVoted => (R::AlreadyVoted, String::new(), 0),
            Rejection::Archived(what) => (R::Archived, what.into_owned(), 0),
            Rejection::RateLimited {
                what,
                retry_after_ms: wait,
            } => {
                retry_after_ms = wait;
                (R::RateLimited, what.into_owned(), 0)
            }
        };
        pb::Refused {
            reason: reason.into(),
            detail,
            max,
            retry_after_ms,
        }
    }
}

impl From<pb::Refused> for Rejection {
    fn from(refused: pb::Refused) -> Self {
        use pb::refused::Reason as R;
        let detail = refused.detail;
        match R::try_from(refused.reason).unwrap_or(R::Unspecified) {
            R::Forbidden => Rejection::Forbidden,
            R::NotFound => Rejection::NotFound(detail.into()),
            R::ContextNotFound => Rejection::ContextNotFound(detail),
            R::ContextExists => Rejection::ContextExists(detail),
            R::Blocked => Rejection::Blocked,
            R::InvalidText => Rejection::InvalidText {
                max: refused.max as usize,
            },
            R::BadRequest => Rejection::BadRequest(detail),
            R::LimitReached => Rejection::LimitReached(detail.into()),
            R::Unavailable => Rejection::Unavailable(detail),
            R::AlreadyClaimed => Rejection::AlreadyClaimed(detail),
            R::InvalidState => Rejection::InvalidState(detail),
            R::NotConnected => Rejection::NotConnected,
            R::PrivateChatDisabled => Rejection::PrivateChatDisabled,
            R::OutcomeUnknown => Rejection::OutcomeUnknown(detail),
            R::AlreadyVoted => Rejection::AlreadyVoted,
            R::Archived => Rejection::Archived(detail.into()),
            R::RateLimited => Rejection::RateLimited {
                what: detail.into(),
                retry_after_ms: refused.retry_after_ms,
            },
            // A reason added by a newer release: say what the owner said.
            R::Unspecified => Rejection::BadRequest(format!("refused by the owner: {detail}")),
        }
    }
}

// --- Requests ---

/// A request after decoding: each kind as the call it is.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Request {
    Join(JoinRequest),
    Chat(Chat),
    Admin(Admin),
    Get(Get),
    ChatHistory(ChatHistory),
    ModeratorPresence(ModeratorPresence),
    Report(Report<false>),
    Reacted(Report<true>),
    PrivateOpen(PrivateOpen),
    Settings(UserSettings),
    Card(Card),
    Notices(Notices),
    Pair(Pair),
    History(History),
}

impl TryFrom<pb::forwarded::Op> for Request {
    type Error = WireError;
    fn try_from(op: pb::forwarded::Op) -> Result<Self, WireError> {
        use pb::forwarded::Op;
        Ok(match op {
            Op::Join(join) => Request::Join(JoinRequest {
                identity: identity(join.identity)?,
                since: join.since,
                create: join.create,
            }),
            Op::Chat(chat) => Request::Chat(Chat {
                identity: identity(chat.identity)?,
                command: chat
                    .command
                    .and_then(|c| c.command)
                    .ok_or_else(|| missing("the chat command"))?
                    .try_into()?,
            }),
            Op::Admin(admin) => Request::Admin(Admin {
                actor: admin.actor.ok_or_else(|| missing("the actor"))?,
                command: match admin.command.ok_or_else(|| missing("the admin command"))? {
                    pb::admin::Command::Create(settings) => AdminCommand::Create(settings),
                    pb::admin::Command::Update(patch) => AdminCommand::Update(SettingsPatch {
                        name: patch.name,
                        starts_at_ms: patch.starts_at_ms,
                        ends_at_ms: patch.ends_at_ms,
                        registered_attendees: patch.registered_attendees,
                        qa_mode: patch.qa_mode,
                        slow_mode_secs: patch.slow_mode_secs,
                    }),
                },
            }),
            Op::Get(pb::Get {}) => Request::Get(Get),
            Op::ModeratorPresence(p) => Request::ModeratorPresence(ModeratorPresence {
                user_id: p.user_id,
                present: p.present,
            }),
            Op::NodeReport(r) => {
                let report = NodeReport {
                    node: r.node,
                    reactions: counts(&r.reactions),
                    crowd: counts(&r.crowd),
                    attendees: r.attendees,
                };
                if report.has_reactions() {
                    Request::Reacted(Report(report))
                } else {
                    Request::Report(Report(report))
                }
            }
            Op::PrivateOpen(open) => Request::PrivateOpen(PrivateOpen {
                identity: identity(open.identity)?,
                since: open.since,
            }),
            Op::Settings(s) => Request::Settings(UserSettings(inbox::SettingsPatch {
                toast: s.toast,
                private_chat: s.private_chat,
                show_last_name: s.show_last_name,
            })),
            Op::Card(card) => Request::Card(Card {
                with_peers: card.with_peers,
                about: card.about,
            }),
            Op::Notices(notices) => Request::Notices(Notices(
                notices
                    .notices
                    .into_iter()
                    .map(|n| {
                        Ok(Notice {
                            user_id: n.user_id,
                            pair_epoch: n.pair_epoch,
                            pair_seq: n.pair_seq,
                            update: n.update.ok_or_else(|| missing("a notice's update"))?,
                        })
                    })
                    .collect::<Result<_, WireError>>()?,
            )),
            Op::Pair(pair) => Request::Pair(Pair {
                me: pair.me.ok_or_else(|| missing("the pair's `me`"))?.into(),
                peer: pair.peer.ok_or_else(|| missing("the pair's peer"))?.into(),
                command: pair
                    .command
                    .and_then(|c| c.command)
                    .ok_or_else(|| missing("the pair command"))?
                    .try_into()?,
            }),
            Op::History(h) => Request::History(History {
                viewer: h.viewer,
                before_id: h.before_id,
                limit: h.limit as usize,
            }),
            Op::ChatHistory(h) => Request::ChatHistory(ChatHistory {
                identity: identity(h.identity)?,
                before_id: h.before_id,
                limit: h.limit as usize,
                backchannel: h.backchannel,
                thread_id: h.thread_id,
            }),
        })
    }
}

fn identity(identity: Option<pb::Identity>) -> Result<Arc<Identity>, WireError> {
    let i = identity.ok_or_else(|| missing("the identity"))?;
    Ok(Arc::new(Identity {
        user_id: i.user_id,
        email: i.email,
        given_name: i.given_name,
        family_name: i.family_name,
        moderates: i.moderates.into_iter().collect(),
        admin: i.admin,
    }))
}

impl From<&Identity> for pb::Identity {
    fn from(i: &Identity) -> Self {
        let mut moderates: Vec<String> = i.moderates.iter().cloned().collect();
        moderates.sort_unstable();
        pb::Identity {
            user_id: i.user_id.clone(),
            email: i.email.clone(),
            given_name: i.given_name.clone(),
            family_name: i.family_name.clone(),
            moderates,
            admin: i.admin,
        }
    }
}

impl Forward for JoinRequest {
    fn forward(self) -> pb::forwarded::Op {
        pb::forwarded::Op::Join(pb::Join {
            identity: Some(self.identity.as_ref().into()),
            since: self.since,
            create: self.create,
        })
    }
}

impl Forward for Chat {
    fn forward(self) -> pb::forwarded::Op {
        pb::forwarded::Op::Chat(pb::Chat {
            identity: Some(self.identity.as_ref().into()),
            command: Some(pb::ChatCommand {
                command: Some(self.command.into()),
            }),
        })
    }
}

impl Forward for ChatHistory {
    fn forward(self) -> pb::forwarded::Op {
        pb::forwarded::Op::ChatHistory(pb::ChatHistory {
            identity: Some(self.identity.as_ref().into()),
            before_id: self.before_id,
            limit: self.limit.try_into().unwrap_or(u32::MAX),
            backchannel: self.backchannel,
            thread_id: self.thread_id,
        })
    }
}

impl Forward for Admin {
    fn forward(self) -> pb::forwarded::Op {
        let command = match self.command {
            AdminCommand::Create(settings) => pb::admin::Command::Create(settings),
            AdminCommand::Update(p) => pb::admin::Command::Update(pb::SettingsPatch {
                name: p.name,
                starts_at_ms: p.starts_at_ms,
                ends_at_ms: p.ends_at_ms,
                registered_attendees: p.registered_attendees,
                qa_mode: p.qa_mode,
                slow_mode_secs: p.slow_mode_secs,
            }),
        };
        pb::forwarded::Op::Admin(pb::Admin {
            actor: Some(self.actor),
            command: Some(command),
        })
    }
}

impl Forward for Get {
    fn forward(self) -> pb::forwarded::Op {
        pb::forwarded::Op::Get(pb::Get {})
    }
}

impl Forward for ModeratorPresence {
    fn forward(self) -> pb::forwarded::Op {
        pb::forwarded::Op::ModeratorPresence(pb::ModeratorPresence {
            user_id: self.user_id,
            present: self.present,
        })
    }
}

impl<const REACTIONS: bool> Forward for Report<REACTIONS> {
    fn forward(self) -> pb::forwarded::Op {
        let NodeReport {
            node,
            reactions,
            crowd,
            attendees,
        } = self.0;
        pb::forwarded::Op::NodeReport(pb::NodeReport {
            node,
            reactions: reactions.to_vec(),
            crowd: crowd.to_vec(),
            attendees,
        })
    }
}

/// Reaction counts from the wire: missing ones are 0, extra ones (reactions a newer
/// release added) are dropped.
fn counts(wire: &[u32]) -> [u32; reactions::KINDS] {
    let mut counts = [0; reactions::KINDS];
    for (count, n) in counts.iter_mut().zip(wire) {
        *count = *n;
    }
    counts
}

impl Forward for PrivateOpen {
    fn forward(self) -> pb::forwarded::Op {
        pb::forwarded::Op::PrivateOpen(pb::PrivateOpen {
            identity: Some(self.identity.as_ref().into()),
            since: self.since,
        })
    }
}

impl Forward for UserSettings {
    fn forward(self) -> pb::forwarded::Op {
        let patch = self.0;
        pb::forwarded::Op::Settings(pb::UserSettings {
            toast: patch.toast,
            private_chat: patch.private_chat,
            show_last_name: patch.show_last_name,
        })
    }
}

impl Forward for Card {
    fn forward(self) -> pb::forwarded::Op {
        pb::forwarded::Op::Card(pb::Card {
            with_peers: self.with_peers,
            about: self.about,
        })
    }
}

impl Forward for Notices {
    fn forward(self) -> pb::forwarded::Op {
        pb::forwarded::Op::Notices(pb::Notices {
            notices: self
                .0
                .into_iter()
                .map(|n| pb::Notice {
                    user_id: n.user_id,
                    pair_epoch: n.pair_epoch,
                    pair_seq: n.pair_seq,
                    update: Some(n.update),
                })
                .collect(),
        })
    }
}

impl Forward for Pair {
    fn forward(self) -> pb::forwarded::Op {
        pb::forwarded::Op::Pair(pb::Pair {
            me: Some(self.me.into()),
            peer: Some(self.peer.into()),
            command: Some(pb::PairCommand {
                command: Some(self.command.into()),
            }),
        })
    }
}

impl Forward for History {
    fn forward(self) -> pb::forwarded::Op {
        pb::forwarded::Op::History(pb::History {
            viewer: self.viewer,
            before_id: self.before_id,
            limit: self.limit.try_into().unwrap_or(u32::MAX),
        })
    }
}

// --- What requests hold ---

impl From<ChatCommand> for pb::chat_command::Command {
    fn from(command: ChatCommand) -> Self {
        use pb::chat_command::{self as c, Command as C};
        match command {
            ChatCommand::Send {
                text,
                client_msg_id,
                reply_to,
                backchannel,
                thread_id,
            } => C::Send(c::Send {
                text,
                client_msg_id,
                reply_to,
                backchannel,
                thread_id,
            }),
            ChatCommand::Ask {
                text,
                client_msg_id,
                thread_id,
            } => C::Ask(c::Ask {
                text,
                client_msg_id,
                thread_id,
            }),
            ChatCommand::Thread { thread_id, action } => {
                let action = match action {
                    ThreadAction::Claim => pb::ThreadAction::Claim,
                    ThreadAction::Release => pb::ThreadAction::Release,
                    ThreadAction::Resolve => pb::ThreadAction::Resolve,
                    ThreadAction::Clear => pb::ThreadAction::Clear,
                };
                C::Thread(c::Thread {
                    thread_id,
                    action: action.into(),
                })
            }
            ChatCommand::PublishQa {
                thread_id,
                question_id,
                answer_id,
            } => C::PublishQa(c::PublishQa {
                thread_id,
                question_id,
                answer_id,
            }),
            ChatCommand::Unpublish { item_id } => C::Unpublish(item_id),
            ChatCommand::PostUpdate { title, text, toast } => {
                C::PostUpdate(c::PostUpdate { title, text, toast })
            }
            ChatCommand::Like { message_id } => C::Like(message_id),
            ChatCommand::Unlike { message_id } => C::Unlike(message_id),
            ChatCommand::Delete { message_id } => C::Delete(message_id),
            ChatCommand::Pin { message_id } => C::Pin(message_id),
            ChatCommand::Unpin { message_id } => C::Unpin(message_id),
            ChatCommand::Block { user_id } => C::Block(user_id),
            ChatCommand::Unblock { user_id } => C::Unblock(user_id),
            ChatCommand::SaveInteraction {
                interaction_id,
                spec,
                client_save_id,
            } => C::SaveInteraction(c::SaveInteraction {
                interaction_id,
                spec: Some(spec.stored()),
                client_save_id,
            }),
            ChatCommand::Interaction {
                interaction_id,
                action,
            } => {
                use InteractionAction as A;
                let action = match action {
                    A::Publish => pb::InteractionAction::Publish,
                    A::ShowResults => pb::InteractionAction::ShowResults,
                    A::HideResults => pb::InteractionAction::HideResults,
                    A::End => pb::InteractionAction::End,
                    A::Unpublish => pb::InteractionAction::Unpublish,
                    A::Delete => pb::InteractionAction::Delete,
                };
                C::Interaction(c::MoveInteraction {
                    interaction_id,
                    action: action.into(),
                })
            }
            ChatCommand::Vote {
                interaction_id,
                client_vote_id,
                answer,
            } => C::Vote(c::Vote {
                interaction_id,
                client_vote_id,
                options: answer.options,
                rating: answer.rating,
                text: answer.text,
                survey: answer.survey,
            }),
        }
    }
}

impl TryFrom<pb::chat_command::Command> for ChatCommand {
    type Error = WireError;
    fn try_from(command: pb::chat_command::Command) -> Result<Self, WireError> {
        use pb::chat_command::{self as c, Command as C};
        Ok(match command {
            C::Send(c::Send {
                text,
                client_msg_id,
                reply_to,
                backchannel,
                thread_id,
            }) => ChatCommand::Send {
                text,
                client_msg_id,
                reply_to,
                backchannel,
                thread_id,
            },
            C::Ask(c::Ask {
                text,
                client_msg_id,
                thread_id,
            }) => ChatCommand::Ask {
                text,
                client_msg_id,
                thread_id,
            },
            C::Thread(c::Thread { thread_id, action }) => ChatCommand::Thread {
                thread_id,
                action: match pb::ThreadAction::try_from(action) {
                    Ok(pb::ThreadAction::Claim) => ThreadAction::Claim,
                    Ok(pb::ThreadAction::Release) => ThreadAction::Release,
                    Ok(pb::ThreadAction::Resolve) => ThreadAction::Resolve,
                    Ok(pb::ThreadAction::Clear) => ThreadAction::Clear,
                    Ok(pb::ThreadAction::Unspecified) | Err(_) => {
                        return Err(WireError(format!("unknown thread action {action}").into()));
                    }
                },
            },
            C::PublishQa(c::PublishQa {
                thread_id,
                question_id,
                answer_id,
            }) => ChatCommand::PublishQa {
                thread_id,
                question_id,
                answer_id,
            },
            C::Unpublish(item_id) => ChatCommand::Unpublish { item_id },
            C::PostUpdate(c::PostUpdate { title, text, toast }) => {
                ChatCommand::PostUpdate { title, text, toast }
            }
            C::Like(message_id) => ChatCommand::Like { message_id },
            C::Unlike(message_id) => ChatCommand::Unlike { message_id },
            C::Delete(message_id) => ChatCommand::Delete { message_id },
            C::Pin(message_id) => ChatCommand::Pin { message_id },
            C::Unpin(message_id) => ChatCommand::Unpin { message_id },
            C::Block(user_id) => ChatCommand::Block { user_id },
            C::Unblock(user_id) => ChatCommand::Unblock { user_id },
            C::SaveInteraction(c::SaveInteraction {
                interaction_id,
                spec,
                client_save_id,
            }) => ChatCommand::SaveInteraction {
                client_save_id,
                interaction_id,
                spec: spec
                    .as_ref()
                    .and_then(Spec::from_stored)
                    .ok_or_else(|| missing("the interaction's spec"))?,
            },
            C::Interaction(c::MoveInteraction {
                interaction_id,
                action,
            }) => {
                use InteractionAction as A;
                let action = match pb::InteractionAction::try_from(action) {
                    Ok(pb::InteractionAction::Publish) => A::Publish,
                    Ok(pb::InteractionAction::ShowResults) => A::ShowResults,
                    Ok(pb::InteractionAction::HideResults) => A::HideResults,
                    Ok(pb::InteractionAction::End) => A::End,
                    Ok(pb::InteractionAction::Unpublish) => A::Unpublish,
                    Ok(pb::InteractionAction::Delete) => A::Delete,
                    Ok(pb::InteractionAction::Unspecified) | Err(_) => {
                        return Err(WireError(
                            format!("unknown interaction action {action}").into(),
                        ));
                    }
                };
                ChatCommand::Interaction {
                    interaction_id,
                    action,
                }
            }
            C::Vote(c::Vote {
                interaction_id,
                client_vote_id,
                options,
                rating,
                text,
                survey,
            }) => ChatCommand::Vote {
                interaction_id,
                client_vote_id,
                answer: Ballot {
                    options,
                    rating,
                    text,
                    survey,
                },
            },
        })
    }
}

impl From<PairCommand> for pb::pair_command::Command {
    fn from(command: PairCommand) -> Self {
        use pb::pair_command::{self as p, Command as C};
        match command {
            PairCommand::Connection(action) => C::Connection(
                match action {
                    ConnectionAction::Request => pb::ConnectionAction::Request,
                    ConnectionAction::Accept => pb::ConnectionAction::Accept,
                    ConnectionAction::Ignore => pb::ConnectionAction::Ignore,
                    ConnectionAction::Remove => pb::ConnectionAction::Remove,
                }
                .into(),
            ),
            PairCommand::Send {
                text,
                client_msg_id,
            } => C::Send(p::Send {
                text,
                client_msg_id,
            }),
            PairCommand::Delete { message_id } => C::Delete(message_id),
            PairCommand::Read { message_id } => C::Read(message_id),
            PairCommand::Refresh => C::Refresh(p::Refresh {}),
        }
    }
}

impl TryFrom<pb::pair_command::Command> for PairCommand {
    type Error = WireError;
    fn try_from(command: pb::pair_command::Command) -> Result<Self, WireError> {
        use pb::pair_command::{self as p, Command as C};
        Ok(match command {
            C::Connection(action) => {
                PairCommand::Connection(match pb::ConnectionAction::try_from(action) {
                    Ok(pb::ConnectionAction::Request) => ConnectionAction::Request,
                    Ok(pb::ConnectionAction::Accept) => ConnectionAction::Accept,
                    Ok(pb::ConnectionAction::Ignore) => ConnectionAction::Ignore,
                    Ok(pb::ConnectionAction::Remove) => ConnectionAction::Remove,
                    Ok(pb::ConnectionAction::Unspecified) | Err(_) => {
                        return Err(WireError(
                            format!("unknown connection action {action}").into(),
                        ));
                    }
                })
            }
            C::Send(p::Send {
                text,
                client_msg_id,
            }) => PairCommand::Send {
                text,
                client_msg_id,
            },
            C::Delete(message_id) => PairCommand::Delete { message_id },
            C::Read(message_id) => PairCommand::Read { message_id },
            C::Refresh(p::Refresh {}) => PairCommand::Refresh,
        })
    }
}

impl From<Party> for pb::Party {
    fn from(p: Party) -> Self {
        pb::Party {
            user_id: p.user_id,
            name: p.name,
            email: p.email,
            moderator: p.moderator,
            allows_private_chat: p.allows_private_chat,
        }
    }
}

impl From<pb::Party> for Party {
    fn from(p: pb::Party) -> Self {
        Party {
            user_id: p.user_id,
            name: p.name,
            email: p.email,
            moderator: p.moderator,
            allows_private_chat: p.allows_private_chat,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashSet};
    use std::sync::Arc;

    use plenary_proto::encoded::EncodedPush;
    use plenary_proto::v1::{
        DirectMessage, JoinOk, PeerUpdate, Position, Push, Update,
        events::{Actor, ContextSettings},
        push,
    };

    use super::*;
    use crate::user::inbox;

    fn forward(request: Request) -> Vec<u8> {
        let id = "ctx-1";
        match request {
            Request::Join(c) => encode_request(id, c),
            Request::Chat(c) => encode_request(id, c),
            Request::Admin(c) => encode_request(id, c),
            Request::Get(c) => encode_request(id, c),
            Request::ChatHistory(c) => encode_request(id, c),
            Request::ModeratorPresence(c) => encode_request(id, c),
            Request::Report(c) => encode_request(id, c),
            Request::Reacted(c) => encode_request(id, c),
            Request::PrivateOpen(c) => encode_request(id, c),
            Request::Settings(c) => encode_request(id, c),
            Request::Card(c) => encode_request(id, c),
            Request::Notices(c) => encode_request(id, c),
            Request::Pair(c) => encode_request(id, c),
            Request::History(c) => encode_request(id, c),
        }
    }

    fn received(bytes: &[u8]) -> Result<Request, WireError> {
        let forwarded = decode_request(bytes)?;
        assert_eq!(forwarded.stream_id, "ctx-1");
        Request::try_from(forwarded.op.expect("an op"))
    }

    fn identity() -> Arc<Identity> {
        Arc::new(Identity {
            user_id: "u-1".into(),
            email: "al@example.com".into(),
            given_name: "Al".into(),
            family_name: "Bo".into(),
            moderates: HashSet::from(["ctx-1".to_owned(), "ctx-2".to_owned()]),
            admin: true,
        })
    }

    fn party(user: &str) -> Party {
        Party {
            user_id: user.into(),
            name: format!("{user} name"),
            email: format!("{user}@example.com"),
            moderator: true,
            allows_private_chat: true,
        }
    }

    fn every_request() -> Vec<Request> {
        let since = Some(Position { epoch: 3, seq: 41 });
        let chats = [
            ChatCommand::Send {
                text: "hi".into(),
                client_msg_id: "c1".into(),
                reply_to: 7,
                backchannel: true,
                thread_id: 9,
            },
            ChatCommand::Ask {
                text: "why?".into(),
                client_msg_id: "c2".into(),
                thread_id: 4,
            },
            ChatCommand::PublishQa {
                thread_id: 1,
                question_id: 2,
                answer_id: 3,
            },
            ChatCommand::Unpublish { item_id: 5 },
            ChatCommand::PostUpdate {
                title: "t".into(),
                text: "x".into(),
                toast: true,
            },
            ChatCommand::Like { message_id: 11 },
            ChatCommand::Unlike { message_id: 12 },
            ChatCommand::Delete { message_id: 13 },
            ChatCommand::Pin { message_id: 14 },
            ChatCommand::Unpin { message_id: 15 },
            ChatCommand::Block {
                user_id: "u-2".into(),
            },
            ChatCommand::Unblock {
                user_id: "u-3".into(),
            },
            ChatCommand::SaveInteraction {
                client_save_id: "s-1".into(),
                interaction_id: 0,
                spec: Spec::Poll(plenary_proto::v1::events::PollSpec {
                    question: "Which?".into(),
                    options: vec!["a".into(), "b".into()],
                    share_results: true,
                    multiple_answers: true,
                }),
            },
            ChatCommand::SaveInteraction {
                client_save_id: String::new(),
                interaction_id: 4,
                spec: Spec::Quiz(plenary_proto::v1::events::QuizSpec {
                    question: "2 + 2?".into(),
                    options: vec!["4".into(), "5".into()],
                    correct: vec![0],
                    show_correct: true,
                    share_results: false,
                }),
            },
            ChatCommand::Vote {
                interaction_id: 6,
                client_vote_id: "v-1".into(),
                answer: Ballot {
                    options: vec![0, 1],
                    rating: 4,
                    text: "an answer".into(),
                    survey: vec![plenary_proto::v1::events::SurveyAnswer {
                        question: 1,
                        options: vec![2],
                        rating: 3,
                        text: "t".into(),
                    }],
                },
            },
        ];
        let actions = [
            ThreadAction::Claim,
            ThreadAction::Release,
            ThreadAction::Resolve,
            ThreadAction::Clear,
        ]
        .map(|action| ChatCommand::Thread {
            thread_id: 8,
            action,
        })
        .into_iter()
        .chain(
            [
                InteractionAction::Publish,
                InteractionAction::ShowResults,
                InteractionAction::HideResults,
                InteractionAction::End,
                InteractionAction::Unpublish,
                InteractionAction::Delete,
            ]
            .map(|action| ChatCommand::Interaction {
                interaction_id: 6,
                action,
            }),
        );
        let pair_commands = [
            ConnectionAction::Request,
            ConnectionAction::Accept,
            ConnectionAction::Ignore,
            ConnectionAction::Remove,
        ]
        .map(PairCommand::Connection)
        .into_iter()
        .chain([
            PairCommand::Send {
                text: "psst".into(),
                client_msg_id: "d1".into(),
            },
            PairCommand::Delete { message_id: 2 },
            PairCommand::Read { message_id: 3 },
            PairCommand::Refresh,
        ]);
        let mut requests = vec![
            Request::Join(JoinRequest {
                identity: identity(),
                since,
                create: true,
            }),
            Request::Join(JoinRequest {
                identity: identity(),
                since: None,
                create: false,
            }),
            Request::Admin(Admin {
                actor: Actor {
                    user_id: "admin".into(),
                    email: "a@example.com".into(),
                    given_name: "A".into(),
                    family_name: "D".into(),
                    moderator: true,
                },
                command: AdminCommand::Create(ContextSettings {
                    name: "Webinar".into(),
                    starts_at_ms: 1,
                    ends_at_ms: 2,
                    registered_attendees: 3,
                    qa_mode: 2,
                    slow_mode_secs: 30,
                }),
            }),
            Request::Admin(Admin {
                actor: Actor::default(),
                command: AdminCommand::Update(SettingsPatch {
                    name: Some(String::new()),
                    starts_at_ms: None,
                    ends_at_ms: Some(0),
                    registered_attendees: Some(10),
                    qa_mode: None,
                    slow_mode_secs: Some(0),
                }),
            }),
            Request::Get(Get),
            Request::ModeratorPresence(ModeratorPresence {
                user_id: "m".into(),
                present: false,
            }),
            Request::Reacted(Report(NodeReport {
                node: "node-a".into(),
                reactions: [1, 0, 7, 0, u32::MAX],
                crowd: [0, 2, 0, 0, 0],
                attendees: Some(12),
            })),
            Request::Report(Report(NodeReport {
                attendees: None,
                ..NodeReport::default()
            })),
            Request::PrivateOpen(PrivateOpen {
                identity: identity(),
                since,
            }),
            Request::Settings(UserSettings(inbox::SettingsPatch {
                toast: Some(false),
                private_chat: None,
                show_last_name: Some(true),
            })),
            Request::Card(Card {
                with_peers: true,
                about: Some(String::new()),
            }),
            Request::Card(Card {
                with_peers: false,
                about: None,
            }),
            Request::Notices(Notices(vec![Notice {
                user_id: "u-1".into(),
                pair_epoch: 2,
                pair_seq: 30,
                update: PeerUpdate {
                    message: Some(DirectMessage {
                        message_id: 4,
                        text: "hey".into(),
                        ..DirectMessage::default()
                    }),
                    ..PeerUpdate::default()
                },
            }])),
            Request::History(History {
                viewer: "u-1".into(),
                before_id: 99,
                limit: 100,
            }),
            Request::ChatHistory(ChatHistory {
                identity: identity(),
                before_id: 1_234,
                limit: 50,
                backchannel: false,
                thread_id: 77,
            }),
        ];
        requests.extend(chats.into_iter().chain(actions).map(|command| {
            Request::Chat(Chat {
                identity: identity(),
                command,
            })
        }));
        requests.extend(pair_commands.map(|command| {
            Request::Pair(Pair {
                me: party("al"),
                peer: party("bo"),
                command,
            })
        }));
        requests
    }

    #[test]
    fn every_request_reaches_the_owner_as_it_was_sent() {
        let requests = every_request();
        let kinds: HashSet<_> = requests.iter().map(std::mem::discriminant).collect();
        assert_eq!(kinds.len(), 14, "every kind of request");
        for request in requests {
            let bytes = forward(request.clone());
            assert_ne!(bytes.first(), Some(&b'{'), "never mistaken for JSON");
            assert_eq!(received(&bytes), Ok(request));
        }
    }

    #[test]
    fn reaction_counts_of_another_length_are_padded_or_cut_not_refused() {
        let op = pb::forwarded::Op::NodeReport(pb::NodeReport {
            node: "n".into(),
            reactions: vec![1, 2],
            crowd: vec![1, 2, 3, 4, 5, 6, 7],
            attendees: None,
        });
        let Ok(Request::Reacted(Report(report))) = Request::try_from(op) else {
            panic!("not a report");
        };
        assert_eq!(report.reactions, [1, 2, 0, 0, 0]);
        assert_eq!(report.crowd, [1, 2, 3, 4, 5]);
    }

    fn round_trip<A: Answer + Clone + PartialEq + std::fmt::Debug>(answer: A) {
        let bytes = encode_answer(Ok(answer.clone()));
        assert_ne!(bytes.first(), Some(&b'{'));
        assert_eq!(decode_answer::<A>(&bytes), Ok(Ok(answer)));
    }

    #[test]
    fn a_join_answer_carries_the_pushes_it_recovers_as_encoded() {
        let push = |seq| Push {
            context_id: "c".into(),
            epoch: 4,
            seq,
            body: Some(push::Body::Update(Update {
                id: seq,
                text: "once".into(),
                ..Default::default()
            })),
        };
        let answer = JoinAnswer {
            ok: JoinOk {
                epoch: 4,
                seq: 9,
                recovered: true,
                ..JoinOk::default()
            },
            missed: [7, 9]
                .map(|seq| Arc::new(EncodedPush::new(&push(seq))))
                .to_vec(),
        };
        let bytes = encode_answer(Ok(answer.clone()));
        let got = decode_answer::<JoinAnswer>(&bytes).unwrap().unwrap();
        assert_eq!(got.ok.missed, vec![push(7), push(9)]);
        assert_eq!(got, JoinAnswer::from(answer.into_join_ok()));
    }

    #[test]
    fn every_answer_comes_back_as_it_was_given() {
        round_trip(CommandOutcome::Sent {
            message_id: 1,
            seq: 2,
            duplicate: true,
            thread_id: 3,
        });
        round_trip(CommandOutcome::Liked {
            message_id: 1,
            like_count: 7,
            seq: 9,
        });
        round_trip(CommandOutcome::Done { seq: 0 });
        round_trip(CommandOutcome::Done { seq: 12 });
        round_trip(CommandOutcome::Interaction {
            interaction_id: 3,
            seq: 0,
        });
        round_trip(CommandOutcome::Voted {
            interaction_id: 3,
            seq: 9,
            duplicate: true,
        });
        round_trip(ContextView {
            id: "ctx".into(),
            settings: ContextSettings {
                name: "W".into(),
                qa_mode: 1,
                ..ContextSettings::default()
            },
            created_at_ms: 5,
            epoch: 2,
            seq: 8,
            moderator_activity: vec![("m".into(), "m@example.com".into(), 77)],
        });
        round_trip(UserCard {
            party: party("al"),
            known: true,
            statuses: BTreeMap::from([("bo".to_owned(), 2), ("cy".to_owned(), 1)]),
            shows_last_name: true,
            told: (3, 4),
        });
        round_trip(JoinAnswer::from(JoinOk {
            epoch: 4,
            seq: 9,
            ..JoinOk::default()
        }));
        round_trip(PrivateOk {
            epoch: 1,
            seq: 2,
            recovered: true,
            ..PrivateOk::default()
        });
        round_trip(DirectHistoryOk::default());
        round_trip(HistoryOk {
            context_id: "c".into(),
            has_more: true,
            liked_by_me: vec![3],
            ..HistoryOk::default()
        });
        round_trip(());
    }

    #[test]
    fn every_refusal_comes_back_as_it_was_given() {
        let refusals = [
            Rejection::Forbidden,
            Rejection::NotFound("message".into()),
            Rejection::ContextNotFound("ctx".into()),
            Rejection::ContextExists("ctx".into()),
            Rejection::Blocked,
            Rejection::InvalidText { max: 2000 },
            Rejection::BadRequest("no".into()),
            Rejection::LimitReached("pins".into()),
            Rejection::Unavailable("later".into()),
            Rejection::AlreadyClaimed("m@example.com".into()),
            Rejection::InvalidState("resolved".into()),
            Rejection::NotConnected,
            Rejection::PrivateChatDisabled,
            Rejection::OutcomeUnknown("maybe".into()),
            Rejection::AlreadyVoted,
            Rejection::Archived("message".into()),
            Rejection::RateLimited {
                what: "messages".into(),
                retry_after_ms: 250,
            },
        ];
        for refusal in refusals {
            let bytes = encode_answer::<CommandOutcome>(Err(refusal.clone()));
            assert_eq!(decode_answer::<CommandOutcome>(&bytes), Ok(Err(refusal)));
        }
    }

    #[test]
    fn a_refusal_reason_from_a_newer_release_keeps_its_detail() {
        let bytes = pb::Answer {
            result: Some(pb::answer::Result::Refused(pb::Refused {
                reason: 99,
                detail: "too many polls".into(),
                ..Default::default()
            })),
        }
        .encode_to_vec();
        assert_eq!(
            decode_answer::<()>(&bytes),
            Ok(Err(Rejection::BadRequest(
                "refused by the owner: too many polls".into()
            )))
        );
    }

    #[test]
    fn bytes_that_are_not_what_was_asked_are_errors_not_answers() {
        let done = encode_answer(Ok(()));
        let wrong = decode_answer::<UserCard>(&done).unwrap_err();
        assert_eq!(wrong.to_string(), "not a user card");
        assert!(decode_answer::<()>(&[]).is_err(), "an empty answer");
        assert!(decode_answer::<()>(&[0xff, 0xff, 0xff]).is_err(), "garbage");
        let legacy = br#"{"Ok":"Noticed"}"#;
        assert!(
            decode_answer::<()>(legacy)
                .unwrap_err()
                .to_string()
                .contains("older release")
        );
        assert!(decode_request(br#"{"context_id":"c","op":"Get"}"#).is_err());
    }

    #[test]
    fn a_request_missing_what_its_actor_needs_is_refused_by_name() {
        let without_identity = pb::forwarded::Op::Join(pb::Join::default());
        assert_eq!(
            Request::try_from(without_identity).unwrap_err().to_string(),
            "the identity is missing"
        );
        let unknown_action = pb::forwarded::Op::Chat(pb::Chat {
            identity: Some(pb::Identity::default()),
            command: Some(pb::ChatCommand {
                command: Some(pb::chat_command::Command::Thread(
                    pb::chat_command::Thread {
                        thread_id: 1,
                        action: 0,
                    },
                )),
            }),
        });
        assert_eq!(
            Request::try_from(unknown_action).unwrap_err().to_string(),
            "unknown thread action 0"
        );
        let no_update = pb::forwarded::Op::Notices(pb::Notices {
            notices: vec![pb::Notice::default()],
        });
        assert_eq!(
            Request::try_from(no_update).unwrap_err().to_string(),
            "a notice's update is missing"
        );
    }

    #[test]
    fn the_refusal_for_an_older_node_reads_as_unavailable_in_its_json() {
        let old: serde_json::Value = serde_json::from_slice(LEGACY_REFUSAL).unwrap();
        assert!(
            old["Err"]["Unavailable"]
                .as_str()
                .is_some_and(|why| why.ends_with("retry once the rolling upgrade is done"))
        );
    }
}
