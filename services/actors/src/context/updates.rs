//! Updates: a moderator's notification to everyone (optionally a toast), kept for late
//! joiners.

use plenary_proto::v1::{
    Update,
    events::{ContextEvent, UpdatePosted, context_event::Kind},
    push::Body,
};
use serde::{Deserialize, Serialize};

use super::{chat::ChatLimits, command::Rejection, state::Decision};

/// Updates a context keeps; older ones drop out of snapshots (they stay in the log).
pub const MAX_UPDATES: usize = 100;
/// Longest update title, in characters.
pub const MAX_UPDATE_TITLE_CHARS: usize = 150;

/// An update, kept for late joiners.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UpdateRecord {
    pub id: u64,
    pub title: String,
    pub text: String,
    pub toast: bool,
    pub at_ms: u64,
}

/// A context's updates (flattened into the context's snapshot).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Updates {
    /// Oldest first (the last [`MAX_UPDATES`]).
    #[serde(default)]
    pub updates: Vec<UpdateRecord>,
}

impl Updates {
    /// A `post_update` (moderators only; the caller checked the role).
    pub(super) fn decide(
        limits: &ChatLimits,
        title: &str,
        text: &str,
        toast: bool,
    ) -> Result<Decision, Rejection> {
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
            title: title.to_owned(),
            text: text.to_owned(),
            toast,
        })))
    }

    pub(super) fn apply(&mut self, event: &ContextEvent, kind: &Kind) {
        if let Kind::UpdatePosted(u) = kind {
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
    }

    /// The updates a joining user is shown.
    pub(super) fn view(&self) -> Vec<Update> {
        self.updates
            .iter()
            .map(|u| Update {
                id: u.id,
                title: u.title.clone(),
                text: u.text.clone(),
                toast: u.toast,
                posted_at_ms: u.at_ms,
            })
            .collect()
    }
}

/// The push an update event becomes; `None` for other events.
pub(super) fn push_body(event: &ContextEvent, kind: &Kind) -> Option<Body> {
    let Kind::UpdatePosted(u) = kind else {
        return None;
    };
    Some(Body::Update(Update {
        id: event.seq,
        title: u.title.clone(),
        text: u.text.clone(),
        toast: u.toast,
        posted_at_ms: event.at_ms,
    }))
}
