//! The context's state machine, pure and I/O-free: `decide` turns a command into
//! events (or a refusal), `apply` folds an event into the state. Replaying the
//! log through `apply` rebuilds exactly the state the live actor had.

use std::collections::{BTreeMap, HashMap, HashSet};

use plenary_proto::v1::events::{
    Actor, ContextCreated, ContextEvent, ContextSettings, ContextUpdated, FeedItemRemoved,
    MessageDeleted, MessageLiked, MessagePinned, MessagePosted, MessageUnliked, MessageUnpinned,
    QaPublished, ThreadClaimed, ThreadCleared, ThreadOpened, ThreadReleased, ThreadReopened,
    ThreadResolved, UpdatePosted, UserBlocked, UserUnblocked, context_event::Kind,
};

use serde::{Deserialize, Serialize};

use super::{
    command::{AdminCommand, ChatCommand, CommandOutcome, Rejection, ThreadAction},
    qa::{Moderator, QaCommand, QaEvent, QaMode, QaQueue, QaRejection, ThreadState},
    view::{self, Area, Viewer},
};

/// JSON maps need string keys: the `(user, client id)` map is stored as a list.
mod pair_keys {
    use std::collections::HashMap;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    type Map = HashMap<(String, String), u64>;

    pub(super) fn serialize<S: Serializer>(map: &Map, s: S) -> Result<S::Ok, S::Error> {
        map.iter()
            .map(|((u, c), id)| (u, c, id))
            .collect::<Vec<_>>()
            .serialize(s)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Map, D::Error> {
        let list = Vec::<(String, String, u64)>::deserialize(d)?;
        Ok(list.into_iter().map(|(u, c, id)| ((u, c), id)).collect())
    }
}

/// Limits the state machine enforces.
#[derive(Clone, Debug)]
pub struct ChatLimits {
    /// Longest message text, in characters.
    pub max_text_chars: usize,
    /// Most pinned items a context holds at once.
    pub max_pinned: usize,
    /// Longest client message id, in bytes.
    pub max_client_msg_id: usize,
}

impl Default for ChatLimits {
    fn default() -> Self {
        ChatLimits {
            max_text_chars: 2000,
            max_pinned: 50,
            max_client_msg_id: 64,
        }
    }
}

/// One chat message still visible (deleted messages are dropped from the state).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MessageRecord {
    pub author: Actor,
    pub text: String,
    pub reply_to: u64,
    pub sent_at_ms: u64,
    pub client_msg_id: String,
    pub likers: HashSet<String>,
    /// In the moderator-only backchannel.
    #[serde(default)]
    pub backchannel: bool,
    /// The Q&A thread of the message, 0 for the group chat.
    #[serde(default)]
    pub thread_id: u64,
}

/// An update (notification to everyone), kept for late joiners.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UpdateRecord {
    pub id: u64,
    pub title: String,
    pub text: String,
    pub toast: bool,
    pub at_ms: u64,
}

/// Updates a context keeps; older ones drop out of snapshots (they stay in the log).
pub const MAX_UPDATES: usize = 100;
/// Longest update title, in characters.
pub const MAX_UPDATE_TITLE_CHARS: usize = 150;

/// Who blocked a user, and when.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BlockRecord {
    pub email: String,
    pub by_user_id: String,
    pub by_email: String,
    pub at_ms: u64,
}

/// A context's state, rebuilt from its events (or from a snapshot plus the events
/// after it: the state serialises, for cluster-mode snapshots).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ContextState {
    pub id: String,
    pub epoch: u64,
    /// Seq of the last applied event.
    pub seq: u64,
    /// `None` until the context is created.
    pub settings: Option<ContextSettings>,
    pub created_at_ms: u64,
    pub messages: BTreeMap<u64, MessageRecord>,
    /// Pinned message ids, in pin order.
    pub pinned: Vec<u64>,
    pub blocked: BTreeMap<String, BlockRecord>,
    /// `(user id, client message id)` → message id, for idempotent resends.
    #[serde(with = "pair_keys")]
    pub client_ids: HashMap<(String, String), u64>,
    /// Emails of users seen acting here, so a block can record the blocked email.
    pub emails: HashMap<String, String>,
    /// Updates, oldest first (the last [`MAX_UPDATES`]).
    #[serde(default)]
    pub updates: Vec<UpdateRecord>,
    /// Moderator user id → (email, time of their last event here).
    #[serde(default)]
    pub moderator_activity: BTreeMap<String, (String, u64)>,
    /// The Q&A queue.
    #[serde(default)]
    pub qa: QaQueue,
    /// Published questions with answers, in publication order.
    #[serde(default)]
    pub published: Vec<PublishedQa>,
}

/// A question with its answer in the feed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedQa {
    pub item_id: u64,
    pub thread_id: u64,
    pub question_id: u64,
    pub answer_id: u64,
}

/// Most published Q&As a feed holds.
pub const MAX_PUBLISHED: usize = 50;

/// What `decide` concluded.
#[derive(Clone, Debug, PartialEq)]
pub enum Decision {
    /// Append this event.
    Emit(Kind),
    /// Append these events, in order (the last one answers the command).
    EmitAll(Vec<Kind>),
    /// Nothing to change; answer with this.
    Already(CommandOutcome),
}

impl Decision {
    /// The decision to append `kinds` (one event stays a plain `Emit`).
    fn of(mut kinds: Vec<Kind>) -> Self {
        if kinds.len() == 1 {
            Decision::Emit(kinds.remove(0))
        } else {
            Decision::EmitAll(kinds)
        }
    }
}

impl ContextState {
    /// An empty, not yet created context.
    pub fn new(id: &str) -> Self {
        ContextState {
            id: id.to_owned(),
            ..Default::default()
        }
    }

    /// Whether the context has been created.
    pub fn exists(&self) -> bool {
        self.settings.is_some()
    }

    /// A message the actor may see ([`view::can_see`]); any other does not exist for
    /// them.
    fn message(
        &self,
        id: u64,
        what: &'static str,
        actor: &Actor,
    ) -> Result<&MessageRecord, Rejection> {
        self.messages
            .get(&id)
            .filter(|m| view::can_see(self, m, Viewer::of(actor)))
            .ok_or(Rejection::NotFound(what.into()))
    }

    /// Checks a `reply_to` for a post in `area`: the message must be one the actor may
    /// see, in the same area (a reply stays in the group chat, the backchannel or the
    /// thread of the message it answers).
    fn check_reply(&self, reply_to: u64, area: Area, actor: &Actor) -> Result<(), Rejection> {
        if reply_to == 0 {
            return Ok(());
        }
        let replied = self.message(reply_to, "message replied to", actor)?;
        if replied.area() != area {
            return Err(Rejection::NotFound("message replied to".into()));
        }
        Ok(())
    }

    /// The context's Q&A mode.
    pub fn qa_mode(&self) -> i32 {
        self.settings.as_ref().map_or(0, |s| s.qa_mode)
    }

