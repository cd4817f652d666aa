//! Snapshots as earlier releases wrote them — their proto parts mapped by serde
//! derives, 64-bit integers as JSON numbers — must still load: fixtures of each kind
//! of state that holds proto types, and the states they were written from.

use plenary_proto::v1::{
    DirectMessage, Peer, PeerStatus, PeerUpdate,
    events::{
        Actor, AnnouncementSpec, ContextEvent, ContextSettings, CrowdVoteSpec, OpenQuestionSpec,
        PollSpec, QaMode, QuizSpec, RatingSpec, SurveyAnswer, SurveyQuestion, SurveyQuestionKind,
        SurveySpec, UserEvent, context_event::Kind,
    },
};

use crate::{
    Snapshots,
    context::{
        AdminCommand, ChatCommand, CommandOutcome, InteractionAction,
        command::ThreadAction,
        interactions::{Ballot, Spec},
        state::ContextState,
        testing::{actor, run_stamped},
    },
    user::inbox::{Profile, SettingsPatch, UserState, user_stream_id},
};

/// The event `kind` that comes next in `s`, stamped as the fixture's were.
fn stamp(s: &ContextState, who: Option<&Actor>, kind: Kind) -> ContextEvent {
    ContextEvent {
        context_id: s.id.clone(),
        epoch: 1_767_225_000_000,
        seq: s.seq + 1,
        at_ms: 1_767_225_600_000 + s.seq,
        actor: who.cloned(),
        kind: Some(kind),
    }
}

/// Runs a command as the actor does (it must be accepted).
fn run(s: &mut ContextState, who: &Actor, command: ChatCommand) -> CommandOutcome {
    let shown = format!("{command:?}");
    run_stamped(s, who, command, stamp)
        .unwrap_or_else(|e| panic!("{shown}: {e}"))
        .0
}

