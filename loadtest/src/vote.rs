//! The `vote` scenario: N attendees vote once each on one poll (results shared) within a
//! window. Every acknowledged vote must be counted exactly once, and every client must
//! see the final tally; tally pushes are counted per client per second.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant, SystemTime},
};

use anyhow::{Context as _, bail};
use plenary_client::{
    Claims, Client,
    v1::{InteractionActionKind, InteractionSpec, PollSpec, interaction_spec::Kind, push::Body},
};
use serde::Serialize;

use crate::{
    cli::VoteArgs,
    connect::{self, Plan},
    report::{self, Latencies, LatencySummary},
};

const OPTIONS: usize = 4;

#[derive(Debug, Serialize)]
struct VoteReport {
    scenario: &'static str,
    started_at: String,
    urls: Vec<String>,
    context: String,
    attendees: usize,
    /// Votes sent (one per connected attendee).
    votes: u64,
    /// Votes the server acknowledged (not as a duplicate of an earlier attempt).
    acknowledged: u64,
    /// Voters in the poll's tally, read from a fresh moderator's snapshot at the end.
    counted: u64,
    /// Acknowledged votes the tally does not hold (must be 0).
    lost: u64,
    /// Votes counted beyond the acknowledged ones (must be 0).
    extra: u64,
    /// Per option: votes acknowledged for it, and the final tally's count.
    acknowledged_per_option: Vec<u64>,
    counted_per_option: Vec<u64>,
    ack_p50_ms: f64,
    ack_p99_ms: f64,
    ack_max_ms: f64,
    /// Seconds from the first vote sent to the last acknowledged.
    vote_secs: f64,
    /// From the last acknowledgement until the last client saw the final voter count.
    tally_converged_ms: f64,
    /// Clients that saw the final count before the time-out.
    converged_clients: u64,
    /// The most tally pushes any client got within one wall-clock second.
    max_tally_pushes_per_sec: u64,
    /// Tally pushes per client over the run (mean).
    tally_pushes_per_client: f64,
    errors: u64,
}

/// What one client saw of the tallies.
#[derive(Default)]
struct Seen {
    /// Times (since the run's start) of tally pushes for the poll.
    pushes: Vec<Duration>,
    /// When it first saw each voter count (the latest only kept: count, time).
    last: Option<(u32, Duration)>,
}

