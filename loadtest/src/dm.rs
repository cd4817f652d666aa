//! The `dm` scenario: 2 × P users `<run-id>-u<i>` form P pairs (users 2k and 2k+1),
//! spread round-robin over the gateways. Each pair opens its private streams and
//! connects (one request, one accept); then, for `--duration` seconds, every pair
//! exchanges private messages at `--rate` per second, the two users taking turns, each
//! pair's schedule shifted by its own phase. Every text carries its send time; the
//! recipient times the delivery (all clients share one process and one clock) and
//! counts duplicates, and accepted messages never delivered within the grace period
//! are lost.

use std::collections::HashSet;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context as _, bail};
use plenary_client::v1::{ConnectionActionKind, ErrorCode, push::Body};
use plenary_client::{Claims, Client, ClientError, PRIVATE_STREAM, PushStream};
use serde::Serialize;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::cli::DmArgs;
use crate::connect::{self, Plan};
use crate::report::{self, Clock, ErrorTally, Latencies, LatencySummary};

/// Limit for one send's reply.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// Sends of one pair in flight at once; the schedule waits beyond that.
const MAX_IN_FLIGHT_PER_PAIR: usize = 16;
/// Attempts of one setup command (`private_open`, request, accept).
const SETUP_ATTEMPTS: u32 = 50;
/// Wait between setup attempts without a server hint, and the longest wait.
const RETRY_WAIT: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(2);
/// The server's default private messages per second per user (`--direct-messages-per-sec`).
const DEFAULT_SERVER_DM_RATE: f64 = 5.0;

/// The `dm` scenario's JSON report.
#[derive(Debug, Serialize)]
struct DmReport {
    scenario: &'static str,
    started_at: String,
    started_at_unix_ms: u64,
    run_id: String,
    urls: Vec<String>,
    format: &'static str,
    source_ips: usize,
    pairs: usize,
    users: usize,
    /// Messages per second per pair, both directions together.
    rate: f64,
    duration_secs: f64,
    grace_secs: u64,
    /// Sends tried.
    attempted: u64,
    /// Sends the server accepted.
    messages: u64,
    /// Accepted messages that reached their recipient.
    delivered: u64,
    /// Accepted messages not delivered within the grace period.
    lost: u64,
    /// Deliveries of a message the recipient had already received.
    duplicates: u64,
    /// Message pushes at recipients, duplicates included.
    deliveries: u64,
    /// Failed sends plus connections lost during the run.
    errors: u64,
    error_kinds: ErrorTally,
    disconnects: u64,
    #[serde(flatten)]
    latency: LatencySummary,
    latency_samples: u64,
    /// `messages / phase_secs`.
    send_rate_achieved: f64,
    /// Connecting the users and opening their private streams.
    connect_secs: f64,
    connect_per_sec: f64,
    /// Connecting the pairs (request + accept).
    pair_setup_secs: f64,
    /// From the first scheduled send to the last send's reply.
    phase_secs: f64,
    /// From the last send's reply to the last delivery or the grace time-out.
    drain_secs: f64,
    drained: bool,
    duration_seconds: f64,
}

impl DmReport {
    fn rows(&self) -> Vec<(&'static str, String)> {
        vec![
            ("run id", self.run_id.clone()),
            ("urls", self.urls.join(" ")),
            (
                "pairs / users",
                format!("{} / {} ({})", self.pairs, self.users, self.format),
            ),
            (
                "connect",
                format!("{:.1} s, {:.0}/s", self.connect_secs, self.connect_per_sec),
            ),
            ("pair setup", format!("{:.1} s", self.pair_setup_secs)),
            (
                "rate / duration",
                format!("{}/s per pair / {} s", self.rate, self.duration_secs),
            ),
            (
                "messages",
                format!(
                    "{} accepted of {} tried ({:.1} msg/s)",
                    self.messages, self.attempted, self.send_rate_achieved
                ),
            ),
            (
                "delivered",
                format!("{} ({} pushes)", self.delivered, self.deliveries),
            ),
            (
                "lost / duplicates",
                format!("{} / {}", self.lost, self.duplicates),
            ),
            (
                "latency p50 / p99 / p99.9",
                format!(
                    "{:.2} / {:.2} / {:.2} ms",
                    self.latency.p50_ms, self.latency.p99_ms, self.latency.p999_ms
                ),
            ),
            (
                "latency max / mean",
                format!(
                    "{:.2} / {:.2} ms",
                    self.latency.max_ms, self.latency.mean_ms
                ),
            ),
            (
                "drain",
                format!(
                    "{:.2} s{}",
                    self.drain_secs,
                    if self.drained { "" } else { " (timed out)" }
                ),
            ),
            (
                "errors",
                format!("{} ({})", self.errors, self.error_kinds.summary()),
            ),
        ]
    }
}

