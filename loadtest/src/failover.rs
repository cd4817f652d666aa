//! `failover`: how long a context is unavailable when its owner node dies.
//!
//! A client on a node that is not the owner joins a fresh context and sends once; then
//! the owner process is killed with `kill -9`, and the client resends (same
//! `client_msg_id` semantics: a new id per attempt, since none was accepted) every 50 ms
//! until one is accepted. The time from the kill to that acceptance is the result.

use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use plenary_client::{Claims, Client, ClientConfig, mint_hs256};
use serde::Serialize;

use crate::{cli::FailoverArgs, connect::owner_node, report};

#[derive(Debug, Serialize)]
struct FailoverReport {
    scenario: &'static str,
    started_at: String,
    context: String,
    owner_node: String,
    client_node: String,
    killed_pid: u32,
    /// From `kill -9` of the owner to the first accepted command, in milliseconds.
    failover_ms: f64,
    /// Refused attempts in between, by error code.
    retryable_errors: u64,
    other_errors: u64,
    /// The message id accepted after the hand-over minus the last one before it: 1
    /// when no sequence number was lost or skipped.
    seq_step: u64,
}

pub(crate) async fn run(args: FailoverArgs) -> anyhow::Result<()> {
    if args.urls.len() < 2 {
        bail!("failover needs at least two --url");
    }
    let started_at = std::time::SystemTime::now();
    let context = format!("failover-{}", report::unix_ms(started_at));
    let owner = owner_node(&args.redis_url, &args.redis_prefix, args.shards, &context).await?;
    let pid_file = args.pid_dir.join(format!("{owner}.pid"));
    let pid: u32 = std::fs::read_to_string(&pid_file)
        .with_context(|| format!("reading {}", pid_file.display()))?
        .trim()
        .parse()
        .with_context(|| format!("{} holds no pid", pid_file.display()))?;

    let claims = Claims::new("failover-probe")
        .with_aud(&args.jwt_audience)
        .with_iss(&args.jwt_issuer);
    let token = mint_hs256(args.jwt_secret.as_bytes(), &claims)?;
    let mut client = None;
    for url in &args.urls {
        let (c, hello) = Client::connect(ClientConfig::new(url, token.clone())).await?;
        if hello.node_id != owner {
            client = Some((c, hello.node_id));
            break;
        }
        c.close().await;
    }
    let Some((client, client_node)) = client else {
        bail!("every --url reached the owner {owner}");
    };
    client.join(&context).await.context("joining")?;
    let before = client
        .send(&context, "before", "before", 0)
        .await
        .context("first send")?;

    let status = std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()?;
    if !status.success() {
        bail!("kill -9 {pid} failed");
    }
    let killed = Instant::now();
    let (mut retryable, mut other) = (0u64, 0u64);
    let mut attempt = 0u64;
    let after = loop {
        attempt += 1;
        match client
            .send(&context, "after", &format!("after-{attempt}"), 0)
            .await
        {
            Ok(ok) => break ok,
            Err(e) if e.is_retryable() => retryable += 1,
            Err(_) => other += 1,
        }
        if killed.elapsed() > Duration::from_secs(args.give_up) {
            bail!(
                "no command accepted {} s after the owner died",
                args.give_up
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let failover = killed.elapsed();
    let report = FailoverReport {
        scenario: "failover",
        started_at: report::rfc3339(started_at),
        context,
        owner_node: owner,
        client_node,
        killed_pid: pid,
        failover_ms: failover.as_secs_f64() * 1e3,
        retryable_errors: retryable,
        other_errors: other,
        seq_step: after.message_id.saturating_sub(before.message_id),
    };
    std::fs::write(&args.json, serde_json::to_vec_pretty(&report)?)?;
    println!(
        "failover: owner {} (pid {}) killed; first accepted command after {:.0} ms ({} retryable refusals, {} other errors, seq step {})",
        report.owner_node, pid, report.failover_ms, retryable, other, report.seq_step
    );
    client.close().await;
    Ok(())
}
