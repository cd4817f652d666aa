//! The interaction life cycle and votes, run as the actor runs them (decide, then apply
//! each event), and a property test that tallies equal a recount of the votes.

use plenary_proto::v1::{
    events::{Actor, ContextEvent},
    push::Body,
};
use proptest::prelude::*;

use super::*;
use crate::context::{
    command::ChatCommand,
    testing::{actor, created, run_stamped},
    view::{self, Audience},
};
use plenary_proto::v1::events::{AnnouncementSpec, CrowdVoteSpec, QuizSpec, RatingSpec};

fn event(s: &ContextState, who: Option<&Actor>, kind: Kind) -> ContextEvent {
    ContextEvent {
        context_id: "w1".into(),
        epoch: 1,
        seq: s.seq + 1,
        at_ms: 1_000 + s.seq,
        actor: who.cloned(),
        kind: Some(kind),
    }
}

/// Runs a command as the actor does; returns its outcome and the events it appended.
fn run(
    s: &mut ContextState,
    who: &Actor,
    command: ChatCommand,
) -> Result<(CommandOutcome, Vec<ContextEvent>), Rejection> {
    run_stamped(s, who, command, event)
}

fn poll(options: usize, share: bool, multiple: bool) -> Spec {
    Spec::Poll(plenary_proto::v1::events::PollSpec {
        question: "Which one?".into(),
        options: (0..options).map(|i| format!("option {i}")).collect(),
        share_results: share,
        multiple_answers: multiple,
    })
}

fn save(id: u64, spec: Spec) -> ChatCommand {
    ChatCommand::SaveInteraction {
        interaction_id: id,
        spec,
        client_save_id: String::new(),
    }
}

#[test]
fn a_retried_creation_with_its_client_save_id_makes_one_draft() {
    let mut s = created();
    let m = actor("m", true);
    let with_id = |client: &str| ChatCommand::SaveInteraction {
        interaction_id: 0,
        spec: poll(2, false, false),
        client_save_id: client.into(),
    };
    let (first, _) = run(&mut s, &m, with_id("s-1")).unwrap();
    let (again, events) = run(&mut s, &m, with_id("s-1")).unwrap();
    assert!(events.is_empty());
    assert_eq!(first, again);
    run(&mut s, &m, with_id("s-2")).unwrap();
    run(&mut s, &actor("m2", true), with_id("s-1")).unwrap();
    assert_eq!(s.interactions.interactions.len(), 3);
}

fn act(id: u64, action: InteractionAction) -> ChatCommand {
    ChatCommand::Interaction {
        interaction_id: id,
        action,
    }
}

fn vote(id: u64, client: &str, options: &[u32]) -> ChatCommand {
    ChatCommand::Vote {
        interaction_id: id,
        client_vote_id: client.into(),
        answer: Ballot {
            options: options.to_vec(),
            rating: 0,
            text: String::new(),
            survey: Vec::new(),
        },
    }
}

const ATTENDEE: Viewer<'static> = Viewer {
    user_id: "a",
    role: Role::Attendee,
};
const MODERATOR: Viewer<'static> = Viewer {
    user_id: "m",
    role: Role::Moderator,
};

/// A published poll (id returned) in a fresh context.
fn published(share: bool, multiple: bool) -> (ContextState, u64) {
    let mut s = created();
    let m = actor("m", true);
    let (outcome, _) = run(&mut s, &m, save(0, poll(3, share, multiple))).unwrap();
    let CommandOutcome::Interaction { interaction_id, .. } = outcome else {
        panic!("{outcome:?}");
    };
    run(&mut s, &m, act(interaction_id, InteractionAction::Publish)).unwrap();
    (s, interaction_id)
}

#[test]
fn only_moderators_save_and_move_interactions() {
    let mut s = created();
    let a = actor("a", false);
    assert_eq!(
        run(&mut s, &a, save(0, poll(2, false, false))).unwrap_err(),
        Rejection::Forbidden
    );
    let (mut s, id) = published(false, false);
    assert_eq!(
        run(&mut s, &a, act(id, InteractionAction::End)).unwrap_err(),
        Rejection::Forbidden
    );
}