/// User `i`'s id.
fn user_id(run_id: &str, i: usize) -> String {
    format!("{run_id}-u{i}")
}

/// The message text: `<run-id> #<pair>.<k> @<send ns>`.
fn compose(run_id: &str, pair: usize, k: u64, send_ns: u64) -> String {
    format!("{run_id} #{pair}.{k} @{send_ns}")
}

/// The send time in a text made by [`compose`] for this run.
fn parse(run_id: &str, text: &str) -> Option<u64> {
    let rest = text.strip_prefix(run_id)?.strip_prefix(" #")?;
    let (_, send_ns) = rest.rsplit_once(" @")?;
    send_ns.parse().ok()
}

/// A fraction in [0, 1) from a seed (splitmix64).
fn unit_fraction(seed: u64) -> f64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs a setup command, waiting out `RATE_LIMITED`, `UNAVAILABLE`, `OUTCOME_UNKNOWN` and the codes in
/// `also` (bounded).
async fn retrying<T, F, Fut>(also: &[ErrorCode], mut attempt: F) -> Result<T, ClientError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ClientError>>,
{
    let mut tries = 0;
    loop {
        tries += 1;
        match attempt().await {
            Err(e)
                if tries < SETUP_ATTEMPTS
                    && (e.is_retryable() || e.server_code().is_some_and(|c| also.contains(&c))) =>
            {
                tokio::time::sleep(e.retry_after().unwrap_or(RETRY_WAIT).min(MAX_BACKOFF)).await;
            }
            other => return other,
        }
    }
}

/// What the receivers share.
struct Shared {
    run_id: String,
    /// Unique to this process: part of every `client_msg_id`, so a rerun with the same
    /// `--run-id` is not taken for a resend.
    nonce: u64,
    clock: Clock,
    latencies: Latencies,
    /// Per user: ids of the messages it received from its peer.
    seen: Vec<Mutex<HashSet<u64>>>,
    /// First deliveries over all users (to tell when the drain may end).
    distinct: AtomicU64,
    last_delivery_ns: AtomicU64,
    stop: CancellationToken,
}

/// One user's counts.
#[derive(Default)]
struct Tally {
    deliveries: u64,
    duplicates: u64,
    /// How the connection ended, if it ended before the run did.
    disconnect: Option<String>,
}

/// Reads user `i`'s pushes until told to stop or the connection ends.
async fn receive(i: usize, me: String, mut pushes: PushStream, shared: Arc<Shared>) -> Tally {
    let mut tally = Tally::default();
    loop {
        let push = tokio::select! {
            biased;
            () = shared.stop.cancelled() => break,
            push = pushes.recv() => push,
        };
        let Some(push) = push else {
            tally.disconnect = Some("user disconnected".to_owned());
            break;
        };
        let received_ns = shared.clock.now_ns();
        if push.context_id != PRIVATE_STREAM {
            continue;
        }
        let Some(Body::PeerUpdate(update)) = push.body else {
            continue;
        };
        // Connection changes and read markers come without a message; the sender gets
        // its own messages too.
        let Some(message) = update.message else {
            continue;
        };
        if message.sender_id == me {
            continue;
        }
        let Some(send_ns) = parse(&shared.run_id, &message.text) else {
            continue;
        };
        tally.deliveries += 1;
        if !lock(&shared.seen[i]).insert(message.message_id) {
            tally.duplicates += 1;
            continue;
        }
        shared.distinct.fetch_add(1, Ordering::Relaxed);
        shared
            .last_delivery_ns
            .fetch_max(received_ns, Ordering::Relaxed);
        shared
            .latencies
            .record(i, &[received_ns.saturating_sub(send_ns) / 1000]);
    }
    tally
}

/// What one pair's sends achieved.
#[derive(Default)]
struct PairOutcome {
    attempted: u64,
    /// `(recipient, message id)` of every accepted send.
    accepted: Vec<(usize, u64)>,
    errors: ErrorTally,
}

