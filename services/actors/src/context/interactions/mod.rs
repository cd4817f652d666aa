//! Interactions: what a moderator puts to the audience — polls, quiz questions, rating
//! scales, crowd votes and announcements (open-ended questions and surveys are to
//! come), each kind a [`Spec`] with its own module (limits, a vote's validity), all
//! sharing this life cycle, these votes and tallies.
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

pub mod announcement;
pub mod crowd;
pub mod open;
pub mod poll;
pub mod quiz;
pub mod rating;
pub mod survey;

use std::collections::BTreeMap;

use plenary_proto::{
    recode,
    v1::{
        self, InteractionRef, InteractionStatus, MyVote, Tally,
        events::{
            self, AnnouncementSpec, ContextEvent, CrowdVoteSpec, InteractionDeleted,
            InteractionEnded, InteractionPublished, InteractionResults, InteractionSaved,
            InteractionUnpublished, OpenQuestionSpec, PollSpec, QuizSpec, RatingSpec, SurveyAnswer,
            SurveySpec, VoteCast, context_event::Kind,
        },
        push::Body,
    },
};
use serde::{Deserialize, Serialize};

use super::{
    command::{CommandOutcome, InteractionAction, Rejection},
    state::{ChatLimits, ContextState, Decision},
    view::Viewer,
};
use crate::identity::Role;

/// Most interactions (drafts and published, not yet unpublished) a context holds.
pub const MAX_INTERACTIONS: usize = 100;
/// Longest client vote id, in bytes.
pub const MAX_CLIENT_VOTE_ID: usize = 64;

/// What an interaction asks, each kind held as the log stores it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Spec {
    Poll(PollSpec),
    Quiz(QuizSpec),
    Rating(RatingSpec),
    CrowdVote(CrowdVoteSpec),
    OpenQuestion(OpenQuestionSpec),
    Survey(SurveySpec),
    Announcement(AnnouncementSpec),
}

/// What a vote chose (a ballot).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ballot {
    /// Poll, quiz: the options' indexes.
    pub options: Vec<u32>,
    /// Rating scale: 1 to 5.
    pub rating: u32,
    /// Open-ended question: the answer.
    pub text: String,
    /// Survey: the answers.
    pub survey: Vec<SurveyAnswer>,
}

impl Spec {
    pub fn validate(&self, max_text_chars: usize) -> Result<(), Rejection> {
        match self {
            Spec::Poll(p) => poll::validate(p),
            Spec::Quiz(q) => quiz::validate(q),
            Spec::Rating(r) => rating::validate(r),
            Spec::CrowdVote(c) => crowd::validate(c),
            Spec::OpenQuestion(o) => open::validate(o),
            Spec::Survey(v) => survey::validate(v),
            Spec::Announcement(a) => announcement::validate(a, max_text_chars),
        }
    }

    /// Whether attendees see the results from publication on.
    fn shares_results(&self) -> bool {
        match self {
            Spec::Poll(p) => p.share_results,
            Spec::Quiz(q) => q.share_results,
            Spec::Rating(r) => r.share_results,
            Spec::CrowdVote(c) => c.share_results,
            Spec::OpenQuestion(o) => o.share_results,
            Spec::Survey(v) => v.share_results,
            Spec::Announcement(_) => false,
        }
    }

    fn empty_results(&self) -> Results {
        let counts = match self {
            Spec::Poll(p) => p.options.len(),
            Spec::Quiz(q) => q.options.len(),
            Spec::Rating(_) => rating::MAX_RATING as usize,
            Spec::CrowdVote(_) | Spec::OpenQuestion(_) | Spec::Announcement(_) => 0,
            Spec::Survey(_) => 0,
        };
        let questions = match self {
            Spec::Survey(v) => v
                .questions
                .iter()
                .map(|q| {
                    use events::SurveyQuestionKind as K;
                    let n = match K::try_from(q.kind) {
                        Ok(K::MultipleChoice | K::IconChoice) => q.options.len(),
                        Ok(K::Rating) => rating::MAX_RATING as usize,
                        _ => 0,
                    };
                    Results {
                        counts: vec![0; n],
                        ..Results::default()
                    }
                })
                .collect(),
            _ => Vec::new(),
        };
        Results {
            counts: vec![0; counts],
            questions,
            ..Results::default()
        }
    }

