//! Moderated Q&A: the pure queue (`queue`: threads `pending → owned → resolved →
//! done`, claims) and how the context uses it — an attendee's question opens or
//! reopens their thread and posts in it, a moderator's answer claims a pending thread,
//! thread actions, and the views of threads.

mod presence;
mod queue;

use std::collections::HashMap;

use plenary_proto::v1::{
    Author, ChatMessage, QaThread as ThreadView, QueueCounts,
    events::{
        Actor, MessagePosted, ThreadClaimed, ThreadCleared, ThreadOpened, ThreadReleased,
        ThreadReopened, ThreadResolved, context_event::Kind,
    },
    push::Body,
};
pub(super) use presence::ModeratorPresence;
pub use queue::*;

use super::{
    chat::{self, ChatLimits, MessageRecord},
    command::{CommandOutcome, Rejection, ThreadAction},
    state::{ContextState, Decision},
    view::{Area, Viewer},
};
use crate::identity::{Role, author_of};

impl ContextState {
    /// An attendee's question: opens or reopens their thread, then posts in it.
    /// `reply_to` (a follow-up `send` in the thread) must name a message of that thread.
    pub(super) fn decide_ask(
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
        let ask = QaCommand::Ask {
            attendee: actor.user_id.clone(),
            thread: thread_id,
            new_id: self.seq + 1,
        };
        let mut kinds = self.queue_kinds(&ask)?;
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

    /// What a moderator's answer in `thread` does to it first: answering a pending
    /// thread claims it; answering one another moderator owns is refused (an admin
    /// takes it over); a done thread takes no answer.
    pub(super) fn claim_to_answer(
        &self,
        thread: &QaThread,
        actor: &Actor,
        admin: bool,
    ) -> Result<Vec<Kind>, Rejection> {
        match &thread.state {
            ThreadState::Owned { by } if *by == actor.user_id => Ok(Vec::new()),
            ThreadState::Resolved { .. } => Ok(Vec::new()),
            ThreadState::Done => Err(Rejection::InvalidState("done".into())),
            _ => {
                let claim = QaCommand::Claim {
                    moderator: Moderator {
                        user_id: actor.user_id.clone(),
                        admin,
                    },
                    thread: thread.id,
                };
                self.queue_kinds(&claim)
            }
        }
    }

    /// A moderator's `thread_action`.
    pub(super) fn decide_thread_action(
        &self,
        actor: &Actor,
        admin: bool,
        thread_id: u64,
        action: ThreadAction,
    ) -> Result<Decision, Rejection> {
        let moderator = Moderator {
            user_id: actor.user_id.clone(),
            admin,
        };
        let thread = thread_id;
        let command = match action {
            ThreadAction::Claim => QaCommand::Claim { moderator, thread },
            ThreadAction::Release => QaCommand::Release { moderator, thread },
            ThreadAction::Resolve => QaCommand::Resolve { moderator, thread },
            ThreadAction::Clear => QaCommand::Clear { moderator, thread },
        };
        let kinds = self.queue_kinds(&command)?;
        if kinds.is_empty() {
            return Ok(Decision::Already(CommandOutcome::Done { seq: 0 }));
        }
        Ok(Decision::of(kinds))
    }

    /// The context's Q&A mode.
    pub fn qa_mode(&self) -> i32 {
        self.settings.as_ref().map_or(0, |s| s.qa_mode)
    }

    /// Runs a queue command in the context's mode.
    fn queue_kinds(&self, command: &QaCommand) -> Result<Vec<Kind>, Rejection> {
        self.qa_kinds(QaMode::from(self.qa_mode()), command)
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
}

/// Folds a thread event into the queue; `by` is the event's actor.
pub(super) fn apply(queue: &mut QaQueue, by: &str, kind: &Kind) {
    if let Some(e) = qa_event(kind, by) {
        queue.apply(&e);
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

/// The thread an event is about, if it is a thread event.
pub(super) fn thread_of(kind: &Kind) -> Option<u64> {
    Some(match kind {
        Kind::ThreadOpened(t) => t.thread_id,
        Kind::ThreadReopened(t) => t.thread_id,
        Kind::ThreadClaimed(t) => t.thread_id,
        Kind::ThreadReleased(t) => t.thread_id,
        Kind::ThreadResolved(t) => t.thread_id,
        Kind::ThreadCleared(t) => t.thread_id,
        _ => return None,
    })
}

/// Threads per state.
pub fn queue_counts(state: &ContextState) -> QueueCounts {
    let [pending, owned, resolved, _] = state.qa.counts();
    QueueCounts {
        pending: pending as u32,
        owned: owned as u32,
        resolved: resolved as u32,
    }
}

fn thread_view(state: &ContextState, thread_id: u64, viewer: Viewer<'_>) -> Option<ThreadView> {
    let counts = (viewer.role == Role::Moderator).then(|| queue_counts(state));
    thread_view_counted(state, thread_id, viewer, counts)
}

/// A thread as `viewer` sees it, with the queue counts given (moderators only), so a
/// snapshot counts the queue once for all its threads.
fn thread_view_counted(
    state: &ContextState,
    thread_id: u64,
    viewer: Viewer<'_>,
    counts: Option<QueueCounts>,
) -> Option<ThreadView> {
    let t = state.qa.thread(thread_id)?;
    let moderator = viewer.role == Role::Moderator;
    let (state_value, owner) = match &t.state {
        ThreadState::Pending => (plenary_proto::v1::ThreadState::Pending, ""),
        ThreadState::Owned { by } => (plenary_proto::v1::ThreadState::Owned, by.as_str()),
        ThreadState::Resolved { by } => (plenary_proto::v1::ThreadState::Resolved, by.as_str()),
        ThreadState::Done => (plenary_proto::v1::ThreadState::Done, ""),
    };
    // The question that opened the thread was posted right after it (id + 1); scan
    // only when that message was deleted.
    let asked = |m: &&MessageRecord| m.thread_id == thread_id && m.author.user_id == t.attendee;
    let messages = &state.chat.messages;
    let attendee = messages
        .get(&(thread_id + 1))
        .filter(asked)
        .or_else(|| messages.range(thread_id..).map(|(_, m)| m).find(asked))
        .map(|m| author_of(&m.author))
        .unwrap_or(Author {
            user_id: t.attendee.clone(),
            ..Default::default()
        });
    Some(ThreadView {
        id: thread_id,
        attendee: Some(attendee),
        state: state_value as i32,
        owner_id: if moderator {
            owner.to_owned()
        } else {
            String::new()
        },
        counts,
    })
}

/// The push a thread event becomes for `viewer`; `None` for other events.
pub(super) fn push_body(state: &ContextState, kind: &Kind, viewer: Viewer<'_>) -> Option<Body> {
    Some(Body::Thread(thread_view(state, thread_of(kind)?, viewer)?))
}

/// What a joining user is shown of the Q&A: moderators the open queue, an attendee
/// their own threads (done ones included), each with its last `recent` messages.
pub(super) fn view(
    state: &ContextState,
    viewer: Viewer<'_>,
    recent: usize,
    counts: Option<QueueCounts>,
) -> (Vec<ThreadView>, Vec<ChatMessage>) {
    let moderator = viewer.role == Role::Moderator;
    let threads: Vec<ThreadView> = state
        .qa
        .threads()
        .filter(|t| {
            super::view::sees(state, Area::Thread(t.id), viewer)
                && !(moderator && t.state == ThreadState::Done)
        })
        .filter_map(|t| thread_view_counted(state, t.id, viewer, counts))
        .collect();
    // The last `recent` messages of each shown thread, in one pass from the end.
    let mut per_thread: HashMap<u64, Vec<(u64, &MessageRecord)>> =
        threads.iter().map(|t| (t.id, Vec::new())).collect();
    // Stops as soon as every shown thread has its messages (at once when none is
    // shown, the usual attendee), instead of walking the whole context.
    let mut unfilled = per_thread.len();
    for (id, m) in state.chat.messages.iter().rev() {
        if unfilled == 0 {
            break;
        }
        if let Area::Thread(thread_id) = m.area()
            && let Some(kept) = per_thread.get_mut(&thread_id)
            && kept.len() < recent
        {
            kept.push((*id, m));
            if kept.len() == recent {
                unfilled -= 1;
            }
        }
    }
    let thread_messages: Vec<ChatMessage> = threads
        .iter()
        .flat_map(|t| {
            per_thread
                .remove(&t.id)
                .unwrap_or_default()
                .into_iter()
                .rev()
        })
        .map(|(id, m)| chat::chat_message(state, id, m, viewer))
        .collect();
    (threads, thread_messages)
}
