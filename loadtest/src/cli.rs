//! The command line.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use plenary_client::WireFormat;

/// Load scenarios for Plenary gateways. Every scenario stops by itself: connects, sends
/// and the drain are bounded by time-outs.
#[derive(Debug, Parser)]
#[command(name = "plenary-loadtest", version)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) scenario: Scenario,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Scenario {
    /// N attendees and one publisher join one context; the publisher sends M messages
    /// and every attendee times every delivery.
    Fanout(FanoutArgs),
    /// N attendees join one context and stay idle; reports the server's RSS per
    /// connection.
    Idle(IdleArgs),
    /// The moderated Q&A: attendees each ask once within a window while moderators claim,
    /// resolve and clear threads as fast as they can.
    Qa(QaArgs),
    /// Private chat: P pairs of users connect with each other, then every pair exchanges
    /// private messages at a fixed rate; the recipient times every delivery.
    Dm(DmArgs),
    /// Cluster mode: kills the owner of a fresh context (`kill -9` of the pid in
    /// `--pid-dir/<node>.pid`) and times until a client on another node gets a command
    /// accepted by the new owner.
    Failover(FailoverArgs),
    /// Interactions: N attendees vote once each on one poll (results shared) within a
    /// window; checks every acknowledged vote is counted exactly once and every client
    /// sees the final tally, and counts tally pushes per client per second.
    Vote(VoteArgs),
    /// Reactions: N attendees each send R reactions per second for D seconds (and a
    /// moderator a crowd reaction per second); checks every client's reactions pushes
    /// sum to exactly the reactions acknowledged, counts pushes per client per second,
    /// and reads the server's CPU time (`--server-pid`).
    React(ReactArgs),
    /// The limit baseline: a minimal broadcast WebSocket server (no auth, no storage)
    /// that frames each published message once and writes it to every other joined
    /// socket; `fanout --raw` drives it with the same client code as a gateway.
    Baseline(BaselineArgs),
    /// A rejoin storm: N attendees leave one context, a moderator posts M messages, and
    /// every attendee rejoins at once with `since`; checks every answer recovers
    /// exactly the M messages and reads the server's CPU time over the storm.
    Rejoin(RejoinArgs),
}

/// `rejoin` flags.
#[derive(Clone, Debug, Args)]
pub(crate) struct RejoinArgs {
    /// Attendees; each rejoins once a round.
    #[arg(long)]
    pub(crate) attendees: usize,
    /// Messages posted while they are away, each round.
    #[arg(long, default_value_t = 50)]
    pub(crate) messages: usize,
    /// Bytes of filler in each message.
    #[arg(long, default_value_t = 100)]
    pub(crate) size: usize,
    /// Storms, one after the other.
    #[arg(long, default_value_t = 3)]
    pub(crate) rounds: usize,
    #[arg(long, value_name = "OUT.json")]
    pub(crate) json: PathBuf,
    /// Context (default: a fresh `rejoin-<unix-ms>`).
    #[arg(long, value_name = "ID")]
    pub(crate) context: Option<String>,
    /// A server process whose CPU time to read from /proc (repeat for several nodes on
    /// this machine). Without it there is no CPU figure.
    #[arg(long, value_name = "PID")]
    pub(crate) server_pid: Vec<u32>,
    /// The subprotocol every client speaks.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub(crate) format: Format,
    #[command(flatten)]
    pub(crate) connect: ConnectArgs,
}

/// `baseline` flags.
#[derive(Clone, Debug, Args)]
pub(crate) struct BaselineArgs {
    /// Address to listen on, loopback only (e.g. 127.0.0.1:9100; port 0 picks a free
    /// one). The first line on stdout says where it listens.
    #[arg(long, value_name = "ADDR")]
    pub(crate) listen: SocketAddr,
    /// Stop after this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = 600)]
    pub(crate) duration_secs: u64,
    /// Do not stop when stdin closes (for a background run whose stdin is /dev/null;
    /// `--duration-secs`, SIGTERM and SIGINT still stop it).
    #[arg(long)]
    pub(crate) ignore_stdin: bool,
    /// Frames queued for one socket that cannot take them; one more and the socket is
    /// dropped as a slow consumer (counted).
    #[arg(long, value_name = "FRAMES", default_value_t = 1024)]
    pub(crate) max_queued: usize,
    /// Broadcast walkers, each writing to its share of the sockets (default: one per
    /// core).
    #[arg(long, value_name = "K")]
    pub(crate) shards: Option<usize>,
}