    /// Checks a vote; what the vote event records of it: the chosen options' texts
    /// and, for a quiz, the points.
    fn check_vote(&self, answer: &Ballot) -> Result<(Vec<String>, u32), Rejection> {
        let no_rating = || {
            if answer.rating != 0 {
                return Err(Rejection::BadRequest("this takes no rating".into()));
            }
            Ok(())
        };
        match self {
            Spec::Poll(p) => {
                no_rating()?;
                poll::check_vote(p, &answer.options)?;
                Ok((poll::texts(&p.options, &answer.options), 0))
            }
            Spec::Quiz(q) => {
                no_rating()?;
                quiz::check_vote(q, &answer.options)?;
                Ok((
                    poll::texts(&q.options, &answer.options),
                    quiz::points(q, &answer.options),
                ))
            }
            Spec::Rating(_) => {
                if !answer.options.is_empty() {
                    return Err(Rejection::BadRequest("a rating takes no options".into()));
                }
                rating::check_vote(answer.rating)?;
                Ok((vec![answer.rating.to_string()], 0))
            }
            Spec::CrowdVote(c) => {
                crowd::check_vote(&answer.options, answer.rating)?;
                Ok((vec![c.emoji.clone()], 0))
            }
            Spec::OpenQuestion(_) => {
                open::check_vote(&answer.options, answer.rating, &answer.text)?;
                Ok((Vec::new(), 0))
            }
            Spec::Survey(v) => {
                if !answer.options.is_empty() || answer.rating != 0 || !answer.text.is_empty() {
                    return Err(Rejection::BadRequest(
                        "a survey is answered in `survey`, question by question".into(),
                    ));
                }
                Ok((survey::check_vote(v, &answer.survey)?, 0))
            }
            Spec::Announcement(_) => Err(Rejection::BadRequest(
                "an announcement takes no votes".into(),
            )),
        }
    }

    /// The spec as the log stores it.
    pub fn stored(&self) -> events::InteractionSpec {
        use events::interaction_spec::Kind as K;
        events::InteractionSpec {
            kind: Some(match self {
                Spec::Poll(p) => K::Poll(p.clone()),
                Spec::Quiz(q) => K::Quiz(q.clone()),
                Spec::Rating(r) => K::Rating(r.clone()),
                Spec::CrowdVote(c) => K::CrowdVote(c.clone()),
                Spec::OpenQuestion(o) => K::OpenQuestion(o.clone()),
                Spec::Survey(v) => K::Survey(v.clone()),
                Spec::Announcement(a) => K::Announcement(a.clone()),
            }),
        }
    }

    /// The spec as `viewer` sees it: a quiz's correct answers only for moderators.
    pub fn wire(&self, moderator: bool) -> v1::InteractionSpec {
        use v1::interaction_spec::Kind as K;
        v1::InteractionSpec {
            kind: Some(match self {
                Spec::Poll(p) => K::Poll(recode(p)),
                Spec::Quiz(q) => {
                    let mut quiz: v1::QuizSpec = recode(q);
                    if !moderator {
                        quiz.correct.clear();
                    }
                    K::Quiz(quiz)
                }
                Spec::Rating(r) => K::Rating(recode(r)),
                Spec::CrowdVote(c) => K::CrowdVote(recode(c)),
                Spec::OpenQuestion(o) => K::OpenQuestion(recode(o)),
                Spec::Survey(v) => K::Survey(recode(v)),
                Spec::Announcement(a) => K::Announcement(recode(a)),
            }),
        }
    }

