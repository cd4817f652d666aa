//! The `fanout` scenario: N attendees and one publisher in one context. The publisher
//! sends M messages whose text carries the message index and the send time; every
//! attendee times each delivery and counts losses and duplicates. With `--raw` the
//! same clients drive the limit baseline (`plenary-loadtest baseline`) instead of a
//! gateway; with `--server-pid` the server's CPU time over the send and the drain is
//! reported per million deliveries.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context as _, bail};
use plenary_client::v1::push::Body;
use plenary_client::{Claims, Client, ClientError, PushStream};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::cli::FanoutArgs;
use crate::connect::{self, Plan};
use crate::procfs;
use crate::report::{self, Clock, ErrorTally, FanoutReport, Latencies, LatencySummary};

/// Sends in flight at once.
const MAX_IN_FLIGHT: usize = 64;
/// Limit for one send's reply.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// Attempts per message that failed (unavailability, time-outs).
const SEND_ATTEMPTS: u32 = 100;
/// `RATE_LIMITED` answers one message may get before the run counts it as an error
/// (a room's pace refuses a fast publisher often; each wait is the server's).
const RATE_LIMITED_ATTEMPTS: u32 = 10_000;
/// Longest wait between attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// Latencies a receiver collects before recording them in the shared histogram.
const LATENCY_BATCH: usize = 256;
/// Read buffer per attendee socket.
const READ_BUFFER: usize = 8 * 1024;