#[test]
fn a_draft_is_the_moderators_alone_until_published() {
    let mut s = created();
    let m = actor("m", true);
    let (_, events) = run(&mut s, &m, save(0, poll(2, true, false))).unwrap();
    let saved = &events[0];
    let id = saved.seq;
    assert_eq!(view::audience_of(&s, saved), Audience::Moderators);
    assert!(view::push_body(&s, saved, ATTENDEE).is_none());
    assert!(matches!(
        view::push_body(&s, saved, MODERATOR),
        Some(Body::Interaction(i)) if i.status == InteractionStatus::Draft as i32
    ));
    assert!(view::snapshot(&s, ATTENDEE, 50).interactions.is_empty());
    assert_eq!(view::snapshot(&s, MODERATOR, 50).interactions.len(), 1);
    // Attendees cannot vote on it, nor learn that it exists.
    assert_eq!(
        run(&mut s, &actor("a", false), vote(id, "v", &[0])).unwrap_err(),
        Rejection::NotFound("interaction".into())
    );
    // A draft may change; then it goes out, with a toast, to everyone.
    run(&mut s, &m, save(id, poll(4, true, false))).unwrap();
    let (_, events) = run(&mut s, &m, act(id, InteractionAction::Publish)).unwrap();
    assert_eq!(view::audience_of(&s, &events[0]), Audience::Everyone);
    let Some(Body::Interaction(shown)) = view::push_body(&s, &events[0], ATTENDEE) else {
        panic!("published: nothing for attendees");
    };
    assert!(shown.toast);
    assert_eq!(shown.published_seq, events[0].seq);
    let Some(v1::interaction_spec::Kind::Poll(p)) = shown.spec.and_then(|s| s.kind) else {
        panic!("no poll");
    };
    assert_eq!(p.options.len(), 4);
    // Published: the spec is fixed.
    assert!(matches!(
        run(&mut s, &m, save(id, poll(2, true, false))).unwrap_err(),
        Rejection::InvalidState(_)
    ));
}

#[test]
fn the_life_cycle_refuses_what_its_state_does_not_allow() {
    let m = actor("m", true);
    let mut s = created();
    let (_, e) = run(&mut s, &m, save(0, poll(2, false, false))).unwrap();
    let draft = e[0].seq;
    for action in [
        InteractionAction::ShowResults,
        InteractionAction::End,
        InteractionAction::Unpublish,
    ] {
        assert!(matches!(
            run(&mut s, &m, act(draft, action)).unwrap_err(),
            Rejection::InvalidState(_)
        ));
    }
    run(&mut s, &m, act(draft, InteractionAction::Delete)).unwrap();
    assert!(s.interactions.get(draft).is_none());

    let (mut s, id) = published(false, false);
    assert!(matches!(
        run(&mut s, &m, act(id, InteractionAction::Delete)).unwrap_err(),
        Rejection::InvalidState(_)
    ));
    // Asking for the state it is in changes nothing.
    let (again, events) = run(&mut s, &m, act(id, InteractionAction::Publish)).unwrap();
    assert!(events.is_empty());
    assert_eq!(
        again,
        CommandOutcome::Interaction {
            interaction_id: id,
            seq: 0
        }
    );
    run(&mut s, &m, act(id, InteractionAction::End)).unwrap();
    assert!(matches!(
        run(&mut s, &m, act(id, InteractionAction::Publish)).unwrap_err(),
        Rejection::InvalidState(_)
    ));
    let (_, events) = run(&mut s, &m, act(id, InteractionAction::Unpublish)).unwrap();
    assert!(matches!(
        view::push_body(&s, &events[0], ATTENDEE),
        Some(Body::InteractionRemoved(r)) if r.interaction_id == id
    ));
    assert!(s.interactions.get(id).is_none());
    assert_eq!(
        run(&mut s, &m, act(id, InteractionAction::End)).unwrap_err(),
        Rejection::NotFound("interaction".into())
    );
}

#[test]
fn a_context_holds_at_most_so_many_interactions() {
    let mut s = created();
    let m = actor("m", true);
    for _ in 0..MAX_INTERACTIONS {
        run(&mut s, &m, save(0, poll(2, false, false))).unwrap();
    }
    assert!(matches!(
        run(&mut s, &m, save(0, poll(2, false, false))).unwrap_err(),
        Rejection::LimitReached(_)
    ));
}

