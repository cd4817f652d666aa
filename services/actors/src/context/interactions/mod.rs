//! Interactions: what a moderator puts to the audience — polls today; quizzes, rating
//! scales, crowd votes, open-ended questions, surveys and announcements are further
//! kinds of [`Spec`] with the same life cycle and votes.
//!
//! Life cycle: draft (saved, changed, deleted; moderators only) → published (everyone,
//! a toast and a feed item; the spec is fixed from here on) → results shown or hidden
//! → ended (no more votes; still in the feed) → unpublished (gone from the feed and
//! from this state; the log keeps it for reports).
//!
//! Votes: one per user per interaction, final; counted by the context's one actor, so
//! exact under any concurrency and across nodes. A retry with the same client vote id
//! answers the first vote again. Each vote is an event with the voter (the event's
//! actor), the chosen options and their texts.

pub mod poll;

use std::collections::BTreeMap;

use plenary_proto::v1::{
    self, InteractionRef, InteractionStatus, MyVote, Tally,
    events::{
        self, ContextEvent, InteractionDeleted, InteractionEnded, InteractionPublished,
        InteractionResults, InteractionSaved, InteractionUnpublished, VoteCast,
        context_event::Kind,
    },
    push::Body,
};
use serde::{Deserialize, Serialize};

use super::{
    command::{CommandOutcome, InteractionAction, Rejection},
    state::{ContextState, Decision},
    view::Viewer,
};
use crate::identity::Role;
use poll::{Poll, PollTally};

/// Most interactions (drafts and published, not yet unpublished) a context holds.
pub const MAX_INTERACTIONS: usize = 100;
/// Longest client vote id, in bytes.
pub const MAX_CLIENT_VOTE_ID: usize = 64;

/// What an interaction asks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Spec {
    Poll(Poll),
}

impl Spec {
    pub fn validate(&self) -> Result<(), Rejection> {
        match self {
            Spec::Poll(p) => p.validate(),
        }
    }

    /// Whether attendees see the results from publication on.
    fn shares_results(&self) -> bool {
        match self {
            Spec::Poll(p) => p.share_results,
        }
    }

    fn empty_tally(&self) -> Results {
        match self {
            Spec::Poll(p) => Results::Poll(p.empty_tally()),
        }
    }

    /// The spec as the log stores it.
    pub fn stored(&self) -> events::InteractionSpec {
        use events::interaction_spec::Kind as K;
        events::InteractionSpec {
            kind: Some(match self {
                Spec::Poll(p) => K::Poll(p.into()),
            }),
        }
    }

    /// The spec as clients see it.
    pub fn wire(&self) -> v1::InteractionSpec {
        use v1::interaction_spec::Kind as K;
        v1::InteractionSpec {
            kind: Some(match self {
                Spec::Poll(p) => K::Poll(p.into()),
            }),
        }
    }

    /// The spec a client sent.
    pub fn from_wire(spec: &v1::InteractionSpec) -> Result<Spec, Rejection> {
        use v1::interaction_spec::Kind as K;
        match &spec.kind {
            Some(K::Poll(p)) => Ok(Spec::Poll(p.into())),
            None => Err(Rejection::BadRequest(
                "an interaction needs a spec (`poll`)".into(),
            )),
        }
    }

    /// The spec as the log stored it (`None`: a kind this release does not know).
    pub fn from_stored(spec: &events::InteractionSpec) -> Option<Spec> {
        use events::interaction_spec::Kind as K;
        match spec.kind.as_ref()? {
            K::Poll(p) => Some(Spec::Poll(p.into())),
        }
    }
}

/// Where an interaction is in its life cycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    Draft,
    Published,
    Ended,
}

/// A user's vote, as the state keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoteRecord {
    pub client_vote_id: String,
    pub options: Vec<u32>,
    pub seq: u64,
}

