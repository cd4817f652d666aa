//! Typed configuration: every setting is a flag with a `PLENARY_*` environment
//! variable; secrets come only from the environment. [`Config::validate`] turns the
//! raw values into checked settings before the runtime starts.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use clap::{Parser, ValueEnum};
use plenary_bus::SyncMode;

pub use plenary_auth::{JwtAlgorithm, JwtArgs, JwtKey};

/// Log line format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Command-line flags and environment variables of `plenary`.
#[derive(Clone, Debug, Parser)]
#[command(
    name = "plenary",
    version,
    about = "Plenary: real-time messaging for large webinars"
)]
pub struct Config {
    /// Something else than running the node.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// WebSocket listen address (the endpoint is `/ws`).
    #[arg(long, env = "PLENARY_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Admin listen address: gRPC admin API, /metrics, /healthz, /readyz.
    #[arg(long, env = "PLENARY_ADMIN_LISTEN", default_value = "127.0.0.1:9090")]
    pub admin_listen: SocketAddr,
    /// Directory of the durable event log (embedded mode).
    #[arg(long, env = "PLENARY_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// fsync policy of the event log: `full` (every commit) or `normal` (survives a
    /// crash of the process, not of the machine).
    #[arg(long, env = "PLENARY_SYNC_MODE", default_value = "full", value_parser = parse_sync_mode)]
    pub sync_mode: SyncMode,

    /// The `--jwt-*` flags (shared with the reporting service).
    #[command(flatten)]
    pub jwt: JwtArgs,

    /// Allowed `Origin` values (comma-separated, exact match). Empty: any origin.
    /// Connections without an `Origin` header (non-browser clients) are allowed.
    #[arg(long, env = "PLENARY_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,
    /// Time allowed between the TCP accept and a valid `connect` frame.
    #[arg(long, env = "PLENARY_CONNECT_TIMEOUT_MS", default_value_t = 10_000)]
    pub connect_timeout_ms: u64,
    /// Largest WebSocket message accepted, in bytes.
    #[arg(long, env = "PLENARY_MAX_FRAME_BYTES", default_value_t = 64 * 1024)]
    pub max_frame_bytes: u32,
    /// Longest chat message text, in characters.
    #[arg(long, env = "PLENARY_MAX_TEXT_CHARS", default_value_t = 2_000)]
    pub max_text_chars: u32,
    /// Frames that may wait for one connection's socket (or for its join's answer)
    /// before it is closed as a slow consumer.
    #[arg(long, env = "PLENARY_OUTBOUND_QUEUE", default_value_t = 1_024)]
    pub outbound_queue: usize,
    /// A write to a socket that does not complete in this time closes it.
    #[arg(long, env = "PLENARY_WRITE_TIMEOUT_MS", default_value_t = 10_000)]
    pub write_timeout_ms: u64,
    /// Sustained commands per second per user (all connections together).
    #[arg(long, env = "PLENARY_USER_RATE", default_value_t = 10)]
    pub user_rate: u32,
    /// Commands a user may send in a burst above the sustained rate.
    #[arg(long, env = "PLENARY_USER_BURST", default_value_t = 20)]
    pub user_burst: u32,
    /// Private chat: connection requests a user may send per minute (burst: the same
    /// number). The classic abuse is request spam, so this is much lower than the
    /// command rate.
    #[arg(long, env = "PLENARY_CONNECT_REQUESTS_PER_MIN", default_value_t = 10)]
    pub connect_requests_per_min: u32,
    /// Private chat: private messages a user may send per second (burst: twice that).
    #[arg(long, env = "PLENARY_DIRECT_MESSAGES_PER_SEC", default_value_t = 5)]
    pub direct_messages_per_sec: u32,
    /// Private chat: people searches a user may run per minute (burst: the same).
    #[arg(long, env = "PLENARY_PEOPLE_SEARCHES_PER_MIN", default_value_t = 30)]
    pub people_searches_per_min: u32,
    /// Private chat: a user or conversation actor with nothing to do for this long
    /// stops (it is rebuilt from the log when needed again).
    #[arg(long, env = "PLENARY_PRIVATE_PASSIVATE_SECS", default_value_t = 120)]
    pub private_passivate_secs: u64,
    /// Open connections per user.
    #[arg(long, env = "PLENARY_MAX_CONNECTIONS_PER_USER", default_value_t = 10)]
    pub max_connections_per_user: u32,
    /// Authenticated connections in total on this node (a `connect` beyond it: close
    /// 4013).
    #[arg(long, env = "PLENARY_MAX_CONNECTIONS", default_value_t = 100_000)]
    pub max_connections: u32,
    /// Sockets not authenticated yet (accepted, but the handshake or the `connect` not
    /// done), in total on this node. They do not take the slots of
    /// `--max-connections`; a socket beyond this is answered HTTP 503 at once.
    #[arg(long, env = "PLENARY_MAX_PENDING_CONNECTIONS", default_value_t = 1_000)]
    pub max_pending_connections: u32,
    /// Sockets not authenticated yet from one source address (IPv6: one /64); beyond
    /// it, HTTP 503. 0: no cap. Behind a load balancer or proxy every client has the
    /// proxy's address: raise it or set 0 there.
    #[arg(long, env = "PLENARY_MAX_PENDING_PER_IP", default_value_t = 32)]
    pub max_pending_per_ip: u32,
    /// Contexts one connection may join at once.
    #[arg(long, env = "PLENARY_MAX_JOINED_CONTEXTS", default_value_t = 16)]
    pub max_joined_contexts: u32,
    /// Commands one connection may have in flight before the gateway stops reading.
    #[arg(long, env = "PLENARY_MAX_IN_FLIGHT", default_value_t = 32)]
    pub max_in_flight: usize,
    /// Interval of WebSocket pings from the server.
    #[arg(long, env = "PLENARY_PING_INTERVAL_SECS", default_value_t = 25)]
    pub ping_interval_secs: u64,
    /// A connection silent (no frame, no pong) for this long is closed.
    #[arg(long, env = "PLENARY_IDLE_TIMEOUT_SECS", default_value_t = 75)]
    pub idle_timeout_secs: u64,
    /// On SIGTERM, how long to wait for connections to close before exiting.
    #[arg(long, env = "PLENARY_DRAIN_GRACE_SECS", default_value_t = 10)]
    pub drain_grace_secs: u64,

