//! Opening many clients: round-robin over the gateways' URLs and over loopback source
//! addresses, with bounded concurrency; and the open-file limit that caps it all.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use plenary_client::{Claims, ClientConfig, mint_hs256};
use tokio::task::JoinSet;

use crate::cli::{ConnectArgs, Format};
use crate::report::ErrorTally;

/// File descriptors kept free beyond one per connection (stdio, the report file, the
/// runtime's own).
const FD_SLACK: u64 = 64;
/// Tokens outlive any bounded run.
const TOKEN_LIFETIME: Duration = Duration::from_secs(12 * 3600);

/// Where client `i` connects to and from, and how its token is made.
#[derive(Clone, Debug)]
pub(crate) struct Plan {
    urls: Vec<String>,
    sources: Vec<IpAddr>,
    secret: Arc<[u8]>,
    audience: String,
    issuer: String,
    format: plenary_client::WireFormat,
    connect_timeout: Duration,
}

impl Plan {
    /// Checks the URLs (each must resolve to an IPv4 loopback address when source
    /// addresses are spread) and builds the plan.
    pub(crate) async fn new(args: &ConnectArgs, format: Format) -> anyhow::Result<Plan> {
        if args.urls.is_empty() {
            bail!("give at least one --url");
        }
        if args.source_ips > 0 {
            for url in &args.urls {
                check_loopback_target(url).await?;
            }
        }
        Ok(Plan {
            urls: args.urls.clone(),
            sources: source_addresses(args.source_ips),
            secret: Arc::from(args.jwt_secret.as_bytes()),
            audience: args.jwt_audience.clone(),
            issuer: args.jwt_issuer.clone(),
            format: format.wire(),
            connect_timeout: Duration::from_secs(args.connect_timeout.max(1)),
        })
    }

    /// The limit for one client's connect plus join.
    pub(crate) fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    /// Client `i`'s configuration: URL `i mod #urls`, source address `i mod K`.
    pub(crate) fn config(&self, i: usize, claims: Claims) -> anyhow::Result<ClientConfig> {
        let url = &self.urls[i % self.urls.len()];
        self.config_for(url, i, claims)
    }

    /// A client config for a given URL.
    pub(crate) fn config_for(
        &self,
        url: &str,
        i: usize,
        claims: Claims,
    ) -> anyhow::Result<ClientConfig> {
        let claims = claims
            .with_aud(&self.audience)
            .with_iss(&self.issuer)
            .expires_in(TOKEN_LIFETIME);
        let token = mint_hs256(&self.secret, &claims).context("minting a token")?;
        let mut config = ClientConfig::new(url, token)
            .with_format(self.format)
            .with_connect_timeout(self.connect_timeout);
        if !self.sources.is_empty() {
            config = config.with_local_addr(self.sources[i % self.sources.len()]);
        }
        Ok(config)
    }

    /// The URLs, in the order given.
    pub(crate) fn urls(&self) -> &[String] {
        &self.urls
    }

    /// How many source addresses are used (0: the OS chooses).
    pub(crate) fn source_count(&self) -> usize {
        self.sources.len()
    }
}

/// 127.0.0.1 ..= 127.0.0.k.
pub(crate) fn source_addresses(k: u8) -> Vec<IpAddr> {
    (1..=k.min(254))
        .map(|last| IpAddr::V4(Ipv4Addr::new(127, 0, 0, last)))
        .collect()
}

/// Fails unless `url`'s host resolves to an IPv4 loopback address: only then can the
/// socket be bound to 127.0.0.x.
async fn check_loopback_target(url: &str) -> anyhow::Result<()> {
    let uri: http::Uri = url
        .parse()
        .with_context(|| format!("invalid URL `{url}`"))?;
    let host = uri
        .host()
        .with_context(|| format!("no host in `{url}`"))?
        .trim_start_matches('[')
        .trim_end_matches(']');
    let port = uri.port_u16().unwrap_or(80);
    let addrs: Vec<_> = tokio::net::lookup_host((host, port))
        .await
        .with_context(|| format!("resolving `{host}`"))?
        .collect();
    if !addrs.iter().any(|a| a.ip().is_loopback() && a.is_ipv4()) {
        bail!(
            "`{url}` does not resolve to an IPv4 loopback address; source address spreading \
             (--source-ips) only works for 127.0.0.0/8 targets, pass --source-ips 0 otherwise"
        );
    }
    Ok(())
}