    /// The spec a client sent.
    pub fn from_wire(spec: &v1::InteractionSpec) -> Result<Spec, Rejection> {
        use v1::interaction_spec::Kind as K;
        match &spec.kind {
            Some(K::Poll(p)) => Ok(Spec::Poll(recode(p))),
            Some(K::Quiz(q)) => Ok(Spec::Quiz(recode(q))),
            Some(K::Rating(r)) => Ok(Spec::Rating(recode(r))),
            Some(K::CrowdVote(c)) => Ok(Spec::CrowdVote(recode(c))),
            Some(K::OpenQuestion(o)) => Ok(Spec::OpenQuestion(recode(o))),
            Some(K::Survey(v)) => Ok(Spec::Survey(recode(v))),
            Some(K::Announcement(a)) => Ok(Spec::Announcement(recode(a))),
            None => Err(Rejection::BadRequest(
                "an interaction needs a spec (`poll`, `quiz`, `rating`, `crowd_vote` or `announcement`)"
                    .into(),
            )),
        }
    }

    /// The spec as the log stored it (`None`: a kind this release does not know).
    pub fn from_stored(spec: &events::InteractionSpec) -> Option<Spec> {
        use events::interaction_spec::Kind as K;
        Some(match spec.kind.as_ref()? {
            K::Poll(p) => Spec::Poll(p.clone()),
            K::Quiz(q) => Spec::Quiz(q.clone()),
            K::Rating(r) => Spec::Rating(r.clone()),
            K::CrowdVote(c) => Spec::CrowdVote(c.clone()),
            K::OpenQuestion(o) => Spec::OpenQuestion(o.clone()),
            K::Survey(v) => Spec::Survey(v.clone()),
            K::Announcement(a) => Spec::Announcement(a.clone()),
        })
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
    #[serde(default)]
    pub rating: u32,
    #[serde(default)]
    pub points: u32,
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub survey: Vec<SurveyAnswer>,
    pub seq: u64,
}

/// Counts of an interaction: per option (poll, quiz) or per rating (1 to 5), and the
/// sum of ratings (for the mean).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Results {
    pub counts: Vec<u32>,
    pub sum: u64,
    /// Open-ended question: word counts, and the latest answers (seq, text).
    #[serde(default)]
    pub words: BTreeMap<String, u32>,
    #[serde(default)]
    pub recent: std::collections::VecDeque<(u64, String)>,
    /// Answers counted, and ratings among them (for the mean).
    #[serde(default)]
    pub answered: u32,
    #[serde(default)]
    pub ratings: u32,
    /// Survey: each question's results.
    #[serde(default)]
    pub questions: Vec<Results>,
}

impl Results {
    /// Counts one answer: chosen options, a rating, a text.
    fn count(&mut self, seq: u64, options: &[u32], rating: u32, text: &str) {
        self.answered += 1;
        for &o in options {
            if let Some(count) = self.counts.get_mut(o as usize) {
                *count += 1;
            }
        }
        if rating > 0
            && let Some(count) = self.counts.get_mut(rating as usize - 1)
        {
            *count += 1;
            self.ratings += 1;
            self.sum += u64::from(rating);
        }
        if !text.is_empty() {
            open::count(&mut self.words, text);
            self.recent.push_back((seq, text.to_owned()));
            if self.recent.len() > open::RECENT_ANSWERS {
                self.recent.pop_front();
            }
        }
    }