    /// Refuse joins to contexts not created through the admin API.
    #[arg(
        long,
        env = "PLENARY_REQUIRE_CREATED_CONTEXTS",
        default_value_t = false
    )]
    pub require_created_contexts: bool,
    /// Messages in a join snapshot.
    #[arg(long, env = "PLENARY_SNAPSHOT_MESSAGES", default_value_t = 50)]
    pub snapshot_messages: usize,
    /// Send a claimed Q&A thread back to pending when the moderator who owns it has been
    /// disconnected this many seconds (0: never).
    #[arg(long, env = "PLENARY_QA_AUTO_RELEASE_SECS", default_value_t = 0)]
    pub qa_auto_release_secs: u64,
    /// Joins are counted per window of this many ms and written as one event each, for
    /// the activity report (a divisor of 60,000: windows fall into minutes).
    #[arg(long, env = "PLENARY_JOINS_WINDOW_MS", default_value_t = 10_000)]
    pub joins_window_ms: u64,
    /// Group-chat pushes per second one room may make a node write: a message costs
    /// the room's audience on its busiest node, and one over budget is refused with
    /// RATE_LIMITED (0: no budget).
    #[arg(long, env = "PLENARY_ROOM_DELIVERIES_PER_SEC", default_value_t = plenary_actors::context::DEFAULT_ROOM_DELIVERIES_PER_SEC)]
    pub room_deliveries_per_sec: u32,
    /// Recent events per context kept for reconnect recovery.
    #[arg(long, env = "PLENARY_RECOVERY_WINDOW", default_value_t = 2_000)]
    pub recovery_window: usize,

    /// Demo mode of the web app: `GET /app/demo-token?sub=…&moderates=…` mints a token
    /// for anyone who asks (HS256 with the node's secret). For trying Plenary out on
    /// your own machine only; never on a node people use for real.
    #[arg(long, env = "PLENARY_DEMO_TOKENS", default_value_t = false,
          value_parser = clap::builder::BoolishValueParser::new())]
    pub demo_tokens: bool,

    /// Log format.
    #[arg(long, env = "PLENARY_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,

    /// Cluster mode: the Redis every node shares (`redis://host:port/`). Unset:
    /// embedded mode.
    #[arg(long, env = "PLENARY_REDIS_URL")]
    pub redis_url: Option<String>,
    /// Prefix of every Redis key and channel, so several clusters (or test runs) can
    /// share one Redis.
    #[arg(long, env = "PLENARY_REDIS_PREFIX", default_value = "plenary")]
    pub redis_prefix: String,
    /// This node's name in the cluster (default: random).
    #[arg(long, env = "PLENARY_NODE_ID")]
    pub node_id: Option<String>,
    /// Ownership shards; must be equal on every node of a cluster.
    #[arg(long, env = "PLENARY_SHARDS", default_value_t = 64)]
    pub shards: u32,
    /// Shard lease time-to-live: a dead owner's shards move after about this long.
    #[arg(long, env = "PLENARY_LEASE_TTL_MS", default_value_t = 2_000)]
    pub lease_ttl_ms: u64,
    /// Events between two snapshots of a stream, in SQLite and Redis alike (an actor
    /// starts from the latest snapshot and the events after it).
    #[arg(long, env = "PLENARY_SNAPSHOT_EVERY", default_value_t = 1_000)]
    pub snapshot_every: u64,
    /// How long a command forwarded to another node waits for the answer.
    #[arg(long, env = "PLENARY_FORWARD_TIMEOUT_MS", default_value_t = 1_000)]
    pub forward_timeout_ms: u64,

    // Contexts in memory, and contexts created by a join (without
    // --require-created-contexts).
    /// A context actor with no commands for this long stops and gives back its memory
    /// (it is rebuilt from the log on the next command).
    #[arg(long, env = "PLENARY_CONTEXT_PASSIVATE_SECS", default_value_t = 600)]
    pub context_passivate_secs: u64,
    /// Contexts one user may create per hour by joining unknown ids (burst: the same
    /// number). Joining a context that exists never counts.
    #[arg(
        long,
        env = "PLENARY_IMPLICIT_CONTEXTS_PER_USER_PER_HOUR",
        default_value_t = 20
    )]
    pub implicit_contexts_per_user_per_hour: u32,
    /// Contexts all users together may create per hour through this node by joining
    /// unknown ids (burst: the same number).
    #[arg(
        long,
        env = "PLENARY_IMPLICIT_CONTEXTS_PER_NODE_PER_HOUR",
        default_value_t = 1_000
    )]
    pub implicit_contexts_per_node_per_hour: u32,
}