/// Raises the open-file soft limit to the hard limit and checks that `connections`
/// sockets fit under it.
pub(crate) fn ensure_fd_budget(connections: usize) -> anyhow::Result<u64> {
    let limit = rlimit::increase_nofile_limit(u64::MAX).context("raising the open-file limit")?;
    let needed = connections as u64 + FD_SLACK;
    if needed > limit {
        bail!(
            "{connections} connections need about {needed} open files, but this process may \
             open only {limit} (the hard limit; raise it with `ulimit -Hn` or in \
             /etc/security/limits.conf), or use fewer --clients"
        );
    }
    Ok(limit)
}

/// Warns when the clients per source address exceed the ephemeral port range.
pub(crate) fn warn_about_ports(connections: usize, sources: usize) {
    let Ok(range) = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range") else {
        return;
    };
    let mut bounds = range
        .split_whitespace()
        .filter_map(|v| v.parse::<usize>().ok());
    let (Some(low), Some(high)) = (bounds.next(), bounds.next()) else {
        return;
    };
    let ports = high.saturating_sub(low) + 1;
    let per_source = connections.div_ceil(sources.max(1));
    if per_source > ports {
        tracing::warn!(
            per_source,
            ports,
            "more connections per source address than ephemeral ports; raise --source-ips"
        );
    }
}

/// Runs `task` on every item with at most `concurrency` running at once, on worker
/// tasks spread over the runtime's threads. Results come back in completion order.
pub(crate) async fn run_bounded<I, R, F, Fut>(items: Vec<I>, concurrency: usize, task: F) -> Vec<R>
where
    I: Send + 'static,
    R: Send + 'static,
    F: Fn(I) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = R> + Send + 'static,
{
    let total = items.len();
    let queue = Arc::new(Mutex::new(items.into_iter()));
    let task = Arc::new(task);
    let mut workers = JoinSet::new();
    for _ in 0..concurrency.clamp(1, total.max(1)) {
        let queue = Arc::clone(&queue);
        let task = Arc::clone(&task);
        workers.spawn(async move {
            let mut results = Vec::new();
            loop {
                let next = queue.lock().unwrap_or_else(|e| e.into_inner()).next();
                let Some(item) = next else { break };
                results.push(task(item).await);
            }
            results
        });
    }
    let mut all = Vec::with_capacity(total);
    while let Some(done) = workers.join_next().await {
        match done {
            Ok(results) => all.extend(results),
            Err(e) => tracing::error!(error = %e, "a worker task failed"),
        }
    }
    all
}

/// How long a scenario's tasks get to finish (or its clients to close) at the end of a
/// run before the rest are abandoned.
pub(crate) const WIND_DOWN: Duration = Duration::from_secs(10);

/// The results of the tasks in `set`, waiting at most [`WIND_DOWN`] for them; the
/// ones still running then are aborted.
pub(crate) async fn collect_within_wind_down<T: 'static>(set: &mut JoinSet<T>) -> Vec<T> {
    let mut results = Vec::with_capacity(set.len());
    let wind_down = tokio::time::sleep(WIND_DOWN);
    tokio::pin!(wind_down);
    loop {
        let joined = tokio::select! {
            joined = set.join_next() => joined,
            () = &mut wind_down => {
                tracing::warn!(left = set.len(), "tasks did not stop in time");
                set.abort_all();
                break;
            }
        };
        match joined {
            None => break,
            Some(Ok(result)) => results.push(result),
            Some(Err(e)) => tracing::error!(error = %e, "a task failed"),
        }
    }
    results
}

