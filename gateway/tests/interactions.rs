//! Interactions (polls) through real sockets: a moderator and two attendees.

mod common;

use std::time::Duration;

use common::*;
use plenary_client::v1::{
    ErrorCode, Interaction, InteractionActionKind as Action, InteractionSpec, InteractionStatus,
    PollSpec, Tally, interaction_spec::Kind, push::Body,
};

fn poll(question: &str, options: &[&str], share: bool) -> InteractionSpec {
    InteractionSpec {
        kind: Some(Kind::Poll(PollSpec {
            question: question.into(),
            options: options.iter().map(|o| o.to_string()).collect(),
            share_results: share,
            multiple_answers: false,
        })),
    }
}

fn interaction(p: &plenary_client::v1::Push) -> Option<Interaction> {
    match &p.body {
        Some(Body::Interaction(i)) => Some(i.clone()),
        _ => None,
    }
}

fn tally_of(id: u64) -> impl FnMut(&plenary_client::v1::Push) -> Option<Tally> {
    move |p| match &p.body {
        Some(Body::Tallies(t)) => t.tallies.iter().find(|t| t.interaction_id == id).cloned(),
        _ => None,
    }
}

/// A moderator of `context` and two attendees, each joined to it.
async fn moderator_and_two_attendees(
    server: &TestServer,
    context: &str,
) -> (
    plenary_client::Client,
    plenary_client::Client,
    plenary_client::Client,
) {
    let m = connect(&server.ws_url, moderator_token("m1", context)).await;
    let alice = connect(&server.ws_url, attendee_token("alice")).await;
    let bob = connect(&server.ws_url, attendee_token("bob")).await;
    for c in [&m, &alice, &bob] {
        c.join(context).await.unwrap();
    }
    (m, alice, bob)
}

#[tokio::test]
async fn a_poll_from_draft_to_unpublished() {
    const CTX: &str = "poll-life";
    let server = start(|_| {}).await;
    let (m, alice, bob) = moderator_and_two_attendees(&server, CTX).await;

    // A draft: the moderator sees it, attendees see nothing of it.
    let draft = m
        .save_interaction(CTX, 0, poll("Tea or coffee?", &["tea", "coffee"], false))
        .await
        .unwrap();
    let id = draft.interaction_id;
    let seen = expect_push(&m, interaction).await;
    assert_eq!(seen.status, InteractionStatus::Draft as i32);
    assert_eq!(
        refused(alice.vote(CTX, id, "v-a", &[0])).await,
        ErrorCode::NotFound
    );
    assert_eq!(
        refused(alice.save_interaction(CTX, 0, poll("Mine?", &["a", "b"], true))).await,
        ErrorCode::Forbidden
    );
    // Edited, then published: everyone gets it, with a toast.
    m.save_interaction(
        CTX,
        id,
        poll("Tea, coffee or water?", &["tea", "coffee", "water"], false),
    )
    .await
    .unwrap();
    m.interaction_action(CTX, id, Action::Publish)
        .await
        .unwrap();
    let published = expect_push(&alice, interaction).await;
    assert_eq!(published.id, id);
    assert!(published.toast);
    assert_eq!(published.status, InteractionStatus::Published as i32);
    assert!(published.tally.is_none(), "results not shared");
    let Some(Kind::Poll(p)) = published.spec.and_then(|s| s.kind) else {
        panic!("no poll");
    };
    assert_eq!(p.options, ["tea", "coffee", "water"]);
    // Published: fixed.
    assert_eq!(
        refused(m.save_interaction(CTX, id, poll("Changed?", &["a", "b"], false))).await,
        ErrorCode::InvalidState
    );

    // Votes: one each, final; a retry with the same id is the same vote.
    let first = alice.vote(CTX, id, "v-a", &[1]).await.unwrap();
    assert!(!first.duplicate);
    let retry = alice.vote(CTX, id, "v-a", &[1]).await.unwrap();
    assert!(retry.duplicate);
    assert_eq!(retry.seq, first.seq);
    assert_eq!(
        refused(alice.vote(CTX, id, "v-a2", &[0])).await,
        ErrorCode::AlreadyVoted
    );
    assert_eq!(
        refused(bob.vote(CTX, id, "v-b", &[0, 1])).await,
        ErrorCode::BadRequest
    );
    bob.vote(CTX, id, "v-b", &[1]).await.unwrap();
    // The moderator gets tallies (the voters have their replies).
    let tally = expect_push(&m, tally_of(id)).await;
    assert!(tally.voters >= 1);
    let mut tally = tally;
    while tally.voters < 2 {
        tally = expect_push(&m, tally_of(id)).await;
    }
    assert_eq!(tally.counts, [0, 2, 0]);
    // Hidden results: attendees get no tally.
    expect_no_push(&bob, Duration::from_millis(600), |p| {
        matches!(p.body, Some(Body::Tallies(_)))
    })
    .await;

    // Results shown: attendees see the counts; then ended: no more votes.
    m.interaction_action(CTX, id, Action::ShowResults)
        .await
        .unwrap();
    let shown = expect_push(&bob, interaction).await;
    assert!(shown.results_shown);
    assert_eq!(shown.tally.unwrap().counts, [0, 2, 0]);
    m.interaction_action(CTX, id, Action::End).await.unwrap();
    let ended = expect_push(&bob, interaction).await;
    assert_eq!(ended.status, InteractionStatus::Ended as i32);
    let carol = connect(&server.ws_url, attendee_token("carol")).await;
    let joined = carol.join(CTX).await.unwrap();
    let in_snapshot = &joined.snapshot.unwrap().interactions;
    assert_eq!(in_snapshot.len(), 1);
    assert_eq!(in_snapshot[0].tally.as_ref().unwrap().voters, 2);
    assert_eq!(
        refused(carol.vote(CTX, id, "v-c", &[0])).await,
        ErrorCode::InvalidState
    );

    // Unpublished: gone for everyone.
    m.interaction_action(CTX, id, Action::Unpublish)
        .await
        .unwrap();
    expect_push(&alice, |p| match &p.body {
        Some(Body::InteractionRemoved(r)) if r.interaction_id == id => Some(()),
        _ => None,
    })
    .await;
    let later = connect(&server.ws_url, attendee_token("dave")).await;
    assert!(
        later
            .join(CTX)
            .await
            .unwrap()
            .snapshot
            .unwrap()
            .interactions
            .is_empty()
    );
    server.stop().await;
}