/// Counts of an interaction, by kind.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Results {
    Poll(PollTally),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InteractionRecord {
    pub id: u64,
    pub spec: Spec,
    pub status: Status,
    pub results_shown: bool,
    /// Seq and time of its publication (0 for a draft).
    pub published_seq: u64,
    pub published_at_ms: u64,
    /// Voter's user id → their vote.
    pub votes: BTreeMap<String, VoteRecord>,
    pub results: Results,
}

impl InteractionRecord {
    /// Whether `viewer` may see it at all: drafts are moderators' only.
    pub fn visible_to(&self, viewer: Viewer<'_>) -> bool {
        self.status != Status::Draft || viewer.role == Role::Moderator
    }

    /// Whether `viewer` may see its results.
    pub fn results_visible_to(&self, viewer: Viewer<'_>) -> bool {
        viewer.role == Role::Moderator || (self.results_shown && self.status != Status::Draft)
    }

    pub fn tally(&self) -> Tally {
        let Results::Poll(p) = &self.results;
        Tally {
            interaction_id: self.id,
            voters: self.votes.len() as u32,
            counts: p.counts.clone(),
        }
    }

    /// The interaction as `viewer` sees it; `None` when they may not.
    pub fn view(&self, viewer: Viewer<'_>) -> Option<v1::Interaction> {
        if !self.visible_to(viewer) {
            return None;
        }
        Some(v1::Interaction {
            id: self.id,
            spec: Some(self.spec.wire()),
            status: match self.status {
                Status::Draft => InteractionStatus::Draft,
                Status::Published => InteractionStatus::Published,
                Status::Ended => InteractionStatus::Ended,
            } as i32,
            results_shown: self.results_shown,
            published_seq: self.published_seq,
            published_at_ms: self.published_at_ms,
            toast: false,
            tally: self.results_visible_to(viewer).then(|| self.tally()),
            mine: self.votes.get(viewer.user_id).map(|v| MyVote {
                options: v.options.clone(),
            }),
        })
    }
}

/// A context's interactions (a part of its snapshot).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interactions {
    #[serde(default)]
    pub interactions: BTreeMap<u64, InteractionRecord>,
}

impl Interactions {
    pub fn get(&self, id: u64) -> Option<&InteractionRecord> {
        self.interactions.get(&id)
    }

    /// A moderator saves a draft: a new one (`id` 0) or a change to one.
    pub(super) fn decide_save(
        &self,
        next_seq: u64,
        id: u64,
        spec: &Spec,
    ) -> Result<Decision, Rejection> {
        spec.validate()?;
        let created = id == 0;
        let interaction_id = if created {
            if self.interactions.len() >= MAX_INTERACTIONS {
                return Err(Rejection::LimitReached(
                    format!(
                        "{MAX_INTERACTIONS} interactions in a context; unpublish or delete one"
                    )
                    .into(),
                ));
            }
            next_seq
        } else {
            match self.interactions.get(&id) {
                None => return Err(Rejection::NotFound("interaction".into())),
                Some(i) if i.status != Status::Draft => {
                    return Err(Rejection::InvalidState(
                        "published (a published interaction cannot be changed)".into(),
                    ));
                }
                Some(_) => id,
            }
        };
        Ok(Decision::Emit(Kind::InteractionSaved(InteractionSaved {
            interaction_id,
            spec: Some(spec.stored()),
            created,
        })))
    }