/// Closes `clients`, `concurrency` at a time, for at most [`WIND_DOWN`].
pub(crate) async fn close_within_wind_down(
    clients: Vec<plenary_client::Client>,
    concurrency: usize,
) {
    let closing = run_bounded(clients, concurrency, plenary_client::Client::close);
    if tokio::time::timeout(WIND_DOWN, closing).await.is_err() {
        tracing::warn!("closing the clients took too long; dropped the rest");
    }
}

/// The clients that connected, and what went wrong with the others.
pub(crate) struct Connected<T> {
    /// `(index, client)` of every success, in completion order.
    pub(crate) clients: Vec<(usize, T)>,
    /// Failures by kind.
    pub(crate) errors: ErrorTally,
    /// Wall time of the whole phase.
    pub(crate) elapsed: Duration,
}

impl<T> Connected<T> {
    /// Successful setups per second of the phase.
    pub(crate) fn per_sec(&self) -> f64 {
        per_sec(self.clients.len() as u64, self.elapsed)
    }
}

/// `count / elapsed`, 0 for an empty interval.
pub(crate) fn per_sec(count: u64, elapsed: Duration) -> f64 {
    let secs = elapsed.as_secs_f64();
    if secs > 0.0 { count as f64 / secs } else { 0.0 }
}

/// Sets up `count` clients with `setup(i)` (connect, join, ...), `concurrency` at a time,
/// each bounded by `timeout`. Logs progress every tenth.
pub(crate) async fn connect_all<T, F, Fut>(
    what: &'static str,
    count: usize,
    concurrency: usize,
    timeout: Duration,
    setup: F,
) -> Connected<T>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<T>> + Send + 'static,
{
    let started = Instant::now();
    let done = Arc::new(AtomicUsize::new(0));
    let step = (count / 10).max(1);
    let setup = Arc::new(setup);
    let results = run_bounded((0..count).collect(), concurrency, move |i| {
        let setup = Arc::clone(&setup);
        let done = Arc::clone(&done);
        async move {
            let result = match tokio::time::timeout(timeout, setup(i)).await {
                Ok(result) => result,
                Err(_) => Err(anyhow::Error::new(plenary_client::ClientError::Timeout(
                    timeout,
                ))),
            };
            let n = done.fetch_add(1, Ordering::Relaxed) + 1;
            if n.is_multiple_of(step) || n == count {
                tracing::info!("{what}: {n}/{count} set up");
            }
            (i, result)
        }
    })
    .await;
    let mut connected = Connected {
        clients: Vec::with_capacity(results.len()),
        errors: ErrorTally::default(),
        elapsed: started.elapsed(),
    };
    for (i, result) in results {
        match result {
            Ok(client) => connected.clients.push((i, client)),
            Err(e) => connected.errors.add(&format!("{what} {i}"), &e),
        }
    }
    connected
}

/// Connects `count` attendees (`load-att-<i>`) and joins each to `context`; `tune`
/// adjusts each client's config (buffer sizes). Shared by every scenario.
pub(crate) async fn attendees(
    plan: &Plan,
    count: usize,
    concurrency: usize,
    context: &str,
    tune: fn(ClientConfig) -> ClientConfig,
) -> Connected<plenary_client::Client> {
    let plan = plan.clone();
    let timeout = plan.connect_timeout();
    let context: Arc<str> = Arc::from(context);
    connect_all("attendee", count, concurrency, timeout, move |i| {
        let config = plan
            .config(i, Claims::new(format!("load-att-{i}")))
            .map(tune);
        let context = Arc::clone(&context);
        async move {
            let (client, _) = plenary_client::Client::connect(config?).await?;
            join_retrying(&client, &context).await?;
            Ok(client)
        }
    })
    .await
}