/// A context with something of every part: settings, messages in every area, likes,
/// pins, a block, an update, a Q&A thread published, and one interaction of each kind
/// with votes.
fn context_state() -> ContextState {
    let mut s = ContextState::new("w1");
    let settings = ContextSettings {
        name: "Webinar 42".into(),
        starts_at_ms: 1_767_225_600_123,
        ends_at_ms: 1_767_229_200_456,
        registered_attendees: 500,
        qa_mode: QaMode::MultiThread as i32,
        slow_mode_secs: 0,
    };
    let kind = s.decide_admin(&AdminCommand::Create(settings)).unwrap();
    let created = stamp(&s, None, kind);
    s.apply(&created);
    let (a, b, m) = (actor("a", false), actor("b", false), actor("m", true));
    let posted = |outcome| match outcome {
        CommandOutcome::Sent {
            message_id,
            thread_id,
            ..
        } => (message_id, thread_id),
        other => panic!("not a post: {other:?}"),
    };
    let send = |text: &str, cid: &str, backchannel: bool, thread_id: u64| ChatCommand::Send {
        text: text.into(),
        client_msg_id: cid.into(),
        reply_to: 0,
        backchannel,
        thread_id,
    };
    let (hello, _) = posted(run(&mut s, &a, send("hello", "c-1", false, 0)));
    run(&mut s, &b, send("spam", "c-2", false, 0));
    run(&mut s, &m, ChatCommand::Like { message_id: hello });
    run(&mut s, &m, send("mods only", "", true, 0));
    run(&mut s, &m, ChatCommand::Pin { message_id: hello });
    run(
        &mut s,
        &m,
        ChatCommand::Block {
            user_id: "b".into(),
        },
    );
    run(
        &mut s,
        &m,
        ChatCommand::PostUpdate {
            title: "Break".into(),
            text: "Back in 5".into(),
            toast: true,
        },
    );
    let (question, thread) = posted(run(
        &mut s,
        &a,
        ChatCommand::Ask {
            text: "why?".into(),
            client_msg_id: "q-1".into(),
            thread_id: 0,
        },
    ));
    let (answer, _) = posted(run(&mut s, &m, send("because", "", false, thread)));
    run(
        &mut s,
        &m,
        ChatCommand::Thread {
            thread_id: thread,
            action: ThreadAction::Resolve,
        },
    );
    run(
        &mut s,
        &m,
        ChatCommand::PublishQa {
            thread_id: thread,
            question_id: question,
            answer_id: answer,
        },
    );

    let specs = [
        Spec::Poll(PollSpec {
            question: "Which one?".into(),
            options: vec!["x".into(), "y".into()],
            share_results: true,
            multiple_answers: true,
        }),
        Spec::Quiz(QuizSpec {
            question: "2 + 2?".into(),
            options: vec!["3".into(), "4".into()],
            correct: vec![1],
            show_correct: true,
            share_results: false,
        }),
        Spec::Rating(RatingSpec {
            statement: "Rate us".into(),
            emoji: "⭐".into(),
            share_results: true,
        }),
        Spec::CrowdVote(CrowdVoteSpec {
            statement: "Agree?".into(),
            emoji: "👍".into(),
            share_results: true,
        }),
        Spec::OpenQuestion(OpenQuestionSpec {
            question: "Anything else?".into(),
            share_results: true,
        }),
        Spec::Survey(SurveySpec {
            name: "Feedback".into(),
            intro: "Tell us".into(),
            start_label: "Go".into(),
            questions: vec![
                SurveyQuestion {
                    kind: SurveyQuestionKind::MultipleChoice as i32,
                    text: "Which parts?".into(),
                    options: vec!["talk".into(), "Q&A".into()],
                    multiple_answers: true,
                    emoji: String::new(),
                    mandatory: true,
                },
                SurveyQuestion {
                    kind: SurveyQuestionKind::IconChoice as i32,
                    text: "Mood?".into(),
                    options: vec!["😀".into(), "😐".into()],
                    multiple_answers: false,
                    emoji: String::new(),
                    mandatory: false,
                },
                SurveyQuestion {
                    kind: SurveyQuestionKind::Rating as i32,
                    text: "Rate the host".into(),
                    options: Vec::new(),
                    multiple_answers: false,
                    emoji: "⭐".into(),
                    mandatory: false,
                },
                SurveyQuestion {
                    kind: SurveyQuestionKind::Open as i32,
                    text: "Ideas?".into(),
                    options: Vec::new(),
                    multiple_answers: false,
                    emoji: String::new(),
                    mandatory: false,
                },
            ],
            share_results: true,
        }),
        Spec::Announcement(AnnouncementSpec {
            title: "Offer".into(),
            text: "Today only".into(),
            cta_label: "Buy".into(),
            cta_url: "https://example.test/buy".into(),
        }),
    ];
    let ballots = [
        Ballot {
            options: vec![0, 1],
            ..Ballot::default()
        },
        Ballot {
            options: vec![1],
            ..Ballot::default()
        },
        Ballot {
            rating: 4,
            ..Ballot::default()
        },
        Ballot::default(),
        Ballot {
            text: "more demos".into(),
            ..Ballot::default()
        },
        Ballot {
            survey: vec![
                SurveyAnswer {
                    question: 0,
                    options: vec![0, 1],
                    rating: 0,
                    text: String::new(),
                },
                SurveyAnswer {
                    question: 2,
                    options: Vec::new(),
                    rating: 5,
                    text: String::new(),
                },
                SurveyAnswer {
                    question: 3,
                    options: Vec::new(),
                    rating: 0,
                    text: "shorter".into(),
                },
            ],
            ..Ballot::default()
        },
    ];
    for (i, spec) in specs.into_iter().enumerate() {
        let announcement = matches!(spec, Spec::Announcement(_));
        let quiz = matches!(spec, Spec::Quiz(_));
        let saved = run(
            &mut s,
            &m,
            ChatCommand::SaveInteraction {
                interaction_id: 0,
                spec,
                client_save_id: format!("s-{i}"),
            },
        );
        let CommandOutcome::Interaction {
            interaction_id: id, ..
        } = saved
        else {
            panic!("not saved: {saved:?}")
        };
        run(
            &mut s,
            &m,
            ChatCommand::Interaction {
                interaction_id: id,
                action: InteractionAction::Publish,
            },
        );
        if let Some(ballot) = ballots.get(i).filter(|_| !announcement) {
            run(
                &mut s,
                &a,
                ChatCommand::Vote {
                    interaction_id: id,
                    client_vote_id: format!("v-{i}"),
                    answer: ballot.clone(),
                },
            );
        }
        if quiz {
            run(
                &mut s,
                &m,
                ChatCommand::Interaction {
                    interaction_id: id,
                    action: InteractionAction::End,
                },
            );
        }
    }
    s
}