/// A send's message id and whether the server took it for a resend, or its error.
type SendResult = Result<(u64, bool), ClientError>;

/// One pair's send schedule.
struct Schedule {
    start: tokio::time::Instant,
    end: tokio::time::Instant,
    interval_secs: f64,
    /// This pair's shift within the first interval.
    offset_secs: f64,
}

/// Sends pair `p`'s messages on its schedule, the two users taking turns.
async fn drive_pair(
    p: usize,
    users: [Arc<Client>; 2],
    ids: [Arc<str>; 2],
    schedule: Schedule,
    shared: Arc<Shared>,
) -> PairOutcome {
    let mut outcome = PairOutcome::default();
    let mut sends: JoinSet<(usize, SendResult)> = JoinSet::new();
    let collect = |outcome: &mut PairOutcome, done: (usize, SendResult)| match done {
        (recipient, Ok((message_id, duplicate))) => {
            // A fresh client_msg_id is never a resend: the server matched an old one.
            if duplicate {
                outcome
                    .errors
                    .add_kind("send taken for a resend".to_owned());
            }
            outcome.accepted.push((recipient, message_id));
        }
        (recipient, Err(e)) => outcome.errors.add(
            &format!("send to {}", ids[recipient % 2]),
            &anyhow::Error::new(e),
        ),
    };
    for k in 0u64.. {
        let at = schedule.start
            + Duration::from_secs_f64(schedule.offset_secs + k as f64 * schedule.interval_secs);
        if at >= schedule.end {
            break;
        }
        tokio::time::sleep_until(at).await;
        while sends.len() >= MAX_IN_FLIGHT_PER_PAIR {
            if let Some(Ok(done)) = sends.join_next().await {
                collect(&mut outcome, done);
            }
        }
        let from = (k % 2) as usize;
        let to = 1 - from;
        let sender = Arc::clone(&users[from]);
        let peer = Arc::clone(&ids[to]);
        let shared = Arc::clone(&shared);
        outcome.attempted += 1;
        sends.spawn(async move {
            let client_msg_id = format!("dm-{:x}-{p}.{k}", shared.nonce);
            let send_ns = shared.clock.now_ns();
            let text = compose(&shared.run_id, p, k, send_ns);
            let result =
                tokio::time::timeout(SEND_TIMEOUT, sender.dm_send(&peer, &text, &client_msg_id))
                    .await
                    .unwrap_or(Err(ClientError::Timeout(SEND_TIMEOUT)))
                    .map(|ok| (ok.message_id, ok.duplicate));
            (2 * p + to, result)
        });
        while let Some(Ok(done)) = sends.try_join_next() {
            collect(&mut outcome, done);
        }
    }
    while let Some(done) = sends.join_next().await {
        match done {
            Ok(done) => collect(&mut outcome, done),
            Err(e) => tracing::error!(error = %e, "a send task failed"),
        }
    }
    outcome
}

/// Connects pair `p`: the first user asks, the second accepts.
async fn connect_pair(a: &Client, b: &Client, a_id: &str, b_id: &str) -> Result<(), anyhow::Error> {
    retrying(&[], || a.connection(b_id, ConnectionActionKind::Request))
        .await
        .with_context(|| format!("{a_id} could not ask {b_id} to connect"))?;
    retrying(&[ErrorCode::InvalidState], || {
        b.connection(a_id, ConnectionActionKind::Accept)
    })
    .await
    .with_context(|| format!("{b_id} could not accept {a_id}'s request"))?;
    Ok(())
}