#[test]
fn one_final_vote_per_user_idempotent_by_client_id() {
    let (mut s, id) = published(false, false);
    let a = actor("a", false);
    let (first, events) = run(&mut s, &a, vote(id, "v-1", &[1])).unwrap();
    let seq = events[0].seq;
    assert_eq!(
        first,
        CommandOutcome::Voted {
            interaction_id: id,
            seq,
            duplicate: false
        }
    );
    let (retry, events) = run(&mut s, &a, vote(id, "v-1", &[2])).unwrap();
    assert!(events.is_empty());
    assert_eq!(
        retry,
        CommandOutcome::Voted {
            interaction_id: id,
            seq,
            duplicate: true
        }
    );
    assert_eq!(
        run(&mut s, &a, vote(id, "v-2", &[2])).unwrap_err(),
        Rejection::AlreadyVoted
    );
    let tally = s.interactions.get(id).unwrap().tally(0);
    assert_eq!((tally.voters, tally.counts), (1, vec![0, 1, 0]));
    // The vote is an event with what the poll-votes report needs.
    let Some(Kind::VoteCast(v)) = &events_of(&mut s, &actor("b", false), vote(id, "x", &[0])).kind
    else {
        panic!("no vote");
    };
    assert_eq!(v.option_texts, ["option 0"]);
}

fn events_of(s: &mut ContextState, who: &Actor, command: ChatCommand) -> ContextEvent {
    run(s, who, command).unwrap().1.remove(0)
}

#[test]
fn votes_are_refused_after_the_end_and_when_malformed() {
    let (mut s, id) = published(false, false);
    let a = actor("a", false);
    for bad in [vec![], vec![0, 1], vec![3]] {
        assert!(matches!(
            run(&mut s, &a, vote(id, "v", &bad)).unwrap_err(),
            Rejection::BadRequest(_)
        ));
    }
    assert!(matches!(
        run(&mut s, &a, vote(id, "", &[0])).unwrap_err(),
        Rejection::BadRequest(_)
    ));
    assert_eq!(
        run(&mut s, &a, vote(id + 100, "v", &[0])).unwrap_err(),
        Rejection::NotFound("interaction".into())
    );
    run(&mut s, &actor("m", true), act(id, InteractionAction::End)).unwrap();
    assert_eq!(
        run(&mut s, &a, vote(id, "v", &[0])).unwrap_err(),
        Rejection::InvalidState("ended".into())
    );
}

#[test]
fn hidden_results_reach_moderators_only_and_a_vote_its_voter_only() {
    let (mut s, id) = published(false, true);
    let a = actor("a", false);
    let cast = events_of(&mut s, &a, vote(id, "v", &[0, 2]));
    assert_eq!(
        view::audience_of(&s, &cast),
        Audience::User {
            user_id: "a".into()
        }
    );
    let Some(Body::Interaction(mine)) = view::push_body(&s, &cast, ATTENDEE) else {
        panic!("no echo");
    };
    assert_eq!(mine.mine.unwrap().options, [0, 2]);
    assert!(mine.tally.is_none(), "results hidden from attendees");
    let other = Viewer {
        user_id: "b",
        role: Role::Attendee,
    };
    let snapshot = view::snapshot(&s, other, 50);
    assert!(snapshot.interactions[0].tally.is_none());
    assert!(snapshot.interactions[0].mine.is_none());
    assert!(s.interactions.tallies(other).is_empty());
    assert_eq!(s.interactions.tallies(MODERATOR)[0].counts, [1, 0, 1]);
    // Shown: everyone's snapshot and the push of the change carry the tally.
    let (_, e) = run(
        &mut s,
        &actor("m", true),
        act(id, InteractionAction::ShowResults),
    )
    .unwrap();
    let Some(Body::Interaction(shown)) = view::push_body(&s, &e[0], other) else {
        panic!("no push");
    };
    assert_eq!(shown.tally.unwrap().counts, [1, 0, 1]);
    assert_eq!(
        view::snapshot(&s, ATTENDEE, 50).interactions[0]
            .mine
            .as_ref()
            .unwrap()
            .options,
        [0, 2]
    );
}