    /// A moderator moves an interaction through its life cycle. Asking for the state
    /// it is already in changes nothing.
    pub(super) fn decide_action(
        &self,
        id: u64,
        action: InteractionAction,
    ) -> Result<Decision, Rejection> {
        let Some(i) = self.interactions.get(&id) else {
            return Err(Rejection::NotFound("interaction".into()));
        };
        let unchanged = Ok(Decision::Already(CommandOutcome::Interaction {
            interaction_id: id,
            seq: 0,
        }));
        let draft = || Err(Rejection::InvalidState("a draft".into()));
        let interaction_id = id;
        let kind = match (action, i.status) {
            (InteractionAction::Publish, Status::Draft) => {
                Kind::InteractionPublished(InteractionPublished { interaction_id })
            }
            (InteractionAction::Publish, Status::Published) => return unchanged,
            (InteractionAction::Publish, Status::Ended) => {
                return Err(Rejection::InvalidState("ended".into()));
            }
            (InteractionAction::ShowResults | InteractionAction::HideResults, Status::Draft)
            | (InteractionAction::End | InteractionAction::Unpublish, Status::Draft) => {
                return draft();
            }
            (InteractionAction::ShowResults, _) if i.results_shown => return unchanged,
            (InteractionAction::HideResults, _) if !i.results_shown => return unchanged,
            (InteractionAction::ShowResults | InteractionAction::HideResults, _) => {
                Kind::InteractionResults(InteractionResults {
                    interaction_id,
                    shown: action == InteractionAction::ShowResults,
                })
            }
            (InteractionAction::End, Status::Ended) => return unchanged,
            (InteractionAction::End, _) => {
                Kind::InteractionEnded(InteractionEnded { interaction_id })
            }
            (InteractionAction::Unpublish, _) => {
                Kind::InteractionUnpublished(InteractionUnpublished { interaction_id })
            }
            (InteractionAction::Delete, Status::Draft) => {
                Kind::InteractionDeleted(InteractionDeleted { interaction_id })
            }
            (InteractionAction::Delete, _) => {
                return Err(Rejection::InvalidState(
                    "published (unpublish it instead)".into(),
                ));
            }
        };
        Ok(Decision::Emit(kind))
    }

    /// A user votes. Drafts and unknown ids do not exist for attendees; an ended
    /// interaction takes no more votes; a user votes once.
    pub(super) fn decide_vote(
        &self,
        viewer: Viewer<'_>,
        id: u64,
        client_vote_id: &str,
        options: &[u32],
    ) -> Result<Decision, Rejection> {
        let Some(i) = self.interactions.get(&id).filter(|i| i.visible_to(viewer)) else {
            return Err(Rejection::NotFound("interaction".into()));
        };
        if client_vote_id.is_empty()
            || client_vote_id.len() > MAX_CLIENT_VOTE_ID
            || client_vote_id.chars().any(char::is_control)
        {
            return Err(Rejection::BadRequest(format!(
                "client_vote_id must be 1 to {MAX_CLIENT_VOTE_ID} bytes without control characters"
            )));
        }
        if let Some(vote) = i.votes.get(viewer.user_id) {
            if vote.client_vote_id == client_vote_id {
                return Ok(Decision::Already(CommandOutcome::Voted {
                    interaction_id: id,
                    seq: vote.seq,
                    duplicate: true,
                }));
            }
            return Err(Rejection::AlreadyVoted);
        }
        match i.status {
            Status::Draft => return Err(Rejection::InvalidState("a draft".into())),
            Status::Ended => return Err(Rejection::InvalidState("ended".into())),
            Status::Published => {}
        }
        let Spec::Poll(poll) = &i.spec;
        poll.check_vote(options)?;
        Ok(Decision::Emit(Kind::VoteCast(VoteCast {
            interaction_id: id,
            client_vote_id: client_vote_id.to_owned(),
            options: options.to_vec(),
            option_texts: poll.texts(options),
        })))
    }

