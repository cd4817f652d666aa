//! Reports over gRPC (embedded mode, in-process on the admin port): a scripted webinar
//! through real sockets, and every report row compared with what the script says
//! happened — computed here from the script, not read back from the store.

mod common;

use std::time::Duration;

use common::*;
use plenary_client::{
    Claims, ClientConfig, mint_hs256,
    v1::{
        CrowdVoteSpec, InteractionActionKind as Action, InteractionSpec, OpenQuestionSpec,
        PollSpec, RatingSpec, SurveyAnswer, SurveyQuestion, SurveyQuestionKind, SurveySpec, Vote,
        interaction_spec::Kind,
    },
};
use plenary_proto::v1::reporting::{
    BlockedUserRow, ContextStatsRow, ModeratorThreads, PollVoteRow, ReportRequest, StatusRequest,
    reporting_client::ReportingClient,
};
use plenary_reporting::export::ReportName;
use tonic::{Code, Request, metadata::MetadataValue, transport::Channel};

const CTX: &str = "report-webinar";

/// A user of the script: id, first and last name, email.
struct Person {
    id: &'static str,
    first: &'static str,
    last: &'static str,
}

impl Person {
    fn email(&self) -> String {
        format!("{}@example.com", self.id)
    }

    async fn connect(&self, server: &TestServer, moderator: bool) -> plenary_client::Client {
        let mut claims = Claims::new(self.id)
            .with_name(self.first, self.last)
            .with_email(self.email());
        if moderator {
            claims = claims.with_moderates([CTX]);
        }
        let token = mint_hs256(SECRET.as_bytes(), &claims).unwrap();
        let (client, _) = plenary_client::Client::connect(ClientConfig::new(&server.ws_url, token))
            .await
            .unwrap();
        client.join(CTX).await.unwrap();
        client
    }
}

const MODERATOR: Person = Person {
    id: "mod-1",
    first: "Maria",
    last: "Mod",
};
const PEOPLE: [Person; 6] = [
    Person {
        id: "a0",
        first: "Ann",
        last: "Archer",
    },
    Person {
        id: "a1",
        first: "Ben",
        last: "Baker, Jr.",
    },
    Person {
        id: "a2",
        first: "Cy",
        last: "Cole",
    },
    Person {
        id: "a3",
        first: "Di",
        last: "Dunn",
    },
    Person {
        id: "a4",
        first: "Ed",
        last: "Eel",
    },
    Person {
        id: "a5",
        first: "Flo",
        last: "Fry",
    },
];