fn parse_sync_mode(s: &str) -> Result<SyncMode, String> {
    s.parse()
}

/// Settings that passed validation.
#[derive(Clone)]
pub struct Settings {
    pub config: Config,
    pub jwt_key: JwtKey,
    pub admin_api_key: Option<String>,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print secrets.
        f.debug_struct("Settings")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// What `plenary` does instead of running a node.
#[derive(Clone, Debug, clap::Subcommand)]
pub enum Command {
    /// Prints an HS256 access token signed with PLENARY_JWT_SECRET (for trying Plenary
    /// out and for tests; in production your identity provider issues the tokens).
    Token(crate::token::TokenArgs),
}

/// A configuration error, reported before anything starts (exit code 64).
#[derive(Debug, thiserror::Error)]
#[error("configuration error: {0}")]
pub struct ConfigError(pub String);

impl Config {
    /// Checks values and reads the secrets `PLENARY_JWT_SECRET` and
    /// `PLENARY_ADMIN_API_KEY` from the environment.
    pub fn validate(self) -> Result<Settings, ConfigError> {
        let jwt_secret = std::env::var("PLENARY_JWT_SECRET").ok();
        let admin_api_key = std::env::var("PLENARY_ADMIN_API_KEY").ok();
        self.validate_with(jwt_secret, admin_api_key)
    }