    pub(super) fn apply(&mut self, event: &ContextEvent, voter: &str, kind: &Kind) {
        match kind {
            Kind::InteractionSaved(s) => {
                let Some(spec) = s.spec.as_ref().and_then(Spec::from_stored) else {
                    return;
                };
                match self.interactions.get_mut(&s.interaction_id) {
                    Some(i) => {
                        i.results = spec.empty_tally();
                        i.results_shown = spec.shares_results();
                        i.spec = spec;
                    }
                    None => {
                        self.interactions.insert(
                            s.interaction_id,
                            InteractionRecord {
                                id: s.interaction_id,
                                results: spec.empty_tally(),
                                results_shown: spec.shares_results(),
                                spec,
                                status: Status::Draft,
                                published_seq: 0,
                                published_at_ms: 0,
                                votes: BTreeMap::new(),
                            },
                        );
                    }
                }
            }
            Kind::InteractionDeleted(InteractionDeleted { interaction_id })
            | Kind::InteractionUnpublished(InteractionUnpublished { interaction_id }) => {
                self.interactions.remove(interaction_id);
            }
            Kind::InteractionPublished(p) => {
                if let Some(i) = self.interactions.get_mut(&p.interaction_id) {
                    i.status = Status::Published;
                    i.published_seq = event.seq;
                    i.published_at_ms = event.at_ms;
                }
            }
            Kind::InteractionResults(r) => {
                if let Some(i) = self.interactions.get_mut(&r.interaction_id) {
                    i.results_shown = r.shown;
                }
            }
            Kind::InteractionEnded(e) => {
                if let Some(i) = self.interactions.get_mut(&e.interaction_id) {
                    i.status = Status::Ended;
                }
            }
            Kind::VoteCast(v) => {
                if let Some(i) = self.interactions.get_mut(&v.interaction_id)
                    && !i.votes.contains_key(voter)
                {
                    let Results::Poll(tally) = &mut i.results;
                    tally.count(&v.options);
                    i.votes.insert(
                        voter.to_owned(),
                        VoteRecord {
                            client_vote_id: v.client_vote_id.clone(),
                            options: v.options.clone(),
                            seq: event.seq,
                        },
                    );
                }
            }
            _ => {}
        }
    }

    /// The interactions a joining user is shown, oldest first.
    pub fn view(&self, viewer: Viewer<'_>) -> Vec<v1::Interaction> {
        self.interactions
            .values()
            .filter_map(|i| i.view(viewer))
            .collect()
    }

    /// The tallies `viewer` may see, of interactions with votes.
    pub fn tallies(&self, viewer: Viewer<'_>) -> Vec<Tally> {
        self.interactions
            .values()
            .filter(|i| !i.votes.is_empty() && i.visible_to(viewer) && i.results_visible_to(viewer))
            .map(InteractionRecord::tally)
            .collect()
    }
}

/// The interaction an event is about, if it is one of this concept's.
pub fn interaction_of(kind: &Kind) -> Option<u64> {
    Some(match kind {
        Kind::InteractionSaved(e) => e.interaction_id,
        Kind::InteractionDeleted(e) => e.interaction_id,
        Kind::InteractionPublished(e) => e.interaction_id,
        Kind::InteractionResults(e) => e.interaction_id,
        Kind::InteractionEnded(e) => e.interaction_id,
        Kind::InteractionUnpublished(e) => e.interaction_id,
        Kind::VoteCast(e) => e.interaction_id,
        _ => return None,
    })
}

/// The push an interaction event becomes for `viewer` (state after the event); `None`
/// for other events and for what the viewer may not see.
pub(super) fn push_body(state: &ContextState, kind: &Kind, viewer: Viewer<'_>) -> Option<Body> {
    let id = interaction_of(kind)?;
    match kind {
        Kind::InteractionDeleted(_) | Kind::InteractionUnpublished(_) => {
            Some(Body::InteractionRemoved(InteractionRef {
                interaction_id: id,
            }))
        }
        _ => {
            let mut view = state.interactions.get(id)?.view(viewer)?;
            view.toast = matches!(kind, Kind::InteractionPublished(_));
            Some(Body::Interaction(view))
        }
    }
}

impl ContextState {
    /// Routes an interaction command (moderators' commands checked by the caller).
    pub(super) fn decide_save_interaction(
        &self,
        id: u64,
        spec: &Spec,
    ) -> Result<Decision, Rejection> {
        self.interactions.decide_save(self.seq + 1, id, spec)
    }
}

#[cfg(test)]
mod tests;
