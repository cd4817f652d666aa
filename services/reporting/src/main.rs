//! `plenary-reporting`: the reporting service's command line. Today: `export`, a report
//! as CSV from a running service (an embedded node serves reports on its admin port).

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use plenary_reporting::export::{self, ExportArgs};

#[derive(Debug, Parser)]
#[command(name = "plenary-reporting", version, about = "Plenary's reports")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Writes a report as CSV to standard output, as it streams.
    Export(ExportArgs),
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Export(args) => {
            let mut out = std::io::stdout().lock();
            match export::run(&args, &mut out).await {
                Ok(_) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("plenary-reporting export: {e}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}