/// `react` flags.
#[derive(Clone, Debug, Args)]
pub(crate) struct ReactArgs {
    /// Attendees; each reacts at `--rate`.
    #[arg(long)]
    pub(crate) attendees: usize,
    /// Reactions per second per attendee.
    #[arg(long, value_name = "R", default_value_t = 2.0)]
    pub(crate) rate: f64,
    /// Length of the reaction phase (and of the idle phase before it), in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 30.0)]
    pub(crate) duration: f64,
    #[arg(long, value_name = "OUT.json")]
    pub(crate) json: PathBuf,
    /// Context (default: a fresh `react-<unix-ms>`).
    #[arg(long, value_name = "ID")]
    pub(crate) context: Option<String>,
    /// A server process whose CPU time to read from /proc (repeat for several nodes on
    /// this machine). Without it there is no idle phase and no CPU figure.
    #[arg(long, value_name = "PID")]
    pub(crate) server_pid: Vec<u32>,
    /// After the last reaction, how long every client may take to see the full count.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub(crate) converge_timeout: u64,
    #[command(flatten)]
    pub(crate) connect: ConnectArgs,
}

/// `vote` flags.
#[derive(Clone, Debug, Args)]
pub(crate) struct VoteArgs {
    /// Attendees; each votes once.
    #[arg(long)]
    pub(crate) attendees: usize,
    #[arg(long, value_name = "OUT.json")]
    pub(crate) json: PathBuf,
    /// Context (default: a fresh `vote-<unix-ms>`).
    #[arg(long, value_name = "ID")]
    pub(crate) context: Option<String>,
    /// The votes are spread evenly over this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = 5.0)]
    pub(crate) vote_window: f64,
    /// After the last vote, how long every client may take to see the final tally.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub(crate) converge_timeout: u64,
    /// Diagnostic: results not shared, so only moderators get tallies (no fan-out of
    /// tallies to the attendees; convergence is not measured).
    #[arg(long)]
    pub(crate) results_hidden: bool,
    #[command(flatten)]
    pub(crate) connect: ConnectArgs,
}

/// `qa` flags.
#[derive(Clone, Debug, Args)]
pub(crate) struct QaArgs {
    /// Attendees; each asks one question.
    #[arg(long)]
    pub(crate) attendees: usize,
    /// Moderators working the queue.
    #[arg(long)]
    pub(crate) moderators: usize,
    #[arg(long, value_name = "OUT.json")]
    pub(crate) json: PathBuf,
    /// Context (default: a fresh `qa-<unix-ms>`).
    #[arg(long, value_name = "ID")]
    pub(crate) context: Option<String>,
    /// The questions are spread evenly over this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    pub(crate) ask_window: f64,
    /// After the last question, how long the moderators may take to clear the queue.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub(crate) drain_timeout: u64,
    #[command(flatten)]
    pub(crate) connect: ConnectArgs,
}

/// `dm` flags.
#[derive(Clone, Debug, Args)]
pub(crate) struct DmArgs {
    /// Pairs of users (2 × P connections).
    #[arg(long, value_name = "P")]
    pub(crate) pairs: usize,
    /// Messages per second per pair, both directions together (the two users take
    /// turns).
    #[arg(long, value_name = "R")]
    pub(crate) rate: f64,
    /// Length of the measurement phase, in seconds.
    #[arg(long, value_name = "SECS")]
    pub(crate) duration: f64,
    #[arg(long, value_name = "OUT.json")]
    pub(crate) json: PathBuf,
    /// Prefix of the user ids (`<run-id>-u<i>`), so repeated runs use fresh users
    /// (default: `dm-<unix-ms>`).
    #[arg(long, value_name = "ID")]
    pub(crate) run_id: Option<String>,
    /// After the phase, how long to wait for outstanding deliveries, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 5)]
    pub(crate) grace: u64,
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub(crate) format: Format,
    #[command(flatten)]
    pub(crate) connect: ConnectArgs,
}

/// `failover` flags.
#[derive(Clone, Debug, Args)]
pub(crate) struct FailoverArgs {
    /// Every node's WebSocket URL (at least two).
    #[arg(long = "url", value_name = "WS_URL", required = true)]
    pub(crate) urls: Vec<String>,
    #[arg(long, env = "PLENARY_JWT_SECRET", hide_env_values = true)]
    pub(crate) jwt_secret: String,
    /// The Redis the nodes share.
    #[arg(long, value_name = "REDIS_URL")]
    pub(crate) redis_url: String,
    /// The nodes' `PLENARY_REDIS_PREFIX`.
    #[arg(long, default_value = "plenary")]
    pub(crate) redis_prefix: String,
    /// The nodes' `PLENARY_SHARDS`.
    #[arg(long, default_value_t = 64)]
    pub(crate) shards: u32,
    /// Directory with one `<node-id>.pid` file per node (as `deploy/cluster.sh` writes).
    #[arg(long, value_name = "DIR")]
    pub(crate) pid_dir: PathBuf,
    /// Give up after this many seconds without an accepted command.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub(crate) give_up: u64,
    #[arg(long, value_name = "OUT.json")]
    pub(crate) json: PathBuf,
    #[arg(long, default_value = "plenary")]
    pub(crate) jwt_audience: String,
    #[arg(long, default_value = "plenary")]
    pub(crate) jwt_issuer: String,
}