    /// These results as clients see them, for `id` (an interaction, or a survey's
    /// question index) with `voters` voters.
    fn tally(&self, id: u64, voters: u32) -> Tally {
        Tally {
            interaction_id: id,
            voters,
            counts: self.counts.clone(),
            average: if self.ratings > 0 {
                self.sum as f64 / f64::from(self.ratings)
            } else {
                0.0
            },
            correct: Vec::new(),
            words: open::top(&self.words),
            answers: self
                .recent
                .iter()
                .map(|(seq, text)| v1::OpenAnswer {
                    seq: *seq,
                    text: text.clone(),
                })
                .collect(),
            questions: self
                .questions
                .iter()
                .enumerate()
                .map(|(i, q)| q.tally(i as u64, q.answered))
                .collect(),
            present: 0,
            share: 0.0,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InteractionRecord {
    pub id: u64,
    pub spec: Spec,
    pub status: Status,
    pub results_shown: bool,
    /// Seq and time of its publication (0 for a draft).
    pub published_seq: u64,
    pub published_at_ms: u64,
    /// Who created it and with which client save id (empty: none), for retries.
    #[serde(default)]
    pub created_by: (String, String),
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

    /// The results, with `present` attendees in the context. A quiz's correct answers
    /// are in it only once it ended with `show_correct` set (the moderators have them
    /// in the spec); a crowd vote's share is of the attendees present.
    pub fn tally(&self, present: u32) -> Tally {
        let mut tally = self.results.tally(self.id, self.votes.len() as u32);
        match &self.spec {
            Spec::Quiz(q) if q.show_correct && self.status == Status::Ended => {
                tally.correct = q.correct.clone();
            }
            Spec::CrowdVote(_) => {
                tally.present = present;
                tally.share = crowd::share(tally.voters, present);
            }
            _ => {}
        }
        tally
    }

    /// The interaction as `viewer` sees it (with `present` attendees in the context);
    /// `None` when they may not.
    pub fn view(&self, viewer: Viewer<'_>, present: u32) -> Option<v1::Interaction> {
        if !self.visible_to(viewer) {
            return None;
        }
        Some(v1::Interaction {
            id: self.id,
            spec: Some(self.spec.wire(viewer.role == Role::Moderator)),
            status: match self.status {
                Status::Draft => InteractionStatus::Draft,
                Status::Published => InteractionStatus::Published,
                Status::Ended => InteractionStatus::Ended,
            } as i32,
            results_shown: self.results_shown,
            published_seq: self.published_seq,
            published_at_ms: self.published_at_ms,
            toast: false,
            tally: self.results_visible_to(viewer).then(|| self.tally(present)),
            mine: self.votes.get(viewer.user_id).map(|v| MyVote {
                options: v.options.clone(),
                rating: v.rating,
                text: v.text.clone(),
                survey: v.survey.iter().map(recode).collect(),
                // A quiz's score is told once it ended (it gives the answer away).
                points: if self.status == Status::Ended {
                    v.points
                } else {
                    0
                },
            }),
            leaderboard: None,
        })
    }
}

/// A context's interactions (a part of its snapshot).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Interactions {
    #[serde(default, with = "super::id_keys")]
    pub interactions: BTreeMap<u64, InteractionRecord>,
    /// Quiz points per user over every ended quiz question (they stay when a quiz is
    /// unpublished: it was played).
    #[serde(default, rename = "quiz_scores")]
    pub scores: BTreeMap<String, Score>,
    /// Bytes of answer text held (open questions, surveys), against [`MAX_ANSWER_BYTES`].
    #[serde(default, rename = "interaction_answer_bytes")]
    pub answer_bytes: u64,
    /// Attendees present in the context (all nodes, as the gateways last reported):
    /// what a crowd vote's share is of. Not stored: a fresh actor learns it within
    /// seconds.
    #[serde(skip)]
    pub present: u32,
}

/// Most answer text a context holds (open questions and surveys together): it bounds
/// a context's memory however many attendees answer. Past it, text answers are refused
/// `LIMIT_REACHED` (choices and ratings still count).
pub const MAX_ANSWER_BYTES: u64 = 32 * 1024 * 1024;

/// The answer text a ballot carries, in bytes.
fn text_bytes(text: &str, survey: &[SurveyAnswer]) -> u64 {
    (text.len() + survey.iter().map(|a| a.text.len()).sum::<usize>()) as u64
}

/// A user's quiz score, with the name they answered under.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Score {
    pub given_name: String,
    pub family_name: String,
    pub points: u64,
}

/// Entries in a pushed leaderboard.
pub const LEADERBOARD_TOP: usize = 10;

impl Interactions {
    pub fn get(&self, id: u64) -> Option<&InteractionRecord> {
        self.interactions.get(&id)
    }