    /// Checks values, with the secrets given rather than read from the environment.
    pub fn validate_with(
        self,
        jwt_secret: Option<String>,
        admin_api_key: Option<String>,
    ) -> Result<Settings, ConfigError> {
        let err = |m: String| Err(ConfigError(m));
        let jwt_key = self.jwt.key(jwt_secret).map_err(ConfigError)?;
        let positive = [
            ("--connect-timeout-ms", self.connect_timeout_ms),
            ("--max-frame-bytes", self.max_frame_bytes as u64),
            ("--max-text-chars", self.max_text_chars as u64),
            ("--outbound-queue", self.outbound_queue as u64),
            ("--write-timeout-ms", self.write_timeout_ms),
            ("--user-rate", self.user_rate as u64),
            ("--user-burst", self.user_burst as u64),
            (
                "--connect-requests-per-min",
                self.connect_requests_per_min as u64,
            ),
            (
                "--direct-messages-per-sec",
                self.direct_messages_per_sec as u64,
            ),
            (
                "--people-searches-per-min",
                self.people_searches_per_min as u64,
            ),
            ("--private-passivate-secs", self.private_passivate_secs),
            (
                "--max-connections-per-user",
                self.max_connections_per_user as u64,
            ),
            ("--max-connections", self.max_connections as u64),
            (
                "--max-pending-connections",
                self.max_pending_connections as u64,
            ),
            ("--max-joined-contexts", self.max_joined_contexts as u64),
            ("--max-in-flight", self.max_in_flight as u64),
            ("--ping-interval-secs", self.ping_interval_secs),
            ("--idle-timeout-secs", self.idle_timeout_secs),
            ("--recovery-window", self.recovery_window as u64),
        ];
        for (name, value) in positive {
            if value == 0 {
                return err(format!("{name} must be greater than 0"));
            }
        }
        let window = plenary_actors::context::chat::MESSAGE_WINDOW;
        if self.snapshot_messages > window {
            return err(format!(
                "--snapshot-messages must be at most {window} (the messages a context keeps in memory per place)"
            ));
        }
        if !(100..=60_000).contains(&self.joins_window_ms) || 60_000 % self.joins_window_ms != 0 {
            return err(
                "--joins-window-ms must divide 60000 and be at least 100 (e.g. 10000)".into(),
            );
        }
        if self.redis_url.is_some() {
            if !(1..=4096).contains(&self.shards) {
                return err("--shards must be between 1 and 4096".into());
            }
            if self.lease_ttl_ms < 500 {
                return err("--lease-ttl-ms must be at least 500".into());
            }
            if self.snapshot_every == 0 || self.snapshot_every > 2_500 {
                return err(
                    "--snapshot-every must be between 1 and 2500 (the stream keeps 10000 events)"
                        .into(),
                );
            }
            if self.forward_timeout_ms == 0 {
                return err("--forward-timeout-ms must be greater than 0".into());
            }
            if self.redis_prefix.is_empty() || self.redis_prefix.contains(['{', '}']) {
                return err("--redis-prefix must be non-empty and contain no braces".into());
            }
            if let Some(id) = &self.node_id
                && (id.is_empty() || id.len() > 64 || id.contains(':'))
            {
                return err("--node-id must be 1 to 64 characters without ':'".into());
            }
        }
        if self.idle_timeout_secs <= self.ping_interval_secs {
            return err("--idle-timeout-secs must be longer than --ping-interval-secs".into());
        }
        if self.max_frame_bytes < 1024 {
            return err("--max-frame-bytes must be at least 1024".into());
        }
        if self.outbound_queue > 1 << 20 {
            return err("--outbound-queue must be at most 1048576".into());
        }
        if self.context_passivate_secs == 0 {
            return err("--context-passivate-secs must be greater than 0".into());
        }
        let budgets = [
            (
                "--implicit-contexts-per-user-per-hour",
                self.implicit_contexts_per_user_per_hour,
            ),
            (
                "--implicit-contexts-per-node-per-hour",
                self.implicit_contexts_per_node_per_hour,
            ),
        ];
        for (name, value) in budgets {
            if value == 0 {
                return err(format!(
                    "{name} must be greater than 0 (to turn implicit creation off, use --require-created-contexts)"
                ));
            }
        }
        if self.demo_tokens && !matches!(jwt_key, JwtKey::Secret(_)) {
            return err(
                "--demo-tokens signs with HS256: it needs --jwt-algorithm HS256 and PLENARY_JWT_SECRET"
                    .into(),
            );
        }
        let admin_api_key = admin_api_key.filter(|k| !k.is_empty());
        if admin_api_key.as_ref().is_some_and(|k| k.len() < 16) {
            return err("PLENARY_ADMIN_API_KEY must be at least 16 bytes".into());
        }
        Ok(Settings {
            config: self,
            jwt_key,
            admin_api_key,
        })
    }

    pub fn connect_timeout(&self) -> Duration {
        Duration::from_millis(self.connect_timeout_ms)
    }
    pub fn write_timeout(&self) -> Duration {
        Duration::from_millis(self.write_timeout_ms)
    }
    pub fn ping_interval(&self) -> Duration {
        Duration::from_secs(self.ping_interval_secs)
    }
    pub fn idle_timeout(&self) -> Duration {
        Duration::from_secs(self.idle_timeout_secs)
    }
    pub fn drain_grace(&self) -> Duration {
        Duration::from_secs(self.drain_grace_secs)
    }
}