/// Reads a report until it has `want` rows (ingestion runs behind the log by up to a
/// few hundred ms), with the as-of metadata of the last read.
async fn rows_until<T, F, Fut>(want: usize, mut read: F) -> (Vec<T>, u64)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<tonic::Response<tonic::Streaming<T>>, tonic::Status>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let response = read().await.unwrap();
        let as_of: u64 = response
            .metadata()
            .get("x-plenary-as-of-position")
            .expect("as-of position")
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        let mut stream = response.into_inner();
        let mut rows = Vec::new();
        while let Some(row) = stream.message().await.unwrap() {
            rows.push(row);
        }
        if rows.len() >= want || tokio::time::Instant::now() > deadline {
            return (rows, as_of);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A report of `CTX` as CSV, the way `plenary-reporting export` gets it.
async fn export_csv(
    server: &TestServer,
    report: ReportName,
    range: Option<(u64, u64)>,
    bucket: Option<plenary_reporting::export::BucketName>,
) -> Vec<u8> {
    let args = plenary_reporting::export::ExportArgs {
        report,
        url: format!("http://{}", server.admin),
        api_key: ADMIN_KEY.into(),
        context: Some(CTX.into()),
        from: range.map(|r| r.0),
        to: range.map(|r| r.1),
        bucket,
    };
    let mut csv_bytes = Vec::new();
    plenary_reporting::export::run(&args, &mut csv_bytes)
        .await
        .unwrap();
    csv_bytes
}

#[tokio::test]
async fn blocked_users_and_poll_votes_match_the_script() {
    let server = start(|_| {}).await;
    let started = plenary_bus::now_ms();
    let m = MODERATOR.connect(&server, true).await;
    let mut people = Vec::new();
    for p in &PEOPLE {
        people.push(p.connect(&server, false).await);
    }

    // Blocks: a4 and a5 post (so their emails are known), both are blocked, a5 is
    // unblocked again. Expected: a4 only.
    for i in [4, 5] {
        people[i]
            .send(CTX, "buy now", &format!("spam-{i}"), 0)
            .await
            .unwrap();
    }
    m.block(CTX, "a4").await.unwrap();
    m.block(CTX, "a5").await.unwrap();
    m.unblock(CTX, "a5").await.unwrap();

    // Interactions and votes; each expected row is written down as the vote is cast.
    let publish = |kind: Kind| publish_interaction(&m, CTX, kind);
    let mut expected: Vec<(usize, u64, &str, String)> = Vec::new();
    let vote = |who: usize, id: u64, options: Vec<u32>, rating: u32, text: &str| Vote {
        context_id: CTX.into(),
        interaction_id: id,
        client_vote_id: format!("v-{who}-{id}"),
        options,
        rating,
        text: text.into(),
        survey: Vec::new(),
    };
    let tea = publish(Kind::Poll(PollSpec {
        question: "Tea or coffee?".into(),
        options: vec!["Tea".into(), "Coffee".into()],
        share_results: false,
        multiple_answers: false,
    }))
    .await;
    for (who, option, text) in [(0, 0, "Tea"), (1, 1, "Coffee"), (2, 0, "Tea")] {
        people[who]
            .cast(vote(who, tea, vec![option], 0, ""))
            .await
            .unwrap();
        expected.push((who, tea, "Tea or coffee?", text.into()));
    }
    let days = publish(Kind::Poll(PollSpec {
        question: "Which days suit you?".into(),
        options: vec!["Mon".into(), "Tue".into(), "Wed".into()],
        share_results: true,
        multiple_answers: true,
    }))
    .await;
    people[0]
        .cast(vote(0, days, vec![0, 2], 0, ""))
        .await
        .unwrap();
    expected.push((0, days, "Which days suit you?", "Mon; Wed".into()));
    let rating = publish(Kind::Rating(RatingSpec {
        statement: "Rate the talk".into(),
        emoji: "⭐".into(),
        share_results: false,
    }))
    .await;
    people[1]
        .cast(vote(1, rating, vec![], 4, ""))
        .await
        .unwrap();
    expected.push((1, rating, "Rate the talk", "4".into()));
    let crowd = publish(Kind::CrowdVote(CrowdVoteSpec {
        statement: "Louder please".into(),
        emoji: "👍".into(),
        share_results: false,
    }))
    .await;
    people[3].cast(vote(3, crowd, vec![], 0, "")).await.unwrap();
    expected.push((3, crowd, "Louder please", "👍".into()));
    let open = publish(Kind::OpenQuestion(OpenQuestionSpec {
        question: "What did you like?".into(),
        share_results: false,
    }))
    .await;
    let answer = "=HYPERLINK(\"x\"), the \"demo\", and the pace";
    people[2]
        .cast(vote(2, open, vec![], 0, answer))
        .await
        .unwrap();
    expected.push((2, open, "What did you like?", answer.into()));
    // A survey's answers are not poll votes (they have their own report).
    let survey = publish(Kind::Survey(SurveySpec {
        name: "Feedback".into(),
        questions: vec![SurveyQuestion {
            kind: SurveyQuestionKind::Open as i32,
            text: "Anything else?".into(),
            mandatory: true,
            ..Default::default()
        }],
        ..Default::default()
    }))
    .await;
    people[0]
        .cast(Vote {
            survey: vec![SurveyAnswer {
                question: 0,
                text: "No".into(),
                ..Default::default()
            }],
            ..vote(0, survey, vec![], 0, "")
        })
        .await
        .unwrap();
    let ended = plenary_bus::now_ms() + 1;

    let mut api = ReportingClient::connect(format!("http://{}", server.admin))
        .await
        .unwrap();
    let all = || ReportRequest {
        context_id: CTX.into(),
        ..Default::default()
    };

    let want_votes: Vec<PollVoteRow> = expected
        .iter()
        .map(|(who, id, question, vote)| {
            let p = &PEOPLE[*who];
            PollVoteRow {
                context_id: CTX.into(),
                poll_id: *id,
                user_id: p.id.into(),
                user_first_name: p.first.into(),
                user_last_name: p.last.into(),
                user_email: p.email(),
                question: (*question).into(),
                vote: vote.clone(),
                vote_time_ms: 0,
            }
        })
        .collect();
    let (votes, as_of) = rows_until(want_votes.len(), || {
        let mut api = api.clone();
        async move { api.poll_votes(authed(all())).await }
    })
    .await;
    assert!(as_of > 0, "the as-of position is said");
    for row in &votes {
        assert!(
            (started..ended).contains(&row.vote_time_ms),
            "vote time {} outside the run",
            row.vote_time_ms
        );
    }
    let without_time: Vec<PollVoteRow> = votes
        .iter()
        .cloned()
        .map(|r| PollVoteRow {
            vote_time_ms: 0,
            ..r
        })
        .collect();
    assert_eq!(without_time, want_votes);

    // Interaction results: each answer with how many gave it, surveys per question.
    let (results, _) = rows_until(8, || {
        let mut api = api.clone();
        async move { api.interaction_results(authed(all())).await }
    })
    .await;
    let results: Vec<(u64, &str, &str, u32, &str, u32)> = results
        .iter()
        .map(|r| {
            (
                r.interaction_id,
                r.kind.as_str(),
                r.item.as_str(),
                r.item_index,
                r.answer.as_str(),
                r.count,
            )
        })
        .collect();
    assert_eq!(
        results,
        [
            (tea, "poll", "", 0, "Tea", 2),
            (tea, "poll", "", 0, "Coffee", 1),
            (days, "poll", "", 0, "Mon", 1),
            (days, "poll", "", 0, "Wed", 1),
            (rating, "rating", "", 0, "4", 1),
            (crowd, "crowd_vote", "", 0, "👍", 1),
            (open, "open_question", "", 0, answer, 1),
            (survey, "survey", "Anything else?", 0, "No", 1),
        ]
    );

    // The same report as CSV (`plenary-reporting export`): the reference's column names,
    // and every cell as the row has it — quotes, commas and a formula-like answer
    // (neutralised with a leading ') included.
    let csv_bytes = export_csv(&server, ReportName::PollVotes, None, None).await;
    let mut reader = csv::Reader::from_reader(&csv_bytes[..]);
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        [
            "contextId",
            "pollId",
            "userId",
            "userFirstName",
            "userLastName",
            "userEmail",
            "question",
            "vote",
            "voteTime"
        ]
    );
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), want_votes.len());
    for (record, (want, row)) in records.iter().zip(want_votes.iter().zip(&votes)) {
        let neutral = |s: &str| plenary_reporting::csv_out::neutralise(s.to_owned());
        assert_eq!(&record[0], want.context_id);
        assert_eq!(record[1], want.poll_id.to_string());
        assert_eq!(&record[4], want.user_last_name, "a comma inside");
        assert_eq!(record[7], neutral(&want.vote));
        assert_eq!(
            plenary_reporting::export::parse_time(&record[8]).unwrap(),
            row.vote_time_ms
        );
    }
    assert_eq!(
        &records[6][7], "'=HYPERLINK(\"x\"), the \"demo\", and the pace",
        "formula neutralised, quotes and comma intact"
    );

    let (blocked, _) = rows_until(1, || {
        let mut api = api.clone();
        async move { api.blocked_users(authed(all())).await }
    })
    .await;
    assert_eq!(blocked.len(), 1, "{blocked:?}");
    let row = &blocked[0];
    assert!((started..ended).contains(&row.blocked_at_ms));
    assert_eq!(
        row,
        &BlockedUserRow {
            user_id: "a4".into(),
            user_email: PEOPLE[4].email(),
            context_id: CTX.into(),
            moderator_id: MODERATOR.id.into(),
            moderator_email: MODERATOR.email(),
            blocked_at_ms: row.blocked_at_ms,
        }
    );

    // A time range before the run holds nothing; another context nothing either.
    let (none, _) = rows_until(0, || {
        let mut api = api.clone();
        async move {
            api.poll_votes(authed(ReportRequest {
                to_ms: started,
                ..all()
            }))
            .await
        }
    })
    .await;
    assert!(none.is_empty());
    let (other, _) = rows_until(0, || {
        let mut api = api.clone();
        async move {
            api.poll_votes(authed(ReportRequest {
                context_id: "elsewhere".into(),
                ..Default::default()
            }))
            .await
        }
    })
    .await;
    assert!(other.is_empty());

    // Refusals: no key; an empty or backwards range.
    let no_key = api.poll_votes(Request::new(all())).await.unwrap_err();
    assert_eq!(no_key.code(), Code::Unauthenticated);
    let backwards = api
        .blocked_users(authed(ReportRequest {
            from_ms: 10,
            to_ms: 5,
            ..all()
        }))
        .await
        .unwrap_err();
    assert_eq!(backwards.code(), Code::InvalidArgument);

    let status = api
        .status(authed(StatusRequest {}))
        .await
        .unwrap()
        .into_inner();
    assert!(
        status.position >= as_of && status.ingested > 0,
        "{status:?}"
    );
    assert_eq!(status.unreadable, 0);
    server.stop().await;
}

