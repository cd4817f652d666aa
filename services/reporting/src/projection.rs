//! What an event of the log means for the reports: a pure function from one decoded
//! event to the changes it makes to the store ([`Change`]), so the rules are tested
//! without a database and the store only writes.

use plenary_proto::v1::events::{
    Actor, ConnectionChange, ContextCreated, ContextEvent, ContextUpdated, ConversationEvent,
    InteractionSpec, context_event::Kind, conversation_event, interaction_spec::Kind as SpecKind,
};

/// One change to the reporting store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// An interaction was saved (created or edited): how its votes are shown.
    Interaction {
        context_id: String,
        interaction_id: u64,
        kind: &'static str,
        question: String,
        emoji: String,
        /// A survey's questions: text and options.
        survey: Vec<(String, Vec<String>)>,
    },
    /// A vote (one per user per interaction: a second one for the same is ignored).
    Vote {
        context_id: String,
        interaction_id: u64,
        voter: Actor,
        /// The chosen options' texts joined with "; ", the rating, or the answer; empty
        /// for a crowd vote's tap (shown as its emoji) and a survey (its own report).
        vote: String,
        /// Each answer: (survey question or 0, survey option index, value).
        answers: Vec<Answer>,
        at_ms: u64,
        seq: u64,
    },
    Blocked {
        context_id: String,
        user_id: String,
        user_email: String,
        moderator: Actor,
        at_ms: u64,
    },
    Unblocked {
        context_id: String,
        user_id: String,
    },
    /// Every event: the context exists, and when a moderator last acted in it.
    Activity {
        context_id: String,
        at_ms: u64,
        by_moderator: bool,
    },
    /// The context's name (created or updated).
    Named {
        context_id: String,
        name: String,
    },
    Message(Posted),
    MessageDeleted {
        context_id: String,
        message_id: u64,
    },
    /// A user and their email, as an event showed them (the latest non-empty wins).
    User {
        user_id: String,
        email: String,
    },
    /// A private-chat connection between two users was accepted (`connected`) or
    /// removed.
    Connection {
        user_id: String,
        peer_id: String,
        connected: bool,
    },
    /// A private message; `message_id` is its seq in the pair's stream.
    DirectMessage {
        stream_id: String,
        message_id: u64,
        sender_id: String,
        recipient_id: String,
        /// Both are attendees (moderate no context): "internal" in user stats.
        between_attendees: bool,
        text: String,
        at_ms: u64,
    },
    DirectMessageDeleted {
        stream_id: String,
        message_id: u64,
    },
    /// A Q&A thread took a `step`; `owner` is the moderator who claimed or resolved it
    /// (kept while it stays theirs).
    Thread {
        context_id: String,
        thread_id: u64,
        step: ThreadStep,
        attendee_id: Option<String>,
        owner: Option<Actor>,
        at_ms: u64,
    },
    /// Joins of a context counted over a window starting then.
    Joins {
        context_id: String,
        window_start_ms: u64,
        joins: u32,
    },
}

/// What happened to a Q&A thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThreadStep {
    /// Opened by an attendee's question: it waits for a moderator.
    Opened,
    /// Reopened by a new question after it was resolved: it waits again, from now.
    Reopened,
    /// Given back to the queue (by its owner, or automatically).
    Released,
    Claimed,
    Resolved,
    Cleared,
}

impl ThreadStep {
    /// The state the thread is in after the step.
    pub fn state(self) -> &'static str {
        match self {
            ThreadStep::Opened | ThreadStep::Reopened | ThreadStep::Released => "pending",
            ThreadStep::Claimed => "owned",
            ThreadStep::Resolved => "resolved",
            ThreadStep::Cleared => "done",
        }
    }
}

/// A message posted in a context (group chat, backchannel or a Q&A thread).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Posted {
    pub context_id: String,
    pub message_id: u64,
    pub author: Actor,
    /// 0: not in a Q&A thread.
    pub thread_id: u64,
    pub backchannel: bool,
    pub text: String,
    pub at_ms: u64,
}

/// One answer of a vote: a chosen option's text, a rating, an open answer (then
/// `option` is `None`), or a survey choice by index (`value` empty).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub question: u32,
    pub option: Option<u32>,
    pub value: String,
}

/// Separates a multiple-answer vote's option texts in the `vote` column.
pub const OPTION_SEPARATOR: &str = "; ";