/// A moderator of `context` (`load-mod-0`, on the first URL) and `count` attendees,
/// all joined: the moderator, the attendees that made it, and how many did not.
pub(crate) async fn moderator_and_attendees(
    plan: &Plan,
    count: usize,
    concurrency: usize,
    context: &str,
) -> anyhow::Result<(plenary_client::Client, Vec<plenary_client::Client>, u64)> {
    let claims = Claims::new("load-mod-0").with_moderates([context.to_owned()]);
    let (moderator, _) = plenary_client::Client::connect(plan.config(0, claims)?)
        .await
        .context("the moderator could not connect")?;
    join_retrying(&moderator, context)
        .await
        .context("the moderator could not join")?;
    let connected = attendees(plan, count, concurrency, context, |c| c).await;
    let failed = connected.errors.total();
    let attendees: Vec<_> = connected.clients.into_iter().map(|(_, c)| c).collect();
    if attendees.is_empty() {
        bail!("none of the {count} attendees connected");
    }
    tracing::info!(attendees = attendees.len(), "connected and joined");
    Ok((moderator, attendees, failed))
}

/// The node owning a context's shard, read from the cluster's Redis lease.
pub(crate) async fn owner_node(
    redis_url: &str,
    prefix: &str,
    shards: u32,
    context: &str,
) -> anyhow::Result<String> {
    let shard = plenary_bus::redis::shard_of(context, shards);
    let client = redis::Client::open(redis_url).context("bad --redis-url")?;
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .with_context(|| format!("cannot reach Redis at {redis_url}"))?;
    let token: Option<String> = redis::cmd("GET")
        .arg(format!("{{{prefix}:s{shard}}}:lease"))
        .query_async(&mut conn)
        .await?;
    let token = token.with_context(|| {
        format!("nobody owns shard {shard} of `{context}` (wrong --redis-prefix or --shards?)")
    })?;
    Ok(token
        .rsplit_once(':')
        .map_or(token.as_str(), |(node, _)| node)
        .to_owned())
}

/// Joins a context, waiting out `RATE_LIMITED` refusals (a user reused across runs may
/// still be over its budget) and `UNAVAILABLE` or `OUTCOME_UNKNOWN` ones (a cluster still placing its shards).
/// Bounded by the caller's time-out.
pub(crate) async fn join_retrying(
    client: &plenary_client::Client,
    context: &str,
) -> Result<plenary_client::v1::JoinOk, plenary_client::ClientError> {
    loop {
        match client.join(context).await {
            Err(e) if e.is_retryable() => {
                let wait = e
                    .retry_after()
                    .unwrap_or(std::time::Duration::from_millis(100));
                tokio::time::sleep(wait).await;
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_addresses_are_loopback_only() {
        let all = source_addresses(16);
        assert_eq!(all.len(), 16);
        assert_eq!(all[0], IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1)));
        assert_eq!(all[15], IpAddr::V4(Ipv4Addr::new(127, 0, 0, 16)));
        assert!(all.iter().all(IpAddr::is_loopback));
        assert!(source_addresses(0).is_empty());
        assert_eq!(source_addresses(255).len(), 254);
    }

    #[tokio::test]
    async fn run_bounded_runs_everything_within_the_limit() {
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let (r, p) = (Arc::clone(&running), Arc::clone(&peak));
        let mut out = run_bounded((0..50).collect(), 4, move |i: u32| {
            let (running, peak) = (Arc::clone(&r), Arc::clone(&p));
            async move {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(2)).await;
                running.fetch_sub(1, Ordering::SeqCst);
                i * 2
            }
        })
        .await;
        out.sort_unstable();
        assert_eq!(out, (0..50).map(|i| i * 2).collect::<Vec<_>>());
        assert_eq!(peak.load(Ordering::SeqCst), 4, "four at a time, never more");
        assert!(
            run_bounded(Vec::<u32>::new(), 8, |i| async move { i })
                .await
                .is_empty()
        );
    }

    #[tokio::test]
    async fn non_loopback_targets_are_refused_for_spreading() {
        assert!(check_loopback_target("ws://127.0.0.1:9/ws").await.is_ok());
        assert!(check_loopback_target("ws://192.0.2.1:9/ws").await.is_err());
        assert!(check_loopback_target("ws://[::1]:9/ws").await.is_err());
    }
}