/// Ingestion survives a restart: the store's cursor is committed with what it covers,
/// so a restarted node goes on where it stopped.
#[tokio::test]
async fn a_restarted_node_goes_on_where_ingestion_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let read = |server: &TestServer, want: usize| {
        let admin = server.admin;
        async move {
            let api = ReportingClient::connect(format!("http://{admin}"))
                .await
                .unwrap();
            rows_until(want, || {
                let mut api: ReportingClient<Channel> = api.clone();
                async move {
                    api.poll_votes(authed(ReportRequest {
                        context_id: CTX.into(),
                        ..Default::default()
                    }))
                    .await
                }
            })
            .await
            .0
        }
    };
    let server = start_in(dir.path(), |_| {}).await;
    let m = MODERATOR.connect(&server, true).await;
    let a = PEOPLE[0].connect(&server, false).await;
    let id = m
        .save_interaction(
            CTX,
            0,
            InteractionSpec {
                kind: Some(Kind::Poll(PollSpec {
                    question: "Again?".into(),
                    options: vec!["Yes".into(), "No".into()],
                    share_results: false,
                    multiple_answers: false,
                })),
            },
        )
        .await
        .unwrap()
        .interaction_id;
    m.interaction_action(CTX, id, Action::Publish)
        .await
        .unwrap();
    a.vote(CTX, id, "v1", &[0]).await.unwrap();
    assert_eq!(read(&server, 1).await.len(), 1);
    drop((m, a));
    server.stop().await;

    let server = start_in(dir.path(), |_| {}).await;
    let b = PEOPLE[1].connect(&server, false).await;
    // In this process the first node's actors may still be letting go of the log when
    // the second opens it, and the first write can then come back OUTCOME_UNKNOWN:
    // retried as the protocol says (same client vote id, so it counts once).
    cluster::retrying(|| b.vote(CTX, id, "v2", &[1])).await;
    let rows = read(&server, 2).await;
    let voters: Vec<&str> = rows.iter().map(|r| r.user_id.as_str()).collect();
    assert_eq!(voters, ["a0", "a1"]);
    server.stop().await;
}