fn publish(s: &mut ContextState, spec: Spec) -> u64 {
    let m = actor("m", true);
    let (outcome, _) = run(s, &m, save(0, spec)).unwrap();
    let CommandOutcome::Interaction { interaction_id, .. } = outcome else {
        panic!("{outcome:?}");
    };
    run(s, &m, act(interaction_id, InteractionAction::Publish)).unwrap();
    interaction_id
}

fn rate(id: u64, client: &str, rating: u32) -> ChatCommand {
    ChatCommand::Vote {
        interaction_id: id,
        client_vote_id: client.into(),
        answer: Ballot {
            options: Vec::new(),
            rating,
            text: String::new(),
            survey: Vec::new(),
        },
    }
}

#[test]
fn a_rating_scale_tallies_the_distribution_and_the_mean() {
    let mut s = created();
    let id = publish(
        &mut s,
        Spec::Rating(RatingSpec {
            statement: "How was it?".into(),
            emoji: "⭐".into(),
            share_results: true,
        }),
    );
    for (user, rating) in [("a", 5), ("b", 4), ("c", 4)] {
        run(&mut s, &actor(user, false), rate(id, "r", rating)).unwrap();
    }
    assert!(matches!(
        run(&mut s, &actor("d", false), rate(id, "r", 6)).unwrap_err(),
        Rejection::BadRequest(_)
    ));
    assert!(matches!(
        run(&mut s, &actor("d", false), vote(id, "r", &[1])).unwrap_err(),
        Rejection::BadRequest(_)
    ));
    let tally = s.interactions.get(id).unwrap().tally(0);
    assert_eq!(tally.counts, [0, 0, 0, 2, 1]);
    assert!((tally.average - 13.0 / 3.0).abs() < 1e-9);
    let mine = s
        .interactions
        .get(id)
        .unwrap()
        .view(ATTENDEE, 0)
        .unwrap()
        .mine;
    assert_eq!(mine.unwrap().rating, 5);
}

#[test]
fn a_crowd_vote_is_a_tap_counted_once_per_user() {
    let mut s = created();
    let id = publish(
        &mut s,
        Spec::CrowdVote(CrowdVoteSpec {
            statement: "Louder!".into(),
            emoji: "👍".into(),
            share_results: true,
        }),
    );
    run(&mut s, &actor("a", false), vote(id, "t", &[])).unwrap();
    run(&mut s, &actor("b", false), vote(id, "t", &[])).unwrap();
    assert!(matches!(
        run(&mut s, &actor("c", false), vote(id, "t", &[0])).unwrap_err(),
        Rejection::BadRequest(_)
    ));
    let tally = s.interactions.get(id).unwrap().tally(0);
    assert_eq!((tally.voters, tally.counts.len()), (2, 0));
}

#[test]
fn a_quiz_keeps_its_answer_from_attendees_until_it_ends_and_scores_each_vote() {
    let mut s = created();
    let id = publish(
        &mut s,
        Spec::Quiz(QuizSpec {
            question: "Primes?".into(),
            options: vec!["2".into(), "4".into(), "5".into()],
            correct: vec![0, 2],
            show_correct: true,
            share_results: false,
        }),
    );
    let quiz_of = |i: v1::Interaction| match i.spec.and_then(|s| s.kind) {
        Some(v1::interaction_spec::Kind::Quiz(q)) => q,
        other => panic!("{other:?}"),
    };
    let record = |s: &ContextState| s.interactions.get(id).unwrap().clone();
    assert!(
        quiz_of(record(&s).view(ATTENDEE, 0).unwrap())
            .correct
            .is_empty()
    );
    assert_eq!(
        quiz_of(record(&s).view(MODERATOR, 0).unwrap()).correct,
        [0, 2]
    );
    run(&mut s, &actor("a", false), vote(id, "q", &[0, 2])).unwrap();
    let (_, events) = run(&mut s, &actor("b", false), vote(id, "q", &[0])).unwrap();
    let Some(Kind::VoteCast(cast)) = &events[0].kind else {
        panic!("no vote");
    };
    assert_eq!(cast.points, 500, "one of two correct answers");
    // Before the end, neither the score nor the answer is told.
    let mine = record(&s).view(ATTENDEE, 0).unwrap().mine.unwrap();
    assert_eq!((mine.options, mine.points), (vec![0, 2], 0));
    run(&mut s, &actor("m", true), act(id, InteractionAction::End)).unwrap();
    let ended = record(&s);
    assert_eq!(ended.view(ATTENDEE, 0).unwrap().mine.unwrap().points, 1_000);
    assert_eq!(ended.tally(0).correct, [0, 2]);
    assert!(
        ended.view(ATTENDEE, 0).unwrap().tally.is_none(),
        "results not shared"
    );
}