/// Runs the scenario and writes the report.
pub(crate) async fn run(args: DmArgs) -> anyhow::Result<()> {
    if args.pairs == 0 {
        bail!("--pairs must be at least 1");
    }
    if !args.rate.is_finite() || args.rate <= 0.0 {
        bail!("--rate must be a positive number");
    }
    if !args.duration.is_finite() || args.duration <= 0.0 {
        bail!("--duration must be a positive number of seconds");
    }
    let users = args.pairs * 2;
    connect::ensure_fd_budget(users)?;
    connect::warn_about_ports(users, usize::from(args.connect.source_ips));
    if args.rate / 2.0 > DEFAULT_SERVER_DM_RATE {
        tracing::warn!(
            per_user = args.rate / 2.0,
            "each user sends more private messages per second than the server's default \
             limit (5/s, --direct-messages-per-sec); expect RATE_LIMITED unless it was raised"
        );
    }

    let started_at = SystemTime::now();
    let run_started = Instant::now();
    let clock = Clock::new();
    let run_id = report::run_id(&args.run_id, "dm", started_at);
    let plan = Plan::new(&args.connect, args.format).await?;
    let ids: Arc<[Arc<str>]> = (0..users).map(|i| Arc::from(user_id(&run_id, i))).collect();

    // Users: connect and open the private stream.
    tracing::info!(users, %run_id, "connecting users");
    let connected = {
        let plan = plan.clone();
        let ids = Arc::clone(&ids);
        connect::connect_all(
            "user",
            users,
            args.connect.connect_concurrency,
            plan.connect_timeout(),
            move |i| {
                let config = plan.config(i, Claims::new(ids[i].to_string()));
                async move {
                    let (client, _) = Client::connect(config?).await?;
                    retrying(&[], || client.private_open()).await?;
                    Ok(client)
                }
            },
        )
        .await
    };
    let connect_secs = connected.elapsed.as_secs_f64();
    let connect_per_sec = connected.per_sec();
    if connected.errors.total() > 0 {
        bail!(
            "{} of {users} users could not connect or open their private stream ({})",
            connected.errors.total(),
            connected.errors.summary()
        );
    }
    let mut clients = connected.clients;
    clients.sort_unstable_by_key(|(i, _)| *i);

    // Receivers, before any pair connects.
    let nonce = report::unix_ms(started_at) ^ (u64::from(std::process::id()) << 40);
    let shared = Arc::new(Shared {
        run_id: run_id.clone(),
        nonce,
        clock,
        latencies: Latencies::new()?,
        seen: (0..users).map(|_| Mutex::new(HashSet::new())).collect(),
        distinct: AtomicU64::new(0),
        last_delivery_ns: AtomicU64::new(0),
        stop: CancellationToken::new(),
    });
    let mut receivers = JoinSet::new();
    let mut all: Vec<Arc<Client>> = Vec::with_capacity(users);
    for (i, mut client) in clients {
        let pushes = client
            .take_pushes()
            .context("the push stream was already taken")?;
        receivers.spawn(receive(i, ids[i].to_string(), pushes, Arc::clone(&shared)));
        all.push(Arc::new(client));
    }
    let all = Arc::new(all);

    // Pairs: request and accept.
    tracing::info!(pairs = args.pairs, "connecting pairs");
    let pair_started = Instant::now();
    let results = {
        let (all, ids) = (Arc::clone(&all), Arc::clone(&ids));
        let timeout = plan.connect_timeout();
        connect::run_bounded(
            (0..args.pairs).collect(),
            args.connect.connect_concurrency,
            move |p: usize| {
                let (all, ids) = (Arc::clone(&all), Arc::clone(&ids));
                async move {
                    let (a, b) = (2 * p, 2 * p + 1);
                    let setup = connect_pair(&all[a], &all[b], &ids[a], &ids[b]);
                    tokio::time::timeout(timeout, setup)
                        .await
                        .unwrap_or_else(|_| Err(anyhow::Error::new(ClientError::Timeout(timeout))))
                }
            },
        )
        .await
    };
    let pair_setup_secs = pair_started.elapsed().as_secs_f64();
    let mut pair_errors = ErrorTally::default();
    for result in results {
        if let Err(e) = result {
            pair_errors.add("pair setup", &e);
        }
    }
    if pair_errors.total() > 0 {
        shared.stop.cancel();
        bail!(
            "{} of {} pairs could not connect ({})",
            pair_errors.total(),
            args.pairs,
            pair_errors.summary()
        );
    }
    tracing::info!(secs = pair_setup_secs, "pairs connected");

    // The measurement phase.
    let interval_secs = 1.0 / args.rate;
    let seed = nonce ^ clock.now_ns();
    let start = tokio::time::Instant::now() + Duration::from_millis(20);
    let end = start + Duration::from_secs_f64(args.duration);
    tracing::info!(
        rate = args.rate,
        duration = args.duration,
        "exchanging messages"
    );
    let mut drivers = JoinSet::new();
    for p in 0..args.pairs {
        let schedule = Schedule {
            start,
            end,
            interval_secs,
            offset_secs: unit_fraction(seed ^ p as u64) * interval_secs,
        };
        drivers.spawn(drive_pair(
            p,
            [Arc::clone(&all[2 * p]), Arc::clone(&all[2 * p + 1])],
            [Arc::clone(&ids[2 * p]), Arc::clone(&ids[2 * p + 1])],
            schedule,
            Arc::clone(&shared),
        ));
    }
    let mut attempted = 0;
    let mut accepted: Vec<(usize, u64)> = Vec::new();
    let mut errors = ErrorTally::default();
    while let Some(done) = drivers.join_next().await {
        match done {
            Ok(outcome) => {
                attempted += outcome.attempted;
                accepted.extend(outcome.accepted);
                errors.merge(outcome.errors);
            }
            Err(e) => tracing::error!(error = %e, "a pair task failed"),
        }
    }
    let phase_secs = start.elapsed().as_secs_f64();
    let messages = accepted.len() as u64;
    tracing::info!(attempted, messages, "phase over; waiting for deliveries");

    // Drain: until every accepted message is delivered, or the grace period ends.
    let missing = |accepted: &[(usize, u64)]| {
        accepted
            .iter()
            .filter(|(to, id)| !lock(&shared.seen[*to]).contains(id))
            .count() as u64
    };
    let drain_started = Instant::now();
    let deadline = drain_started + Duration::from_secs(args.grace);
    let drained = loop {
        if shared.distinct.load(Ordering::Relaxed) >= messages && missing(&accepted) == 0 {
            break true;
        }
        if Instant::now() >= deadline {
            break false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let drain_secs = drain_started.elapsed().as_secs_f64();
    let lost = missing(&accepted);
    shared.stop.cancel();

    // Collect the receivers' counts.
    let (mut deliveries, mut duplicates, mut disconnects) = (0, 0, 0);
    for tally in connect::collect_within_wind_down(&mut receivers).await {
        deliveries += tally.deliveries;
        duplicates += tally.duplicates;
        if let Some(kind) = tally.disconnect {
            disconnects += 1;
            errors.add_kind(kind);
        }
    }

    // Close everything, bounded in time.
    let owned: Vec<Client> = Arc::try_unwrap(all)
        .unwrap_or_else(|all| all.to_vec())
        .into_iter()
        .filter_map(|c| Arc::try_unwrap(c).ok())
        .collect();
    connect::close_within_wind_down(owned, args.connect.connect_concurrency).await;

    let histogram = shared.latencies.merged()?;
    let report = DmReport {
        scenario: "dm",
        started_at: report::rfc3339(started_at),
        started_at_unix_ms: report::unix_ms(started_at),
        run_id,
        urls: plan.urls().to_vec(),
        format: args.format.name(),
        source_ips: plan.source_count(),
        pairs: args.pairs,
        users,
        rate: args.rate,
        duration_secs: args.duration,
        grace_secs: args.grace,
        attempted,
        messages,
        delivered: messages - lost,
        lost,
        duplicates,
        deliveries,
        errors: errors.total(),
        error_kinds: errors,
        disconnects,
        latency: LatencySummary::of(&histogram),
        latency_samples: histogram.len(),
        send_rate_achieved: connect::per_sec(messages, Duration::from_secs_f64(phase_secs)),
        connect_secs,
        connect_per_sec,
        pair_setup_secs,
        phase_secs,
        drain_secs,
        drained,
        duration_seconds: run_started.elapsed().as_secs_f64(),
    };
    report::write_json(&args.json, &report)?;
    report::print_table(
        &format!("plenary-loadtest dm → {}", args.json.display()),
        &report.rows(),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trip() {
        let text = compose("dm-17", 3, 9, 123_456_789);
        assert_eq!(text, "dm-17 #3.9 @123456789");
        assert_eq!(parse("dm-17", &text), Some(123_456_789));
        assert_eq!(parse("dm-18", &text), None, "another run's message");
        assert_eq!(parse("dm-17", "hello"), None);
        assert_eq!(parse("dm-17", "dm-17 #3.9 @x"), None);
        assert_eq!(user_id("dm-17", 4), "dm-17-u4");
    }

    #[test]
    fn phases_are_spread_over_the_interval() {
        let fractions: Vec<f64> = (0..1000u64).map(|p| unit_fraction(42 ^ p)).collect();
        assert!(fractions.iter().all(|f| (0.0..1.0).contains(f)));
        let low = fractions.iter().filter(|f| **f < 0.5).count();
        assert!((400..600).contains(&low), "{low}");
    }
}
