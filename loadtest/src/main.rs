//! `plenary-loadtest`: load scenarios against Plenary gateways.
//!
//! - `fanout`: N attendees and one publisher in one context; measures delivery latency,
//!   loss and duplicates of every message to every attendee.
//! - `idle`: N idle attendees; measures the gateway's resident memory per connection.
//! - `qa`: attendees ask, moderators claim and resolve; measures claim latency, loss,
//!   double ownership and how long the queue takes to drain.
//! - `dm`: P pairs of users connect and exchange private messages at a fixed rate per
//!   pair; measures delivery latency at the recipient, loss and duplicates.
//! - `failover`: kills a context's owner node and times the hand-over.
//! - `vote`: N attendees vote once each on one poll; checks the count is exact and every
//!   client converges on the final tally, and measures vote acknowledgements and tally
//!   pushes per client per second.
//! - `react`: N attendees react at R per second; checks every client's reactions pushes
//!   add up to exactly what was acknowledged, and measures pushes per client per second
//!   and the server's CPU time against an idle phase.
//! - `rejoin`: a rejoin storm: N attendees rejoin at once with `since` after M
//!   messages; checks every answer recovers exactly those and reads the server's CPU
//!   time per rejoin.
//! - `baseline`: not a scenario but a server, the limit a gateway's delivery cost is
//!   measured against: a minimal broadcast WebSocket server that `fanout --raw` drives.
//!
//! Layout:
//! - [`cli`]: the command line.
//! - [`connect`]: opening many clients over several source addresses and gateways with
//!   bounded concurrency; the open-file limit.
//! - [`fanout`], [`idle`], [`qa`], [`dm`], [`failover`], [`vote`], [`react`],
//!   [`rejoin`]: the scenarios.
//! - [`report`]: latency histograms, error tallies, the JSON report and the table.
//! - [`procfs`]: a server process's CPU time from `/proc`.
//! - [`baseline`]: the limit baseline server.

mod baseline;
mod cli;
mod connect;
mod dm;
mod failover;
mod fanout;
mod idle;
mod procfs;
mod qa;
mod react;
mod rejoin;
mod report;
mod vote;

use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use crate::cli::{Cli, Scenario};

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.scenario {
        Scenario::Fanout(args) => fanout::run(args).await,
        Scenario::Idle(args) => idle::run(args).await,
        Scenario::Failover(args) => failover::run(args).await,
        Scenario::Qa(args) => qa::run(args).await,
        Scenario::Dm(args) => dm::run(args).await,
        Scenario::Vote(args) => vote::run(args).await,
        Scenario::React(args) => react::run(args).await,
        Scenario::Baseline(args) => baseline::run(args).await,
        Scenario::Rejoin(args) => rejoin::run(args).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("plenary-loadtest: {e:#}");
            ExitCode::FAILURE
        }
    }
}