/// The changes a context event makes (besides its activity, none for the kinds no
/// report reads yet).
pub fn context_changes(event: &ContextEvent) -> Vec<Change> {
    let context_id = || event.context_id.clone();
    let actor = || event.actor.clone().unwrap_or_default();
    let Some(kind) = &event.kind else {
        return Vec::new();
    };
    let mut changes = vec![Change::Activity {
        context_id: context_id(),
        at_ms: event.at_ms,
        by_moderator: event.actor.as_ref().is_some_and(|a| a.moderator),
    }];
    if let Some(a) = event.actor.as_ref().filter(|a| !a.email.is_empty()) {
        changes.push(Change::User {
            user_id: a.user_id.clone(),
            email: a.email.clone(),
        });
    }
    let thread = |thread_id: u64, step: ThreadStep, owner: Option<Actor>| Change::Thread {
        context_id: context_id(),
        thread_id,
        step,
        attendee_id: None,
        owner,
        at_ms: event.at_ms,
    };
    let change = match kind {
        Kind::Created(ContextCreated { settings, .. })
        | Kind::Updated(ContextUpdated { settings }) => Change::Named {
            context_id: context_id(),
            name: settings
                .as_ref()
                .map(|s| s.name.clone())
                .unwrap_or_default(),
        },
        Kind::MessagePosted(m) => Change::Message(Posted {
            context_id: context_id(),
            message_id: m.message_id,
            author: actor(),
            thread_id: m.thread_id,
            backchannel: m.backchannel,
            text: m.text.clone(),
            at_ms: event.at_ms,
        }),
        Kind::MessageDeleted(d) => Change::MessageDeleted {
            context_id: context_id(),
            message_id: d.message_id,
        },
        Kind::ThreadOpened(o) => Change::Thread {
            context_id: context_id(),
            thread_id: o.thread_id,
            step: ThreadStep::Opened,
            attendee_id: Some(o.attendee_id.clone()),
            owner: None,
            at_ms: event.at_ms,
        },
        Kind::ThreadReopened(r) => thread(r.thread_id, ThreadStep::Reopened, None),
        Kind::ThreadReleased(r) => thread(r.thread_id, ThreadStep::Released, None),
        Kind::ThreadClaimed(c) => thread(c.thread_id, ThreadStep::Claimed, Some(actor())),
        Kind::ThreadResolved(r) => thread(r.thread_id, ThreadStep::Resolved, Some(actor())),
        Kind::ThreadCleared(c) => thread(c.thread_id, ThreadStep::Cleared, None),
        Kind::InteractionSaved(saved) => {
            let (kind, question, emoji) = describe(saved.spec.as_ref());
            let survey = match saved.spec.as_ref().and_then(|s| s.kind.as_ref()) {
                Some(SpecKind::Survey(s)) => s
                    .questions
                    .iter()
                    .map(|q| (q.text.clone(), q.options.clone()))
                    .collect(),
                _ => Vec::new(),
            };
            Change::Interaction {
                context_id: context_id(),
                interaction_id: saved.interaction_id,
                kind,
                question,
                emoji,
                survey,
            }
        }
        Kind::VoteCast(vote) => {
            let shown = if !vote.option_texts.is_empty() {
                vote.option_texts.join(OPTION_SEPARATOR)
            } else if vote.rating > 0 {
                vote.rating.to_string()
            } else {
                vote.text.clone()
            };
            let value = |value: String| Answer {
                question: 0,
                option: None,
                value,
            };
            // A survey's answers are its own; the vote's texts only summarise them. A
            // rating's option text is its rating.
            let mut answers: Vec<Answer> = Vec::new();
            if vote.survey.is_empty() {
                if !vote.option_texts.is_empty() {
                    answers.extend(vote.option_texts.iter().cloned().map(value));
                } else if vote.rating > 0 {
                    answers.push(value(vote.rating.to_string()));
                } else {
                    // An open answer, or a crowd vote's tap (empty: shown as its emoji).
                    answers.push(value(vote.text.clone()));
                }
            }
            for a in &vote.survey {
                let answer = |option: Option<u32>, value: String| Answer {
                    question: a.question,
                    option,
                    value,
                };
                answers.extend(a.options.iter().map(|o| answer(Some(*o), String::new())));
                if a.rating > 0 {
                    answers.push(answer(None, a.rating.to_string()));
                }
                if !a.text.is_empty() {
                    answers.push(answer(None, a.text.clone()));
                }
            }
            Change::Vote {
                context_id: context_id(),
                interaction_id: vote.interaction_id,
                voter: actor(),
                vote: shown,
                answers,
                at_ms: event.at_ms,
                seq: event.seq,
            }
        }
        Kind::UserBlocked(blocked) => Change::Blocked {
            context_id: context_id(),
            user_id: blocked.user_id.clone(),
            user_email: blocked.email.clone(),
            moderator: actor(),
            at_ms: event.at_ms,
        },
        Kind::UserUnblocked(unblocked) => Change::Unblocked {
            context_id: context_id(),
            user_id: unblocked.user_id.clone(),
        },
        Kind::JoinsCounted(counted) => Change::Joins {
            context_id: context_id(),
            window_start_ms: counted.window_start_ms,
            joins: counted.joins,
        },
        _ => return changes,
    };
    changes.push(change);
    changes
}