#[tokio::test]
async fn drafts_and_hidden_results_never_reach_attendees_even_in_recovery() {
    const CTX: &str = "poll-hidden";
    let server = start(|_| {}).await;
    let m = connect(&server.ws_url, moderator_token("m1", CTX)).await;
    let alice = connect(&server.ws_url, attendee_token("alice")).await;
    m.join(CTX).await.unwrap();
    let joined = alice.join(CTX).await.unwrap();
    let since = plenary_client::v1::Position {
        epoch: joined.epoch,
        seq: joined.seq,
    };

    let hidden = m
        .save_interaction(CTX, 0, poll("Hidden?", &["yes", "no"], false))
        .await
        .unwrap()
        .interaction_id;
    let draft = m
        .save_interaction(CTX, 0, poll("Draft?", &["yes", "no"], true))
        .await
        .unwrap()
        .interaction_id;
    m.interaction_action(CTX, hidden, Action::Publish)
        .await
        .unwrap();
    m.vote(CTX, hidden, "m-v", &[0]).await.unwrap();
    expect_push(&alice, interaction).await;
    // Pushes: the draft never, hidden results never.
    expect_no_push(&alice, Duration::from_millis(600), |p| match &p.body {
        Some(Body::Interaction(i)) => i.id == draft || i.tally.is_some(),
        Some(Body::Tallies(_)) => true,
        _ => false,
    })
    .await;
    // Snapshot.
    let bob = connect(&server.ws_url, attendee_token("bob")).await;
    let snapshot = bob.join(CTX).await.unwrap().snapshot.unwrap();
    assert_eq!(snapshot.interactions.len(), 1);
    assert_eq!(snapshot.interactions[0].id, hidden);
    assert!(snapshot.interactions[0].tally.is_none());
    // Recovery: what alice missed since joining, replayed.
    let again = connect(&server.ws_url, attendee_token("alice")).await;
    let recovered = again.join_since(CTX, since).await.unwrap();
    assert!(recovered.recovered, "{recovered:?}");
    assert!(
        recovered
            .missed
            .iter()
            .any(|p| interaction(p).is_some_and(|i| i.id == hidden))
    );
    for push in &recovered.missed {
        match &push.body {
            Some(Body::Interaction(i)) => {
                assert_ne!(i.id, draft, "a draft in recovery");
                assert!(i.tally.is_none(), "hidden results in recovery");
            }
            Some(Body::Tallies(_)) => panic!("tallies of hidden results in recovery"),
            _ => {}
        }
    }
    // The moderator's recovery ends with the tallies it missed.
    let m2 = connect(&server.ws_url, moderator_token("m1", CTX)).await;
    let missed = m2.join_since(CTX, since).await.unwrap().missed;
    assert!(
        missed.iter().any(|p| matches!(&p.body, Some(Body::Tallies(t)) if t.tallies.iter().any(|t| t.interaction_id == hidden && t.voters == 1)))
    );
    // A user's own vote is restored on reconnect.
    let mine = connect(&server.ws_url, moderator_token("m1", CTX)).await;
    let snapshot = mine.join(CTX).await.unwrap().snapshot.unwrap();
    let own = snapshot
        .interactions
        .iter()
        .find(|i| i.id == hidden)
        .unwrap();
    assert_eq!(own.mine.as_ref().unwrap().options, [0]);
    server.stop().await;
}