    /// Checks shared by every post: client id, duplicate, block, text. `Some` is the
    /// answer to a resend.
    fn check_post(
        &self,
        limits: &ChatLimits,
        actor: &Actor,
        text: &str,
        client_msg_id: &str,
    ) -> Result<Option<CommandOutcome>, Rejection> {
        if client_msg_id.len() > limits.max_client_msg_id {
            return Err(Rejection::BadRequest(format!(
                "client_msg_id is longer than {} bytes",
                limits.max_client_msg_id
            )));
        }
        if !client_msg_id.is_empty()
            && let Some(&message_id) = self
                .client_ids
                .get(&(actor.user_id.clone(), client_msg_id.to_owned()))
        {
            return Ok(Some(CommandOutcome::Sent {
                message_id,
                seq: message_id,
                duplicate: true,
                thread_id: self.messages.get(&message_id).map_or(0, |m| m.thread_id),
            }));
        }
        if self.blocked.contains_key(&actor.user_id) {
            return Err(Rejection::Blocked);
        }
        if text.trim().is_empty() || text.chars().count() > limits.max_text_chars {
            return Err(Rejection::InvalidText {
                max: limits.max_text_chars,
            });
        }
        Ok(None)
    }

    /// An attendee's question: opens or reopens their thread, then posts in it.
    /// `reply_to` (a follow-up `send` in the thread) must name a message of that thread.
    fn decide_ask(
        &self,
        limits: &ChatLimits,
        actor: &Actor,
        text: &str,
        client_msg_id: &str,
        thread_id: u64,
        reply_to: u64,
    ) -> Result<Decision, Rejection> {
        if let Some(duplicate) = self.check_post(limits, actor, text, client_msg_id)? {
            return Ok(Decision::Already(duplicate));
        }
        if thread_id != 0
            && self
                .qa
                .thread(thread_id)
                .is_none_or(|t| t.attendee != actor.user_id)
        {
            // Another attendee's thread does not exist for this one.
            return Err(Rejection::NotFound("thread".into()));
        }
        self.check_reply(reply_to, Area::Thread(thread_id), actor)?;
        let mode = QaMode::from(self.qa_mode());
        let ask = QaCommand::Ask {
            attendee: actor.user_id.clone(),
            thread: thread_id,
            new_id: self.seq + 1,
        };
        let mut kinds = self.qa_kinds(mode, &ask)?;
        let thread = match kinds.first() {
            Some(Kind::ThreadOpened(o)) => o.thread_id,
            _ if thread_id != 0 => thread_id,
            _ => self
                .qa
                .threads_of(&actor.user_id)
                .next()
                .map(|t| t.id)
                .ok_or(Rejection::NotFound("thread".into()))?,
        };
        kinds.push(Kind::MessagePosted(MessagePosted {
            message_id: self.seq + 1 + kinds.len() as u64,
            text: text.to_owned(),
            reply_to,
            client_msg_id: client_msg_id.to_owned(),
            backchannel: false,
            thread_id: thread,
        }));
        Ok(Decision::of(kinds))
    }

    /// Runs a queue command and turns its events into log events.
    pub fn qa_kinds(&self, mode: QaMode, command: &QaCommand) -> Result<Vec<Kind>, Rejection> {
        let events = self.qa.decide(mode, command).map_err(|e| match e {
            QaRejection::NotFound => Rejection::NotFound("thread".into()),
            QaRejection::AlreadyClaimed { by } => Rejection::AlreadyClaimed(by),
            QaRejection::NotOwner => Rejection::Forbidden,
            QaRejection::WrongState(state) => Rejection::InvalidState(state.into()),
        })?;
        Ok(events.into_iter().map(qa_kind).collect())
    }

    /// Decides what a chat command does. `actor.moderator` is the actor's role here.
    pub fn decide(
        &self,
        limits: &ChatLimits,
        actor: &Actor,
        command: &ChatCommand,
    ) -> Result<Decision, Rejection> {
        self.decide_as(limits, actor, false, command)
    }

