//! The `qa` scenario: N attendees each ask one question, spread over a window, while M
//! moderators work the queue as fast as they can — claim a pending thread, resolve it,
//! clear it. Every question must end `done`, none may be owned by two moderators at
//! once, and every claim is timed.

use std::{
    collections::{BTreeSet, HashMap, HashSet},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant, SystemTime},
};

use anyhow::{Context as _, bail};
use plenary_client::{
    Claims, Client,
    v1::{ErrorCode, ThreadActionKind, ThreadState, push::Body},
};
use serde::Serialize;

use crate::{
    cli::QaArgs,
    connect::{self, Plan},
    report::{self, Latencies, LatencySummary},
};

#[derive(Debug, Serialize)]
struct QaReport {
    scenario: &'static str,
    started_at: String,
    urls: Vec<String>,
    context: String,
    attendees: usize,
    moderators: usize,
    /// Questions the server accepted.
    questions: u64,
    /// Threads that reached `done`.
    done: u64,
    /// Accepted questions whose thread never reached `done`.
    lost: u64,
    /// Threads two moderators claimed successfully while one owned it (must be 0).
    double_owned: u64,
    /// Claims refused with ALREADY_CLAIMED (moderators racing for one thread).
    already_claimed: u64,
    claim_p50_ms: f64,
    claim_p99_ms: f64,
    claim_max_ms: f64,
    /// From the last accepted question to the queue being empty.
    drain_secs: f64,
    drained: bool,
    errors: u64,
}

/// What every moderator shares.
struct Board {
    /// Threads seen pending (from pushes), not yet taken.
    pending: Mutex<BTreeSet<u64>>,
    /// Thread → moderators whose claim of it succeeded, in order, with releases between.
    owners: Mutex<HashMap<u64, Option<usize>>>,
    double_owned: AtomicU64,
    done: Mutex<HashSet<u64>>,
    already_claimed: AtomicU64,
    errors: AtomicU64,
    claims: Latencies,
    stop: AtomicBool,
}

/// A thread action, waiting out `RATE_LIMITED`, `UNAVAILABLE` and `OUTCOME_UNKNOWN` (bounded).
async fn act_retrying(
    client: &Client,
    context: &str,
    thread: u64,
    action: ThreadActionKind,
) -> Result<plenary_client::v1::Ack, plenary_client::ClientError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        match client.thread_action(context, thread, action).await {
            Err(e) if attempt < 100 && e.is_retryable() => {
                tokio::time::sleep(e.retry_after().unwrap_or(Duration::from_millis(100))).await;
            }
            other => return other,
        }
    }
}