#[tokio::test]
async fn limits_are_refused_with_typed_errors() {
    const CTX: &str = "poll-limits";
    let server = start(|_| {}).await;
    let m = connect(&server.ws_url, moderator_token("m1", CTX)).await;
    m.join(CTX).await.unwrap();
    let six = ["a", "b", "c", "d", "e", "f"];
    assert_eq!(
        refused(m.save_interaction(CTX, 0, poll("Six?", &six, false))).await,
        ErrorCode::BadRequest
    );
    assert_eq!(
        refused(m.save_interaction(CTX, 0, poll("", &["a", "b"], false))).await,
        ErrorCode::InvalidText
    );
    assert_eq!(
        refused(m.save_interaction(CTX, 0, InteractionSpec { kind: None })).await,
        ErrorCode::BadRequest
    );
    assert_eq!(
        refused(m.interaction_action(CTX, 1, Action::Unspecified)).await,
        ErrorCode::BadRequest
    );
    assert_eq!(
        refused(m.interaction_action(CTX, 999, Action::Publish)).await,
        ErrorCode::NotFound
    );
    server.stop().await;
}

/// A voter gets the tally its own vote changed (a push of the vote itself would carry
/// the same seq as that tally, and a gateway passes on one push per seq).
#[tokio::test]
async fn the_last_voter_sees_the_tally_of_its_own_vote() {
    const CTX: &str = "poll-last";
    let server = start(|_| {}).await;
    let m = connect(&server.ws_url, moderator_token("m1", CTX)).await;
    let alice = connect(&server.ws_url, attendee_token("alice")).await;
    m.join(CTX).await.unwrap();
    alice.join(CTX).await.unwrap();
    let id = m
        .save_interaction(CTX, 0, poll("Shared?", &["yes", "no"], true))
        .await
        .unwrap()
        .interaction_id;
    m.interaction_action(CTX, id, Action::Publish)
        .await
        .unwrap();
    alice.vote(CTX, id, "v-a", &[1]).await.unwrap();
    let tally = expect_push(&alice, tally_of(id)).await;
    assert_eq!((tally.voters, tally.counts), (1, vec![0, 1]));
    server.stop().await;
}

async fn cast(
    client: &plenary_client::Client,
    id: u64,
    options: Vec<u32>,
    rating: u32,
) -> Result<plenary_client::v1::VoteOk, plenary_client::ClientError> {
    client
        .cast(plenary_client::v1::Vote {
            context_id: "kinds".into(),
            interaction_id: id,
            client_vote_id: "v".into(),
            options,
            rating,
            ..Default::default()
        })
        .await
}