/// Context stats: Q&A threads in every state (one reopened), messages by role, blocks,
/// the last moderator action, and the moderators owning threads — each compared with
/// what the script did.
#[tokio::test]
async fn context_stats_match_the_script() {
    use plenary_client::v1::ThreadActionKind as T;
    const M2: Person = Person {
        id: "mod-2",
        first: "Nils",
        last: "Mod",
    };
    let server = start(|_| {}).await;
    let started = plenary_bus::now_ms();
    let m1 = MODERATOR.connect(&server, true).await;
    let m2 = M2.connect(&server, true).await;
    let mut people = Vec::new();
    for p in &PEOPLE {
        people.push(p.connect(&server, false).await);
    }
    let (mut user_messages, mut moderator_messages) = (0u64, 0u64);
    let mut ask = async |who: usize, text: &str| {
        user_messages += 1;
        people[who].ask(CTX, text, "", 0).await.unwrap().thread_id
    };
    let pending = ask(0, "Is it recorded?").await;
    let owned = ask(1, "Slides?").await;
    let resolved_by_m1 = ask(2, "Price?").await;
    let done = ask(3, "Dates?").await;
    let reopened = ask(4, "Certificate?").await;
    let resolved_by_m2 = ask(5, "Links?").await;
    let _ = pending;
    m1.thread_action(CTX, owned, T::Claim).await.unwrap();
    m1.thread_action(CTX, resolved_by_m1, T::Claim)
        .await
        .unwrap();
    m1.thread_action(CTX, resolved_by_m1, T::Resolve)
        .await
        .unwrap();
    m2.answer(CTX, done, "Next week.", "").await.unwrap();
    moderator_messages += 1;
    m2.thread_action(CTX, done, T::Resolve).await.unwrap();
    m2.thread_action(CTX, done, T::Clear).await.unwrap();
    m2.thread_action(CTX, reopened, T::Claim).await.unwrap();
    m2.thread_action(CTX, reopened, T::Resolve).await.unwrap();
    // A new question reopens the resolved thread: pending again.
    assert_eq!(ask(4, "And a PDF?").await, reopened);
    m2.thread_action(CTX, resolved_by_m2, T::Claim)
        .await
        .unwrap();
    m2.thread_action(CTX, resolved_by_m2, T::Resolve)
        .await
        .unwrap();
    // Group chat, a deleted message (still counted: it was sent) and the backchannel.
    let sent = people[0].send(CTX, "hello", "c1", 0).await.unwrap();
    people[0].delete(CTX, sent.message_id).await.unwrap();
    user_messages += 1;
    m1.send(CTX, "welcome", "c2", 0).await.unwrap();
    m1.send_backchannel(CTX, "between us", "c3", 0)
        .await
        .unwrap();
    moderator_messages += 2;
    let before_last_action = plenary_bus::now_ms();
    m1.block(CTX, "a5").await.unwrap();
    let ended = plenary_bus::now_ms() + 1;

    let api = ReportingClient::connect(format!("http://{}", server.admin))
        .await
        .unwrap();
    let range = ReportRequest {
        context_id: CTX.into(),
        from_ms: started,
        to_ms: ended,
    };
    // Wait until the last event (the block) is ingested.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let row = loop {
        let (rows, _) = rows_until(1, || {
            let mut api = api.clone();
            let range = range.clone();
            async move { api.context_stats(authed(range)).await }
        })
        .await;
        if rows.first().is_some_and(|r| r.blocked == 1) || tokio::time::Instant::now() > deadline {
            break rows.into_iter().next().expect("a row for the context");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        (before_last_action..ended).contains(&row.last_activity_ms),
        "last moderator action at {}",
        row.last_activity_ms
    );
    let expected = ContextStatsRow {
        context_id: CTX.into(),
        // Created by the first join: named after its id.
        context_name: CTX.into(),
        last_activity_ms: row.last_activity_ms,
        pending: 2,
        owned: 1,
        resolved: 2,
        done: 1,
        blocked: 1,
        user_messages,
        moderator_messages,
        moderators_owning_resolved: vec![
            ModeratorThreads {
                email: MODERATOR.email(),
                threads: 1,
            },
            ModeratorThreads {
                email: M2.email(),
                threads: 1,
            },
        ],
        moderators_owning_unresolved: vec![ModeratorThreads {
            email: MODERATOR.email(),
            threads: 1,
        }],
    };
    assert_eq!(row, expected);

    // Activity over time, per minute over the run: every bucket listed, and the totals
    // are the script's — 3 messages outside threads (one deleted, one in the
    // backchannel), 7 questions (one reopening a thread), no votes.
    use plenary_proto::v1::reporting::{ActivityRequest, Bucket};
    let activity = |bucket: Bucket, to_ms: u64| ActivityRequest {
        filter: Some(ReportRequest {
            to_ms,
            ..range.clone()
        }),
        bucket: bucket as i32,
    };
    let mut buckets = api
        .clone()
        .activity_over_time(authed(activity(Bucket::Minute, ended)))
        .await
        .unwrap()
        .into_inner();
    let (mut rows, mut totals) = (0u64, (0, 0, 0));
    while let Some(b) = buckets.message().await.unwrap() {
        assert_eq!(b.bucket_start_ms, started + rows * 60_000);
        rows += 1;
        totals = (
            totals.0 + b.messages,
            totals.1 + b.questions,
            totals.2 + b.votes,
        );
    }
    assert_eq!(rows, (ended - started).div_ceil(60_000));
    assert_eq!(totals, (3, user_messages - 1, 0));
    // The same as CSV, per minute.
    let minutes = Some(plenary_reporting::export::BucketName::Minute);
    let run = Some((started, ended));
    let csv_bytes = export_csv(&server, ReportName::ActivityOverTime, run, minutes).await;
    let mut reader = csv::Reader::from_reader(&csv_bytes[..]);
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        ["bucketStart", "messages", "questions", "votes", "joins"]
    );
    let csv_rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(csv_rows.len() as u64, rows);
    let sum = |i: usize| {
        csv_rows
            .iter()
            .map(|r| r[i].parse::<u64>().unwrap())
            .sum::<u64>()
    };
    assert_eq!((sum(1), sum(2), sum(3)), totals);
    for (request, why) in [
        (activity(Bucket::Unspecified, ended), "no bucket"),
        (
            activity(Bucket::Hour, started + 91 * 24 * 3_600_000),
            "over 90 days",
        ),
    ] {
        let code = api
            .clone()
            .activity_over_time(authed(request))
            .await
            .unwrap_err()
            .code();
        assert_eq!(code, Code::InvalidArgument, "{why}");
    }

    // A range that ended before the webinar: nothing. No range: refused.
    let (none, _) = rows_until(0, || {
        let mut api = api.clone();
        async move {
            api.context_stats(authed(ReportRequest {
                from_ms: 1,
                to_ms: started - 60_000,
                ..Default::default()
            }))
            .await
        }
    })
    .await;
    assert!(none.is_empty(), "{none:?}");
    let missing = api
        .clone()
        .context_stats(authed(ReportRequest::default()))
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::InvalidArgument);
    server.stop().await;
}

