//! The `react` scenario: N attendees each send R reactions per second for D seconds
//! (and a moderator one crowd reaction per second) to one context. Every client sums the
//! `Reactions` pushes it gets: each must end at exactly the reactions acknowledged, in
//! at most 4 pushes per second. With `--server-pid`, the server's CPU time is read from
//! `/proc` for an idle phase of the same clients and for the reaction phase, so the
//! cost of the reactions themselves shows.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant, SystemTime},
};

use anyhow::{Context as _, bail};
use plenary_client::v1::{Reaction, push::Body};
use serde::Serialize;

use crate::{
    cli::ReactArgs,
    connect::{self, Plan},
    procfs, report,
};

const REACTIONS: [Reaction; 5] = [
    Reaction::Clap,
    Reaction::Heart,
    Reaction::Laugh,
    Reaction::ThumbsUp,
    Reaction::Wow,
];

#[derive(Debug, Serialize)]
struct ReactReport {
    scenario: &'static str,
    started_at: String,
    urls: Vec<String>,
    context: String,
    attendees: usize,
    rate_per_attendee: f64,
    duration_secs: f64,
    /// Reactions sent (attendees' and the moderator's crowd reactions).
    sent: u64,
    /// Reactions the server acknowledged.
    acknowledged: u64,
    /// The fewest reactions any client saw in its pushes (must equal `acknowledged`).
    counted_min: u64,
    /// The most any client saw (must equal `acknowledged`).
    counted_max: u64,
    /// Clients whose pushes summed to exactly the acknowledged reactions.
    exact_clients: u64,
    clients: u64,
    /// Reactions pushes per client per second: the most any client got within one
    /// wall-clock second, and the mean over the reaction phase.
    max_pushes_per_sec: u64,
    mean_pushes_per_sec: f64,
    /// Acknowledgement times of the reactions.
    ack_p50_ms: f64,
    ack_p99_ms: f64,
    /// From the last acknowledgement until every client's sum was complete.
    converged_ms: f64,
    /// Server CPU (user + system) of the `--server-pid` processes: seconds during the
    /// idle phase and the reaction phase (same length), and per 1,000 reactions beyond
    /// the idle cost. `null` without `--server-pid`.
    server_cpu_idle_secs: Option<f64>,
    server_cpu_react_secs: Option<f64>,
    server_cpu_percent_of_one_core: Option<f64>,
    server_cpu_ms_per_1000_reactions: Option<f64>,
    errors: u64,
}

/// What one client saw.
#[derive(Default)]
struct Seen {
    /// Times (since the run's start) of reactions pushes.
    pushes: Vec<Duration>,
    /// Reactions summed over them.
    total: u64,
    /// When the sum last grew.
    last_growth: Duration,
}

