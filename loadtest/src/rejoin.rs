//! The `rejoin` scenario, a rejoin storm: N attendees joined to one context leave it,
//! a moderator posts M messages, then every attendee rejoins at once with `since`
//! (its last position), as after a network blip. Each answer must recover exactly the
//! M messages; the server's CPU time over the storm (`--server-pid`) is what a rejoin
//! costs. Repeated for `--rounds`.

use std::{
    sync::Arc,
    time::{Duration, Instant, SystemTime},
};

use anyhow::{Context as _, bail};
use plenary_client::v1::push::Body;
use serde::Serialize;

use crate::{
    cli::RejoinArgs,
    connect::{self, Plan},
    procfs, report,
};

#[derive(Debug, Serialize)]
struct RejoinReport {
    scenario: &'static str,
    started_at: String,
    urls: Vec<String>,
    context: String,
    attendees: usize,
    messages_per_round: usize,
    rounds: Vec<Round>,
    /// Medians over the rounds.
    median_storm_secs: f64,
    median_server_cpu_us_per_rejoin: Option<f64>,
    median_server_cpu_us_per_missed_push: Option<f64>,
    /// Answers that did not recover exactly the round's messages (must be 0).
    wrong_answers: u64,
    errors: u64,
}

#[derive(Debug, Serialize)]
struct Round {
    /// From the first rejoin sent to the last answer.
    storm_secs: f64,
    /// Answers that recovered (the rest got a snapshot).
    recovered: u64,
    /// Missed pushes received in the answers, all attendees together.
    missed_pushes: u64,
    server_cpu_secs: Option<f64>,
    server_cpu_us_per_rejoin: Option<f64>,
    server_cpu_us_per_missed_push: Option<f64>,
}

pub(crate) async fn run(args: RejoinArgs) -> anyhow::Result<()> {
    if args.attendees == 0 || args.messages == 0 {
        bail!("rejoin needs at least one attendee and one message");
    }
    connect::ensure_fd_budget(args.attendees + 2)?;
    let started_at = SystemTime::now();
    let context = report::run_id(&args.context, "rejoin", started_at);
    let plan = Plan::new(&args.connect, args.format).await?;
    let (moderator, mut attendees, failed) = connect::moderator_and_attendees(
        &plan,
        args.attendees,
        args.connect.connect_concurrency,
        &context,
    )
    .await?;
    let mut errors = failed;
    // Missed pushes are also queued on each client's push stream: drained here.
    let mut drains = tokio::task::JoinSet::new();
    for client in &mut attendees {
        let mut pushes = client.take_pushes().context("push stream")?;
        drains.spawn(async move { while pushes.recv().await.is_some() {} });
    }
    let attendees: Vec<Arc<plenary_client::Client>> = attendees.into_iter().map(Arc::new).collect();

    let mut rounds = Vec::new();
    let mut wrong_answers = 0;
    for round in 0..args.rounds {
        // Everyone steps out, at their current position.
        let mut positions = Vec::with_capacity(attendees.len());
        for client in &attendees {
            positions.push(client.position(&context));
            if let Err(e) = client.leave(&context).await {
                tracing::debug!(error = %e, "leave failed");
                errors += 1;
            }
        }
        for i in 0..args.messages {
            let text = format!("round {round} message {i} {}", "x".repeat(args.size));
            moderator
                .send(&context, &text, "", 0)
                .await
                .context("the moderator's message was refused")?;
        }
        // Let the last pushes go out before the storm.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let cpu_before = procfs::total_cpu_secs(&args.server_pid)?;
        let storm = Instant::now();
        let mut rejoins = tokio::task::JoinSet::new();
        for (client, since) in attendees.iter().zip(positions) {
            let (client, context) = (client.clone(), context.clone());
            rejoins.spawn(async move {
                match since {
                    Some(since) => client.join_since(&context, since).await,
                    None => client.join(&context).await,
                }
            });
        }
        let (mut recovered, mut missed_pushes) = (0u64, 0u64);
        while let Some(done) = rejoins.join_next().await {
            match done {
                Ok(Ok(ok)) => {
                    let messages = ok
                        .missed
                        .iter()
                        .filter(|p| matches!(p.body, Some(Body::Message(_))))
                        .count();
                    if ok.recovered {
                        recovered += 1;
                        missed_pushes += ok.missed.len() as u64;
                        if messages != args.messages {
                            wrong_answers += 1;
                        }
                    } else if ok.snapshot.is_none() {
                        wrong_answers += 1;
                    }
                }
                Ok(Err(e)) => {
                    tracing::debug!(error = %e, "rejoin failed");
                    errors += 1;
                }
                Err(_) => errors += 1,
            }
        }
        let storm_secs = storm.elapsed().as_secs_f64();
        let cpu = match (cpu_before, procfs::total_cpu_secs(&args.server_pid)?) {
            (Some(before), Some(after)) => Some(after - before),
            _ => None,
        };
        let per = |n: u64| cpu.filter(|_| n > 0).map(|c| c * 1e6 / n as f64);
        let round = Round {
            storm_secs,
            recovered,
            missed_pushes,
            server_cpu_secs: cpu,
            server_cpu_us_per_rejoin: per(attendees.len() as u64),
            server_cpu_us_per_missed_push: per(missed_pushes),
        };
        println!(
            "rejoin round {}: {} rejoins in {:.3} s, {} recovered, {} missed pushes, server CPU {}",
            rounds.len() + 1,
            attendees.len(),
            round.storm_secs,
            round.recovered,
            round.missed_pushes,
            round
                .server_cpu_us_per_rejoin
                .map_or("not read".into(), |us| format!("{us:.1} µs per rejoin")),
        );
        rounds.push(round);
    }
    drains.abort_all();
    moderator.close().await;
    for client in attendees {
        if let Ok(client) = Arc::try_unwrap(client) {
            client.close().await;
        }
    }

    let median = |values: Vec<f64>| -> Option<f64> {
        let mut values = values;
        values.sort_by(f64::total_cmp);
        values.get(values.len() / 2).copied()
    };
    let report = RejoinReport {
        scenario: "rejoin",
        started_at: report::rfc3339(started_at),
        urls: args.connect.urls.clone(),
        context,
        attendees: args.attendees,
        messages_per_round: args.messages,
        median_storm_secs: median(rounds.iter().map(|r| r.storm_secs).collect()).unwrap_or(0.0),
        median_server_cpu_us_per_rejoin: median(
            rounds
                .iter()
                .filter_map(|r| r.server_cpu_us_per_rejoin)
                .collect(),
        ),
        median_server_cpu_us_per_missed_push: median(
            rounds
                .iter()
                .filter_map(|r| r.server_cpu_us_per_missed_push)
                .collect(),
        ),
        rounds,
        wrong_answers,
        errors,
    };
    report::write_json(&args.json, &report)?;
    println!(
        "rejoin: median storm {:.3} s, server CPU {} per rejoin, {} per missed push; {} wrong answers, {} errors",
        report.median_storm_secs,
        report
            .median_server_cpu_us_per_rejoin
            .map_or("-".into(), |us| format!("{us:.1} µs")),
        report
            .median_server_cpu_us_per_missed_push
            .map_or("-".into(), |us| format!("{us:.2} µs")),
        report.wrong_answers,
        report.errors,
    );
    Ok(())
}
