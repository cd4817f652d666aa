//! Measurements and their presentation: the latency histogram, error tallies, the JSON
//! reports and the readable tables.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use hdrhistogram::Histogram;
use plenary_client::ClientError;
use serde::Serialize;

/// Latencies are recorded in microseconds, from 1 µs to an hour.
const LATENCY_MAX_US: u64 = 3_600_000_000;
/// Shards of the shared histogram, so receivers rarely wait for each other.
const SHARDS: usize = 16;
/// How many full error messages are logged before only counting.
const LOGGED_ERRORS: u64 = 5;

/// Nanoseconds since one process-wide instant, comparable across tasks.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Clock {
    base: Instant,
}

impl Clock {
    pub(crate) fn new() -> Self {
        Clock {
            base: Instant::now(),
        }
    }

    pub(crate) fn now_ns(&self) -> u64 {
        u64::try_from(self.base.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }
}

/// A latency histogram in microseconds that many tasks record into.
pub(crate) struct Latencies {
    shards: Vec<Mutex<Histogram<u64>>>,
}

impl Latencies {
    pub(crate) fn new() -> anyhow::Result<Self> {
        let shards = (0..SHARDS)
            .map(|_| new_histogram().map(Mutex::new))
            .collect::<anyhow::Result<_>>()?;
        Ok(Latencies { shards })
    }

    /// Records a batch of latencies in microseconds; `hint` picks the shard.
    pub(crate) fn record(&self, hint: usize, micros: &[u64]) {
        let mut shard = self.shards[hint % SHARDS]
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        for &us in micros {
            shard.saturating_record(us.clamp(1, LATENCY_MAX_US));
        }
    }

    /// All shards together.
    pub(crate) fn merged(&self) -> anyhow::Result<Histogram<u64>> {
        let mut all = new_histogram()?;
        for shard in &self.shards {
            let shard = shard.lock().unwrap_or_else(|e| e.into_inner());
            all.add(&*shard).context("merging latency histograms")?;
        }
        Ok(all)
    }
}

fn new_histogram() -> anyhow::Result<Histogram<u64>> {
    Histogram::new_with_bounds(1, LATENCY_MAX_US, 3).context("creating a latency histogram")
}

/// Percentiles of a microsecond histogram, in milliseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub(crate) struct LatencySummary {
    pub(crate) p50_ms: f64,
    pub(crate) p90_ms: f64,
    pub(crate) p99_ms: f64,
    pub(crate) p999_ms: f64,
    pub(crate) max_ms: f64,
    pub(crate) mean_ms: f64,
}

impl LatencySummary {
    pub(crate) fn of(histogram: &Histogram<u64>) -> Self {
        if histogram.is_empty() {
            return LatencySummary::default();
        }
        let ms = |us: u64| us as f64 / 1000.0;
        LatencySummary {
            p50_ms: ms(histogram.value_at_quantile(0.50)),
            p90_ms: ms(histogram.value_at_quantile(0.90)),
            p99_ms: ms(histogram.value_at_quantile(0.99)),
            p999_ms: ms(histogram.value_at_quantile(0.999)),
            max_ms: ms(histogram.max()),
            mean_ms: histogram.mean() / 1000.0,
        }
    }
}

/// Errors counted by kind ("timeout", "close 4004", "RATE_LIMITED", ...); the first few
/// are logged in full.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(transparent)]
pub(crate) struct ErrorTally {
    kinds: BTreeMap<String, u64>,
}

impl ErrorTally {
    /// Counts `error`, which happened to `who`.
    pub(crate) fn add(&mut self, who: &str, error: &anyhow::Error) {
        if self.total() < LOGGED_ERRORS {
            tracing::warn!("{who}: {error:#}");
        }
        self.add_kind(error_kind(error));
    }

    /// Counts an error of a known kind.
    pub(crate) fn add_kind(&mut self, kind: String) {
        *self.kinds.entry(kind).or_default() += 1;
    }