    /// A moderator saves a draft: a new one (`id` 0) or a change to one.
    pub(super) fn decide_save(
        &self,
        max_text_chars: usize,
        next_seq: u64,
        (creator, client_save_id): (&str, &str),
        id: u64,
        spec: &Spec,
    ) -> Result<Decision, Rejection> {
        if client_save_id.len() > MAX_CLIENT_VOTE_ID {
            return Err(Rejection::BadRequest(format!(
                "client_save_id is longer than {MAX_CLIENT_VOTE_ID} bytes"
            )));
        }
        let created = id == 0;
        if created
            && !client_save_id.is_empty()
            && let Some(earlier) = self
                .interactions
                .values()
                .find(|i| i.created_by.0 == creator && i.created_by.1 == client_save_id)
        {
            return Ok(Decision::Already(CommandOutcome::Interaction {
                interaction_id: earlier.id,
                seq: earlier.id,
            }));
        }
        spec.validate(max_text_chars)?;
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
            client_save_id: if created {
                client_save_id.to_owned()
            } else {
                String::new()
            },
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
        answer: &Ballot,
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
        let (option_texts, points) = i.spec.check_vote(answer)?;
        if self.answer_bytes + text_bytes(&answer.text, &answer.survey) > MAX_ANSWER_BYTES {
            return Err(Rejection::LimitReached(
                "answer text in this context (32 MiB)".into(),
            ));
        }
        Ok(Decision::Emit(Kind::VoteCast(VoteCast {
            interaction_id: id,
            client_vote_id: client_vote_id.to_owned(),
            options: answer.options.clone(),
            option_texts,
            rating: answer.rating,
            points,
            text: answer.text.clone(),
            survey: answer.survey.clone(),
        })))
    }

