//! The feed of published Q&As: a moderator copies a thread's question with its answer
//! where everyone sees it — the one way a thread's text reaches everyone.

use plenary_proto::v1::{
    FeedQa, FeedRef,
    events::{ContextEvent, FeedItemRemoved, QaPublished, context_event::Kind},
    push::Body,
};
use serde::{Deserialize, Serialize};

use super::{
    chat,
    command::{CommandOutcome, Rejection},
    state::{ContextState, Decision},
    view::{Area, Viewer},
};
use crate::identity::Role;

/// Most published Q&As a feed holds.
pub const MAX_PUBLISHED: usize = 50;

/// A question with its answer in the feed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedQa {
    pub item_id: u64,
    pub thread_id: u64,
    pub question_id: u64,
    pub answer_id: u64,
}

/// A context's feed (flattened into the context's snapshot).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Feed {
    /// Published questions with answers, in publication order.
    #[serde(default)]
    pub published: Vec<PublishedQa>,
}

impl Feed {
    pub(super) fn apply(&mut self, event: &ContextEvent, kind: &Kind) {
        match kind {
            Kind::QaPublished(p) => self.published.push(PublishedQa {
                item_id: event.seq,
                thread_id: p.thread_id,
                question_id: p.question_id,
                answer_id: p.answer_id,
            }),
            Kind::FeedItemRemoved(r) => self.published.retain(|p| p.item_id != r.item_id),
            _ => {}
        }
    }

    /// The removals a deleted message takes with it: the published Q&As it is part of.
    pub(super) fn removals_for(&self, message_id: u64) -> Vec<Kind> {
        self.published
            .iter()
            .filter(|p| p.question_id == message_id || p.answer_id == message_id)
            .map(|p| Kind::FeedItemRemoved(FeedItemRemoved { item_id: p.item_id }))
            .collect()
    }

    /// An `unpublish`.
    pub(super) fn decide_unpublish(&self, item_id: u64) -> Decision {
        if !self.published.iter().any(|p| p.item_id == item_id) {
            return Decision::Already(CommandOutcome::Done { seq: 0 });
        }
        Decision::Emit(Kind::FeedItemRemoved(FeedItemRemoved { item_id }))
    }
}

impl ContextState {
    /// A `publish_qa`: the thread attendee's question with a moderator's answer, both
    /// of that thread.
    pub(super) fn decide_publish(
        &self,
        thread_id: u64,
        question_id: u64,
        answer_id: u64,
    ) -> Result<Decision, Rejection> {
        let thread = self
            .qa
            .thread(thread_id)
            .ok_or(Rejection::NotFound("thread".into()))?;
        let in_thread = |id: u64| {
            self.chat
                .messages
                .get(&id)
                .filter(|m| m.area() == Area::Thread(thread_id))
        };
        let missing = |id: u64, what: &'static str| {
            if self.chat.may_be_archived(id) {
                Rejection::Archived(what.into())
            } else {
                Rejection::NotFound(what.into())
            }
        };
        let question = in_thread(question_id).ok_or_else(|| missing(question_id, "question"))?;
        let answer = in_thread(answer_id).ok_or_else(|| missing(answer_id, "answer"))?;
        if question.author.user_id != thread.attendee || !answer.author.moderator {
            return Err(Rejection::BadRequest(
                "publish the attendee's question with a moderator's answer".into(),
            ));
        }
        let published = &self.feed.published;
        if published
            .iter()
            .any(|p| p.question_id == question_id && p.answer_id == answer_id)
        {
            return Ok(Decision::Already(CommandOutcome::Done { seq: 0 }));
        }
        if published.len() >= MAX_PUBLISHED {
            return Err(Rejection::LimitReached("published questions".into()));
        }
        Ok(Decision::Emit(Kind::QaPublished(QaPublished {
            thread_id,
            question_id,
            answer_id,
        })))
    }
}

/// A published Q&A as everyone sees it (the answer as the session). A message outside
/// that thread (a backchannel one in an old log) is never shown there.
fn feed_item(state: &ContextState, item: &PublishedQa) -> Option<FeedQa> {
    let public = Viewer {
        user_id: "",
        role: Role::Attendee,
    };
    let message = |id: u64| {
        state
            .chat
            .messages
            .get(&id)
            .filter(|m| m.area() == Area::Thread(item.thread_id))
            .map(|m| chat::chat_message(state, id, m, public))
    };
    Some(FeedQa {
        item_id: item.item_id,
        thread_id: item.thread_id,
        question: Some(message(item.question_id)?),
        answer: Some(message(item.answer_id)?),
    })
}

/// The feed a joining user is shown.
pub(super) fn view(state: &ContextState) -> Vec<FeedQa> {
    state
        .feed
        .published
        .iter()
        .filter_map(|p| feed_item(state, p))
        .collect()
}

/// The push a feed event becomes; `None` for other events.
pub(super) fn push_body(state: &ContextState, event: &ContextEvent, kind: &Kind) -> Option<Body> {
    Some(match kind {
        Kind::QaPublished(_) => Body::FeedQa(feed_item(
            state,
            state
                .feed
                .published
                .iter()
                .find(|p| p.item_id == event.seq)?,
        )?),
        Kind::FeedItemRemoved(r) => Body::FeedRemoved(FeedRef { item_id: r.item_id }),
        _ => return None,
    })
}
