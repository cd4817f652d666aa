//! What clients see of a context: the visibility rule (who may see what), the push
//! each event becomes for each audience (or none, for an audience that may not see
//! it), and the snapshot on join. Each concept renders its own events and parts
//! (`chat`, `moderation`, `qa`, `feed`, `updates`, `interactions`); this file asks
//! them in turn.

use plenary_proto::v1::{
    ContextInfo, Snapshot,
    events::{
        Actor, ContextEvent, ContextSettings, MessagePinned, MessageUnpinned, context_event::Kind,
    },
    push::Body,
};

use super::{
    chat::{self, MessageRecord},
    feed, interactions, moderation, qa,
    state::ContextState,
    updates,
};
use crate::identity::Role;

/// Who may see an event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Audience {
    Everyone,
    /// Blocks and the backchannel.
    Moderators,
    /// A Q&A thread: moderators, and this attendee.
    Thread {
        attendee: String,
    },
    /// One user (their vote, in recovery), moderators not included.
    User {
        user_id: String,
    },
}

/// Who is looking.
#[derive(Clone, Copy, Debug)]
pub struct Viewer<'a> {
    pub user_id: &'a str,
    pub role: Role,
}

impl<'a> Viewer<'a> {
    /// The viewer an event's actor is (their role is on the actor).
    pub fn of(actor: &'a Actor) -> Self {
        Viewer {
            user_id: &actor.user_id,
            role: if actor.moderator {
                Role::Moderator
            } else {
                Role::Attendee
            },
        }
    }
}

/// Where a message lives. Its area alone decides who may see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Area {
    GroupChat,
    /// The moderators' backchannel.
    Backchannel,
    /// A Q&A thread.
    Thread(u64),
}

impl Area {
    /// The area of a message (or of an event about one) carrying these flags. Posting
    /// in both is refused, but a log written before may hold such a message: the
    /// narrower audience wins, so it stays in the backchannel.
    pub fn of(backchannel: bool, thread_id: u64) -> Area {
        match (backchannel, thread_id) {
            (true, _) => Area::Backchannel,
            (false, 0) => Area::GroupChat,
            (false, thread) => Area::Thread(thread),
        }
    }
}

/// The visibility rule: who may see what is in `area`. Pushes, recovery, snapshots and
/// every command naming a message id all go through here (through [`can_see`] or
/// [`audience_of`]), so they cannot disagree.
pub fn audience_of_area(state: &ContextState, area: Area) -> Audience {
    match area {
        Area::GroupChat => Audience::Everyone,
        Area::Backchannel => Audience::Moderators,
        Area::Thread(thread_id) => match state.qa.thread(thread_id) {
            Some(t) => Audience::Thread {
                attendee: t.attendee.clone(),
            },
            // A thread always exists before its events; fall back to the safe side.
            None => Audience::Moderators,
        },
    }
}

/// Whether `viewer` may see `message`; for anyone else it does not exist.
pub fn can_see(state: &ContextState, message: &MessageRecord, viewer: Viewer<'_>) -> bool {
    visible_to(&audience_of_area(state, message.area()), viewer)
}

/// Who may see an event, given the state after it.
pub fn audience_of(state: &ContextState, event: &ContextEvent) -> Audience {
    match &event.kind {
        Some(Kind::VoteCast(_)) => Audience::User {
            user_id: event
                .actor
                .as_ref()
                .map(|a| a.user_id.clone())
                .unwrap_or_default(),
        },
        Some(kind) => audience_of_kind(state, kind),
        None => Audience::Moderators,
    }
}

/// Who may see an event of this kind (a vote's audience is its voter: see
/// [`audience_of`]).
pub fn audience_of_kind(state: &ContextState, kind: &Kind) -> Audience {
    let area = match kind {
        Kind::UserBlocked(_) | Kind::UserUnblocked(_) => return Audience::Moderators,
        Kind::MessagePosted(m) => Area::of(m.backchannel, m.thread_id),
        Kind::MessageLiked(l) => Area::of(l.backchannel, l.thread_id),
        Kind::MessageUnliked(l) => Area::of(l.backchannel, l.thread_id),
        Kind::MessageDeleted(d) => Area::of(d.backchannel, d.thread_id),
        // Only group-chat messages are pinned; the message's area decides all the same.
        Kind::MessagePinned(MessagePinned { message_id })
        | Kind::MessageUnpinned(MessageUnpinned { message_id }) => state
            .chat
            .messages
            .get(message_id)
            .map_or(Area::GroupChat, MessageRecord::area),
        kind if qa::thread_of(kind).is_some() => Area::Thread(qa::thread_of(kind).unwrap_or(0)),
        // Drafts are moderators' own. A vote goes to its voter's devices only (see
        // `audience_of`; everyone else learns of it through the throttled tallies): by
        // its kind alone, the safe side. The rest of an interaction's life is for
        // everyone, each viewer seeing what they may of it.
        Kind::InteractionSaved(_) | Kind::InteractionDeleted(_) | Kind::VoteCast(_) => {
            return Audience::Moderators;
        }
        // Counted for the reports; shown to nobody (no push body).
        Kind::JoinsCounted(_) => return Audience::Moderators,
        // Settings, updates and the feed are for everyone (a published Q&A is a
        // moderator's deliberate copy of two thread messages into the feed).
        _ => Area::GroupChat,
    };
    audience_of_area(state, area)
}