/// Wire format flag.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// `plenary.v1.json`: JSON text frames.
    Json,
    /// `plenary.v1.proto`: protobuf binary frames.
    Proto,
}

impl Format {
    pub(crate) fn wire(self) -> WireFormat {
        match self {
            Format::Json => WireFormat::Json,
            Format::Proto => WireFormat::Proto,
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Proto => "proto",
        }
    }
}

/// How the clients connect: shared by every scenario that opens many.
#[derive(Clone, Debug, Args)]
pub(crate) struct ConnectArgs {
    /// Gateway WebSocket URL, e.g. ws://127.0.0.1:8080/ws. Repeat to spread the clients
    /// round-robin over several gateways.
    #[arg(long = "url", value_name = "WS_URL", required = true)]
    pub(crate) urls: Vec<String>,
    /// HS256 secret to sign the clients' tokens with.
    #[arg(long, env = "PLENARY_JWT_SECRET", hide_env_values = true)]
    pub(crate) jwt_secret: String,
    /// Spread client sockets over the source addresses 127.0.0.1 ..= 127.0.0.K, so more
    /// than one address's ephemeral ports are available (loopback targets only; 0 lets
    /// the OS choose).
    #[arg(long, value_name = "K", default_value_t = 16, value_parser = clap::value_parser!(u8).range(0..=254))]
    pub(crate) source_ips: u8,
    /// How many connects (and joins) run at once.
    #[arg(long, value_name = "C", default_value_t = 256)]
    pub(crate) connect_concurrency: usize,
    /// Limit for one client's connect and join, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 15)]
    pub(crate) connect_timeout: u64,
    /// Audience claim of the tokens.
    #[arg(long, default_value = "plenary")]
    pub(crate) jwt_audience: String,
    /// Issuer claim of the tokens.
    #[arg(long, default_value = "plenary")]
    pub(crate) jwt_issuer: String,
}

/// Flags shared by every scenario.
#[derive(Clone, Debug, Args)]
pub(crate) struct CommonArgs {
    /// Number of attendee connections.
    #[arg(long)]
    pub(crate) clients: usize,
    /// Where to write the JSON report.
    #[arg(long, value_name = "OUT.json")]
    pub(crate) json: PathBuf,
    /// Context to join (default: a fresh `bench-<unix-ms>`).
    #[arg(long, value_name = "ID")]
    pub(crate) context: Option<String>,
    /// Wire format of every client.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub(crate) format: Format,
    #[command(flatten)]
    pub(crate) connect: ConnectArgs,
}

/// `fanout` flags.
#[derive(Clone, Debug, Args)]
pub(crate) struct FanoutArgs {
    #[command(flatten)]
    pub(crate) common: CommonArgs,
    /// Messages per second the publisher sends; 0 sends as fast as the server answers
    /// (with at most 64 sends in flight).
    #[arg(long, value_name = "R")]
    pub(crate) rate: f64,
    /// Number of messages to send.
    #[arg(long, value_name = "M")]
    pub(crate) messages: u32,
    /// Approximate size of each message text in bytes (clamped to the server's limit).
    #[arg(long, value_name = "BYTES")]
    pub(crate) size: usize,
    /// After the last send, how long to wait for outstanding deliveries, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    pub(crate) drain_timeout: u64,
    /// Cluster mode: the Redis the gateways share. With it (and several `--url`s) the
    /// publisher goes on a node that does not own the context, so every message is
    /// forwarded, as in a real cluster. Without it the publisher uses the last `--url`.
    #[arg(long, value_name = "REDIS_URL")]
    pub(crate) redis_url: Option<String>,
    /// The gateways' `PLENARY_REDIS_PREFIX`.
    #[arg(long, default_value = "plenary")]
    pub(crate) redis_prefix: String,
    /// The gateways' `PLENARY_SHARDS`.
    #[arg(long, default_value_t = 64)]
    pub(crate) shards: u32,
    /// The server is `plenary-loadtest baseline`, not a gateway: the same clients,
    /// joins and sends; the run fails if the server is not the baseline (or, without
    /// `--raw`, if it is), so a report is never mislabelled.
    #[arg(long, conflicts_with = "redis_url")]
    pub(crate) raw: bool,
    /// A server process whose CPU time to read from /proc over the send and the drain
    /// (repeat for several nodes on this machine): adds `server_cpu_seconds` and
    /// `server_cpu_s_per_million` to the report.
    #[arg(long, value_name = "PID")]
    pub(crate) server_pid: Vec<u32>,
}