    /// Like [`Self::decide`], for an actor who may be an admin (admins take over Q&A
    /// threads other moderators own).
    pub fn decide_as(
        &self,
        limits: &ChatLimits,
        actor: &Actor,
        admin: bool,
        command: &ChatCommand,
    ) -> Result<Decision, Rejection> {
        if !self.exists() {
            // A chat command comes only from a user who joined, and a join creates the
            // context or is refused: the context existed, and its log was lost (Redis
            // came back empty). Transient: the user is told to resync, and the rejoin
            // recreates the context (or is refused when contexts must be created first).
            return Err(Rejection::Unavailable(format!(
                "context `{}` lost its history; rejoin it, then retry",
                self.id
            )));
        }
        let moderator = actor.moderator;
        let blocked = self.blocked.contains_key(&actor.user_id);
        let require_moderator = || {
            if moderator {
                Ok(())
            } else {
                Err(Rejection::Forbidden)
            }
        };
        match command {
            ChatCommand::Send {
                text,
                client_msg_id,
                reply_to,
                backchannel,
                thread_id,
            } => {
                if *backchannel {
                    require_moderator()?;
                    if *thread_id != 0 {
                        return Err(Rejection::BadRequest(
                            "a message goes to the backchannel or to a Q&A thread, not both".into(),
                        ));
                    }
                }
                if *thread_id != 0 && !moderator {
                    // An attendee's message in their thread is a follow-up question.
                    return self.decide_ask(
                        limits,
                        actor,
                        text,
                        client_msg_id,
                        *thread_id,
                        *reply_to,
                    );
                }
                if let Some(duplicate) = self.check_post(limits, actor, text, client_msg_id)? {
                    return Ok(Decision::Already(duplicate));
                }
                let thread = match *thread_id {
                    0 => None,
                    id => Some(
                        self.qa
                            .thread(id)
                            .ok_or(Rejection::NotFound("thread".into()))?,
                    ),
                };
                self.check_reply(*reply_to, Area::of(*backchannel, *thread_id), actor)?;
                let mut kinds = Vec::new();
                if let Some(thread) = thread {
                    // A moderator answering a pending thread claims it; answering one
                    // another moderator owns is refused (an admin takes it over).
                    match &thread.state {
                        ThreadState::Owned { by } if *by == actor.user_id => {}
                        ThreadState::Resolved { .. } => {}
                        ThreadState::Done => return Err(Rejection::InvalidState("done".into())),
                        _ => {
                            let claim = QaCommand::Claim {
                                moderator: Moderator {
                                    user_id: actor.user_id.clone(),
                                    admin,
                                },
                                thread: *thread_id,
                            };
                            kinds.extend(self.qa_kinds(QaMode::from(self.qa_mode()), &claim)?);
                        }
                    }
                }
                kinds.push(Kind::MessagePosted(MessagePosted {
                    message_id: self.seq + 1 + kinds.len() as u64,
                    text: text.clone(),
                    reply_to: *reply_to,
                    client_msg_id: client_msg_id.clone(),
                    backchannel: *backchannel,
                    thread_id: *thread_id,
                }));
                Ok(Decision::of(kinds))
            }
            ChatCommand::Ask {
                text,
                client_msg_id,
                thread_id,
            } => {
                if moderator {
                    return Err(Rejection::Forbidden);
                }
                self.decide_ask(limits, actor, text, client_msg_id, *thread_id, 0)
            }
            ChatCommand::Thread { thread_id, action } => {
                require_moderator()?;
                let moderator = Moderator {
                    user_id: actor.user_id.clone(),
                    admin,
                };
                let command = match action {
                    ThreadAction::Claim => QaCommand::Claim {
                        moderator,
                        thread: *thread_id,
                    },
                    ThreadAction::Release => QaCommand::Release {
                        moderator,
                        thread: *thread_id,
                    },
                    ThreadAction::Resolve => QaCommand::Resolve {
                        moderator,
                        thread: *thread_id,
                    },
                    ThreadAction::Clear => QaCommand::Clear {
                        moderator,
                        thread: *thread_id,
                    },
                };
                let kinds = self.qa_kinds(QaMode::from(self.qa_mode()), &command)?;
                if kinds.is_empty() {
                    return Ok(Decision::Already(CommandOutcome::Done { seq: 0 }));
                }
                Ok(Decision::of(kinds))
            }
            ChatCommand::PublishQa {
                thread_id,
                question_id,
                answer_id,
            } => {
                require_moderator()?;
                let thread = self
                    .qa
                    .thread(*thread_id)
                    .ok_or(Rejection::NotFound("thread".into()))?;
                let in_thread = |id: u64| {
                    self.messages
                        .get(&id)
                        .filter(|m| m.area() == Area::Thread(*thread_id))
                };
                let question =
                    in_thread(*question_id).ok_or(Rejection::NotFound("question".into()))?;
                let answer = in_thread(*answer_id).ok_or(Rejection::NotFound("answer".into()))?;
                if question.author.user_id != thread.attendee || !answer.author.moderator {
                    return Err(Rejection::BadRequest(
                        "publish the attendee's question with a moderator's answer".into(),
                    ));
                }
                if self
                    .published
                    .iter()
                    .any(|p| p.question_id == *question_id && p.answer_id == *answer_id)
                {
                    return Ok(Decision::Already(CommandOutcome::Done { seq: 0 }));
                }
                if self.published.len() >= MAX_PUBLISHED {
                    return Err(Rejection::LimitReached("published questions".into()));
                }
                Ok(Decision::Emit(Kind::QaPublished(QaPublished {
                    thread_id: *thread_id,
                    question_id: *question_id,
                    answer_id: *answer_id,
                })))
            }
            ChatCommand::Unpublish { item_id } => {
                require_moderator()?;
                if !self.published.iter().any(|p| p.item_id == *item_id) {
                    return Ok(Decision::Already(CommandOutcome::Done { seq: 0 }));
                }
                Ok(Decision::Emit(Kind::FeedItemRemoved(FeedItemRemoved {
                    item_id: *item_id,
                })))
            }
            ChatCommand::PostUpdate { title, text, toast } => {
                require_moderator()?;
                if title.chars().count() > MAX_UPDATE_TITLE_CHARS {
                    return Err(Rejection::BadRequest(format!(
                        "the title is longer than {MAX_UPDATE_TITLE_CHARS} characters"
                    )));
                }
                if text.trim().is_empty() || text.chars().count() > limits.max_text_chars {
                    return Err(Rejection::InvalidText {
                        max: limits.max_text_chars,
                    });
                }
                Ok(Decision::Emit(Kind::UpdatePosted(UpdatePosted {
                    title: title.clone(),
                    text: text.clone(),
                    toast: *toast,
                })))
            }
            ChatCommand::Like { message_id } | ChatCommand::Unlike { message_id } => {
                if blocked {
                    return Err(Rejection::Blocked);
                }
                let message = self.message(*message_id, "message", actor)?;
                let (backchannel, thread_id) = (message.backchannel, message.thread_id);
                let likes = message.likers.contains(&actor.user_id);
                let count = message.likers.len() as u32;
                let already = CommandOutcome::Liked {
                    message_id: *message_id,
                    like_count: count,
                    seq: 0,
                };
                match (command, likes) {
                    (ChatCommand::Like { .. }, false) => {
                        Ok(Decision::Emit(Kind::MessageLiked(MessageLiked {
                            message_id: *message_id,
                            like_count: count + 1,
                            backchannel,
                            thread_id,
                        })))
                    }
                    (ChatCommand::Unlike { .. }, true) => {
                        Ok(Decision::Emit(Kind::MessageUnliked(MessageUnliked {
                            message_id: *message_id,
                            like_count: count - 1,
                            backchannel,
                            thread_id,
                        })))
                    }
                    _ => Ok(Decision::Already(already)),
                }
            }
            ChatCommand::Delete { message_id } => {
                let message = self.message(*message_id, "message", actor)?;
                let own = message.author.user_id == actor.user_id;
                // Moderators delete any group-chat message; in the backchannel everyone
                // deletes only their own.
                if !own && (!moderator || message.backchannel) {
                    return Err(Rejection::Forbidden);
                }
                // A published Q&A whose question or answer goes leaves the feed first.
                let mut kinds: Vec<Kind> = self
                    .published
                    .iter()
                    .filter(|p| p.question_id == *message_id || p.answer_id == *message_id)
                    .map(|p| Kind::FeedItemRemoved(FeedItemRemoved { item_id: p.item_id }))
                    .collect();
                kinds.push(Kind::MessageDeleted(MessageDeleted {
                    message_id: *message_id,
                    author_id: message.author.user_id.clone(),
                    by_moderator: !own,
                    backchannel: message.backchannel,
                    thread_id: message.thread_id,
                }));
                Ok(Decision::of(kinds))
            }
            ChatCommand::Pin { message_id } => {
                require_moderator()?;
                let message = self.message(*message_id, "message", actor)?;
                if message.thread_id != 0 {
                    return Err(Rejection::BadRequest(
                        "Q&A messages cannot be pinned; publish the question with its answer instead".into(),
                    ));
                }
                if message.backchannel {
                    return Err(Rejection::BadRequest(
                        "backchannel messages cannot be pinned to the feed".into(),
                    ));
                }
                if self.pinned.contains(message_id) {
                    return Ok(Decision::Already(CommandOutcome::Done { seq: 0 }));
                }
                if self.pinned.len() >= limits.max_pinned {
                    return Err(Rejection::LimitReached("pinned items".into()));
                }
                Ok(Decision::Emit(Kind::MessagePinned(MessagePinned {
                    message_id: *message_id,
                })))
            }
            ChatCommand::Unpin { message_id } => {
                require_moderator()?;
                if !self.pinned.contains(message_id) {
                    return Ok(Decision::Already(CommandOutcome::Done { seq: 0 }));
                }
                Ok(Decision::Emit(Kind::MessageUnpinned(MessageUnpinned {
                    message_id: *message_id,
                })))
            }
            ChatCommand::Block { user_id } => {
                require_moderator()?;
                if user_id.is_empty() {
                    return Err(Rejection::BadRequest("user_id is required".into()));
                }
                if *user_id == actor.user_id {
                    return Err(Rejection::BadRequest("you cannot block yourself".into()));
                }
                if self.blocked.contains_key(user_id) {
                    return Ok(Decision::Already(CommandOutcome::Done { seq: 0 }));
                }
                Ok(Decision::Emit(Kind::UserBlocked(UserBlocked {
                    user_id: user_id.clone(),
                    email: self.emails.get(user_id).cloned().unwrap_or_default(),
                })))
            }
            ChatCommand::Unblock { user_id } => {
                require_moderator()?;
                match self.blocked.get(user_id) {
                    None => Ok(Decision::Already(CommandOutcome::Done { seq: 0 })),
                    Some(record) => Ok(Decision::Emit(Kind::UserUnblocked(UserUnblocked {
                        user_id: user_id.clone(),
                        email: record.email.clone(),
                    }))),
                }
            }
        }
    }