/// Whether an event is published when committed. A vote is not (its tally is, in a
/// throttled summary); a recovering voter still gets it, rendered with their vote.
/// Joins counted are for the reports only.
pub fn pushed_live(event: &ContextEvent) -> bool {
    !matches!(
        event.kind,
        None | Some(Kind::VoteCast(_) | Kind::JoinsCounted(_))
    )
}

/// Whether a viewer may see events for an audience.
pub fn visible_to(audience: &Audience, viewer: Viewer<'_>) -> bool {
    match audience {
        Audience::Everyone => true,
        Audience::Moderators => viewer.role == Role::Moderator,
        Audience::Thread { attendee } => {
            viewer.role == Role::Moderator || attendee == viewer.user_id
        }
        Audience::User { user_id } => user_id == viewer.user_id,
    }
}

/// The client view of a context's settings.
pub fn context_info(id: &str, settings: &ContextSettings) -> ContextInfo {
    ContextInfo {
        id: id.to_owned(),
        name: settings.name.clone(),
        starts_at_ms: settings.starts_at_ms,
        ends_at_ms: settings.ends_at_ms,
        registered_attendees: settings.registered_attendees,
        qa_mode: settings.qa_mode,
        slow_mode_secs: settings.slow_mode_secs,
    }
}

/// Whether `viewer` may see what is in `area`.
pub(super) fn sees(state: &ContextState, area: Area, viewer: Viewer<'_>) -> bool {
    visible_to(&audience_of_area(state, area), viewer)
}

/// Threads per state.
pub use super::qa::queue_counts;

/// The push body an event becomes for a viewer, given the state *after* it was applied.
/// `None` when there is nothing to show (a pin of a message deleted since, in a replay).
pub fn push_body(state: &ContextState, event: &ContextEvent, viewer: Viewer<'_>) -> Option<Body> {
    let kind = event.kind.as_ref()?;
    match kind {
        Kind::Created(c) => Some(Body::Context(context_info(&state.id, c.settings.as_ref()?))),
        Kind::Updated(u) => Some(Body::Context(context_info(&state.id, u.settings.as_ref()?))),
        Kind::MessagePosted(_)
        | Kind::MessageLiked(_)
        | Kind::MessageUnliked(_)
        | Kind::MessageDeleted(_) => chat::push_body(state, event, kind, viewer),
        Kind::MessagePinned(_)
        | Kind::MessageUnpinned(_)
        | Kind::UserBlocked(_)
        | Kind::UserUnblocked(_) => moderation::push_body(state, event, kind, viewer),
        Kind::ThreadOpened(_)
        | Kind::ThreadReopened(_)
        | Kind::ThreadClaimed(_)
        | Kind::ThreadReleased(_)
        | Kind::ThreadResolved(_)
        | Kind::ThreadCleared(_) => qa::push_body(state, kind, viewer),
        Kind::QaPublished(_) | Kind::FeedItemRemoved(_) => feed::push_body(state, event, kind),
        Kind::UpdatePosted(_) => updates::push_body(event, kind),
        Kind::InteractionSaved(_)
        | Kind::InteractionDeleted(_)
        | Kind::InteractionPublished(_)
        | Kind::InteractionResults(_)
        | Kind::InteractionEnded(_)
        | Kind::InteractionUnpublished(_)
        | Kind::VoteCast(_) => interactions::push_body(state, kind, viewer),
        Kind::JoinsCounted(_) => None,
    }
}

/// The state a joining user starts from.
pub fn snapshot(state: &ContextState, viewer: Viewer<'_>, recent: usize) -> Snapshot {
    let moderator = viewer.role == Role::Moderator;
    let counts = moderator.then(|| queue_counts(state));
    // Each list holds the messages of one area, and only of an area the viewer may see.
    let messages = chat::recent_in(state, Area::GroupChat, recent, viewer);
    let backchannel = chat::recent_in(state, Area::Backchannel, recent, viewer);
    let pinned = moderation::pinned_view(state, viewer);
    let (threads, thread_messages) = qa::view(state, viewer, recent, counts);
    let shown = messages
        .iter()
        .chain(&pinned)
        .chain(&backchannel)
        .chain(&thread_messages);
    let liked_by_me = chat::liked_by(state, shown, viewer);
    Snapshot {
        blocked: state.moderation.is_blocked(viewer.user_id),
        blocked_users: if moderator {
            state.moderation.blocked_users()
        } else {
            Vec::new()
        },
        updates: state.updates.view(),
        published: feed::view(state),
        interactions: state.interactions.view(viewer),
        leaderboard: state.interactions.leaderboard(Some(viewer.user_id)),
        messages,
        pinned,
        liked_by_me,
        backchannel,
        threads,
        thread_messages,
        counts,
    }
}

