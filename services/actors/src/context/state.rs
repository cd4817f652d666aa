//! The context's state machine, pure and I/O-free: `decide` turns a command into
//! events (or a refusal), `apply` folds an event into the state. Replaying the
//! log through `apply` rebuilds exactly the state the live actor had.
//!
//! `ContextState` composes one part per concept — `chat` (messages, in any area),
//! `moderation` (pins, blocks), `qa` (the queue), `feed` (published Q&As), `updates`,
//! `interactions` (polls…) — each deciding its commands into its event kinds and folding its events in its
//! own module; this file only routes commands and events to them, and keeps what is
//! the context's own: its settings and who moderated it.

use std::collections::BTreeMap;

use plenary_proto::v1::events::{
    Actor, ContextCreated, ContextEvent, ContextSettings, ContextUpdated, MessageLiked,
    MessageUnliked, context_event::Kind,
};
use serde::{Deserialize, Serialize};

use super::{
    chat::Chat,
    command::{AdminCommand, ChatCommand, CommandOutcome, Rejection},
    feed::Feed,
    interactions::{self, Interactions},
    moderation::Moderation,
    pace::MAX_SLOW_MODE_SECS,
    qa::{self, QaQueue},
    updates::Updates,
    view::{Area, Viewer},
};
pub use super::{
    chat::{ChatLimits, MessageRecord},
    feed::{MAX_PUBLISHED, PublishedQa},
    moderation::BlockRecord,
    updates::{MAX_UPDATE_TITLE_CHARS, MAX_UPDATES, UpdateRecord},
};