    /// Decides what an admin command does.
    pub fn decide_admin(&self, command: &AdminCommand) -> Result<Kind, Rejection> {
        let validate = |s: &ContextSettings| {
            if s.ends_at_ms != 0 && s.starts_at_ms != 0 && s.ends_at_ms < s.starts_at_ms {
                return Err(Rejection::BadRequest(
                    "ends_at_ms is before starts_at_ms".into(),
                ));
            }
            if s.name.chars().count() > 200 {
                return Err(Rejection::BadRequest(
                    "name is longer than 200 characters".into(),
                ));
            }
            Ok(())
        };
        match command {
            AdminCommand::Create(settings) => {
                if self.exists() {
                    return Err(Rejection::ContextExists(self.id.clone()));
                }
                validate(settings)?;
                let mut settings = settings.clone();
                if settings.name.is_empty() {
                    settings.name = self.id.clone();
                }
                Ok(Kind::Created(ContextCreated {
                    settings: Some(settings),
                    implicit: false,
                }))
            }
            AdminCommand::Update(patch) => {
                let Some(current) = &self.settings else {
                    return Err(Rejection::ContextNotFound(self.id.clone()));
                };
                let settings = patch.apply_to(current);
                validate(&settings)?;
                Ok(Kind::Updated(ContextUpdated {
                    settings: Some(settings),
                }))
            }
        }
    }

    /// Folds one event into the state.
    pub fn apply(&mut self, event: &ContextEvent) {
        self.seq = event.seq;
        if self.epoch == 0 {
            self.epoch = event.epoch;
        }
        let actor = event.actor.clone().unwrap_or_default();
        if !actor.user_id.is_empty() && !actor.email.is_empty() {
            self.emails
                .insert(actor.user_id.clone(), actor.email.clone());
        }
        // The admin API's commands are no moderator's activity (logs written before
        // carry the admin API as a moderator).
        let admin_command = matches!(
            event.kind,
            Some(
                Kind::Updated(_)
                    | Kind::Created(ContextCreated {
                        implicit: false,
                        ..
                    })
            )
        );
        if actor.moderator && !actor.user_id.is_empty() && !admin_command {
            self.moderator_activity
                .insert(actor.user_id.clone(), (actor.email.clone(), event.at_ms));
        }
        let Some(kind) = &event.kind else { return };
        match kind {
            Kind::Created(c) => {
                self.settings = c.settings.clone();
                self.created_at_ms = event.at_ms;
            }
            Kind::Updated(u) => self.settings = u.settings.clone(),
            Kind::MessagePosted(m) => {
                if !m.client_msg_id.is_empty() {
                    self.client_ids.insert(
                        (actor.user_id.clone(), m.client_msg_id.clone()),
                        m.message_id,
                    );
                }
                self.messages.insert(
                    m.message_id,
                    MessageRecord {
                        author: actor,
                        text: m.text.clone(),
                        reply_to: m.reply_to,
                        sent_at_ms: event.at_ms,
                        client_msg_id: m.client_msg_id.clone(),
                        likers: HashSet::new(),
                        backchannel: m.backchannel,
                        thread_id: m.thread_id,
                    },
                );
            }
            Kind::ThreadOpened(_)
            | Kind::ThreadReopened(_)
            | Kind::ThreadClaimed(_)
            | Kind::ThreadReleased(_)
            | Kind::ThreadResolved(_)
            | Kind::ThreadCleared(_) => {
                if let Some(e) = qa_event(kind, &actor.user_id) {
                    self.qa.apply(&e);
                }
            }
            Kind::QaPublished(p) => self.published.push(PublishedQa {
                item_id: event.seq,
                thread_id: p.thread_id,
                question_id: p.question_id,
                answer_id: p.answer_id,
            }),
            Kind::FeedItemRemoved(r) => self.published.retain(|p| p.item_id != r.item_id),
            // Private chat events live on their own streams, never a context's.
            Kind::ConnectionChanged(_)
            | Kind::DirectMessagePosted(_)
            | Kind::DirectMessageDeleted(_)
            | Kind::DirectMessageRead(_)
            | Kind::SettingsChanged(_)
            | Kind::ProfileChanged(_)
            | Kind::PeerNotice(_) => {}
            Kind::UpdatePosted(u) => {
                self.updates.push(UpdateRecord {
                    id: event.seq,
                    title: u.title.clone(),
                    text: u.text.clone(),
                    toast: u.toast,
                    at_ms: event.at_ms,
                });
                if self.updates.len() > MAX_UPDATES {
                    self.updates.remove(0);
                }
            }
            Kind::MessageLiked(l) => {
                if let Some(m) = self.messages.get_mut(&l.message_id) {
                    m.likers.insert(actor.user_id);
                }
            }
            Kind::MessageUnliked(l) => {
                if let Some(m) = self.messages.get_mut(&l.message_id) {
                    m.likers.remove(&actor.user_id);
                }
            }
            Kind::MessageDeleted(d) => {
                self.messages.remove(&d.message_id);
                self.pinned.retain(|id| *id != d.message_id);
            }
            Kind::MessagePinned(p) => self.pinned.push(p.message_id),
            Kind::MessageUnpinned(p) => self.pinned.retain(|id| *id != p.message_id),
            Kind::UserBlocked(b) => {
                self.blocked.insert(
                    b.user_id.clone(),
                    BlockRecord {
                        email: b.email.clone(),
                        by_user_id: actor.user_id,
                        by_email: actor.email,
                        at_ms: event.at_ms,
                    },
                );
            }
            Kind::UserUnblocked(b) => {
                self.blocked.remove(&b.user_id);
            }
        }
    }
}

/// A queue event as a log event.
fn qa_kind(event: QaEvent) -> Kind {
    match event {
        QaEvent::Opened { thread, attendee } => Kind::ThreadOpened(ThreadOpened {
            thread_id: thread,
            attendee_id: attendee,
        }),
        QaEvent::Reopened { thread } => Kind::ThreadReopened(ThreadReopened { thread_id: thread }),
        QaEvent::Claimed {
            thread,
            took_over_from,
            ..
        } => Kind::ThreadClaimed(ThreadClaimed {
            thread_id: thread,
            took_over_from: took_over_from.unwrap_or_default(),
        }),
        QaEvent::Released { thread, automatic } => Kind::ThreadReleased(ThreadReleased {
            thread_id: thread,
            automatic,
        }),
        QaEvent::Resolved { thread, .. } => {
            Kind::ThreadResolved(ThreadResolved { thread_id: thread })
        }
        QaEvent::Cleared { thread } => Kind::ThreadCleared(ThreadCleared { thread_id: thread }),
    }
}