/// A user with a profile, settings, and two peers: one with a last message, one
/// without.
fn user_state() -> UserState {
    let mut s = UserState::new("a");
    let apply = |s: &mut UserState, kind| {
        let event = UserEvent {
            stream_id: user_stream_id("a"),
            epoch: 1_767_225_000_000,
            seq: s.seq + 1,
            at_ms: 1_767_225_600_000 + s.seq,
            actor: None,
            kind: Some(kind),
        };
        s.apply(&event);
    };
    let kind = s
        .decide_profile(Profile {
            email: "a@example.test".into(),
            given_name: "Ada".into(),
            family_name: "Lovelace".into(),
            moderator: true,
        })
        .unwrap();
    apply(&mut s, kind);
    let kind = s
        .decide_settings(&SettingsPatch {
            private_chat: Some(true),
            show_last_name: Some(false),
            ..Default::default()
        })
        .unwrap();
    apply(&mut s, kind);
    let message = DirectMessage {
        peer_id: "b".into(),
        message_id: 7,
        sender_id: "b".into(),
        text: "hi".into(),
        sent_at_ms: 1_767_225_600_999,
        client_msg_id: "d-1".into(),
    };
    let updates = [
        PeerUpdate {
            peer: Some(Peer {
                user_id: "b".into(),
                name: "Bo".into(),
                status: PeerStatus::Connected as i32,
                unread: 1,
                my_read_id: 0,
                peer_read_id: 6,
                last_message: Some(message.clone()),
            }),
            message: Some(message),
            removed: None,
        },
        PeerUpdate {
            peer: Some(Peer {
                user_id: "c".into(),
                name: "Cy".into(),
                status: PeerStatus::RequestReceived as i32,
                ..Default::default()
            }),
            message: None,
            removed: None,
        },
    ];
    for (i, update) in updates.iter().enumerate() {
        let kind = s
            .decide_notice(1_767_225_000_001, 3 + i as u64, update)
            .unwrap();
        apply(&mut s, kind);
    }
    s
}

/// A context snapshot as written before the JSON mapping was generated from the schema.
const CONTEXT: &[u8] = include_bytes!("../fixtures/snapshots/context.json");
/// A user snapshot as written before the JSON mapping was generated from the schema.
const USER: &[u8] = include_bytes!("../fixtures/snapshots/user.json");

/// Loads `bytes`, checks it is `expected`, and that it survives a snapshot in
/// today's format.
fn loads_as<S: Snapshots + PartialEq + std::fmt::Debug>(bytes: &[u8], expected: &S) {
    let loaded = S::from_snapshot(bytes).unwrap();
    assert_eq!(&loaded, expected);
    let again = loaded.to_snapshot().unwrap();
    assert_eq!(&S::from_snapshot(&again).unwrap(), expected);
}

/// `fixture` with the value at `path` (keys, or indexes of arrays) replaced.
fn with(fixture: &[u8], edits: &[(&[&str], serde_json::Value)]) -> Vec<u8> {
    let mut json: serde_json::Value = serde_json::from_slice(fixture).unwrap();
    for (path, value) in edits {
        let mut at = &mut json;
        for key in *path {
            at = match key.parse::<usize>() {
                Ok(i) if at.is_array() => &mut at[i],
                _ => &mut at[*key],
            };
        }
        assert!(!at.is_null(), "{path:?} is in the fixture");
        *at = value.clone();
    }
    serde_json::to_vec(&json).unwrap()
}

#[test]
fn a_context_snapshot_of_an_earlier_release_loads_as_it_was() {
    loads_as(CONTEXT, &context_state());
}

#[test]
fn a_user_snapshot_of_an_earlier_release_loads_as_it_was() {
    loads_as(USER, &user_state());
}

#[test]
fn enums_written_as_numbers_by_older_releases_load_too() {
    // Before enum fields were all written as names, some were numbers.
    let context = with(
        CONTEXT,
        &[
            (&["settings", "qa_mode"], 1.into()),
            (
                &[
                    "interactions",
                    "31",
                    "spec",
                    "Survey",
                    "questions",
                    "0",
                    "kind",
                ],
                1.into(),
            ),
            (
                &[
                    "interactions",
                    "31",
                    "spec",
                    "Survey",
                    "questions",
                    "3",
                    "kind",
                ],
                4.into(),
            ),
        ],
    );
    loads_as(&context, &context_state());
    let user = with(
        USER,
        &[
            (&["peers", "b", "peer", "status"], 3.into()),
            (&["peers", "c", "peer", "status"], 2.into()),
        ],
    );
    loads_as(&user, &user_state());
}