    /// Adds another tally.
    pub(crate) fn merge(&mut self, other: ErrorTally) {
        for (kind, n) in other.kinds {
            *self.kinds.entry(kind).or_default() += n;
        }
    }

    pub(crate) fn total(&self) -> u64 {
        self.kinds.values().sum()
    }

    /// "kind ×n, ..." for the table.
    pub(crate) fn summary(&self) -> String {
        if self.kinds.is_empty() {
            return "none".to_owned();
        }
        self.kinds
            .iter()
            .map(|(kind, n)| format!("{kind} ×{n}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A short, countable description of an error.
pub(crate) fn error_kind(error: &anyhow::Error) -> String {
    match error.downcast_ref::<ClientError>() {
        Some(e) => client_error_kind(e),
        None => "other".to_owned(),
    }
}

/// A short, countable description of a client error.
pub(crate) fn client_error_kind(error: &ClientError) -> String {
    match error {
        ClientError::InvalidUrl { .. } => "invalid url".to_owned(),
        ClientError::Io(e) => format!("io {:?}", e.kind()),
        ClientError::Rejected { status } => format!("http {status}"),
        ClientError::Handshake(_) => "handshake".to_owned(),
        ClientError::Timeout(_) => "timeout".to_owned(),
        ClientError::Closed { code, .. } => format!("close {code}"),
        ClientError::Server { code, .. } => code.as_str_name().to_owned(),
        ClientError::UnexpectedReply(_) => "unexpected reply".to_owned(),
    }
}

/// The `fanout` scenario's JSON report.
#[derive(Debug, Serialize)]
pub(crate) struct FanoutReport {
    pub(crate) scenario: &'static str,
    pub(crate) started_at: String,
    pub(crate) started_at_unix_ms: u64,
    pub(crate) urls: Vec<String>,
    pub(crate) publisher_url: String,
    /// The node the publisher is on, and the context's owner (cluster mode).
    pub(crate) publisher_node: String,
    pub(crate) owner_node: String,
    pub(crate) context: String,
    pub(crate) format: &'static str,
    pub(crate) size: usize,
    pub(crate) rate: f64,
    pub(crate) source_ips: usize,
    /// Attendees asked for.
    pub(crate) clients_requested: usize,
    /// Attendees that connected and joined.
    pub(crate) clients: usize,
    /// Messages asked for.
    pub(crate) messages: u32,
    /// Messages the server accepted.
    pub(crate) messages_sent: u64,
    /// `clients × messages_sent`.
    pub(crate) expected_deliveries: u64,
    /// Message pushes received, duplicates included.
    pub(crate) deliveries: u64,
    /// Distinct (client, message) pairs of sent messages received.
    pub(crate) distinct_deliveries: u64,
    pub(crate) lost: u64,
    pub(crate) duplicates: u64,
    /// Clients that were missing at least one message.
    pub(crate) clients_with_loss: u64,
    #[serde(flatten)]
    pub(crate) latency: LatencySummary,
    pub(crate) latency_samples: u64,
    /// `deliveries` per second, from the first send to the last delivery.
    pub(crate) deliveries_per_sec: f64,
    /// Attendees connected and joined per second during the connect phase.
    pub(crate) connect_per_sec: f64,
    pub(crate) connect_seconds: f64,
    /// Time from the first send to the last send's reply.
    pub(crate) send_seconds: f64,
    /// `messages_sent / send_seconds`.
    pub(crate) send_rate_achieved: f64,
    /// Time from the last send's reply until all deliveries arrived or the drain
    /// time-out.
    pub(crate) drain_seconds: f64,
    pub(crate) drained: bool,
    pub(crate) rate_limited: u64,
    /// All errors: connects, connections lost during the run, failed sends.
    pub(crate) errors: u64,
    pub(crate) connect_errors: u64,
    pub(crate) send_errors: u64,
    /// Attendee connections that ended before the run did.
    pub(crate) disconnects: u64,
    /// Members (attendees and the publisher) the server closed during the run: their
    /// connection had ended, with a close frame or without, before the tool closed it.
    pub(crate) disconnected: u64,
    /// Server CPU seconds (user + system, `--server-pid`) from just before the first
    /// send to the end of the drain, and per million `deliveries`; `null` without
    /// `--server-pid` (and the second also without deliveries).
    pub(crate) server_cpu_seconds: Option<f64>,
    pub(crate) server_cpu_s_per_million: Option<f64>,
    pub(crate) error_kinds: ErrorTally,
    pub(crate) duration_seconds: f64,
}

impl FanoutReport {
    pub(crate) fn rows(&self) -> Vec<(&'static str, String)> {
        vec![
            ("context", self.context.clone()),
            ("urls", self.urls.join(" ")),
            (
                "format / size / rate",
                format!(
                    "{} / {} B / {}",
                    self.format,
                    self.size,
                    rate_label(self.rate)
                ),
            ),
            (
                "clients",
                format!("{} of {}", self.clients, self.clients_requested),
            ),
            (
                "connect",
                format!(
                    "{:.1} s, {:.0}/s",
                    self.connect_seconds, self.connect_per_sec
                ),
            ),
            (
                "messages sent",
                format!("{} of {}", self.messages_sent, self.messages),
            ),
            (
                "send",
                format!(
                    "{:.2} s, {:.1} msg/s",
                    self.send_seconds, self.send_rate_achieved
                ),
            ),
            (
                "deliveries",
                format!(
                    "{} of {} expected",
                    self.deliveries, self.expected_deliveries
                ),
            ),
            (
                "lost / duplicates",
                format!(
                    "{} / {} ({} clients with loss)",
                    self.lost, self.duplicates, self.clients_with_loss
                ),
            ),
            ("deliveries/s", format!("{:.0}", self.deliveries_per_sec)),
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
                    self.drain_seconds,
                    if self.drained { "" } else { " (timed out)" }
                ),
            ),
            ("rate limited", self.rate_limited.to_string()),
            ("disconnected by server", self.disconnected.to_string()),
            (
                "server CPU",
                match (self.server_cpu_seconds, self.server_cpu_s_per_million) {
                    (Some(cpu), Some(per_million)) => {
                        format!("{cpu:.2} s, {per_million:.2} s per million deliveries")
                    }
                    (Some(cpu), None) => format!("{cpu:.2} s"),
                    _ => "n/a (no --server-pid)".to_owned(),
                },
            ),
            (
                "errors",
                format!("{} ({})", self.errors, self.error_kinds.summary()),
            ),
        ]
    }
}

/// The `idle` scenario's JSON report.
#[derive(Debug, Serialize)]
pub(crate) struct IdleReport {
    pub(crate) scenario: &'static str,
    pub(crate) started_at: String,
    pub(crate) started_at_unix_ms: u64,
    pub(crate) urls: Vec<String>,
    pub(crate) context: String,
    pub(crate) format: &'static str,
    pub(crate) server_pid: u32,
    pub(crate) hold_seconds: u64,
    pub(crate) clients_requested: usize,
    /// Clients that connected and joined.
    pub(crate) clients: usize,
    /// Clients still connected when the memory was measured.
    pub(crate) connected: usize,
    pub(crate) rss_before_bytes: u64,
    pub(crate) rss_after_bytes: u64,
    /// `(rss_after − rss_before) / connected`; negative if the server shrank.
    pub(crate) rss_per_connection_bytes: i64,
    pub(crate) connect_per_sec: f64,
    pub(crate) connect_seconds: f64,
    pub(crate) errors: u64,
    pub(crate) error_kinds: ErrorTally,
}

impl IdleReport {
    pub(crate) fn rows(&self) -> Vec<(&'static str, String)> {
        vec![
            ("context", self.context.clone()),
            ("urls", self.urls.join(" ")),
            ("server pid", self.server_pid.to_string()),
            (
                "clients",
                format!(
                    "{} of {} ({} still connected)",
                    self.clients, self.clients_requested, self.connected
                ),
            ),
            (
                "connect",
                format!(
                    "{:.1} s, {:.0}/s",
                    self.connect_seconds, self.connect_per_sec
                ),
            ),
            ("RSS before", format_bytes(self.rss_before_bytes)),
            (
                "RSS after",
                format!(
                    "{} (held {} s)",
                    format_bytes(self.rss_after_bytes),
                    self.hold_seconds
                ),
            ),
            (
                "RSS per connection",
                format!("{} B", self.rss_per_connection_bytes),
            ),
            (
                "errors",
                format!("{} ({})", self.errors, self.error_kinds.summary()),
            ),
        ]
    }
}

fn rate_label(rate: f64) -> String {
    if rate > 0.0 {
        format!("{rate}/s")
    } else {
        "unlimited".to_owned()
    }
}

fn format_bytes(bytes: u64) -> String {
    format!("{:.1} MiB ({bytes} B)", bytes as f64 / (1024.0 * 1024.0))
}

/// Prints a two-column table.
pub(crate) fn print_table(title: &str, rows: &[(&'static str, String)]) {
    let width = rows
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    println!("{title}");
    println!("{}", "-".repeat(title.chars().count().max(width + 20)));
    for (key, value) in rows {
        println!("{key:<width$}  {value}");
    }
}

/// Writes `report` as pretty JSON to `path`.
pub(crate) fn write_json<T: Serialize>(path: &Path, report: &T) -> anyhow::Result<()> {
    let mut text = serde_json::to_string_pretty(report).context("serialising the report")?;
    text.push('\n');
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

/// Milliseconds since the Unix epoch.
/// The id a run uses: the one given, or a fresh `<prefix>-<unix-ms of started_at>`.
pub(crate) fn run_id(given: &Option<String>, prefix: &str, started_at: SystemTime) -> String {
    given
        .clone()
        .unwrap_or_else(|| format!("{prefix}-{}", unix_ms(started_at)))
}

pub(crate) fn unix_ms(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// `time` as an RFC 3339 UTC timestamp with milliseconds.
pub(crate) fn rfc3339(time: SystemTime) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    let secs = since.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        since.subsec_millis()
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's algorithm).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_formats_known_instants() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let t = UNIX_EPOCH + Duration::from_millis(1_709_251_199_123);
        assert_eq!(rfc3339(t), "2024-02-29T23:59:59.123Z");
        let t = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(rfc3339(t), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn latencies_merge_shards_into_percentiles() {
        let lat = Latencies::new().unwrap();
        let values: Vec<u64> = (1..=1000).map(|ms| ms * 1000).collect();
        for (i, chunk) in values.chunks(10).enumerate() {
            lat.record(i, chunk);
        }
        lat.record(0, &[0, u64::MAX]);
        let h = lat.merged().unwrap();
        assert_eq!(h.len(), 1002);
        let s = LatencySummary::of(&h);
        assert!((s.p50_ms - 500.0).abs() < 2.0, "{s:?}");
        assert!((s.p99_ms - 990.0).abs() < 2.0, "{s:?}");
        assert!(s.max_ms >= 3_600_000.0 * 0.999, "{s:?}");
        assert_eq!(
            LatencySummary::of(&new_histogram().unwrap()),
            LatencySummary::default()
        );
    }

    #[test]
    fn errors_are_tallied_by_kind() {
        let mut tally = ErrorTally::default();
        tally.add(
            "a",
            &anyhow::Error::new(ClientError::Closed {
                code: 4004,
                reason: "x".into(),
            }),
        );
        tally.add(
            "b",
            &anyhow::Error::new(ClientError::Closed {
                code: 4004,
                reason: "y".into(),
            }),
        );
        tally.add("c", &anyhow::anyhow!("boom"));
        let mut other = ErrorTally::default();
        other.add_kind("timeout".into());
        tally.merge(other);
        assert_eq!(tally.total(), 4);
        assert_eq!(tally.summary(), "close 4004 ×2, other ×1, timeout ×1");
        let json = serde_json::to_value(&tally).unwrap();
        assert_eq!(json["close 4004"], 2);
    }
}