/// The changes a private conversation's event makes (stream `~dm/<a>/<b>`).
pub fn conversation_changes(event: &ConversationEvent) -> Vec<Change> {
    let Some(kind) = &event.kind else {
        return Vec::new();
    };
    let mut changes: Vec<Change> = event
        .actor
        .iter()
        .filter(|a| !a.email.is_empty())
        .map(|a| Change::User {
            user_id: a.user_id.clone(),
            email: a.email.clone(),
        })
        .collect();
    match kind {
        conversation_event::Kind::ConnectionChanged(c) => {
            let connected = match ConnectionChange::try_from(c.change) {
                Ok(ConnectionChange::Accepted) => Some(true),
                Ok(ConnectionChange::Removed) => Some(false),
                _ => None,
            };
            if let Some(connected) = connected {
                changes.push(Change::Connection {
                    user_id: c.user_id.clone(),
                    peer_id: c.peer_id.clone(),
                    connected,
                });
            }
        }
        conversation_event::Kind::DirectMessagePosted(m) => {
            if !m.recipient_email.is_empty() {
                changes.push(Change::User {
                    user_id: m.recipient_id.clone(),
                    email: m.recipient_email.clone(),
                });
            }
            changes.push(Change::DirectMessage {
                stream_id: event.stream_id.clone(),
                message_id: event.seq,
                sender_id: m.sender_id.clone(),
                recipient_id: m.recipient_id.clone(),
                between_attendees: !m.sender_moderator && !m.recipient_moderator,
                text: m.text.clone(),
                at_ms: event.at_ms,
            });
        }
        conversation_event::Kind::DirectMessageDeleted(d) => {
            changes.push(Change::DirectMessageDeleted {
                stream_id: event.stream_id.clone(),
                message_id: d.message_id,
            });
        }
        conversation_event::Kind::DirectMessageRead(_) => {}
    }
    changes
}

/// An interaction's kind, the text its votes answer, and its emoji (crowd votes,
/// rating scales).
fn describe(spec: Option<&InteractionSpec>) -> (&'static str, String, String) {
    match spec.and_then(|s| s.kind.as_ref()) {
        Some(SpecKind::Poll(p)) => ("poll", p.question.clone(), String::new()),
        Some(SpecKind::Quiz(q)) => ("quiz", q.question.clone(), String::new()),
        Some(SpecKind::Rating(r)) => ("rating", r.statement.clone(), r.emoji.clone()),
        Some(SpecKind::CrowdVote(c)) => ("crowd_vote", c.statement.clone(), c.emoji.clone()),
        Some(SpecKind::OpenQuestion(o)) => ("open_question", o.question.clone(), String::new()),
        Some(SpecKind::Survey(s)) => ("survey", s.name.clone(), String::new()),
        Some(SpecKind::Announcement(a)) => ("announcement", a.title.clone(), String::new()),
        None => ("unknown", String::new(), String::new()),
    }
}

#[cfg(test)]
mod tests {
    use plenary_proto::v1::events::{
        CrowdVoteSpec, InteractionSaved, PollSpec, UserBlocked, VoteCast,
    };

    use super::*;

    fn event(kind: Kind) -> ContextEvent {
        ContextEvent {
            context_id: "w1".into(),
            epoch: 1,
            seq: 9,
            at_ms: 1_000,
            actor: Some(Actor {
                user_id: "u1".into(),
                email: "u1@example.com".into(),
                given_name: "Ann".into(),
                family_name: "Lee".into(),
                moderator: false,
            }),
            kind: Some(kind),
        }
    }