#[test]
fn a_leaderboard_ranks_quiz_points_over_every_ended_question_ties_sharing_a_rank() {
    let mut s = created();
    let m = actor("m", true);
    let quiz = |s: &mut ContextState| {
        publish(
            s,
            Spec::Quiz(QuizSpec {
                question: "Q?".into(),
                options: vec!["right".into(), "wrong".into()],
                correct: vec![0],
                show_correct: false,
                share_results: false,
            }),
        )
    };
    let first = quiz(&mut s);
    assert!(
        s.interactions.leaderboard(None).is_none(),
        "no quiz ended yet"
    );
    for (user, option) in [("a", 0), ("b", 0), ("c", 1)] {
        run(&mut s, &actor(user, false), vote(first, "v", &[option])).unwrap();
    }
    let (_, ended) = run(&mut s, &m, act(first, InteractionAction::End)).unwrap();
    let Some(Body::Interaction(pushed)) = view::push_body(&s, &ended[0], ATTENDEE) else {
        panic!("no push");
    };
    let board = pushed.leaderboard.expect("the leaderboard with the end");
    let ranks: Vec<(u32, &str, u32)> = board
        .top
        .iter()
        .map(|e| (e.rank, e.user_id.as_str(), e.points))
        .collect();
    assert_eq!(ranks, [(1, "a", 1000), (1, "b", 1000), (3, "c", 0)]);
    assert_eq!(board.participants, 3);
    assert!(
        board.mine.is_none(),
        "pushed to everyone: nobody's own entry"
    );
    // A second question: points add up; the snapshot has the viewer's own entry.
    let second = quiz(&mut s);
    run(&mut s, &actor("c", false), vote(second, "v", &[0])).unwrap();
    run(&mut s, &actor("b", false), vote(second, "v", &[1])).unwrap();
    run(&mut s, &m, act(second, InteractionAction::End)).unwrap();
    let c = Viewer {
        user_id: "c",
        role: Role::Attendee,
    };
    let board = view::snapshot(&s, c, 50).leaderboard.unwrap();
    assert_eq!(board.top[0].points, 1000);
    assert_eq!(board.top.len(), 3);
    let mine = board.mine.unwrap();
    assert_eq!(
        (mine.rank, mine.points),
        (1, 1000),
        "a, b and c all have 1000"
    );
    assert_eq!(mine.given_name, "c");
}

#[test]
fn an_announcement_takes_no_votes_and_refuses_script_urls() {
    let mut s = created();
    let m = actor("m", true);
    let announcement = |url: &str| {
        Spec::Announcement(AnnouncementSpec {
            title: String::new(),
            text: "Get your questions ready".into(),
            cta_label: "Go".into(),
            cta_url: url.into(),
        })
    };
    assert!(matches!(
        run(&mut s, &m, save(0, announcement("javascript:alert(1)"))).unwrap_err(),
        Rejection::BadRequest(_)
    ));
    let id = publish(&mut s, announcement("https://example.com/register"));
    assert!(matches!(
        run(&mut s, &actor("a", false), vote(id, "v", &[])).unwrap_err(),
        Rejection::BadRequest(_)
    ));
}

