//! The `idle` scenario: N attendees join one context and stay idle; the gateway's
//! resident memory before and after gives its cost per connection.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use anyhow::{Context as _, bail};
use plenary_client::Client;

use crate::cli::IdleArgs;
use crate::connect::{self, Plan};
use crate::report::{self, IdleReport};

/// Read buffer per idle socket: small, as the point is many connections.
const READ_BUFFER: usize = 4 * 1024;
/// Push queue per idle client: nothing is expected.
const PUSH_BUFFER: usize = 1024;

/// Runs the scenario and writes the report.
pub(crate) async fn run(args: IdleArgs) -> anyhow::Result<()> {
    let common = &args.common;
    connect::ensure_fd_budget(common.clients)?;
    connect::warn_about_ports(common.clients, usize::from(common.connect.source_ips));
    let status = PathBuf::from(format!("/proc/{}/status", args.server_pid));

    let started_at = SystemTime::now();
    let context = report::run_id(&common.context, "bench", started_at);
    let plan = Plan::new(&common.connect, common.format).await?;

    let rss_before = read_rss(&status)?;
    tracing::info!(clients = common.clients, %context, rss_before, "connecting idle attendees");
    let connected = connect::attendees(
        &plan,
        common.clients,
        common.connect.connect_concurrency,
        &context,
        |c| {
            c.with_read_buffer_size(READ_BUFFER)
                .with_push_buffer(PUSH_BUFFER)
        },
    )
    .await;
    let connect_seconds = connected.elapsed.as_secs_f64();
    let connect_per_sec = connected.per_sec();
    let mut errors = connected.errors;
    let clients: Vec<Client> = connected.clients.into_iter().map(|(_, c)| c).collect();
    if clients.is_empty() {
        bail!(
            "none of the {} attendees connected ({})",
            common.clients,
            errors.summary()
        );
    }

    tracing::info!(
        clients = clients.len(),
        hold = args.hold,
        "holding the connections"
    );
    tokio::time::sleep(Duration::from_secs(args.hold)).await;
    let rss_after = read_rss(&status)?;
    let connected_now = clients.iter().filter(|c| c.is_open()).count();
    for client in clients.iter().filter(|c| !c.is_open()) {
        let kind = match client.close_info() {
            Some(info) => format!("close {}", info.code),
            None => "attendee disconnected".to_owned(),
        };
        errors.add_kind(kind);
    }
    let growth = i128::from(rss_after) - i128::from(rss_before);
    let per_connection = if connected_now > 0 {
        i64::try_from(growth / connected_now as i128).unwrap_or(i64::MAX)
    } else {
        0
    };

    let report = IdleReport {
        scenario: "idle",
        started_at: report::rfc3339(started_at),
        started_at_unix_ms: report::unix_ms(started_at),
        urls: plan.urls().to_vec(),
        context,
        format: common.format.name(),
        server_pid: args.server_pid,
        hold_seconds: args.hold,
        clients_requested: common.clients,
        clients: clients.len(),
        connected: connected_now,
        rss_before_bytes: rss_before,
        rss_after_bytes: rss_after,
        rss_per_connection_bytes: per_connection,
        connect_per_sec,
        connect_seconds,
        errors: errors.total(),
        error_kinds: errors,
    };
    report::write_json(&common.json, &report)?;
    report::print_table(
        &format!("plenary-loadtest idle → {}", common.json.display()),
        &report.rows(),
    );

    connect::close_within_wind_down(clients, common.connect.connect_concurrency).await;
    Ok(())
}

/// The resident set size in bytes from a `/proc/PID/status` file.
fn read_rss(status: &std::path::Path) -> anyhow::Result<u64> {
    let text = std::fs::read_to_string(status)
        .with_context(|| format!("reading {} (is the server running?)", status.display()))?;
    parse_vm_rss(&text).with_context(|| format!("no VmRSS line in {}", status.display()))
}

fn parse_vm_rss(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let mut fields = line["VmRSS:".len()..].split_whitespace();
    let value: u64 = fields.next()?.parse().ok()?;
    let factor = match fields.next().unwrap_or("kB") {
        "kB" => 1024,
        "mB" | "MB" => 1024 * 1024,
        "B" => 1,
        _ => return None,
    };
    value.checked_mul(factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_vm_rss() {
        let status = "Name:\tgateway\nVmPeak:\t  2000 kB\nVmRSS:\t   1234 kB\nThreads:\t4\n";
        assert_eq!(parse_vm_rss(status), Some(1234 * 1024));
        assert_eq!(parse_vm_rss("Name:\tx\n"), None);
        assert_eq!(parse_vm_rss("VmRSS:\tlots kB\n"), None);
    }

    #[test]
    fn reads_our_own_rss() {
        let rss = read_rss(std::path::Path::new("/proc/self/status")).unwrap();
        assert!(rss > 0);
        assert!(read_rss(std::path::Path::new("/proc/0/status")).is_err());
    }
}