/// A context's state, rebuilt from its events (or from a snapshot plus the events
/// after it: the state serialises, for snapshots). The concepts' parts are flattened,
/// so a snapshot keeps one level of keys, as before they were split.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ContextState {
    pub id: String,
    pub epoch: u64,
    /// Seq of the last applied event.
    pub seq: u64,
    /// `None` until the context is created.
    pub settings: Option<ContextSettings>,
    pub created_at_ms: u64,
    /// Messages of every area.
    #[serde(flatten)]
    pub chat: Chat,
    /// Pins and blocks.
    #[serde(flatten)]
    pub moderation: Moderation,
    /// Updates to everyone.
    #[serde(flatten)]
    pub updates: Updates,
    /// Moderator user id → (email, time of their last event here).
    #[serde(default)]
    pub moderator_activity: BTreeMap<String, (String, u64)>,
    /// The Q&A queue.
    #[serde(default)]
    pub qa: QaQueue,
    /// Published questions with answers.
    #[serde(flatten)]
    pub feed: Feed,
    /// Polls and the other interactions.
    #[serde(flatten)]
    pub interactions: Interactions,
}

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
    pub(super) fn of(mut kinds: Vec<Kind>) -> Self {
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
    /// threads other moderators own). Routes the command to its concept.
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
        let moderators_only = || {
            if actor.moderator {
                Ok(())
            } else {
                Err(Rejection::Forbidden)
            }
        };
        match command {
            ChatCommand::Send { .. } => self.decide_send(limits, actor, admin, command),
            ChatCommand::Ask {
                text,
                client_msg_id,
                thread_id,
            } => {
                if actor.moderator {
                    return Err(Rejection::Forbidden);
                }
                self.decide_ask(limits, actor, text, client_msg_id, *thread_id, 0)
            }
            ChatCommand::Like { message_id } => self.decide_like(actor, *message_id, true),
            ChatCommand::Unlike { message_id } => self.decide_like(actor, *message_id, false),
            ChatCommand::Delete { message_id } => self.decide_delete(actor, *message_id),
            ChatCommand::Thread { thread_id, action } => {
                moderators_only()?;
                self.decide_thread_action(actor, admin, *thread_id, *action)
            }
            ChatCommand::PublishQa {
                thread_id,
                question_id,
                answer_id,
            } => {
                moderators_only()?;
                self.decide_publish(*thread_id, *question_id, *answer_id)
            }
            ChatCommand::Unpublish { item_id } => {
                moderators_only()?;
                Ok(self.feed.decide_unpublish(*item_id))
            }
            ChatCommand::PostUpdate { title, text, toast } => {
                moderators_only()?;
                Updates::decide(limits, title, text, *toast)
            }
            ChatCommand::Pin { message_id } => {
                moderators_only()?;
                self.decide_pin(limits, actor, *message_id)
            }
            ChatCommand::Unpin { message_id } => {
                moderators_only()?;
                Ok(self.moderation.decide_unpin(*message_id))
            }
            ChatCommand::Block { user_id } => {
                moderators_only()?;
                self.moderation.decide_block(actor, user_id)
            }
            ChatCommand::Unblock { user_id } => {
                moderators_only()?;
                Ok(self.moderation.decide_unblock(user_id))
            }
            ChatCommand::SaveInteraction {
                interaction_id,
                spec,
                client_save_id,
            } => {
                moderators_only()?;
                self.decide_save_interaction(limits, actor, *interaction_id, spec, client_save_id)
            }
            ChatCommand::Interaction {
                interaction_id,
                action,
            } => {
                moderators_only()?;
                self.interactions.decide_action(*interaction_id, *action)
            }
            ChatCommand::Vote {
                interaction_id,
                client_vote_id,
                answer,
            } => self.interactions.decide_vote(
                Viewer::of(actor),
                *interaction_id,
                client_vote_id,
                answer,
            ),
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
            if s.slow_mode_secs > MAX_SLOW_MODE_SECS {
                return Err(Rejection::BadRequest(format!(
                    "slow_mode_secs is at most {MAX_SLOW_MODE_SECS} (an hour)"
                )));
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

    /// Folds one event into the state: every concept takes what is its own.
    pub fn apply(&mut self, event: &ContextEvent) {
        self.seq = event.seq;
        if self.epoch == 0 {
            self.epoch = event.epoch;
        }
        let actor = event.actor.clone().unwrap_or_default();
        self.moderation.remember_email(&actor);
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
            _ => {}
        }
        let released = self.may_leave_memory(kind);
        self.chat.apply(event, &actor, kind);
        self.moderation.apply(event, &actor, kind);
        qa::apply(&mut self.qa, &actor.user_id, kind);
        self.feed.apply(event, kind);
        self.updates.apply(event, kind);
        self.interactions.apply(event, &actor, kind);
        self.bound_messages(event.seq, kind, released);
    }

    /// The messages older than their window that `kind` may let leave memory, looked up
    /// before it changes what refers to them: a held (pinned or published) one unpinned,
    /// unpublished or deleted; and one already archived that a log written before
    /// archiving existed still likes or deletes (decisions refuse that now), so that
    /// history reads up to here to see it.
    fn may_leave_memory(&self, kind: &Kind) -> Vec<u64> {
        let ids: Vec<u64> = match kind {
            Kind::MessageUnpinned(p) => vec![p.message_id],
            Kind::MessageDeleted(d) => vec![d.message_id],
            Kind::MessageLiked(MessageLiked { message_id, .. })
            | Kind::MessageUnliked(MessageUnliked { message_id, .. }) => vec![*message_id],
            Kind::FeedItemRemoved(r) => self
                .feed
                .published
                .iter()
                .filter(|p| p.item_id == r.item_id)
                .flat_map(|p| [p.question_id, p.answer_id])
                .collect(),
            _ => return Vec::new(),
        };
        let chat = &self.chat;
        ids.into_iter()
            .filter(|&id| {
                chat.is_held(id) || (!chat.messages.contains_key(&id) && chat.may_be_archived(id))
            })
            .collect()
    }

    /// Keeps the messages in memory bounded: a post may move its area's window on
    /// (the oldest leave, unless pinned or published); a held message no longer
    /// referenced, or deleted, leaves too.
    fn bound_messages(&mut self, seq: u64, kind: &Kind, released: Vec<u64>) {
        let (pinned, published) = (&self.moderation.pinned, &self.feed.published);
        let referenced = |id: u64| {
            pinned.contains(&id)
                || published
                    .iter()
                    .any(|p| p.question_id == id || p.answer_id == id)
        };
        if let Kind::MessagePosted(m) = kind {
            let area = Area::of(m.backchannel, m.thread_id);
            self.chat.keep_window(area, seq, referenced);
            if let Area::Thread(_) = area {
                let qa = &self.qa;
                let settled = |thread: u64| {
                    qa.thread(thread).is_none_or(|t| {
                        matches!(
                            t.state,
                            qa::ThreadState::Resolved { .. } | qa::ThreadState::Done
                        )
                    })
                };
                self.chat.bound_threads(seq, settled, referenced);
            }
        }
        for id in released {
            if !referenced(id) {
                self.chat.let_go(id, seq);
            }
        }
    }
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
        Some(Kind::VoteCast(v)) => CommandOutcome::Voted {
            interaction_id: v.interaction_id,
            seq: event.seq,
            duplicate: false,
        },
        Some(kind) => match interactions::interaction_of(kind) {
            Some(interaction_id) => CommandOutcome::Interaction {
                interaction_id,
                seq: event.seq,
            },
            None => CommandOutcome::Done { seq: event.seq },
        },
        None => CommandOutcome::Done { seq: event.seq },
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use plenary_proto::v1::events::MessagePosted;

    use super::*;
    use crate::Snapshots;
    use crate::context::{
        command::ThreadAction,
        qa::ThreadState,
        testing::{actor, created},
    };

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
        assert_eq!(s.updates.updates.len(), MAX_UPDATES);
        assert_eq!(
            s.updates.updates.last().unwrap().title,
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
        assert_eq!(s.chat.messages.len(), 1);
        // Another user may use the same client id.
        run(&mut s, &actor("b", false), send("hello", "c-1")).unwrap();
        assert_eq!(s.chat.messages.len(), 2);
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
        assert!(
            s.moderation.pinned.is_empty(),
            "deleting a pinned message unpins it"
        );
        assert!(s.chat.messages.is_empty());
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
        assert_eq!(s.moderation.pinned, vec![message_id]);
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
        let record = &s.moderation.blocked["a"];
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
    fn a_snapshot_keeps_the_one_level_of_keys_it_had_before_the_concepts_were_split() {
        let mut s = created();
        let (a, m) = (actor("a", false), actor("m", true));
        let message = thread_of(run(&mut s, &a, ask("q", 0)).unwrap()) + 1;
        run(
            &mut s,
            &m,
            ChatCommand::Like {
                message_id: message,
            },
        )
        .unwrap();
        let hello = s.seq + 1;
        run(&mut s, &a, send("hello", "c-1")).unwrap();
        run(&mut s, &m, ChatCommand::Pin { message_id: hello }).unwrap();
        let bytes = s.to_snapshot().unwrap();
        let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let mut keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        // Snapshots written by earlier versions have exactly these keys, and
        // `interactions`, `interaction_answer_bytes` and `quiz_scores`, added since, and
        // the chat's `archive` and `archived_late` (see below).
        assert_eq!(
            keys,
            [
                "archive",
                "archived_late",
                "blocked",
                "client_ids",
                "created_at_ms",
                "emails",
                "epoch",
                "id",
                "interaction_answer_bytes",
                "interactions",
                "messages",
                "moderator_activity",
                "pinned",
                "published",
                "qa",
                "quiz_scores",
                "seq",
                "settings",
                "updates",
            ]
        );
        assert!(
            json["messages"].get(message.to_string()).is_some(),
            "{json}"
        );
        assert_eq!(ContextState::from_snapshot(&bytes).unwrap(), s);
        // A snapshot from before interactions loads, with none.
        let mut older = json.clone();
        older.as_object_mut().unwrap().remove("interactions");
        older.as_object_mut().unwrap().remove("quiz_scores");
        older
            .as_object_mut()
            .unwrap()
            .remove("interaction_answer_bytes");
        older.as_object_mut().unwrap().remove("archive");
        older.as_object_mut().unwrap().remove("archived_late");
        let older = ContextState::from_snapshot(&serde_json::to_vec(&older).unwrap()).unwrap();
        assert_eq!(older, s);
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
        assert_eq!(s.chat.messages[&opener].text, "b1");
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
        assert_eq!(s.chat.messages[&answer].reply_to, question);
        assert_eq!(s.chat.messages[&follow_up].reply_to, answer);
        assert_eq!(s.chat.messages[&follow_up].thread_id, t);
    }

    #[test]
    fn every_view_of_a_message_agrees_with_the_one_visibility_rule() {
        use super::super::view::{Viewer, audience_of_kind, snapshot, visible_to};
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
            for (&id, record) in &s.chat.messages {
                // The push (and recovery) of the message's event.
                let posted = Kind::MessagePosted(MessagePosted {
                    message_id: id,
                    backchannel: record.backchannel,
                    thread_id: record.thread_id,
                    ..Default::default()
                });
                let pushed = visible_to(&audience_of_kind(&s, &posted), viewer);
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