#[test]
fn every_kind_with_its_votes_survives_a_snapshot() {
    use crate::Snapshots;
    let mut s = created();
    let poll_id = publish(&mut s, poll(3, true, true));
    let quiz_id = publish(
        &mut s,
        Spec::Quiz(QuizSpec {
            question: "Q?".into(),
            options: vec!["a".into(), "b".into()],
            correct: vec![1],
            show_correct: true,
            share_results: true,
        }),
    );
    let rating_id = publish(
        &mut s,
        Spec::Rating(RatingSpec {
            statement: "S".into(),
            emoji: "⭐".into(),
            share_results: false,
        }),
    );
    let m = actor("m", true);
    run(
        &mut s,
        &m,
        save(
            0,
            Spec::CrowdVote(CrowdVoteSpec {
                statement: "C".into(),
                emoji: "👍".into(),
                share_results: false,
            }),
        ),
    )
    .unwrap();
    let a = actor("a", false);
    run(&mut s, &a, vote(poll_id, "p", &[0, 2])).unwrap();
    run(&mut s, &a, vote(quiz_id, "q", &[1])).unwrap();
    run(&mut s, &a, rate(rating_id, "r", 3)).unwrap();
    run(&mut s, &m, act(quiz_id, InteractionAction::End)).unwrap();
    let restored = ContextState::from_snapshot(&s.to_snapshot().unwrap()).unwrap();
    assert_eq!(restored.interactions, s.interactions);
    assert_eq!(restored.interactions.interactions.len(), 4);
}

#[test]
fn answer_text_is_bounded_per_context() {
    let mut s = created();
    let id = publish(
        &mut s,
        Spec::OpenQuestion(plenary_proto::v1::events::OpenQuestionSpec {
            question: "Why?".into(),
            share_results: false,
        }),
    );
    s.interactions.answer_bytes = MAX_ANSWER_BYTES - 3;
    let answer = |text: &str| ChatCommand::Vote {
        interaction_id: id,
        client_vote_id: "o".into(),
        answer: Ballot {
            text: text.into(),
            ..Ballot::default()
        },
    };
    assert!(matches!(
        run(&mut s, &actor("a", false), answer("four")).unwrap_err(),
        Rejection::LimitReached(_)
    ));
    run(&mut s, &actor("b", false), answer("abc")).unwrap();
    assert_eq!(s.interactions.answer_bytes, MAX_ANSWER_BYTES);
}

#[derive(Clone, Debug)]
enum Step {
    Vote {
        user: u8,
        options: Vec<u32>,
        retry: bool,
    },
    Action(InteractionAction),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => (0u8..12, proptest::collection::vec(0u32..4, 0..4), any::<bool>())
            .prop_map(|(user, options, retry)| Step::Vote { user, options, retry }),
        1 => prop_oneof![
            Just(InteractionAction::ShowResults),
            Just(InteractionAction::HideResults),
            Just(InteractionAction::End),
            Just(InteractionAction::Publish),
        ]
        .prop_map(Step::Action),
    ]
}

proptest! {
    /// For any sequence of votes (valid or not, retried or not) and life-cycle moves,
    /// the tally equals a recount of the accepted votes, one per user; and replaying
    /// the events rebuilds the same state.
    #[test]
    fn the_tally_always_equals_a_recount_of_the_votes(
        multiple in any::<bool>(),
        steps in proptest::collection::vec(step(), 1..80),
    ) {
        let (mut s, id) = published(false, multiple);
        let m = actor("m", true);
        let mut log = Vec::new();
        let mut accepted: BTreeMap<String, Vec<u32>> = BTreeMap::new();
        for step in steps {
            match step {
                Step::Vote { user, options, retry } => {
                    let who = actor(&format!("u{user}"), false);
                    let client = if retry { "same".to_owned() } else { format!("c{}", s.seq) };
                    if let Ok((_, events)) = run(&mut s, &who, vote(id, &client, &options)) {
                        for e in &events {
                            if let Some(Kind::VoteCast(v)) = &e.kind {
                                prop_assert!(accepted.insert(who.user_id.clone(), v.options.clone()).is_none());
                            }
                        }
                        log.extend(events);
                    }
                }
                Step::Action(action) => {
                    if let Ok((_, events)) = run(&mut s, &m, act(id, action)) {
                        log.extend(events);
                    }
                }
            }
        }
        let interaction = s.interactions.get(id).unwrap();
        let mut recount = vec![0u32; 3];
        for options in accepted.values() {
            for &o in options {
                recount[o as usize] += 1;
            }
        }
        let tally = interaction.tally(0);
        prop_assert_eq!(tally.voters as usize, accepted.len());
        prop_assert_eq!(tally.counts, recount);
        // Replayed from its events, the state is the same.
        let (mut replayed, _) = published(false, multiple);
        for e in &log {
            replayed.apply(e);
        }
        prop_assert_eq!(replayed.interactions, s.interactions);
    }
}