    #[test]
    fn a_vote_is_shown_as_its_option_texts_rating_or_answer() {
        let vote = |v: VoteCast| match &context_changes(&event(Kind::VoteCast(v)))[..] {
            [
                Change::Activity { .. },
                Change::User { .. },
                Change::Vote { vote, voter, .. },
            ] => (vote.clone(), voter.given_name.clone()),
            other => panic!("{other:?}"),
        };
        let texts = VoteCast {
            option_texts: vec!["Tea".into(), "Coffee, black".into()],
            ..Default::default()
        };
        assert_eq!(vote(texts), ("Tea; Coffee, black".into(), "Ann".into()));
        let rating = VoteCast {
            rating: 4,
            ..Default::default()
        };
        assert_eq!(vote(rating).0, "4");
        let answer = VoteCast {
            text: "Great pace".into(),
            ..Default::default()
        };
        assert_eq!(vote(answer).0, "Great pace");
        assert_eq!(vote(VoteCast::default()).0, "", "a tap");
    }

    #[test]
    fn saved_interactions_say_their_kind_question_and_emoji() {
        let saved = |spec: SpecKind| {
            context_changes(&event(Kind::InteractionSaved(InteractionSaved {
                interaction_id: 3,
                spec: Some(InteractionSpec { kind: Some(spec) }),
                ..Default::default()
            })))
        };
        assert!(matches!(
            &saved(SpecKind::Poll(PollSpec {
                question: "Tea?".into(),
                ..Default::default()
            }))[..],
            [.., Change::Interaction { kind: "poll", question, interaction_id: 3, .. }] if question == "Tea?"
        ));
        assert!(matches!(
            &saved(SpecKind::CrowdVote(CrowdVoteSpec {
                statement: "Louder".into(),
                emoji: "👍".into(),
                ..Default::default()
            }))[..],
            [.., Change::Interaction { kind: "crowd_vote", emoji, .. }] if emoji == "👍"
        ));
    }

    #[test]
    fn private_chat_gives_connections_messages_and_who_is_an_attendee() {
        use plenary_proto::v1::events::{ConnectionChanged, DirectMessagePosted};
        let conversation = |kind| ConversationEvent {
            stream_id: "~dm/a/b".into(),
            epoch: 1,
            seq: 4,
            at_ms: 2_000,
            actor: Some(Actor {
                user_id: "a".into(),
                email: "a@example.com".into(),
                ..Default::default()
            }),
            kind: Some(kind),
        };
        let accepted = conversation_changes(&conversation(
            conversation_event::Kind::ConnectionChanged(Box::new(ConnectionChanged {
                user_id: "a".into(),
                peer_id: "b".into(),
                change: ConnectionChange::Accepted as i32,
                ..Default::default()
            })),
        ));
        assert!(matches!(
            &accepted[..],
            [
                Change::User { .. },
                Change::Connection {
                    connected: true,
                    ..
                }
            ]
        ));
        let ignored = conversation_changes(&conversation(
            conversation_event::Kind::ConnectionChanged(Box::new(ConnectionChanged {
                change: ConnectionChange::Ignored as i32,
                ..Default::default()
            })),
        ));
        assert!(
            !ignored
                .iter()
                .any(|c| matches!(c, Change::Connection { .. }))
        );
        let posted = conversation_changes(&conversation(
            conversation_event::Kind::DirectMessagePosted(Box::new(DirectMessagePosted {
                sender_id: "a".into(),
                recipient_id: "b".into(),
                text: "hi".into(),
                recipient_moderator: true,
                recipient_email: "b@example.com".into(),
                ..Default::default()
            })),
        ));
        assert!(matches!(
            &posted[..],
            [
                Change::User { .. },
                Change::User { user_id, .. },
                Change::DirectMessage { message_id: 4, between_attendees: false, .. }
            ] if user_id == "b"
        ));
    }

    #[test]
    fn a_block_names_the_moderator_who_made_it() {
        let changes = context_changes(&event(Kind::UserBlocked(UserBlocked {
            user_id: "troll".into(),
            email: "troll@example.com".into(),
        })));
        assert!(matches!(
            &changes[..],
            [.., Change::Blocked { user_id, moderator, at_ms: 1_000, .. }]
                if user_id == "troll" && moderator.user_id == "u1"
        ));
    }
}