#[tokio::test]
async fn quizzes_ratings_crowd_votes_and_announcements_through_sockets() {
    use plenary_client::v1::{AnnouncementSpec, CrowdVoteSpec, QuizSpec, RatingSpec};
    const CTX: &str = "kinds";
    let server = start(|_| {}).await;
    let (m, alice, bob) = moderator_and_two_attendees(&server, CTX).await;
    let publish = |kind: Kind| publish_interaction(&m, CTX, kind);
    // A quiz: attendees do not see the correct answers while it runs.
    let quiz = publish(Kind::Quiz(QuizSpec {
        question: "Which are primes?".into(),
        options: vec!["2".into(), "4".into(), "5".into()],
        correct: vec![0, 2],
        show_correct: true,
        share_results: true,
    }))
    .await;
    let shown = expect_push(&alice, interaction).await;
    let Some(Kind::Quiz(q)) = shown.spec.and_then(|s| s.kind) else {
        panic!("no quiz");
    };
    assert!(q.correct.is_empty(), "the answer given away: {q:?}");
    cast(&alice, quiz, vec![0, 2], 0).await.unwrap();
    cast(&bob, quiz, vec![1], 0).await.unwrap();
    m.interaction_action(CTX, quiz, Action::End).await.unwrap();
    let ended = expect_push(&alice, |p| interaction(p).filter(|i| i.id == quiz)).await;
    assert_eq!(ended.tally.unwrap().correct, [0, 2]);
    // Each participant is told their own place, as a push that is not an event.
    let rank = |p: &plenary_client::v1::Push| match &p.body {
        Some(Body::Rank(board)) => {
            assert_eq!(p.seq, 0, "a rank is not an event");
            Some(board.clone())
        }
        _ => None,
    };
    let (mine, theirs) = (
        expect_push(&alice, rank).await,
        expect_push(&bob, rank).await,
    );
    let (mine_entry, theirs_entry) = (mine.mine.unwrap(), theirs.mine.unwrap());
    assert_eq!((mine_entry.user_id.as_str(), mine_entry.rank), ("alice", 1));
    assert!(mine_entry.points > 0);
    assert_eq!(
        (theirs_entry.user_id.as_str(), theirs_entry.rank),
        ("bob", 2)
    );
    assert_eq!((mine.participants, theirs.participants), (2, 2));
    assert!(mine.top.is_empty(), "the top 10 came with the interaction");

    // A rating scale: the distribution and the mean.
    let rating = publish(Kind::Rating(RatingSpec {
        statement: "How is it going?".into(),
        emoji: "⭐".into(),
        share_results: true,
    }))
    .await;
    cast(&alice, rating, vec![], 5).await.unwrap();
    cast(&bob, rating, vec![], 2).await.unwrap();
    assert_eq!(
        refused(cast(&m, rating, vec![], 9)).await,
        ErrorCode::BadRequest
    );
    let mut tally = expect_push(&bob, tally_of(rating)).await;
    while tally.voters < 2 {
        tally = expect_push(&bob, tally_of(rating)).await;
    }
    assert_eq!(tally.counts, [0, 1, 0, 0, 1]);
    assert!((tally.average - 3.5).abs() < 1e-9);

    // A crowd vote: a tap; the result is the voters and their share of the attendees
    // present (the node reports them within about a second of a change).
    let crowd = publish(Kind::CrowdVote(CrowdVoteSpec {
        statement: "Louder please".into(),
        emoji: "👍".into(),
        share_results: false,
    }))
    .await;
    let watcher = connect(&server.ws_url, moderator_token("m2", CTX)).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let ok = watcher.join(CTX).await.unwrap();
        let present = ok
            .snapshot
            .unwrap()
            .interactions
            .iter()
            .find(|i| i.id == crowd)
            .and_then(|i| i.tally.as_ref())
            .map_or(0, |t| t.present);
        if present == 2 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "present: {present}, not 2"
        );
        watcher.leave(CTX).await.unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    cast(&alice, crowd, vec![], 0).await.unwrap();
    let mut tally = expect_push(&m, tally_of(crowd)).await;
    while tally.voters < 1 {
        tally = expect_push(&m, tally_of(crowd)).await;
    }
    assert_eq!(tally.voters, 1);
    assert_eq!(
        tally.present, 2,
        "alice and bob (moderators are not attendees)"
    );
    assert!((tally.share - 50.0).abs() < 1e-9);

    // An open-ended question: answers and a word cloud, for moderators until shared.
    let open = publish(Kind::OpenQuestion(plenary_client::v1::OpenQuestionSpec {
        question: "What did you like?".into(),
        share_results: false,
    }))
    .await;
    alice
        .cast(plenary_client::v1::Vote {
            context_id: CTX.into(),
            interaction_id: open,
            client_vote_id: "o".into(),
            text: "Great demo, great pace".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let tally = expect_push(&m, tally_of(open)).await;
    assert_eq!(tally.answers.len(), 1);
    assert_eq!(tally.words[0].word, "great");
    assert_eq!(tally.words[0].count, 2);
    m.interaction_action(CTX, open, Action::ShowResults)
        .await
        .unwrap();
    let shown = expect_push(&bob, |p| {
        interaction(p).filter(|i| i.id == open && i.results_shown)
    })
    .await;
    assert_eq!(
        shown.tally.unwrap().answers[0].text,
        "Great demo, great pace"
    );

    // A survey: defaults filled in, an 11th question refused, mandatory answers named.
    use plenary_client::v1::{SurveyAnswer, SurveyQuestion, SurveyQuestionKind, SurveySpec};
    let question = |kind: SurveyQuestionKind, mandatory: bool| SurveyQuestion {
        kind: kind as i32,
        text: "Which one?".into(),
        options: vec!["red".into(), "blue".into()],
        emoji: "⭐".into(),
        mandatory,
        ..Default::default()
    };
    let spec = |questions: Vec<SurveyQuestion>| InteractionSpec {
        kind: Some(Kind::Survey(SurveySpec {
            questions,
            share_results: false,
            ..Default::default()
        })),
    };
    let eleven = vec![question(SurveyQuestionKind::Open, false); 11];
    assert_eq!(
        refused(m.save_interaction(CTX, 0, spec(eleven))).await,
        ErrorCode::BadRequest
    );
    let survey = m
        .save_interaction(
            CTX,
            0,
            spec(vec![
                question(SurveyQuestionKind::MultipleChoice, true),
                question(SurveyQuestionKind::Rating, false),
            ]),
        )
        .await
        .unwrap()
        .interaction_id;
    m.interaction_action(CTX, survey, Action::Publish)
        .await
        .unwrap();
    let shown = expect_push(&alice, |p| interaction(p).filter(|i| i.id == survey)).await;
    let Some(Kind::Survey(s)) = shown.spec.and_then(|s| s.kind) else {
        panic!("no survey");
    };
    assert_eq!(
        (s.name.as_str(), s.intro.as_str(), s.start_label.as_str()),
        (
            CTX,
            "Please take a moment to take a quick survey",
            "Take survey"
        )
    );
    let submit = |answers: Vec<SurveyAnswer>| {
        alice.cast(plenary_client::v1::Vote {
            context_id: CTX.into(),
            interaction_id: survey,
            client_vote_id: format!("s{}", answers.len()),
            survey: answers,
            ..Default::default()
        })
    };
    let rating_only = SurveyAnswer {
        question: 1,
        rating: 4,
        ..Default::default()
    };
    let missing = submit(vec![rating_only.clone()]).await.unwrap_err();
    assert_eq!(missing.server_code(), Some(ErrorCode::BadRequest));
    assert!(
        missing
            .to_string()
            .contains("mandatory questions not answered: 1"),
        "{missing}"
    );
    submit(vec![
        SurveyAnswer {
            question: 0,
            options: vec![1],
            ..Default::default()
        },
        rating_only,
    ])
    .await
    .unwrap();
    let tally = expect_push(&m, tally_of(survey)).await;
    assert_eq!(tally.questions[0].counts, [0, 1]);
    assert_eq!(tally.questions[1].average, 4.0);

    // An announcement: a script URL is refused; a real one goes out; no votes.
    let with_url = |url: &str| {
        Kind::Announcement(AnnouncementSpec {
            title: "Mid-webinar alert!".into(),
            text: "Get your questions ready for the Q&A!".into(),
            cta_label: "Register".into(),
            cta_url: url.into(),
        })
    };
    assert_eq!(
        refused(m.save_interaction(
            CTX,
            0,
            InteractionSpec {
                kind: Some(with_url("javascript:alert(1)"))
            }
        ))
        .await,
        ErrorCode::BadRequest
    );
    let announcement = publish(with_url("https://example.com/register")).await;
    let shown = expect_push(&bob, |p| interaction(p).filter(|i| i.id == announcement)).await;
    assert!(shown.toast);
    assert_eq!(
        refused(cast(&bob, announcement, vec![], 0)).await,
        ErrorCode::BadRequest
    );
    server.stop().await;
}

/// The user's `toast` setting decides whether their connections get the toast flag on
/// interaction and update pushes (learnt from the private stream each connection opens).
#[tokio::test]
async fn a_user_who_turned_toasts_off_gets_pushes_without_the_toast_flag() {
    const CTX: &str = "toasts";
    let server = start(|_| {}).await;
    let (m, alice, bob) = moderator_and_two_attendees(&server, CTX).await;
    alice.private_open().await.unwrap();
    bob.private_open().await.unwrap();
    alice
        .update_settings(plenary_client::v1::UpdateSettings {
            toast: Some(false),
            ..Default::default()
        })
        .await
        .unwrap();
    // The setting reaches alice's connection on her private stream first.
    expect_push(&alice, |p| match &p.body {
        Some(Body::Settings(s)) if !s.toast => Some(()),
        _ => None,
    })
    .await;
    let id = m
        .save_interaction(CTX, 0, poll("Toast?", &["yes", "no"], false))
        .await
        .unwrap()
        .interaction_id;
    m.interaction_action(CTX, id, Action::Publish)
        .await
        .unwrap();
    m.post_update(CTX, "Heads up", "Q&A in five minutes", true)
        .await
        .unwrap();
    let quiet = expect_push(&alice, |p| interaction(p).filter(|i| i.id == id)).await;
    assert!(!quiet.toast);
    let loud = expect_push(&bob, |p| interaction(p).filter(|i| i.id == id)).await;
    assert!(loud.toast);
    let update = |p: &plenary_client::v1::Push| match &p.body {
        Some(Body::Update(u)) => Some(u.toast),
        _ => None,
    };
    assert!(!expect_push(&alice, update).await);
    assert!(expect_push(&bob, update).await);
    // A new connection of alice's learns the setting when it opens the private stream.
    let again = connect(&server.ws_url, attendee_token("alice")).await;
    again.join(CTX).await.unwrap();
    again.private_open().await.unwrap();
    m.post_update(CTX, "Again", "Now", true).await.unwrap();
    assert!(!expect_push(&again, update).await);
    server.stop().await;
}

#[tokio::test]
async fn a_voters_other_device_recovers_the_vote_and_what_went_out_since() {
    const CTX: &str = "poll-devices";
    let server = start(|_| {}).await;
    let (m, alice, _bob) = moderator_and_two_attendees(&server, CTX).await;
    let id = m
        .save_interaction(CTX, 0, poll("Devices?", &["yes", "no"], true))
        .await
        .unwrap()
        .interaction_id;
    m.interaction_action(CTX, id, Action::Publish)
        .await
        .unwrap();
    // Alice's second device joined before the vote, then lost its connection.
    let phone = connect(&server.ws_url, attendee_token("alice")).await;
    let joined = phone.join(CTX).await.unwrap();
    let since = plenary_client::v1::Position {
        epoch: joined.epoch,
        seq: joined.seq,
    };
    phone.close().await;
    alice.vote(CTX, id, "a-v", &[1]).await.unwrap();
    m.send(CTX, "after the vote", "m-after", 0).await.unwrap();
    // A recent gap, but one holding her own vote, which no push carried: rendered from
    // the log (the vote, the message, the tallies).
    tokio::time::sleep(Duration::from_millis(600)).await;
    let phone = connect(&server.ws_url, attendee_token("alice")).await;
    let recovered = phone.join_since(CTX, since).await.unwrap();
    assert!(recovered.recovered, "{recovered:?}");
    let own = recovered
        .missed
        .iter()
        .filter_map(interaction)
        .find(|i| i.id == id && i.mine.is_some())
        .expect("her own vote in recovery");
    assert_eq!(own.mine.unwrap().options, [1]);
    let seqs: Vec<u64> = recovered.missed.iter().map(|p| p.seq).collect();
    assert!(seqs.windows(2).all(|w| w[0] <= w[1]), "in order: {seqs:?}");
    assert!(
        recovered
            .missed
            .iter()
            .any(|p| matches!(&p.body, Some(Body::Message(msg)) if msg.text == "after the vote"))
    );
    server.stop().await;
}