/// User stats and both transcripts: private chat between attendees and with a
/// moderator (connections made and removed, a deleted message), and a Q&A thread —
/// each row as the script says.
#[tokio::test]
async fn user_stats_and_transcripts_match_the_script() {
    use plenary_client::v1::{ConnectionActionKind as C, ThreadActionKind as T};
    use plenary_proto::v1::reporting::{ModeratorTranscriptRow, PeerTranscriptRow, UserStatsRow};
    let server = start(|_| {}).await;
    let m = MODERATOR.connect(&server, true).await;
    let mut people = Vec::new();
    for p in &PEOPLE[..3] {
        people.push(p.connect(&server, false).await);
    }
    for c in people.iter().chain([&m]) {
        c.private_open().await.unwrap();
    }
    let (a0, a1, a2) = (&people[0], &people[1], &people[2]);
    // Connections: a0–a1 stays; a0–a2 is removed again; a1–moderator stays.
    a0.connection("a1", C::Request).await.unwrap();
    a1.connection("a0", C::Accept).await.unwrap();
    a0.connection("a2", C::Request).await.unwrap();
    a2.connection("a0", C::Accept).await.unwrap();
    a2.connection("a0", C::Remove).await.unwrap();
    a1.connection(MODERATOR.id, C::Request).await.unwrap();
    m.connection("a1", C::Accept).await.unwrap();
    // Private messages: between attendees (internal), and with the moderator (not).
    let one = a0.dm_send("a1", "one", "d1").await.unwrap();
    a0.dm_send("a1", "two, with a comma", "d2").await.unwrap();
    a1.dm_send("a0", "three", "d3").await.unwrap();
    a0.dm_delete("a1", one.message_id).await.unwrap();
    a1.dm_send(MODERATOR.id, "hello mod", "d4").await.unwrap();
    m.dm_send("a1", "hi", "d5").await.unwrap();
    // Q&A: a2 asks (nobody owns the thread yet), the moderator answers (claiming it),
    // a2 follows up (to its owner), the moderator resolves.
    let thread = a2.ask(CTX, "question", "q1", 0).await.unwrap().thread_id;
    m.answer(CTX, thread, "answer", "q2").await.unwrap();
    a2.ask(CTX, "follow-up", "q3", thread).await.unwrap();
    m.thread_action(CTX, thread, T::Resolve).await.unwrap();

    let api = ReportingClient::connect(format!("http://{}", server.admin))
        .await
        .unwrap();
    let user = |p: &Person, connections, internal: (u64, u64), external: (u64, u64)| UserStatsRow {
        id: p.id.into(),
        email: p.email(),
        connections,
        internal_received: internal.0,
        internal_sent: internal.1,
        external_received: external.0,
        external_sent: external.1,
    };
    let want_users = vec![
        user(&PEOPLE[0], 1, (1, 2), (0, 0)),
        user(&PEOPLE[1], 2, (2, 1), (0, 0)),
        user(&PEOPLE[2], 0, (0, 0), (1, 2)),
        user(&MODERATOR, 1, (0, 0), (0, 0)),
    ];
    // Read until the last event (the resolve) is in: a2's external counts complete.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let users = loop {
        let (rows, _) = rows_until(4, || {
            let mut api = api.clone();
            async move { api.user_stats(authed(ReportRequest::default())).await }
        })
        .await;
        if rows == want_users || tokio::time::Instant::now() > deadline {
            break rows;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(users, want_users);

    let (peer, _) = rows_until(5, || {
        let mut api = api.clone();
        async move { api.peer_transcripts(authed(ReportRequest::default())).await }
    })
    .await;
    let peer: Vec<(String, String, String)> = peer
        .into_iter()
        .map(|r: PeerTranscriptRow| (r.sender, r.recipient, r.message))
        .collect();
    let row = |s: &str, r: &str, m: &str| (s.to_owned(), r.to_owned(), m.to_owned());
    assert_eq!(
        peer,
        [
            row("a0", "a1", ""), // deleted: the row stays, its text does not
            row("a0", "a1", "two, with a comma"),
            row("a1", "a0", "three"),
            row("a1", MODERATOR.id, "hello mod"),
            row(MODERATOR.id, "a1", "hi"),
        ]
    );

    let (qa, _) = rows_until(3, || {
        let mut api = api.clone();
        async move {
            api.moderator_transcripts(authed(ReportRequest {
                context_id: CTX.into(),
                ..Default::default()
            }))
            .await
        }
    })
    .await;
    let qa: Vec<(String, String, String, String, String)> = qa
        .into_iter()
        .map(|r: ModeratorTranscriptRow| {
            assert_eq!((r.creator.as_str(), r.context_id.as_str()), ("a2", CTX));
            (r.state, r.sender, r.recipient, r.message, r.creator)
        })
        .collect();
    let line = |sender: &str, recipient: &str, message: &str| {
        (
            "resolved".to_owned(),
            sender.to_owned(),
            recipient.to_owned(),
            message.to_owned(),
            "a2".to_owned(),
        )
    };
    assert_eq!(
        qa,
        [
            line("a2", "", "question"),
            line(MODERATOR.id, "a2", "answer"),
            line("a2", MODERATOR.id, "follow-up"),
        ]
    );
    server.stop().await;
}

/// Standard gRPC health and reflection on the admin port, without the key: load
/// balancers check it, `grpcurl` lists and calls the services without .proto files.
#[tokio::test]
async fn health_and_reflection_answer_without_the_key() {
    use tonic_health::pb::{
        HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
    };
    use tonic_reflection::pb::v1::{
        ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
        server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
    };
    let server = start(|_| {}).await;
    let url = format!("http://{}", server.admin);
    let channel = Channel::from_shared(url).unwrap().connect().await.unwrap();
    let mut health = HealthClient::new(channel.clone());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let status = health
            .check(HealthCheckRequest {
                service: "plenary.v1.reporting.Reporting".into(),
            })
            .await
            .map(|r| r.into_inner().status);
        if status
            .as_ref()
            .is_ok_and(|s| *s == ServingStatus::Serving as i32)
        {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{status:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let mut reflection = ServerReflectionClient::new(channel);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut answers = reflection
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .unwrap()
        .into_inner();
    let answer = answers.message().await.unwrap().unwrap();
    let Some(MessageResponse::ListServicesResponse(list)) = answer.message_response else {
        panic!("not a service list: {answer:?}");
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    for service in ["plenary.v1.reporting.Reporting", "plenary.v1.admin.Admin"] {
        assert!(
            names.iter().any(|n| n == service),
            "{service} not in {names:?}"
        );
    }
    server.stop().await;
}

/// Access: a token whose `report_contexts` lists context A reads A's reports and
/// nothing else; a token listing none, or no valid token, reads nothing.
#[tokio::test]
async fn a_token_reads_the_reports_of_the_contexts_it_lists_only() {
    let server = start(|_| {}).await;
    let m = MODERATOR.connect(&server, true).await;
    let a = PEOPLE[4].connect(&server, false).await;
    a.send(CTX, "spam", "s1", 0).await.unwrap();
    m.block(CTX, "a4").await.unwrap();
    let api = ReportingClient::connect(format!("http://{}", server.admin))
        .await
        .unwrap();
    fn with<T>(token: &str, message: T) -> Request<T> {
        let mut r = Request::new(message);
        r.metadata_mut().insert(
            "authorization",
            MetadataValue::try_from(format!("Bearer {token}")).unwrap(),
        );
        r
    }
    let token = |claims: Claims| mint_hs256(SECRET.as_bytes(), &claims).unwrap();
    let reader = token(Claims::new("analyst").with_report_contexts([CTX]));
    let of = |context: &str| ReportRequest {
        context_id: context.into(),
        ..Default::default()
    };

    // Its own context: the rows (once ingested).
    let (rows, _) = rows_until(1, || {
        let mut api = api.clone();
        let r = with(&reader, of(CTX));
        async move { api.blocked_users(r).await }
    })
    .await;
    assert_eq!(rows.len(), 1);
    // Another context, every context, reports beyond contexts: PERMISSION_DENIED.
    let mut denied = Vec::new();
    for request in [of("other"), of("")] {
        denied.push(
            api.clone()
                .blocked_users(with(&reader, request))
                .await
                .unwrap_err()
                .code(),
        );
    }
    denied.push(
        api.clone()
            .user_stats(with(&reader, of(CTX)))
            .await
            .unwrap_err()
            .code(),
    );
    denied.push(
        api.clone()
            .peer_transcripts(with(&reader, of(CTX)))
            .await
            .unwrap_err()
            .code(),
    );
    let export_other = plenary_proto::v1::reporting::ExportRequest {
        report: plenary_proto::v1::reporting::Report::PollVotes as i32,
        filter: Some(of("other")),
        ..Default::default()
    };
    denied.push(
        api.clone()
            .export(with(&reader, export_other))
            .await
            .unwrap_err()
            .code(),
    );
    // A valid token that lists no report contexts.
    let attendee = attendee_token("a4");
    denied.push(
        api.clone()
            .blocked_users(with(&attendee, of(CTX)))
            .await
            .unwrap_err()
            .code(),
    );
    assert_eq!(denied, [Code::PermissionDenied; 6]);
    // Not a token at all, or one signed with another key.
    let forged = mint_hs256(
        b"another-secret-0123456789abcdef",
        &Claims::new("analyst").with_report_contexts([CTX]),
    )
    .unwrap();
    for bad in ["not-a-token", forged.as_str()] {
        let code = api
            .clone()
            .blocked_users(with(bad, of(CTX)))
            .await
            .unwrap_err()
            .code();
        assert_eq!(code, Code::Unauthenticated, "{bad}");
    }
    server.stop().await;
}

#[tokio::test]
async fn joins_are_counted_in_the_activity_report_and_a_resumed_join_is_not() {
    use plenary_proto::v1::{
        Position,
        reporting::{ActivityRequest, Bucket},
    };
    let server = start(|c| c.joins_window_ms = 100).await;
    let now = plenary_bus::now_ms();
    let from = now - now % 3_600_000;
    // Six attendees and a moderator join: seven joins.
    let mut clients = Vec::new();
    for person in &PEOPLE {
        clients.push(person.connect(&server, false).await);
    }
    clients.push(MODERATOR.connect(&server, true).await);
    // A second device of a0 joins fresh (an eighth join), then a third resumes where
    // the second was (`since`): a resumed join is not counted.
    let token = mint_hs256(
        SECRET.as_bytes(),
        &Claims::new(PEOPLE[0].id).with_email(PEOPLE[0].email()),
    )
    .unwrap();
    let (second, _) = plenary_client::Client::connect(ClientConfig::new(&server.ws_url, &token))
        .await
        .unwrap();
    let fresh = second.join(CTX).await.unwrap();
    let (third, _) = plenary_client::Client::connect(ClientConfig::new(&server.ws_url, &token))
        .await
        .unwrap();
    let resumed = third
        .join_since(
            CTX,
            Position {
                epoch: fresh.epoch,
                seq: fresh.seq,
            },
        )
        .await
        .unwrap();
    assert!(resumed.recovered, "resumed, not joined afresh");

    let api = ReportingClient::connect(format!("http://{}", server.admin))
        .await
        .unwrap();
    let joins = || {
        let mut api = api.clone();
        async move {
            let mut rows = api
                .activity_over_time(authed(ActivityRequest {
                    filter: Some(ReportRequest {
                        context_id: CTX.into(),
                        from_ms: from,
                        to_ms: from + 2 * 3_600_000,
                    }),
                    bucket: Bucket::Hour as i32,
                }))
                .await
                .unwrap()
                .into_inner();
            let mut total = 0;
            while let Some(row) = rows.message().await.unwrap() {
                total += row.joins;
            }
            total
        }
    };
    // Windows of 100 ms are written once over; ingestion follows within ~200 ms.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while joins().await < 8 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "joins counted: {}",
            joins().await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        joins().await,
        8,
        "each join once; the resumed one not at all"
    );
    drop((clients, second, third));
}

/// Moderator performance through real sockets. The server's event times are not known
/// here, so each step is bracketed by the wall clock before and after its call: counts
/// must be exact, times inside their brackets — and the reopened thread's first
/// response must be measured from the reopening question, not the first one.
#[tokio::test]
async fn moderator_performance_matches_the_script_and_is_reopen_aware() {
    use plenary_client::v1::ThreadActionKind as T;
    use plenary_proto::v1::reporting::ModeratorPerformanceRow;
    let server = start(|_| {}).await;
    let started = plenary_bus::now_ms();
    let m1 = MODERATOR.connect(&server, true).await;
    let a0 = PEOPLE[0].connect(&server, false).await;
    let now = plenary_bus::now_ms;
    // Each step: (before, after) its call.
    let b = now();
    let thread = a0.ask(CTX, "Recorded?", "", 0).await.unwrap().thread_id;
    let ask1 = (b, now());
    let b = now();
    m1.thread_action(CTX, thread, T::Claim).await.unwrap();
    let claim1 = (b, now());
    tokio::time::sleep(Duration::from_millis(50)).await;
    let b = now();
    m1.answer(CTX, thread, "Yes.", "").await.unwrap();
    let reply1 = (b, now());
    let b = now();
    m1.thread_action(CTX, thread, T::Resolve).await.unwrap();
    let resolve1 = (b, now());
    // Reopened well after: a wait measured from the first question would be long.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let b = now();
    assert_eq!(
        a0.ask(CTX, "Where?", "", thread).await.unwrap().thread_id,
        thread
    );
    let ask2 = (b, now());
    let b = now();
    m1.thread_action(CTX, thread, T::Claim).await.unwrap();
    let claim2 = (b, now());
    tokio::time::sleep(Duration::from_millis(30)).await;
    let b = now();
    m1.answer(CTX, thread, "On the site.", "").await.unwrap();
    let reply2 = (b, now());
    let b = now();
    m1.thread_action(CTX, thread, T::Resolve).await.unwrap();
    let resolve2 = (b, now());
    let ended = now() + 1;

    let api = ReportingClient::connect(format!("http://{}", server.admin))
        .await
        .unwrap();
    let request = ReportRequest {
        context_id: CTX.into(),
        from_ms: started,
        to_ms: ended,
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let row: ModeratorPerformanceRow = loop {
        let mut rows = api
            .clone()
            .moderator_performance(authed(request.clone()))
            .await
            .unwrap()
            .into_inner();
        let mut found = None;
        while let Some(r) = rows.message().await.unwrap() {
            found = Some(r);
        }
        if let Some(r) = found.filter(|r| r.threads_resolved == 2) {
            break r;
        }
        assert!(tokio::time::Instant::now() < deadline, "not ingested");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    // The span between two bracketed steps: at least (later.before − earlier.after),
    // at most (later.after − earlier.before).
    let span = |from: (u64, u64), to: (u64, u64)| (to.0.saturating_sub(from.1), to.1 - from.0);
    let within = |value: Option<u64>, (lo, hi): (u64, u64), what: &str| {
        let v = value.unwrap_or_else(|| panic!("{what}: no value"));
        assert!((lo..=hi).contains(&v), "{what}: {v} not in [{lo}, {hi}]");
    };
    assert_eq!(
        (
            row.context_id.as_str(),
            row.moderator_id.as_str(),
            row.moderator_email.clone()
        ),
        (CTX, MODERATOR.id, MODERATOR.email())
    );
    assert_eq!(
        (
            row.threads_claimed,
            row.threads_resolved,
            row.first_responses,
            row.timed_resolutions
        ),
        (2, 2, 2, 2)
    );
    let (w1, w2) = (span(ask1, reply1), span(ask2, reply2));
    let (r1, r2) = (span(claim1, resolve1), span(claim2, resolve2));
    // Two values: the median is the lower, p90 and max the higher.
    let lower = |a: (u64, u64), b: (u64, u64)| (a.0.min(b.0), a.1.min(b.1));
    let higher = |a: (u64, u64), b: (u64, u64)| (a.0.max(b.0), a.1.max(b.1));
    within(
        row.first_response_median_ms,
        lower(w1, w2),
        "first response median",
    );
    within(
        row.first_response_max_ms,
        higher(w1, w2),
        "first response max",
    );
    within(
        row.claim_to_resolve_median_ms,
        lower(r1, r2),
        "claim to resolve median",
    );
    within(
        row.claim_to_resolve_max_ms,
        higher(r1, r2),
        "claim to resolve max",
    );
    // Reopen-aware: measured from the first question, the second wait would be at
    // least the time from the first question to the reopening.
    assert!(
        row.first_response_max_ms.unwrap() < ask2.0 - ask1.1,
        "the reopened thread's wait was measured from its first question"
    );
}