    pub(super) fn apply(&mut self, event: &ContextEvent, actor: &events::Actor, kind: &Kind) {
        let voter = actor.user_id.as_str();
        match kind {
            Kind::InteractionSaved(s) => {
                let Some(spec) = s.spec.as_ref().and_then(Spec::from_stored) else {
                    return;
                };
                match self.interactions.get_mut(&s.interaction_id) {
                    Some(i) => {
                        i.results = spec.empty_results();
                        i.results_shown = spec.shares_results();
                        i.spec = spec;
                    }
                    None => {
                        self.interactions.insert(
                            s.interaction_id,
                            InteractionRecord {
                                id: s.interaction_id,
                                results: spec.empty_results(),
                                results_shown: spec.shares_results(),
                                spec,
                                status: Status::Draft,
                                published_seq: 0,
                                published_at_ms: 0,
                                created_by: (voter.to_owned(), s.client_save_id.clone()),
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
                    if matches!(i.spec, Spec::Quiz(_)) {
                        for (user, vote) in &i.votes {
                            if let Some(score) = self.scores.get_mut(user) {
                                score.points += u64::from(vote.points);
                            }
                        }
                    }
                }
            }
            Kind::VoteCast(v) => {
                if let Some(i) = self.interactions.get_mut(&v.interaction_id)
                    && !i.votes.contains_key(voter)
                {
                    i.results.count(event.seq, &v.options, v.rating, &v.text);
                    self.answer_bytes += text_bytes(&v.text, &v.survey);
                    for a in &v.survey {
                        if let Some(q) = i.results.questions.get_mut(a.question as usize) {
                            q.count(event.seq, &a.options, a.rating, &a.text);
                        }
                    }
                    if matches!(i.spec, Spec::Quiz(_)) {
                        let score = self.scores.entry(voter.to_owned()).or_default();
                        score.given_name.clone_from(&actor.given_name);
                        score.family_name.clone_from(&actor.family_name);
                    }
                    i.votes.insert(
                        voter.to_owned(),
                        VoteRecord {
                            client_vote_id: v.client_vote_id.clone(),
                            options: v.options.clone(),
                            rating: v.rating,
                            points: v.points,
                            text: v.text.clone(),
                            survey: v.survey.clone(),
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
            .filter_map(|i| i.view(viewer, self.present))
            .collect()
    }

    /// The quiz leaderboard: the top entries and, when `me` took part, theirs. `None`
    /// before any quiz question ended.
    pub fn leaderboard(&self, me: Option<&str>) -> Option<v1::Leaderboard> {
        let ranked = self.ranked()?;
        let top = ranked.iter().take(LEADERBOARD_TOP).map(entry).collect();
        let mine = me.and_then(|me| ranked.iter().find(|(_, user, _)| *user == me).map(entry));
        Some(v1::Leaderboard {
            top,
            participants: self.scores.len() as u32,
            mine,
        })
    }

    /// Each participant's own place (`mine` and `participants` only), best first:
    /// what each is told when a quiz question ends. Empty before any ended.
    pub fn ranks(&self) -> Vec<(&str, v1::Leaderboard)> {
        let participants = self.scores.len() as u32;
        self.ranked()
            .unwrap_or_default()
            .iter()
            .map(|ranked| {
                (
                    ranked.1,
                    v1::Leaderboard {
                        top: Vec::new(),
                        participants,
                        mine: Some(entry(ranked)),
                    },
                )
            })
            .collect()
    }

    /// Every participant with their rank, best first (ties share a rank: 1, 2, 2, 4;
    /// equal points in user id order). `None` before any quiz question ended.
    fn ranked(&self) -> Option<Vec<(u32, &str, &Score)>> {
        let ended_quiz = self
            .interactions
            .values()
            .any(|i| matches!(i.spec, Spec::Quiz(_)) && i.status == Status::Ended);
        if !ended_quiz && self.scores.values().all(|s| s.points == 0) {
            return None;
        }
        let mut ranked: Vec<(u32, &str, &Score)> = self
            .scores
            .iter()
            .map(|(user, score)| (0, user.as_str(), score))
            .collect();
        ranked.sort_by(|a, b| b.2.points.cmp(&a.2.points).then(a.1.cmp(b.1)));
        let mut rank = 0;
        let mut previous = None;
        for (place, entry) in ranked.iter_mut().enumerate() {
            if previous != Some(entry.2.points) {
                rank = place as u32 + 1;
                previous = Some(entry.2.points);
            }
            entry.0 = rank;
        }
        Some(ranked)
    }

    /// The tallies `viewer` may see, of interactions with votes.
    pub fn tallies(&self, viewer: Viewer<'_>) -> Vec<Tally> {
        self.interactions
            .values()
            .filter(|i| !i.votes.is_empty() && i.visible_to(viewer) && i.results_visible_to(viewer))
            .map(|i| i.tally(self.present))
            .collect()
    }
}

/// A ranked participant as a leaderboard entry.
fn entry(&(rank, user, score): &(u32, &str, &Score)) -> v1::LeaderboardEntry {
    v1::LeaderboardEntry {
        rank,
        user_id: user.to_owned(),
        given_name: score.given_name.clone(),
        family_name: score.family_name.clone(),
        points: score.points.min(u64::from(u32::MAX)) as u32,
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
            let record = state.interactions.get(id)?;
            let mut view = record.view(viewer, state.interactions.present)?;
            view.toast = matches!(kind, Kind::InteractionPublished(_));
            if matches!(kind, Kind::InteractionEnded(_)) && matches!(record.spec, Spec::Quiz(_)) {
                view.leaderboard = state.interactions.leaderboard(None);
            }
            Some(Body::Interaction(view))
        }
    }
}

impl ContextState {
    /// Routes an interaction command (moderators' commands checked by the caller).
    pub(super) fn decide_save_interaction(
        &self,
        limits: &ChatLimits,
        actor: &events::Actor,
        id: u64,
        spec: &Spec,
        client_save_id: &str,
    ) -> Result<Decision, Rejection> {
        let with_defaults;
        let spec = match spec {
            Spec::Survey(v) => {
                let name = self.settings.as_ref().map_or(self.id.as_str(), |s| &s.name);
                with_defaults = Spec::Survey(survey::with_defaults(v.clone(), name));
                &with_defaults
            }
            other => other,
        };
        self.interactions.decide_save(
            limits.max_text_chars,
            self.seq + 1,
            (&actor.user_id, client_save_id),
            id,
            spec,
        )
    }
}

#[cfg(test)]
mod tests;