/// A log event as a queue event; `by` is the event's actor.
fn qa_event(kind: &Kind, by: &str) -> Option<QaEvent> {
    Some(match kind {
        Kind::ThreadOpened(o) => QaEvent::Opened {
            thread: o.thread_id,
            attendee: o.attendee_id.clone(),
        },
        Kind::ThreadReopened(r) => QaEvent::Reopened {
            thread: r.thread_id,
        },
        Kind::ThreadClaimed(c) => QaEvent::Claimed {
            thread: c.thread_id,
            by: by.to_owned(),
            took_over_from: (!c.took_over_from.is_empty()).then(|| c.took_over_from.clone()),
        },
        Kind::ThreadReleased(r) => QaEvent::Released {
            thread: r.thread_id,
            automatic: r.automatic,
        },
        Kind::ThreadResolved(r) => QaEvent::Resolved {
            thread: r.thread_id,
            by: by.to_owned(),
        },
        Kind::ThreadCleared(c) => QaEvent::Cleared {
            thread: c.thread_id,
        },
        _ => return None,
    })
}

/// The reply a committed event earns the command that caused it.
pub fn outcome_of(event: &ContextEvent) -> CommandOutcome {
    match &event.kind {
        Some(Kind::MessagePosted(m)) => CommandOutcome::Sent {
            message_id: m.message_id,
            seq: event.seq,
            duplicate: false,
            thread_id: m.thread_id,
        },
        Some(Kind::MessageLiked(MessageLiked {
            message_id,
            like_count,
            ..
        }))
        | Some(Kind::MessageUnliked(MessageUnliked {
            message_id,
            like_count,
            ..
        })) => CommandOutcome::Liked {
            message_id: *message_id,
            like_count: *like_count,
            seq: event.seq,
        },
        _ => CommandOutcome::Done { seq: event.seq },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Snapshots;

    fn actor(id: &str, moderator: bool) -> Actor {
        Actor {
            user_id: id.into(),
            email: format!("{id}@example.test"),
            given_name: id.into(),
            family_name: "Test".into(),
            moderator,
        }
    }

    /// Runs a command the way the actor does: decide, then apply the event.
    fn run(
        state: &mut ContextState,
        who: &Actor,
        command: ChatCommand,
    ) -> Result<CommandOutcome, Rejection> {
        run_as(state, who, false, command)
    }

    /// `run` for an actor who may be an admin; applies every event of the decision.
    fn run_as(
        state: &mut ContextState,
        who: &Actor,
        admin: bool,
        command: ChatCommand,
    ) -> Result<CommandOutcome, Rejection> {
        let kinds = match state.decide_as(&ChatLimits::default(), who, admin, &command)? {
            Decision::Already(o) => return Ok(o),
            Decision::Emit(kind) => vec![kind],
            Decision::EmitAll(kinds) => kinds,
        };
        let mut outcome = CommandOutcome::Done { seq: 0 };
        for kind in kinds {
            let event = ContextEvent {
                context_id: state.id.clone(),
                epoch: 1,
                seq: state.seq + 1,
                at_ms: 1_000 + state.seq,
                actor: Some(who.clone()),
                kind: Some(kind),
            };
            state.apply(&event);
            outcome = outcome_of(&event);
        }
        Ok(outcome)
    }

    fn created() -> ContextState {
        let mut s = ContextState::new("w1");
        let kind = s
            .decide_admin(&AdminCommand::Create(ContextSettings::default()))
            .unwrap();
        s.apply(&ContextEvent {
            context_id: "w1".into(),
            epoch: 1,
            seq: 1,
            at_ms: 5,
            actor: None,
            kind: Some(kind),
        });
        s
    }

    fn send(text: &str, cid: &str) -> ChatCommand {
        ChatCommand::Send {
            text: text.into(),
            client_msg_id: cid.into(),
            reply_to: 0,
            backchannel: false,
            thread_id: 0,
        }
    }

    fn backchannel(text: &str) -> ChatCommand {
        ChatCommand::Send {
            text: text.into(),
            client_msg_id: String::new(),
            reply_to: 0,
            backchannel: true,
            thread_id: 0,
        }
    }

    #[test]
    fn the_backchannel_is_for_moderators_only() {
        let mut s = created();
        let (a, m1, m2) = (actor("a", false), actor("m1", true), actor("m2", true));
        assert_eq!(
            run(&mut s, &a, backchannel("psst")),
            Err(Rejection::Forbidden)
        );
        let CommandOutcome::Sent { message_id, .. } =
            run(&mut s, &m1, backchannel("psst")).unwrap()
        else {
            panic!()
        };
        // For an attendee the message does not exist.
        let not_found = |what: &str| Err(Rejection::NotFound(what.to_owned().into()));
        assert_eq!(
            run(&mut s, &a, ChatCommand::Like { message_id }),
            not_found("message")
        );
        assert_eq!(
            run(&mut s, &a, ChatCommand::Delete { message_id }),
            not_found("message")
        );
        assert_eq!(
            run(
                &mut s,
                &a,
                ChatCommand::Send {
                    text: "re".into(),
                    client_msg_id: String::new(),
                    reply_to: message_id,
                    backchannel: false,
                    thread_id: 0,
                }
            ),
            not_found("message replied to")
        );
        // Moderators like and reply (in the backchannel), but delete only their own.
        assert!(run(&mut s, &m2, ChatCommand::Like { message_id }).is_ok());
        assert!(
            run(
                &mut s,
                &m2,
                ChatCommand::Send {
                    text: "ok".into(),
                    client_msg_id: String::new(),
                    reply_to: message_id,
                    backchannel: true,
                    thread_id: 0,
                }
            )
            .is_ok()
        );
        assert_eq!(
            run(
                &mut s,
                &m2,
                ChatCommand::Send {
                    text: "x".into(),
                    client_msg_id: String::new(),
                    reply_to: message_id,
                    backchannel: false,
                    thread_id: 0,
                }
            ),
            Err(Rejection::NotFound("message replied to".into())),
            "a reply stays in its area"
        );
        assert_eq!(
            run(&mut s, &m2, ChatCommand::Delete { message_id }),
            Err(Rejection::Forbidden)
        );
        assert!(matches!(
            run(&mut s, &m2, ChatCommand::Pin { message_id }),
            Err(Rejection::BadRequest(_))
        ));
        assert!(run(&mut s, &m1, ChatCommand::Delete { message_id }).is_ok());
    }

    #[test]
    fn updates_are_kept_and_moderator_activity_is_recorded() {
        let mut s = created();
        let (a, m) = (actor("a", false), actor("m", true));
        let update = |title: &str| ChatCommand::PostUpdate {
            title: title.into(),
            text: "Q&A in 5 minutes".into(),
            toast: true,
        };
        assert_eq!(run(&mut s, &a, update("x")), Err(Rejection::Forbidden));
        assert!(matches!(
            run(&mut s, &m, update(&"t".repeat(151))),
            Err(Rejection::BadRequest(_))
        ));
        for i in 0..(MAX_UPDATES + 5) {
            run(&mut s, &m, update(&format!("u{i}"))).unwrap();
        }
        assert_eq!(s.updates.len(), MAX_UPDATES);
        assert_eq!(
            s.updates.last().unwrap().title,
            format!("u{}", MAX_UPDATES + 4)
        );
        assert_eq!(s.moderator_activity["m"].0, "m@example.test");
        assert!(!s.moderator_activity.contains_key("a"));
    }

    #[test]
    fn a_chat_command_on_a_missing_context_is_retryable() {
        // Only a joined user sends chat commands, and a join creates the context (or is
        // refused): a missing one lost its log (Redis emptied) and comes back on rejoin.
        let s = ContextState::new("nope");
        assert!(matches!(
            s.decide(&ChatLimits::default(), &actor("a", false), &send("hi", "")),
            Err(Rejection::Unavailable(_))
        ));
    }

    #[test]
    fn create_defaults_name_to_id_and_refuses_twice() {
        let s = created();
        assert_eq!(s.settings.as_ref().unwrap().name, "w1");
        assert_eq!(
            s.decide_admin(&AdminCommand::Create(ContextSettings::default())),
            Err(Rejection::ContextExists("w1".into()))
        );
    }

    #[test]
    fn resend_with_same_client_id_is_one_message() {
        let mut s = created();
        let a = actor("a", false);
        let first = run(&mut s, &a, send("hello", "c-1")).unwrap();
        let again = run(&mut s, &a, send("hello", "c-1")).unwrap();
        let CommandOutcome::Sent { message_id, .. } = first else {
            panic!()
        };
        assert_eq!(
            again,
            CommandOutcome::Sent {
                message_id,
                seq: message_id,
                duplicate: true,
                thread_id: 0
            }
        );
        assert_eq!(s.messages.len(), 1);
        // Another user may use the same client id.
        run(&mut s, &actor("b", false), send("hello", "c-1")).unwrap();
        assert_eq!(s.messages.len(), 2);
    }

    #[test]
    fn text_limits() {
        let mut s = created();
        let a = actor("a", false);
        assert!(matches!(
            run(&mut s, &a, send("   ", "")),
            Err(Rejection::InvalidText { .. })
        ));
        let long = "é".repeat(2001);
        assert!(matches!(
            run(&mut s, &a, send(&long, "")),
            Err(Rejection::InvalidText { .. })
        ));
        assert!(run(&mut s, &a, send(&"é".repeat(2000), "")).is_ok());
    }

    #[test]
    fn likes_count_once_per_user() {
        let mut s = created();
        let a = actor("a", false);
        let b = actor("b", false);
        let CommandOutcome::Sent { message_id, .. } = run(&mut s, &a, send("x", "")).unwrap()
        else {
            panic!()
        };
        let like = ChatCommand::Like { message_id };
        assert!(matches!(
            run(&mut s, &b, like.clone()),
            Ok(CommandOutcome::Liked { like_count: 1, .. })
        ));
        assert!(matches!(
            run(&mut s, &b, like.clone()),
            Ok(CommandOutcome::Liked {
                like_count: 1,
                seq: 0,
                ..
            })
        ));
        assert!(matches!(
            run(&mut s, &a, like),
            Ok(CommandOutcome::Liked { like_count: 2, .. })
        ));
        let unlike = ChatCommand::Unlike { message_id };
        assert!(matches!(
            run(&mut s, &b, unlike.clone()),
            Ok(CommandOutcome::Liked { like_count: 1, .. })
        ));
        assert!(matches!(
            run(&mut s, &b, unlike),
            Ok(CommandOutcome::Liked {
                like_count: 1,
                seq: 0,
                ..
            })
        ));
    }

    #[test]
    fn delete_rules() {
        let mut s = created();
        let (a, b, m) = (actor("a", false), actor("b", false), actor("m", true));
        let CommandOutcome::Sent {
            message_id: first, ..
        } = run(&mut s, &a, send("1", "")).unwrap()
        else {
            panic!()
        };
        let CommandOutcome::Sent {
            message_id: second, ..
        } = run(&mut s, &a, send("2", "")).unwrap()
        else {
            panic!()
        };
        assert_eq!(
            run(&mut s, &b, ChatCommand::Delete { message_id: first }),
            Err(Rejection::Forbidden)
        );
        run(&mut s, &a, ChatCommand::Delete { message_id: first }).unwrap();
        assert_eq!(
            run(&mut s, &a, ChatCommand::Delete { message_id: first }),
            Err(Rejection::NotFound("message".into()))
        );
        run(&mut s, &m, ChatCommand::Pin { message_id: second }).unwrap();
        run(&mut s, &m, ChatCommand::Delete { message_id: second }).unwrap();
        assert!(s.pinned.is_empty(), "deleting a pinned message unpins it");
        assert!(s.messages.is_empty());
    }

    #[test]
    fn moderation_needs_a_moderator() {
        let mut s = created();
        let (a, m) = (actor("a", false), actor("m", true));
        let CommandOutcome::Sent { message_id, .. } = run(&mut s, &a, send("x", "")).unwrap()
        else {
            panic!()
        };
        for cmd in [
            ChatCommand::Pin { message_id },
            ChatCommand::Unpin { message_id },
            ChatCommand::Block {
                user_id: "m".into(),
            },
            ChatCommand::Unblock {
                user_id: "m".into(),
            },
        ] {
            assert_eq!(run(&mut s, &a, cmd), Err(Rejection::Forbidden));
        }
        run(&mut s, &m, ChatCommand::Pin { message_id }).unwrap();
        assert_eq!(
            run(&mut s, &m, ChatCommand::Pin { message_id }),
            Ok(CommandOutcome::Done { seq: 0 })
        );
        assert_eq!(s.pinned, vec![message_id]);
    }

    #[test]
    fn block_records_who_and_refuses_writes_until_unblocked() {
        let mut s = created();
        let (a, m) = (actor("a", false), actor("m", true));
        let CommandOutcome::Sent { message_id, .. } = run(&mut s, &a, send("x", "")).unwrap()
        else {
            panic!()
        };
        run(
            &mut s,
            &m,
            ChatCommand::Block {
                user_id: "a".into(),
            },
        )
        .unwrap();
        let record = &s.blocked["a"];
        assert_eq!(record.email, "a@example.test");
        assert_eq!(record.by_user_id, "m");
        assert_eq!(record.by_email, "m@example.test");
        assert_eq!(run(&mut s, &a, send("y", "")), Err(Rejection::Blocked));
        assert_eq!(
            run(&mut s, &a, ChatCommand::Like { message_id }),
            Err(Rejection::Blocked)
        );
        assert_eq!(
            run(
                &mut s,
                &m,
                ChatCommand::Block {
                    user_id: "m".into()
                }
            ),
            Err(Rejection::BadRequest("you cannot block yourself".into()))
        );
        run(
            &mut s,
            &m,
            ChatCommand::Unblock {
                user_id: "a".into(),
            },
        )
        .unwrap();
        assert!(run(&mut s, &a, send("y", "")).is_ok());
    }

    fn ask(text: &str, thread_id: u64) -> ChatCommand {
        ChatCommand::Ask {
            text: text.into(),
            client_msg_id: String::new(),
            thread_id,
        }
    }

    fn answer(text: &str, thread_id: u64) -> ChatCommand {
        ChatCommand::Send {
            text: text.into(),
            client_msg_id: String::new(),
            reply_to: 0,
            backchannel: false,
            thread_id,
        }
    }

    fn thread_of(outcome: CommandOutcome) -> u64 {
        match outcome {
            CommandOutcome::Sent { thread_id, .. } => thread_id,
            other => panic!("not a post: {other:?}"),
        }
    }

    #[test]
    fn questions_open_threads_and_answers_claim_them() {
        let mut s = created();
        let (a, b, m1, m2) = (
            actor("a", false),
            actor("b", false),
            actor("m1", true),
            actor("m2", true),
        );
        let t = thread_of(run(&mut s, &a, ask("how?", 0)).unwrap());
        assert_ne!(t, 0);
        // Single-thread mode: the second question lands in the same thread.
        assert_eq!(thread_of(run(&mut s, &a, ask("and why?", 0)).unwrap()), t);
        assert_eq!(
            run(&mut s, &m1, ask("q", 0)),
            Err(Rejection::Forbidden),
            "moderators answer"
        );
        // A moderator's answer claims the pending thread; another's is refused.
        run(&mut s, &m1, answer("like this", t)).unwrap();
        assert_eq!(
            s.qa.thread(t).unwrap().state,
            ThreadState::Owned { by: "m1".into() }
        );
        assert_eq!(
            run(&mut s, &m2, answer("no, this", t)),
            Err(Rejection::AlreadyClaimed("m1".into()))
        );
        // Another attendee cannot see, like or post in the thread.
        let CommandOutcome::Sent { message_id, .. } = run(&mut s, &a, ask("thanks", t)).unwrap()
        else {
            panic!()
        };
        assert_eq!(
            run(&mut s, &b, ChatCommand::Like { message_id }),
            Err(Rejection::NotFound("message".into()))
        );
        assert_eq!(
            run(&mut s, &b, ask("me too", t)),
            Err(Rejection::NotFound("thread".into()))
        );
        // Resolve, clear, and a new question reopens it.
        run(
            &mut s,
            &m1,
            ChatCommand::Thread {
                thread_id: t,
                action: ThreadAction::Resolve,
            },
        )
        .unwrap();
        run(
            &mut s,
            &m1,
            ChatCommand::Thread {
                thread_id: t,
                action: ThreadAction::Clear,
            },
        )
        .unwrap();
        assert_eq!(s.qa.thread(t).unwrap().state, ThreadState::Done);
        run(&mut s, &a, ask("one more", 0)).unwrap();
        assert_eq!(s.qa.thread(t).unwrap().state, ThreadState::Pending);
        // An admin takes over a thread someone else owns.
        run(
            &mut s,
            &m1,
            ChatCommand::Thread {
                thread_id: t,
                action: ThreadAction::Claim,
            },
        )
        .unwrap();
        run_as(
            &mut s,
            &m2,
            true,
            ChatCommand::Thread {
                thread_id: t,
                action: ThreadAction::Claim,
            },
        )
        .unwrap();
        assert_eq!(
            s.qa.thread(t).unwrap().state,
            ThreadState::Owned { by: "m2".into() }
        );
        // The whole queue survives a snapshot.
        assert_eq!(
            ContextState::from_snapshot(&s.to_snapshot().unwrap()).unwrap(),
            s
        );
    }

    #[test]
    fn replay_rebuilds_the_same_state() {
        let mut s = created();
        let mut log = Vec::new();
        let (a, m) = (actor("a", false), actor("m", true));
        let commands = [
            (a.clone(), send("one", "1")),
            (m.clone(), ChatCommand::Like { message_id: 2 }),
            (m.clone(), ChatCommand::Pin { message_id: 2 }),
            (
                m.clone(),
                ChatCommand::Block {
                    user_id: "a".into(),
                },
            ),
            (a.clone(), ChatCommand::Delete { message_id: 2 }),
        ];
        for (who, cmd) in commands {
            let kinds = match s.decide(&ChatLimits::default(), &who, &cmd).unwrap() {
                Decision::Emit(kind) => vec![kind],
                Decision::EmitAll(kinds) => kinds,
                Decision::Already(_) => vec![],
            };
            for kind in kinds {
                let e = ContextEvent {
                    context_id: "w1".into(),
                    epoch: 1,
                    seq: s.seq + 1,
                    at_ms: 10,
                    actor: Some(who.clone()),
                    kind: Some(kind),
                };
                s.apply(&e);
                log.push(e);
            }
        }
        assert!(log.len() >= 5, "every command produced its events: {log:?}");
        let mut rebuilt = created();
        for e in &log {
            rebuilt.apply(e);
        }
        assert_eq!(rebuilt, s);
        // A snapshot decodes to the same state, and replay can continue from it.
        assert_eq!(
            ContextState::from_snapshot(&s.to_snapshot().unwrap()).unwrap(),
            s
        );
    }

    #[test]
    fn a_moderators_snapshot_keeps_the_last_messages_of_each_thread_and_their_asker() {
        use super::super::view::{Viewer, snapshot};
        use crate::Role;
        let mut s = created();
        let (a, b, m) = (actor("a", false), actor("b", false), actor("m", true));
        let ta = thread_of(run(&mut s, &a, ask("a1", 0)).unwrap());
        let tb = thread_of(run(&mut s, &b, ask("b1", 0)).unwrap());
        for text in ["a2", "a3"] {
            run(&mut s, &a, ask(text, ta)).unwrap();
        }
        // The question that opened b's thread is deleted: b is still named.
        run(&mut s, &b, ask("b2", tb)).unwrap();
        let opener = tb + 1;
        assert_eq!(s.messages[&opener].text, "b1");
        run(&mut s, &m, ChatCommand::Delete { message_id: opener }).unwrap();
        let viewer = Viewer {
            user_id: "m",
            role: Role::Moderator,
        };
        let snap = snapshot(&s, viewer, 2);
        let texts: Vec<(u64, &str)> = snap
            .thread_messages
            .iter()
            .map(|m| (m.thread_id, m.text.as_str()))
            .collect();
        assert_eq!(texts, [(ta, "a2"), (ta, "a3"), (tb, "b2")]);
        let askers: Vec<(u64, String)> = snap
            .threads
            .iter()
            .map(|t| (t.id, t.attendee.as_ref().unwrap().given_name.clone()))
            .collect();
        assert_eq!(askers, [(ta, "a".to_owned()), (tb, "b".to_owned())]);
    }

    /// A send with every field spelled out.
    fn post(text: &str, reply_to: u64, backchannel: bool, thread_id: u64) -> ChatCommand {
        ChatCommand::Send {
            text: text.into(),
            client_msg_id: String::new(),
            reply_to,
            backchannel,
            thread_id,
        }
    }

    fn message_id_of(outcome: CommandOutcome) -> u64 {
        match outcome {
            CommandOutcome::Sent { message_id, .. } => message_id,
            other => panic!("not a post: {other:?}"),
        }
    }

    #[test]
    fn a_message_is_in_the_backchannel_or_in_a_thread_never_both() {
        let mut s = created();
        let (a, m) = (actor("a", false), actor("m", true));
        let t = thread_of(run(&mut s, &a, ask("q", 0)).unwrap());
        let before = s.clone();
        assert!(
            matches!(
                run(&mut s, &m, post("mods only", 0, true, t)),
                Err(Rejection::BadRequest(_))
            ),
            "a moderator's backchannel message in a thread"
        );
        // An attendee never posts in the backchannel, thread or not.
        assert_eq!(
            run(&mut s, &a, post("psst", 0, true, t)),
            Err(Rejection::Forbidden)
        );
        assert_eq!(
            run(&mut s, &a, post("psst", 0, true, 0)),
            Err(Rejection::Forbidden)
        );
        assert_eq!(s, before, "nothing was stored");
    }

    #[test]
    fn a_reply_stays_in_the_area_of_the_message_it_answers_whoever_sends_it() {
        let mut s = created();
        let (a, m) = (actor("a", false), actor("m", true));
        let group = message_id_of(run(&mut s, &a, send("hello all", "")).unwrap());
        let t = thread_of(run(&mut s, &a, ask("q", 0)).unwrap());
        let question = t + 1;
        let back = message_id_of(run(&mut s, &m, backchannel("mods")).unwrap());
        let elsewhere = || Err(Rejection::NotFound("message replied to".into()));
        // From a thread, a group-chat or backchannel message cannot be answered: for
        // the attendee and for a moderator alike.
        assert_eq!(run(&mut s, &a, post("re", group, false, t)), elsewhere());
        assert_eq!(run(&mut s, &m, post("re", group, false, t)), elsewhere());
        assert_eq!(run(&mut s, &m, post("re", back, false, t)), elsewhere());
        // From the group chat or the backchannel, a thread message cannot be answered.
        assert_eq!(run(&mut s, &m, post("re", question, false, 0)), elsewhere());
        assert_eq!(run(&mut s, &m, post("re", question, true, 0)), elsewhere());
        assert_eq!(run(&mut s, &a, post("re", question, false, 0)), elsewhere());
        // Within the thread, both reply, and the attendee's reply keeps its `reply_to`.
        let answer = message_id_of(run(&mut s, &m, post("a", question, false, t)).unwrap());
        let follow_up = message_id_of(run(&mut s, &a, post("f", answer, false, t)).unwrap());
        assert_eq!(s.messages[&answer].reply_to, question);
        assert_eq!(s.messages[&follow_up].reply_to, answer);
        assert_eq!(s.messages[&follow_up].thread_id, t);
    }

    #[test]
    fn every_view_of_a_message_agrees_with_the_one_visibility_rule() {
        use super::super::view::{Viewer, audience_of, snapshot, visible_to};
        let mut s = created();
        let (a, b, m) = (actor("a", false), actor("b", false), actor("m", true));
        let t = thread_of(run(&mut s, &a, ask("question", 0)).unwrap());
        run(&mut s, &m, answer("answer", t)).unwrap();
        run(&mut s, &b, send("public", "")).unwrap();
        run(&mut s, &m, backchannel("mods only")).unwrap();
        // A message flagged both backchannel and thread, as a log written before the
        // combination was refused may hold: it stays with the moderators.
        let legacy = s.seq + 1;
        s.apply(&ContextEvent {
            context_id: "w1".into(),
            epoch: 1,
            seq: legacy,
            at_ms: 10,
            actor: Some(m.clone()),
            kind: Some(Kind::MessagePosted(MessagePosted {
                message_id: legacy,
                text: "legacy mods only".into(),
                reply_to: 0,
                client_msg_id: String::new(),
                backchannel: true,
                thread_id: t,
            })),
        });
        for who in [&a, &b, &m] {
            let viewer = Viewer::of(who);
            let snap = snapshot(&s, viewer, 50);
            let in_snapshot: HashSet<u64> = snap
                .messages
                .iter()
                .chain(&snap.backchannel)
                .chain(&snap.thread_messages)
                .map(|m| m.id)
                .collect();
            for (&id, record) in &s.messages {
                // The push (and recovery) of the message's event.
                let posted = Kind::MessagePosted(MessagePosted {
                    message_id: id,
                    backchannel: record.backchannel,
                    thread_id: record.thread_id,
                    ..Default::default()
                });
                let pushed = visible_to(&audience_of(&s, &posted), viewer);
                let found = s.decide(
                    &ChatLimits::default(),
                    who,
                    &ChatCommand::Like { message_id: id },
                ) != Err(Rejection::NotFound("message".into()));
                assert_eq!(
                    in_snapshot.contains(&id),
                    pushed,
                    "{} and message {id} ({:?}): snapshot vs push",
                    who.user_id,
                    record.text
                );
                assert_eq!(
                    found, pushed,
                    "{} and message {id} ({:?}): by id vs push",
                    who.user_id, record.text
                );
            }
        }
        let attendee_view = snapshot(&s, Viewer::of(&a), 50);
        assert!(
            attendee_view
                .thread_messages
                .iter()
                .all(|m| !m.text.contains("mods only")),
            "the thread's attendee sees a backchannel message: {attendee_view:?}"
        );
        assert_eq!(
            s.decide(
                &ChatLimits::default(),
                &m,
                &ChatCommand::PublishQa {
                    thread_id: t,
                    question_id: t + 1,
                    answer_id: legacy,
                },
            ),
            Err(Rejection::NotFound("answer".into())),
            "a backchannel message is never published"
        );
    }

    #[test]
    fn the_admin_api_is_not_a_moderator_even_in_old_logs() {
        let mut s = ContextState::new("w1");
        // Logs written before carry the admin API as a moderator.
        let admin = Actor {
            user_id: "admin-api".into(),
            moderator: true,
            ..Default::default()
        };
        let kinds = [
            s.decide_admin(&AdminCommand::Create(ContextSettings::default()))
                .unwrap(),
            Kind::Updated(ContextUpdated {
                settings: Some(ContextSettings::default()),
            }),
        ];
        for kind in kinds {
            s.apply(&ContextEvent {
                context_id: "w1".into(),
                epoch: 1,
                seq: s.seq + 1,
                at_ms: 5,
                actor: Some(admin.clone()),
                kind: Some(kind),
            });
        }
        assert!(
            s.moderator_activity.is_empty(),
            "{:?}",
            s.moderator_activity
        );
        run(&mut s, &actor("m", true), send("hi", "")).unwrap();
        assert_eq!(
            s.moderator_activity.keys().collect::<Vec<_>>(),
            ["m"],
            "moderators only"
        );
    }
}