#[cfg(test)]
mod tests {
    use plenary_proto::v1::events::{
        ContextCreated, MessagePosted, ThreadOpened, UpdatePosted, UserBlocked,
    };

    use super::*;

    fn actor(id: &str, moderator: bool) -> Actor {
        Actor {
            user_id: id.into(),
            email: format!("{id}@example.test"),
            given_name: id.into(),
            moderator,
            ..Default::default()
        }
    }

    /// A context built from these events, in order, each by its actor.
    fn context(events: Vec<(Actor, Kind)>) -> (ContextState, Vec<ContextEvent>) {
        let mut state = ContextState::new("w1");
        let created = Kind::Created(ContextCreated {
            settings: Some(ContextSettings {
                name: "Launch".into(),
                ..Default::default()
            }),
            implicit: false,
        });
        let mut log = Vec::new();
        for (seq, (who, kind)) in std::iter::once((actor("admin", false), created))
            .chain(events)
            .enumerate()
        {
            let event = ContextEvent {
                context_id: "w1".into(),
                epoch: 1,
                seq: seq as u64 + 1,
                at_ms: 100 + seq as u64,
                actor: Some(who),
                kind: Some(kind),
            };
            state.apply(&event);
            log.push(event);
        }
        (state, log)
    }

    fn posted(id: u64, text: &str, backchannel: bool, thread_id: u64) -> Kind {
        Kind::MessagePosted(MessagePosted {
            message_id: id,
            text: text.into(),
            backchannel,
            thread_id,
            ..Default::default()
        })
    }

    const ATTENDEE: Viewer<'static> = Viewer {
        user_id: "a",
        role: Role::Attendee,
    };
    const OTHER: Viewer<'static> = Viewer {
        user_id: "b",
        role: Role::Attendee,
    };
    const MODERATOR: Viewer<'static> = Viewer {
        user_id: "m",
        role: Role::Moderator,
    };

    #[test]
    fn a_thread_answer_shows_as_the_session_to_the_attendee_only() {
        let (a, m) = (actor("a", false), actor("m", true));
        let (state, log) = context(vec![
            (
                a.clone(),
                Kind::ThreadOpened(ThreadOpened {
                    thread_id: 2,
                    attendee_id: "a".into(),
                }),
            ),
            (a, posted(3, "question", false, 2)),
            (m, posted(4, "answer", false, 2)),
        ]);
        let answer = &log[3];
        let author = |viewer| match push_body(&state, answer, viewer) {
            Some(Body::Message(m)) => m.author.unwrap(),
            other => panic!("{other:?}"),
        };
        let as_attendee = author(ATTENDEE);
        assert!(as_attendee.as_context && as_attendee.given_name == "Launch");
        assert_eq!(author(MODERATOR).user_id, "m");
        // Another attendee may not see the thread at all.
        assert!(!visible_to(&audience_of(&state, answer), OTHER));
    }

    #[test]
    fn a_snapshot_holds_what_each_viewer_may_see() {
        let (a, m) = (actor("a", false), actor("m", true));
        let (state, _) = context(vec![
            (a.clone(), posted(2, "hello", false, 0)),
            (m.clone(), posted(3, "mods only", true, 0)),
            (
                m.clone(),
                Kind::UserBlocked(UserBlocked {
                    user_id: "b".into(),
                    email: String::new(),
                }),
            ),
            (
                m,
                Kind::UpdatePosted(UpdatePosted {
                    title: "Break".into(),
                    text: "5 min".into(),
                    toast: true,
                }),
            ),
        ]);
        let attendee = snapshot(&state, ATTENDEE, 50);
        assert_eq!(attendee.messages.len(), 1);
        assert!(attendee.backchannel.is_empty());
        assert!(attendee.blocked_users.is_empty() && !attendee.blocked);
        assert_eq!(attendee.updates.len(), 1);
        assert!(attendee.counts.is_none());
        let blocked = snapshot(&state, OTHER, 50);
        assert!(blocked.blocked, "a blocked user is told so");
        let moderator = snapshot(&state, MODERATOR, 50);
        assert_eq!(moderator.backchannel.len(), 1);
        assert_eq!(moderator.blocked_users.len(), 1);
        assert!(moderator.counts.is_some());
    }

    #[test]
    fn blocks_are_for_moderators() {
        let m = actor("m", true);
        let (state, log) = context(vec![(
            m,
            Kind::UserBlocked(UserBlocked {
                user_id: "b".into(),
                email: String::new(),
            }),
        )]);
        let block = log[1].kind.as_ref().unwrap();
        assert_eq!(audience_of_kind(&state, block), Audience::Moderators);
        // (Private chat's kinds cannot reach a context's views any more: they are
        // another type, `UserEvent` or `ConversationEvent`.)
    }
}