pub(crate) async fn run(args: QaArgs) -> anyhow::Result<()> {
    if args.attendees == 0 || args.moderators == 0 {
        bail!("qa needs at least one attendee and one moderator");
    }
    connect::ensure_fd_budget(args.attendees + args.moderators)?;
    let started_at = SystemTime::now();
    let context = report::run_id(&args.context, "qa", started_at);
    let plan = Plan::new(&args.connect, crate::cli::Format::Json).await?;

    // Moderators first, so they see every question.
    let mut moderators = Vec::new();
    for i in 0..args.moderators {
        let claims = Claims::new(format!("load-mod-{i}")).with_moderates([context.clone()]);
        let (mut client, _) = Client::connect(plan.config(i, claims)?)
            .await
            .with_context(|| format!("moderator {i} could not connect"))?;
        connect::join_retrying(&client, &context)
            .await
            .context("a moderator could not join")?;
        let pushes = client.take_pushes().context("push stream")?;
        moderators.push((client, pushes));
    }
    let connected = connect::attendees(
        &plan,
        args.attendees,
        args.connect.connect_concurrency,
        &context,
        |c| c,
    )
    .await;
    let attendees: Vec<Client> = connected.clients.into_iter().map(|(_, c)| c).collect();
    if attendees.is_empty() {
        bail!("none of the {} attendees connected", args.attendees);
    }
    let board = Arc::new(Board {
        pending: Mutex::new(BTreeSet::new()),
        owners: Mutex::new(HashMap::new()),
        double_owned: AtomicU64::new(0),
        done: Mutex::new(HashSet::new()),
        already_claimed: AtomicU64::new(0),
        errors: AtomicU64::new(connected.errors.total()),
        claims: Latencies::new()?,
        stop: AtomicBool::new(false),
    });

    // The moderators work until told to stop.
    let mut workers = tokio::task::JoinSet::new();
    for (i, (client, mut pushes)) in moderators.into_iter().enumerate() {
        let board = board.clone();
        let context = context.clone();
        workers.spawn(async move {
            let learn = |push: plenary_client::v1::Push| {
                if let Some(Body::Thread(t)) = push.body {
                    let mut pending = board.pending.lock().unwrap_or_else(|e| e.into_inner());
                    if t.state == ThreadState::Pending as i32 {
                        pending.insert(t.id);
                    } else {
                        pending.remove(&t.id);
                    }
                }
            };
            while !board.stop.load(Ordering::Relaxed) {
                // Learn the queue from pushes.
                while let Some(push) = pushes.try_recv() {
                    learn(push);
                }
                let pick = {
                    let pending = board.pending.lock().unwrap_or_else(|e| e.into_inner());
                    let n = pending.len();
                    if n == 0 {
                        None
                    } else {
                        pending.iter().nth((i * 7919) % n).copied()
                    }
                };
                let Some(thread) = pick else {
                    if let Ok(Some(push)) =
                        tokio::time::timeout(Duration::from_millis(20), pushes.recv()).await
                    {
                        learn(push);
                    }
                    continue;
                };
                let started = Instant::now();
                match client
                    .thread_action(&context, thread, ThreadActionKind::Claim)
                    .await
                {
                    Ok(ack) if ack.seq != 0 => {
                        board
                            .claims
                            .record(i, &[started.elapsed().as_micros() as u64]);
                        board
                            .pending
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .remove(&thread);
                        {
                            let mut owners = board.owners.lock().unwrap_or_else(|e| e.into_inner());
                            if owners.get(&thread).copied().flatten().is_some() {
                                board.double_owned.fetch_add(1, Ordering::Relaxed);
                            }
                            owners.insert(thread, Some(i));
                        }
                        let resolved =
                            act_retrying(&client, &context, thread, ThreadActionKind::Resolve)
                                .await;
                        let cleared =
                            act_retrying(&client, &context, thread, ThreadActionKind::Clear).await;
                        board
                            .owners
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .insert(thread, None);
                        if resolved.is_ok() && cleared.is_ok() {
                            board
                                .done
                                .lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .insert(thread);
                        } else {
                            board.errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    Ok(_) => {}
                    Err(e) if e.server_code() == Some(ErrorCode::AlreadyClaimed) => {
                        board.already_claimed.fetch_add(1, Ordering::Relaxed);
                        board
                            .pending
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .remove(&thread);
                    }
                    Err(e) if e.server_code() == Some(ErrorCode::InvalidState) => {
                        board
                            .pending
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .remove(&thread);
                    }
                    Err(e) if e.is_rate_limited() => {
                        tokio::time::sleep(e.retry_after().unwrap_or(Duration::from_millis(100)))
                            .await;
                    }
                    Err(_) => {
                        board.errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            client.close().await;
        });
    }

    // Every attendee asks once, spread over the window.
    let spacing = Duration::from_secs_f64(args.ask_window / attendees.len() as f64);
    let questions = Arc::new(Mutex::new(HashSet::new()));
    let mut askers = tokio::task::JoinSet::new();
    let ask_start = Instant::now();
    for (i, attendee) in attendees.into_iter().enumerate() {
        let (context, questions, board) = (context.clone(), questions.clone(), board.clone());
        askers.spawn(async move {
            tokio::time::sleep(spacing * i as u32).await;
            for _ in 0..50 {
                match attendee
                    .ask(&context, &format!("question {i}"), &format!("q-{i}"), 0)
                    .await
                {
                    Ok(ok) => {
                        questions
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .insert(ok.thread_id);
                        break;
                    }
                    Err(e) if e.is_retryable() => {
                        tokio::time::sleep(e.retry_after().unwrap_or(Duration::from_millis(100)))
                            .await;
                    }
                    Err(_) => {
                        board.errors.fetch_add(1, Ordering::Relaxed);
                        break;
                    }
                }
            }
            attendee
        });
    }
    let mut keep = Vec::new();
    while let Some(done) = askers.join_next().await {
        if let Ok(client) = done {
            keep.push(client);
        }
    }
    let last_question = Instant::now();
    tracing::info!(
        asked = questions.lock().map(|q| q.len()).unwrap_or(0),
        secs = ask_start.elapsed().as_secs_f64(),
        "all questions asked"
    );
    let asked: HashSet<u64> = questions.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let deadline = last_question + Duration::from_secs(args.drain_timeout);
    let drained = loop {
        let done = board.done.lock().unwrap_or_else(|e| e.into_inner()).len();
        if asked.iter().all(|t| {
            board
                .done
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .contains(t)
        }) {
            break true;
        }
        if Instant::now() > deadline {
            tracing::warn!(done, asked = asked.len(), "drain time-out");
            break false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let drain_secs = last_question.elapsed().as_secs_f64();
    board.stop.store(true, Ordering::Relaxed);
    while workers.join_next().await.is_some() {}
    for c in keep {
        c.close().await;
    }

    let done_set = board.done.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let claims = LatencySummary::of(&board.claims.merged()?);
    let report = QaReport {
        scenario: "qa",
        started_at: report::rfc3339(started_at),
        urls: args.connect.urls.clone(),
        context,
        attendees: args.attendees,
        moderators: args.moderators,
        questions: asked.len() as u64,
        done: asked.iter().filter(|t| done_set.contains(t)).count() as u64,
        lost: asked.iter().filter(|t| !done_set.contains(t)).count() as u64,
        double_owned: board.double_owned.load(Ordering::Relaxed),
        already_claimed: board.already_claimed.load(Ordering::Relaxed),
        claim_p50_ms: claims.p50_ms,
        claim_p99_ms: claims.p99_ms,
        claim_max_ms: claims.max_ms,
        drain_secs,
        drained,
        errors: board.errors.load(Ordering::Relaxed),
    };
    std::fs::write(&args.json, serde_json::to_vec_pretty(&report)?)?;
    println!(
        "qa: {} questions, {} done, {} lost, {} double-owned, {} already-claimed; claim p50 {:.2} ms p99 {:.2} ms; drained in {:.2} s after the last question; {} errors",
        report.questions,
        report.done,
        report.lost,
        report.double_owned,
        report.already_claimed,
        report.claim_p50_ms,
        report.claim_p99_ms,
        report.drain_secs,
        report.errors
    );
    Ok(())
}