pub(crate) async fn run(args: ReactArgs) -> anyhow::Result<()> {
    if args.attendees == 0 || args.rate <= 0.0 || args.duration <= 0.0 {
        bail!("react needs attendees, a rate and a duration above 0");
    }
    connect::ensure_fd_budget(args.attendees + 2)?;
    let started_at = SystemTime::now();
    let context = report::run_id(&args.context, "react", started_at);
    let plan = Plan::new(&args.connect, crate::cli::Format::Json).await?;

    let (mut moderator, mut attendees, failed) = connect::moderator_and_attendees(
        &plan,
        args.attendees,
        args.connect.connect_concurrency,
        &context,
    )
    .await?;
    let errors = Arc::new(AtomicU64::new(failed));

    // Every client, the moderator too, sums its reactions pushes.
    let clock = Instant::now();
    let seen: Arc<Vec<Mutex<Seen>>> = Arc::new(
        (0..=attendees.len())
            .map(|_| Mutex::new(Seen::default()))
            .collect(),
    );
    let mut watchers = tokio::task::JoinSet::new();
    let streams = attendees
        .iter_mut()
        .chain(std::iter::once(&mut moderator))
        .map(|c| c.take_pushes().context("push stream"))
        .collect::<anyhow::Result<Vec<_>>>()?;
    for (i, mut pushes) in streams.into_iter().enumerate() {
        let seen = seen.clone();
        watchers.spawn(async move {
            while let Some(push) = pushes.recv().await {
                let Some(Body::Reactions(r)) = push.body else {
                    continue;
                };
                let at = clock.elapsed();
                let n: u64 = r
                    .counts
                    .iter()
                    .chain(&r.crowd)
                    .map(|c| u64::from(c.count))
                    .sum();
                let mut seen = seen[i].lock().unwrap_or_else(|e| e.into_inner());
                seen.pushes.push(at);
                seen.total += n;
                seen.last_growth = at;
            }
        });
    }

    // The idle phase: everyone connected, nobody reacting.
    let phase = Duration::from_secs_f64(args.duration);
    let cpu = procfs::total_cpu_secs;
    let idle_start = cpu(&args.server_pid)?;
    if idle_start.is_some() {
        tokio::time::sleep(phase).await;
    }
    let react_start = cpu(&args.server_pid)?;
    let phase_start = clock.elapsed();

    // The reaction phase: each attendee on its own clock, phases spread evenly.
    let acks = Arc::new(report::Latencies::new()?);
    let sent = Arc::new(AtomicU64::new(0));
    let acknowledged = Arc::new(AtomicU64::new(0));
    let last_ack = Arc::new(Mutex::new(Duration::ZERO));
    let interval = Duration::from_secs_f64(1.0 / args.rate);
    let per_client = (args.duration * args.rate).round() as u64;
    let n = attendees.len();
    let mut senders = tokio::task::JoinSet::new();
    let crowd_sender = std::iter::once((n, moderator, true));
    let all = attendees
        .into_iter()
        .enumerate()
        .map(|(i, c)| (i, c, false))
        .chain(crowd_sender);
    for (i, client, crowd) in all {
        let (context, acks, sent, acknowledged, last_ack, errors) = (
            context.clone(),
            acks.clone(),
            sent.clone(),
            acknowledged.clone(),
            last_ack.clone(),
            errors.clone(),
        );
        // The moderator sends one crowd reaction per second.
        let (interval, count) = if crowd {
            (Duration::from_secs(1), args.duration.round() as u64)
        } else {
            (interval, per_client)
        };
        senders.spawn(async move {
            tokio::time::sleep(interval.mul_f64(i as f64 / (n + 1) as f64)).await;
            let mut tick = tokio::time::interval(interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            for k in 0..count {
                tick.tick().await;
                let reaction = REACTIONS[(i + k as usize) % REACTIONS.len()];
                sent.fetch_add(1, Ordering::Relaxed);
                let at = Instant::now();
                match client.react(&context, reaction, crowd).await {
                    Ok(_) => {
                        acks.record(i, &[at.elapsed().as_micros() as u64]);
                        acknowledged.fetch_add(1, Ordering::Relaxed);
                        let mut last = last_ack.lock().unwrap_or_else(|e| e.into_inner());
                        *last = (*last).max(clock.elapsed());
                    }
                    Err(e) => {
                        tracing::debug!(error = %e, "reaction refused");
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            client
        });
    }
    let mut keep = Vec::new();
    while let Some(done) = senders.join_next().await {
        if let Ok(client) = done {
            keep.push(client);
        }
    }
    let react_end = cpu(&args.server_pid)?;
    let phase_secs = clock.elapsed().saturating_sub(phase_start).as_secs_f64();
    let acknowledged = acknowledged.load(Ordering::Relaxed);
    let last_ack = *last_ack.lock().unwrap_or_else(|e| e.into_inner());
    tracing::info!(acknowledged, "all reactions sent");

    // Wait for every client's sum (the last windows are at most ~500 ms behind).
    let deadline = Instant::now() + Duration::from_secs(args.converge_timeout);
    let complete = |seen: &Arc<Vec<Mutex<Seen>>>| {
        seen.iter()
            .filter(|s| s.lock().unwrap_or_else(|e| e.into_inner()).total >= acknowledged)
            .count()
    };
    while complete(&seen) < seen.len() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Anything beyond the acknowledged count would show up a window later.
    tokio::time::sleep(Duration::from_millis(600)).await;
    watchers.abort_all();
    connect::close_within_wind_down(keep, args.connect.connect_concurrency).await;

    let (mut max_per_sec, mut total_pushes, mut exact) = (0u64, 0u64, 0u64);
    let (mut counted_min, mut counted_max, mut converged) = (u64::MAX, 0u64, Duration::ZERO);
    for s in seen.iter() {
        let s = s.lock().unwrap_or_else(|e| e.into_inner());
        total_pushes += s.pushes.len() as u64;
        let mut per_second = HashMap::new();
        for at in &s.pushes {
            *per_second.entry(at.as_secs()).or_insert(0u64) += 1;
        }
        max_per_sec = max_per_sec.max(per_second.values().copied().max().unwrap_or(0));
        counted_min = counted_min.min(s.total);
        counted_max = counted_max.max(s.total);
        if s.total == acknowledged {
            exact += 1;
        }
        converged = converged.max(s.last_growth.saturating_sub(last_ack));
    }
    let ack = report::LatencySummary::of(&acks.merged()?);
    let cpu_idle = idle_start.zip(react_start).map(|(a, b)| b - a);
    let cpu_react = react_start.zip(react_end).map(|(a, b)| b - a);
    let report = ReactReport {
        scenario: "react",
        started_at: report::rfc3339(started_at),
        urls: args.connect.urls.clone(),
        context,
        attendees: args.attendees,
        rate_per_attendee: args.rate,
        duration_secs: args.duration,
        sent: sent.load(Ordering::Relaxed),
        acknowledged,
        counted_min,
        counted_max,
        exact_clients: exact,
        clients: seen.len() as u64,
        max_pushes_per_sec: max_per_sec,
        mean_pushes_per_sec: total_pushes as f64 / seen.len() as f64 / phase_secs.max(1e-9),
        ack_p50_ms: ack.p50_ms,
        ack_p99_ms: ack.p99_ms,
        converged_ms: converged.as_secs_f64() * 1000.0,
        server_cpu_idle_secs: cpu_idle,
        server_cpu_react_secs: cpu_react,
        server_cpu_percent_of_one_core: cpu_react.map(|c| c / args.duration * 100.0),
        server_cpu_ms_per_1000_reactions: cpu_idle
            .zip(cpu_react)
            .map(|(idle, react)| (react - idle) * 1000.0 / (acknowledged.max(1) as f64 / 1000.0)),
        errors: errors.load(Ordering::Relaxed),
    };
    report::write_json(&args.json, &report)?;
    println!(
        "react: {} sent, {} acknowledged; clients saw {}..{} ({}/{} exact), at most {} pushes per client per second ({:.2} mean); ack p50 {:.2} ms p99 {:.2} ms; server CPU {} s idle, {} s reacting ({} ms per 1,000 reactions beyond idle); {} errors",
        report.sent,
        report.acknowledged,
        report.counted_min,
        report.counted_max,
        report.exact_clients,
        report.clients,
        report.max_pushes_per_sec,
        report.mean_pushes_per_sec,
        report.ack_p50_ms,
        report.ack_p99_ms,
        fmt(report.server_cpu_idle_secs),
        fmt(report.server_cpu_react_secs),
        fmt(report.server_cpu_ms_per_1000_reactions),
        report.errors
    );
    Ok(())
}

fn fmt(value: Option<f64>) -> String {
    value.map_or_else(|| "n/a".into(), |v| format!("{v:.2}"))
}