pub(crate) async fn run(args: VoteArgs) -> anyhow::Result<()> {
    if args.attendees == 0 {
        bail!("vote needs at least one attendee");
    }
    connect::ensure_fd_budget(args.attendees + 2)?;
    let started_at = SystemTime::now();
    let context = report::run_id(&args.context, "vote", started_at);
    let plan = Plan::new(&args.connect, crate::cli::Format::Json).await?;

    let moderator_claims = || Claims::new("load-mod-0").with_moderates([context.clone()]);
    let (moderator, mut attendees, failed) = connect::moderator_and_attendees(
        &plan,
        args.attendees,
        args.connect.connect_concurrency,
        &context,
    )
    .await?;
    let errors = Arc::new(AtomicU64::new(failed));

    let spec = InteractionSpec {
        kind: Some(Kind::Poll(PollSpec {
            question: "Which option?".into(),
            options: (0..OPTIONS).map(|i| format!("option {i}")).collect(),
            share_results: !args.results_hidden,
            multiple_answers: false,
        })),
    };
    let poll = moderator
        .save_interaction(&context, 0, spec)
        .await
        .context("saving the poll")?
        .interaction_id;
    moderator
        .interaction_action(&context, poll, InteractionActionKind::Publish)
        .await
        .context("publishing the poll")?;

    // Every attendee watches its tally pushes.
    let clock = Instant::now();
    let seen: Arc<Vec<Mutex<Seen>>> = Arc::new(
        (0..attendees.len())
            .map(|_| Mutex::new(Seen::default()))
            .collect(),
    );
    let mut watchers = tokio::task::JoinSet::new();
    for (i, client) in attendees.iter_mut().enumerate() {
        let mut pushes = client.take_pushes().context("push stream")?;
        let seen = seen.clone();
        watchers.spawn(async move {
            while let Some(push) = pushes.recv().await {
                let Some(Body::Tallies(t)) = push.body else {
                    continue;
                };
                let Some(tally) = t.tallies.iter().find(|t| t.interaction_id == poll) else {
                    continue;
                };
                let at = clock.elapsed();
                let mut seen = seen[i].lock().unwrap_or_else(|e| e.into_inner());
                seen.pushes.push(at);
                if seen.last.is_none_or(|(voters, _)| voters != tally.voters) {
                    seen.last = Some((tally.voters, at));
                }
            }
        });
    }

    // Each attendee votes once, spread over the window, retrying with the same id.
    let acks = Arc::new(Latencies::new()?);
    let per_option: Arc<Vec<AtomicU64>> =
        Arc::new((0..OPTIONS).map(|_| AtomicU64::new(0)).collect());
    let acknowledged = Arc::new(AtomicU64::new(0));
    let last_ack = Arc::new(Mutex::new(Duration::ZERO));
    let spacing = Duration::from_secs_f64(args.vote_window / attendees.len() as f64);
    let mut voters = tokio::task::JoinSet::new();
    let vote_start = clock.elapsed();
    for (i, attendee) in attendees.into_iter().enumerate() {
        let (context, acks, per_option, acknowledged, last_ack, errors) = (
            context.clone(),
            acks.clone(),
            per_option.clone(),
            acknowledged.clone(),
            last_ack.clone(),
            errors.clone(),
        );
        voters.spawn(async move {
            tokio::time::sleep(spacing * i as u32).await;
            let option = (i % OPTIONS) as u32;
            let client_id = format!("v-{i}");
            let sent = Instant::now();
            for attempt in 0.. {
                match attendee.vote(&context, poll, &client_id, &[option]).await {
                    Ok(_) => {
                        acks.record(i, &[sent.elapsed().as_micros() as u64]);
                        // A duplicate answers an attempt that took effect unseen: it
                        // counts once, here.
                        acknowledged.fetch_add(1, Ordering::Relaxed);
                        per_option[option as usize].fetch_add(1, Ordering::Relaxed);
                        let mut last = last_ack.lock().unwrap_or_else(|e| e.into_inner());
                        *last = (*last).max(clock.elapsed());
                        break;
                    }
                    Err(e) if attempt < 50 && e.is_retryable() => {
                        tokio::time::sleep(e.retry_after().unwrap_or(Duration::from_millis(100)))
                            .await;
                    }
                    Err(e) => {
                        tracing::debug!(error = %e, "vote failed");
                        errors.fetch_add(1, Ordering::Relaxed);
                        break;
                    }
                }
            }
            attendee
        });
    }
    let mut keep = Vec::new();
    while let Some(done) = voters.join_next().await {
        if let Ok(client) = done {
            keep.push(client);
        }
    }
    let votes = keep.len() as u64;
    let acknowledged = acknowledged.load(Ordering::Relaxed);
    let last_ack = *last_ack.lock().unwrap_or_else(|e| e.into_inner());
    tracing::info!(votes, acknowledged, "all votes sent");

    // Wait until every client saw the final count (or the time-out).
    let deadline = Instant::now() + Duration::from_secs(args.converge_timeout);
    let target = acknowledged as u32;
    let converged = |seen: &Arc<Vec<Mutex<Seen>>>| {
        seen.iter()
            .filter(|s| {
                s.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .last
                    .is_some_and(|(v, _)| v >= target)
            })
            .count()
    };
    while !args.results_hidden && converged(&seen) < keep.len() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let converged_clients = converged(&seen) as u64;
    let tally_converged = seen
        .iter()
        .filter_map(|s| s.lock().unwrap_or_else(|e| e.into_inner()).last)
        .filter(|(v, _)| *v >= target)
        .map(|(_, at)| at.saturating_sub(last_ack))
        .max()
        .unwrap_or_default();
    // The authoritative count: a fresh moderator's snapshot.
    let (reader, _) = Client::connect(plan.config(1, moderator_claims())?)
        .await
        .context("the reading moderator could not connect")?;
    let joined = connect::join_retrying(&reader, &context).await?;
    let tally = joined
        .snapshot
        .and_then(|s| s.interactions.into_iter().find(|i| i.id == poll))
        .and_then(|i| i.tally)
        .context("the poll's tally is missing from the snapshot")?;
    let counted = u64::from(tally.voters);
    let counted_per_option: Vec<u64> = tally.counts.iter().map(|&c| u64::from(c)).collect();

    watchers.abort_all();
    connect::close_within_wind_down(keep, args.connect.connect_concurrency).await;
    moderator.close().await;
    reader.close().await;

    let (mut max_per_sec, mut total_pushes) = (0u64, 0u64);
    for s in seen.iter() {
        let s = s.lock().unwrap_or_else(|e| e.into_inner());
        total_pushes += s.pushes.len() as u64;
        let mut per_second = std::collections::HashMap::new();
        for at in &s.pushes {
            *per_second.entry(at.as_secs()).or_insert(0u64) += 1;
        }
        max_per_sec = max_per_sec.max(per_second.values().copied().max().unwrap_or(0));
    }
    let ack = LatencySummary::of(&acks.merged()?);
    let report = VoteReport {
        scenario: "vote",
        started_at: report::rfc3339(started_at),
        urls: args.connect.urls.clone(),
        context,
        attendees: args.attendees,
        votes,
        acknowledged,
        counted,
        lost: acknowledged.saturating_sub(counted),
        extra: counted.saturating_sub(acknowledged),
        acknowledged_per_option: per_option
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .collect(),
        counted_per_option,
        ack_p50_ms: ack.p50_ms,
        ack_p99_ms: ack.p99_ms,
        ack_max_ms: ack.max_ms,
        vote_secs: last_ack.saturating_sub(vote_start).as_secs_f64(),
        tally_converged_ms: tally_converged.as_secs_f64() * 1000.0,
        converged_clients,
        max_tally_pushes_per_sec: max_per_sec,
        tally_pushes_per_client: total_pushes as f64 / seen.len() as f64,
        errors: errors.load(Ordering::Relaxed),
    };
    report::write_json(&args.json, &report)?;
    println!(
        "vote: {} votes, {} acknowledged, {} counted ({} lost, {} extra); ack p50 {:.2} ms p99 {:.2} ms; final tally at every client {:.0} ms after the last ack ({}/{} converged); at most {} tally pushes per client per second; {} errors",
        report.votes,
        report.acknowledged,
        report.counted,
        report.lost,
        report.extra,
        report.ack_p50_ms,
        report.ack_p99_ms,
        report.tally_converged_ms,
        report.converged_clients,
        report.votes,
        report.max_tally_pushes_per_sec,
        report.errors
    );
    Ok(())
}