/// Runs the scenario and writes the report.
pub(crate) async fn run(args: FanoutArgs) -> anyhow::Result<()> {
    let common = &args.common;
    if args.messages == 0 {
        bail!("--messages must be at least 1");
    }
    if !args.rate.is_finite() || args.rate < 0.0 {
        bail!("--rate must be 0 (unlimited) or a positive number");
    }
    // Fails fast on a wrong pid, before anything connects.
    procfs::total_cpu_secs(&args.server_pid)
        .context("--server-pid: cannot read the server's CPU time")?;
    connect::ensure_fd_budget(common.clients + 1)?;
    connect::warn_about_ports(common.clients + 1, usize::from(common.connect.source_ips));

    let started_at = SystemTime::now();
    let run_started = Instant::now();
    let clock = Clock::new();
    let context = report::run_id(&common.context, "bench", started_at);
    let plan = Plan::new(&common.connect, common.format).await?;
    let mut errors = ErrorTally::default();

    // The publisher first: it fails fast on a wrong URL, secret or context. In a
    // cluster it goes on a node that does not own the context.
    let owner = match &args.redis_url {
        Some(redis_url) if plan.urls().len() > 1 => {
            Some(connect::owner_node(redis_url, &args.redis_prefix, args.shards, &context).await?)
        }
        _ => None,
    };
    let publisher_claims = || Claims::new("load-pub").with_moderates([context.clone()]);
    let mut candidates: Vec<String> = plan.urls().iter().rev().cloned().collect();
    let (mut publisher, hello, publisher_url) = loop {
        let Some(url) = candidates
            .pop()
            .filter(|_| owner.is_some())
            .or_else(|| plan.urls().last().cloned())
        else {
            bail!("no gateway URL for the publisher");
        };
        let config = plan.config_for(&url, 0, publisher_claims())?;
        let (client, hello) = tokio::time::timeout(plan.connect_timeout(), Client::connect(config))
            .await
            .unwrap_or(Err(ClientError::Timeout(plan.connect_timeout())))
            .context("the publisher could not connect")?;
        match &owner {
            Some(owner) if hello.node_id == *owner && !candidates.is_empty() => {
                client.close().await
            }
            _ => break (client, hello, url),
        }
    };
    let publisher_node = hello.node_id.clone();
    let is_baseline = publisher_node == crate::baseline::NODE_ID;
    if args.raw != is_baseline {
        publisher.close().await;
        if args.raw {
            bail!(
                "--raw: `{publisher_url}` is not `plenary-loadtest baseline` (node `{publisher_node}`)"
            );
        }
        bail!("`{publisher_url}` is `plenary-loadtest baseline`: pass --raw");
    }
    if let Some(owner) = &owner {
        tracing::info!(%owner, publisher_node, "publisher placed on a non-owner node");
    }
    tokio::time::timeout(
        plan.connect_timeout(),
        crate::connect::join_retrying(&publisher, &context),
    )
    .await
    .unwrap_or(Err(ClientError::Timeout(plan.connect_timeout())))
    .with_context(|| format!("the publisher could not join `{context}`"))?;
    let size = match hello.limits.map(|l| l.max_text_chars as usize) {
        Some(max) if max > 0 && args.size > max => {
            tracing::warn!(
                size = args.size,
                max,
                "--size exceeds the server's max_text_chars; clamped"
            );
            max
        }
        _ => args.size,
    };
    if let Some(limits) = hello.limits
        && limits.commands_per_sec > 0
        && (args.rate == 0.0 || args.rate > f64::from(limits.commands_per_sec))
    {
        tracing::warn!(
            rate = args.rate,
            commands_per_sec = limits.commands_per_sec,
            burst = limits.command_burst,
            "the publisher will send faster than the per-user command limit; expect RATE_LIMITED"
        );
    }

    // Attendees.
    tracing::info!(clients = common.clients, %context, "connecting attendees");
    let connected = connect::attendees(
        &plan,
        common.clients,
        common.connect.connect_concurrency,
        &context,
        |c| c.with_read_buffer_size(READ_BUFFER),
    )
    .await;
    let connect_seconds = connected.elapsed.as_secs_f64();
    let connect_per_sec = connected.per_sec();
    let connect_errors = connected.errors.total();
    errors.merge(connected.errors);
    let clients = connected.clients.len();
    tracing::info!(clients, connect_errors, "attendees ready");
    if clients == 0 {
        publisher.close().await;
        bail!(
            "none of the {} attendees connected ({})",
            common.clients,
            errors.summary()
        );
    }

    // Receivers.
    let shared = Arc::new(Shared {
        clock,
        messages: args.messages,
        latencies: Latencies::new()?,
        distinct_total: AtomicU64::new(0),
        last_delivery_ns: AtomicU64::new(0),
        stop: CancellationToken::new(),
    });
    let mut receivers = JoinSet::new();
    for (i, mut client) in connected.clients {
        let Some(pushes) = client.take_pushes() else {
            continue;
        };
        let shared = Arc::clone(&shared);
        receivers.spawn(async move {
            let mut tally = receive(i, pushes, &shared).await;
            if tally.disconnect.is_some()
                && let Some(info) = client.close_info()
                && info.is_close_frame()
            {
                tally.disconnect = Some(format!("attendee disconnected (close {})", info.code));
            }
            (client, tally)
        });
    }
    let publisher_pushes = publisher.take_pushes();
    let publisher = Arc::new(publisher);
    let drain_publisher = tokio::spawn(drain(publisher_pushes, shared.stop.clone()));

    // Sending. The server's CPU time counts from just before the first send.
    tracing::info!(messages = args.messages, rate = args.rate, size, "sending");
    let cpu_before = procfs::total_cpu_secs(&args.server_pid)
        .context("--server-pid: cannot read the server's CPU time")?;
    let sending = send_all(&publisher, &context, &args, size, &shared).await;
    errors.merge(sending.errors.clone());
    let first_send_ns = sending.first_send_ns;
    let send_seconds = sending.elapsed.as_secs_f64();

    // Drain: until every attendee has every sent message, or the time-out.
    let expected = clients as u64 * sending.sent;
    let drain_started = Instant::now();
    let drain_deadline = drain_started + Duration::from_secs(args.drain_timeout);
    let drained = loop {
        if shared.distinct_total.load(Ordering::Relaxed) >= expected {
            break true;
        }
        if Instant::now() >= drain_deadline {
            break false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let drain_seconds = drain_started.elapsed().as_secs_f64();
    let cpu_after = procfs::total_cpu_secs(&args.server_pid).unwrap_or_else(|e| {
        tracing::warn!("--server-pid: {e:#}; no CPU figure");
        None
    });
    shared.stop.cancel();

    // Collect the receivers' counts, and which members the server closed: their
    // connection ended before this tool closed it.
    let mut totals = Totals::default();
    let mut disconnected = 0u64;
    let mut attendees = Vec::with_capacity(clients);
    for (client, tally) in connect::collect_within_wind_down(&mut receivers).await {
        totals.add(&tally, &sending.sent_set);
        disconnected += u64::from(tally.disconnect.is_some() || !client.is_open());
        if let Some(kind) = tally.disconnect {
            errors.add_kind(kind);
        }
        attendees.push(client);
    }
    let _ = drain_publisher.await;
    disconnected += u64::from(!publisher.is_open());

    // Close everything, bounded in time.
    if let Ok(publisher) = Arc::try_unwrap(publisher) {
        attendees.push(publisher);
    }
    connect::close_within_wind_down(attendees, common.connect.connect_concurrency).await;

    let histogram = shared.latencies.merged()?;
    let last_delivery_ns = shared.last_delivery_ns.load(Ordering::Relaxed);
    let delivery_window = Duration::from_nanos(last_delivery_ns.saturating_sub(first_send_ns));
    let server_cpu_seconds = cpu_before
        .zip(cpu_after)
        .map(|(before, after)| (after - before).max(0.0));
    let server_cpu_s_per_million = server_cpu_seconds
        .filter(|_| totals.deliveries > 0)
        .map(|cpu| cpu * 1e6 / totals.deliveries as f64);
    let report = FanoutReport {
        scenario: "fanout",
        started_at: report::rfc3339(started_at),
        started_at_unix_ms: report::unix_ms(started_at),
        urls: plan.urls().to_vec(),
        publisher_url,
        publisher_node,
        owner_node: owner.unwrap_or_default(),
        context,
        format: common.format.name(),
        size,
        rate: args.rate,
        source_ips: plan.source_count(),
        clients_requested: common.clients,
        clients,
        messages: args.messages,
        messages_sent: sending.sent,
        expected_deliveries: expected,
        deliveries: totals.deliveries,
        distinct_deliveries: totals.distinct,
        lost: expected.saturating_sub(totals.distinct),
        duplicates: totals.duplicates,
        clients_with_loss: totals.clients_with_loss,
        latency: LatencySummary::of(&histogram),
        latency_samples: histogram.len(),
        deliveries_per_sec: connect::per_sec(totals.deliveries, delivery_window),
        connect_per_sec,
        connect_seconds,
        send_seconds,
        send_rate_achieved: connect::per_sec(sending.sent, sending.elapsed),
        drain_seconds,
        drained,
        rate_limited: sending.rate_limited,
        errors: errors.total(),
        connect_errors,
        send_errors: sending.errors.total(),
        disconnects: totals.disconnects,
        disconnected,
        server_cpu_seconds,
        server_cpu_s_per_million,
        error_kinds: errors,
        duration_seconds: run_started.elapsed().as_secs_f64(),
    };
    report::write_json(&common.json, &report)?;
    report::print_table(
        &format!("plenary-loadtest fanout → {}", common.json.display()),
        &report.rows(),
    );
    Ok(())
}

/// What the receivers share.
struct Shared {
    clock: Clock,
    messages: u32,
    latencies: Latencies,
    /// First deliveries of any index, over all receivers (to tell when to stop).
    distinct_total: AtomicU64,
    last_delivery_ns: AtomicU64,
    stop: CancellationToken,
}

/// The message text: `#<index>@<send ns>;` padded with `x` to `size` bytes.
fn compose(index: u32, send_ns: u64, size: usize) -> String {
    let mut text = format!("#{index}@{send_ns};");
    if text.len() < size {
        text.extend(std::iter::repeat_n('x', size - text.len()));
    }
    text
}

/// The index and send time in a text made by [`compose`].
fn parse(text: &str) -> Option<(u32, u64)> {
    let (index, rest) = text.strip_prefix('#')?.split_once('@')?;
    let (send_ns, _) = rest.split_once(';')?;
    Some((index.parse().ok()?, send_ns.parse().ok()?))
}

/// A set of message indices below a bound, one bit each.
#[derive(Clone, Debug)]
struct Bits {
    words: Vec<u64>,
    len: u32,
}

impl Bits {
    fn new(len: u32) -> Self {
        Bits {
            words: vec![0; (len as usize).div_ceil(64)],
            len,
        }
    }

    /// Adds `i`; true if it was not there (and is in range).
    fn insert(&mut self, i: u32) -> bool {
        if i >= self.len {
            return false;
        }
        let (word, bit) = ((i / 64) as usize, 1u64 << (i % 64));
        match self.words.get_mut(word) {
            Some(w) if *w & bit == 0 => {
                *w |= bit;
                true
            }
            _ => false,
        }
    }

    /// Bits set in both.
    fn count_common(&self, other: &Bits) -> u64 {
        self.words
            .iter()
            .zip(&other.words)
            .map(|(a, b)| u64::from((a & b).count_ones()))
            .sum()
    }
}

/// One attendee's counts.
struct Tally {
    deliveries: u64,
    duplicates: u64,
    seen: Bits,
    /// How the connection ended, if it ended before the run did.
    disconnect: Option<String>,
}

/// Reads an attendee's pushes until told to stop or the connection ends.
async fn receive(i: usize, mut pushes: PushStream, shared: &Shared) -> Tally {
    let mut tally = Tally {
        deliveries: 0,
        duplicates: 0,
        seen: Bits::new(shared.messages),
        disconnect: None,
    };
    let mut batch = Vec::with_capacity(LATENCY_BATCH);
    loop {
        let push = tokio::select! {
            biased;
            () = shared.stop.cancelled() => break,
            push = pushes.recv() => push,
        };
        let Some(push) = push else {
            tally.disconnect = Some("attendee disconnected".to_owned());
            break;
        };
        let received_ns = shared.clock.now_ns();
        let Some(Body::Message(message)) = push.body else {
            continue;
        };
        let Some((index, send_ns)) = parse(&message.text) else {
            continue;
        };
        if index >= shared.messages {
            continue;
        }
        tally.deliveries += 1;
        if !tally.seen.insert(index) {
            tally.duplicates += 1;
            continue;
        }
        shared.distinct_total.fetch_add(1, Ordering::Relaxed);
        shared
            .last_delivery_ns
            .fetch_max(received_ns, Ordering::Relaxed);
        batch.push(received_ns.saturating_sub(send_ns) / 1000);
        if batch.len() >= LATENCY_BATCH {
            shared.latencies.record(i, &batch);
            batch.clear();
        }
    }
    shared.latencies.record(i, &batch);
    tally
}

/// Takes the publisher's own pushes so its queue never fills.
async fn drain(pushes: Option<PushStream>, stop: CancellationToken) {
    let Some(mut pushes) = pushes else { return };
    loop {
        tokio::select! {
            biased;
            () = stop.cancelled() => return,
            push = pushes.recv() => if push.is_none() { return },
        }
    }
}

/// Sums of the attendees' counts.
#[derive(Default)]
struct Totals {
    deliveries: u64,
    duplicates: u64,
    distinct: u64,
    clients_with_loss: u64,
    disconnects: u64,
}

impl Totals {
    fn add(&mut self, tally: &Tally, sent: &Bits) {
        let distinct = tally.seen.count_common(sent);
        let sent_count = sent.count_common(sent);
        self.deliveries += tally.deliveries;
        self.duplicates += tally.duplicates;
        self.distinct += distinct;
        self.clients_with_loss += u64::from(distinct < sent_count);
        self.disconnects += u64::from(tally.disconnect.is_some());
    }
}

/// What the publisher achieved.
struct Sending {
    sent: u64,
    sent_set: Bits,
    rate_limited: u64,
    errors: ErrorTally,
    first_send_ns: u64,
    elapsed: Duration,
}

/// Sends every message at the requested rate with at most [`MAX_IN_FLIGHT`] in flight.
async fn send_all(
    publisher: &Arc<Client>,
    context: &str,
    args: &FanoutArgs,
    size: usize,
    shared: &Arc<Shared>,
) -> Sending {
    let started = Instant::now();
    let state = Arc::new(SendState {
        sent_set: std::sync::Mutex::new(Bits::new(args.messages)),
        sent: AtomicU64::new(0),
        rate_limited: AtomicU64::new(0),
        first_send_ns: AtomicU64::new(u64::MAX),
        errors: std::sync::Mutex::new(ErrorTally::default()),
    });
    let permits = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    let mut ticker = (args.rate > 0.0).then(|| {
        let mut t = tokio::time::interval(Duration::from_secs_f64(1.0 / args.rate));
        t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        t
    });
    let run_id = shared.clock.now_ns() ^ u64::from(std::process::id());
    let mut tasks = JoinSet::new();
    let step = (args.messages / 10).max(1);
    for index in 0..args.messages {
        if let Some(ticker) = ticker.as_mut() {
            ticker.tick().await;
        }
        let Ok(permit) = Arc::clone(&permits).acquire_owned().await else {
            break;
        };
        if !publisher.is_open() {
            let kind = match publisher.close_info() {
                Some(info) => format!("publisher disconnected (close {})", info.code),
                None => "publisher disconnected".to_owned(),
            };
            tracing::error!("{kind}; stopped sending after {index} messages");
            lock(&state.errors).add_kind(kind);
            break;
        }
        let publisher = Arc::clone(publisher);
        let state = Arc::clone(&state);
        let context = context.to_owned();
        let clock = shared.clock;
        tasks.spawn(async move {
            send_one(&publisher, &context, index, size, run_id, clock, &state).await;
            drop(permit);
        });
        while tasks.try_join_next().is_some() {}
        if (index + 1).is_multiple_of(step) {
            tracing::info!("sent {}/{}", index + 1, args.messages);
        }
    }
    while tasks.join_next().await.is_some() {}
    let elapsed = started.elapsed();
    let sent_set = lock(&state.sent_set).clone();
    let errors = lock(&state.errors).clone();
    Sending {
        sent: state.sent.load(Ordering::Relaxed),
        sent_set,
        rate_limited: state.rate_limited.load(Ordering::Relaxed),
        errors,
        first_send_ns: match state.first_send_ns.load(Ordering::Relaxed) {
            u64::MAX => 0,
            ns => ns,
        },
        elapsed,
    }
}

struct SendState {
    sent_set: std::sync::Mutex<Bits>,
    sent: AtomicU64,
    rate_limited: AtomicU64,
    first_send_ns: AtomicU64,
    errors: std::sync::Mutex<ErrorTally>,
}

fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// Sends message `index`, retrying after RATE_LIMITED, UNAVAILABLE, OUTCOME_UNKNOWN and
/// time-outs (with the same client message id, so a retry never stores it twice).
async fn send_one(
    publisher: &Client,
    context: &str,
    index: u32,
    size: usize,
    run_id: u64,
    clock: Clock,
    state: &SendState,
) {
    let client_msg_id = format!("load-{run_id:x}-{index}");
    let mut last_error = None;
    let (mut attempts, mut limited) = (0, 0);
    while attempts < SEND_ATTEMPTS && limited < RATE_LIMITED_ATTEMPTS {
        let send_ns = clock.now_ns();
        let text = compose(index, send_ns, size);
        let outcome = tokio::time::timeout(
            SEND_TIMEOUT,
            publisher.send(context, &text, &client_msg_id, 0),
        )
        .await
        .unwrap_or(Err(ClientError::Timeout(SEND_TIMEOUT)));
        match outcome {
            Ok(_) => {
                state.sent.fetch_add(1, Ordering::Relaxed);
                state.first_send_ns.fetch_min(send_ns, Ordering::Relaxed);
                lock(&state.sent_set).insert(index);
                return;
            }
            Err(e) if e.is_rate_limited() => {
                // The server asked to wait: not a failed attempt. The wait is spread
                // (up to twice the time given), so the sends in flight that were all
                // refused together do not all come back at the same instant.
                limited += 1;
                state.rate_limited.fetch_add(1, Ordering::Relaxed);
                let wait = e.retry_after().unwrap_or(Duration::from_millis(100));
                let spread = (clock.now_ns() % 1_000) as f64 / 1_000.0;
                tokio::time::sleep(wait.mul_f64(1.0 + spread).min(MAX_BACKOFF)).await;
                continue;
            }
            Err(e) if e.is_retryable() => {
                attempts += 1;
                let wait = e.retry_after().unwrap_or(Duration::from_millis(100));
                tokio::time::sleep(wait.min(MAX_BACKOFF)).await;
                last_error = Some(e);
            }
            Err(e @ ClientError::Timeout(_)) if publisher.is_open() => {
                attempts += 1;
                last_error = Some(e);
            }
            Err(e) => {
                last_error = Some(e);
                break;
            }
        }
    }
    let error = last_error.unwrap_or(ClientError::UnexpectedReply(
        "still rate limited after every attempt".to_owned(),
    ));
    lock(&state.errors).add(&format!("send {index}"), &anyhow::Error::new(error));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trip_and_size() {
        let text = compose(42, 123_456_789, 100);
        assert_eq!(text.len(), 100);
        assert_eq!(parse(&text), Some((42, 123_456_789)));
        let short = compose(7, 5, 1);
        assert_eq!(short, "#7@5;");
        assert_eq!(parse(&short), Some((7, 5)));
        assert_eq!(parse("hello"), None);
        assert_eq!(parse("#x@1;"), None);
    }

    #[test]
    fn bits_count_distinct_and_common() {
        let mut seen = Bits::new(130);
        assert!(seen.insert(0));
        assert!(seen.insert(129));
        assert!(!seen.insert(129));
        assert!(!seen.insert(130), "out of range");
        let mut sent = Bits::new(130);
        sent.insert(129);
        sent.insert(5);
        assert_eq!(seen.count_common(&sent), 1);
        assert_eq!(sent.count_common(&sent), 2);
    }

    #[test]
    fn totals_count_loss_against_what_was_sent() {
        let mut sent = Bits::new(4);
        for i in 0..3 {
            sent.insert(i);
        }
        let mut seen = Bits::new(4);
        seen.insert(0);
        seen.insert(1);
        seen.insert(3); // not confirmed as sent: not counted
        let tally = Tally {
            deliveries: 4,
            duplicates: 1,
            seen,
            disconnect: None,
        };
        let mut totals = Totals::default();
        totals.add(&tally, &sent);
        assert_eq!(
            (totals.deliveries, totals.duplicates, totals.distinct),
            (4, 1, 2)
        );
        assert_eq!(totals.clients_with_loss, 1);
    }
}