/// `idle` flags.
#[derive(Clone, Debug, Args)]
pub(crate) struct IdleArgs {
    #[command(flatten)]
    pub(crate) common: CommonArgs,
    /// Process id of the gateway whose memory is measured (read from /proc/PID/status).
    #[arg(long, value_name = "PID")]
    pub(crate) server_pid: u32,
    /// How long to hold the connections before measuring, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 5)]
    pub(crate) hold: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    /// `fanout` with every required flag (one url) and `extra` after them.
    fn fanout(extra: &[&str]) -> Result<Cli, clap::Error> {
        let mut argv = vec![
            "plenary-loadtest",
            "fanout",
            "--url",
            "ws://127.0.0.1:1/ws",
            "--jwt-secret",
            "s",
            "--clients",
            "10",
            "--rate",
            "0",
            "--messages",
            "5",
            "--size",
            "100",
            "--json",
            "out.json",
        ];
        argv.extend_from_slice(extra);
        Cli::try_parse_from(argv)
    }

    #[test]
    fn parses_fanout_with_several_urls() {
        let cli = fanout(&["--url", "ws://127.0.0.1:2/ws", "--format", "proto"]).unwrap();
        let Scenario::Fanout(args) = cli.scenario else {
            panic!("not fanout");
        };
        assert_eq!(args.common.connect.urls.len(), 2);
        assert_eq!(args.common.connect.source_ips, 16);
        assert_eq!(args.common.connect.connect_concurrency, 256);
        assert_eq!(args.common.format, Format::Proto);
        assert_eq!(args.drain_timeout, 10);
        assert_eq!(args.common.connect.jwt_audience, "plenary");
        assert!(!args.raw);
        assert!(args.server_pid.is_empty());
    }

    #[test]
    fn parses_fanout_raw_and_baseline() {
        let cli = fanout(&["--raw", "--server-pid", "7", "--server-pid", "8"]).unwrap();
        let Scenario::Fanout(args) = cli.scenario else {
            panic!("not fanout");
        };
        assert!(args.raw);
        assert_eq!(args.server_pid, [7, 8]);
        assert!(
            fanout(&["--raw", "--redis-url", "redis://127.0.0.1:6379/"]).is_err(),
            "no cluster placement against the baseline"
        );

        let cli = Cli::try_parse_from(["plenary-loadtest", "baseline", "--listen", "127.0.0.1:0"])
            .unwrap();
        let Scenario::Baseline(args) = cli.scenario else {
            panic!("not baseline");
        };
        assert_eq!(args.listen.port(), 0);
        assert_eq!((args.duration_secs, args.max_queued), (600, 1024));
        assert!(!args.ignore_stdin);
        assert_eq!(args.shards, None);
        assert!(
            Cli::try_parse_from(["plenary-loadtest", "baseline", "--listen", "localhost"]).is_err()
        );
    }

    #[test]
    fn parses_dm() {
        let cli = Cli::try_parse_from([
            "plenary-loadtest",
            "dm",
            "--url",
            "ws://127.0.0.1:1/ws",
            "--url",
            "ws://127.0.0.1:2/ws",
            "--jwt-secret",
            "s",
            "--pairs",
            "50",
            "--rate",
            "1.5",
            "--duration",
            "5",
            "--json",
            "dm.json",
        ])
        .unwrap();
        let Scenario::Dm(args) = cli.scenario else {
            panic!("not dm");
        };
        assert_eq!((args.pairs, args.rate, args.duration), (50, 1.5, 5.0));
        assert_eq!((args.grace, args.run_id.as_deref()), (5, None));
        assert_eq!(args.connect.urls.len(), 2);
    }

    #[test]
    fn parses_idle_and_rejects_too_many_source_ips() {
        let cli = Cli::try_parse_from([
            "plenary-loadtest",
            "idle",
            "--url",
            "ws://127.0.0.1:1/ws",
            "--jwt-secret",
            "s",
            "--clients",
            "3",
            "--server-pid",
            "42",
            "--json",
            "o.json",
        ])
        .unwrap();
        let Scenario::Idle(args) = cli.scenario else {
            panic!("not idle");
        };
        assert_eq!((args.server_pid, args.hold), (42, 5));
        assert!(
            Cli::try_parse_from([
                "plenary-loadtest",
                "idle",
                "--url",
                "ws://x/ws",
                "--jwt-secret",
                "s",
                "--clients",
                "3",
                "--server-pid",
                "42",
                "--json",
                "o.json",
                "--source-ips",
                "300",
            ])
            .is_err()
        );
    }
}
