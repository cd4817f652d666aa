//! `plenary-reporting export`: asks a running reporting service (the admin port of an
//! embedded node) for a report as CSV and writes it out as it streams.

use std::io::Write;

use clap::{Args, ValueEnum};
use plenary_proto::v1::reporting::{
    Bucket, ExportRequest, Report, ReportRequest, reporting_client::ReportingClient,
};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};
use tonic::{Request, metadata::MetadataValue};

/// The reports `export` knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ReportName {
    BlockedUsers,
    PollVotes,
    ContextStats,
    UserStats,
    PeerTranscripts,
    ModeratorTranscripts,
    ModeratorPerformance,
    InteractionResults,
    ActivityOverTime,
}

/// Buckets of `activity-over-time`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BucketName {
    Minute,
    Hour,
}

/// `export` flags.
#[derive(Clone, Debug, Args)]
pub struct ExportArgs {
    /// Which report.
    #[arg(value_enum)]
    pub report: ReportName,
    /// The reporting service: an embedded node's admin address.
    #[arg(
        long,
        env = "PLENARY_REPORTING_URL",
        default_value = "http://127.0.0.1:9090"
    )]
    pub url: String,
    /// The admin API key.
    #[arg(long, env = "PLENARY_ADMIN_API_KEY", hide_env_values = true)]
    pub api_key: String,
    /// Only this context.
    #[arg(long)]
    pub context: Option<String>,
    /// Start of the time range: RFC 3339 (2026-12-01T00:00:00Z) or Unix ms.
    #[arg(long, value_parser = parse_time)]
    pub from: Option<u64>,
    /// End of the time range (exclusive), the same way.
    #[arg(long, value_parser = parse_time)]
    pub to: Option<u64>,
    /// `activity-over-time`: per minute or per hour.
    #[arg(long, value_enum)]
    pub bucket: Option<BucketName>,
}

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("cannot reach the reporting service at {url}: {source}")]
    Connect {
        url: String,
        source: tonic::transport::Error,
    },
    #[error("the reporting service refused: {0}")]
    Refused(#[from] tonic::Status),
    #[error("writing the CSV: {0}")]
    Write(#[from] std::io::Error),
    #[error("the API key is not valid metadata")]
    BadKey,
}

/// A time flag: RFC 3339 or Unix milliseconds.
pub fn parse_time(text: &str) -> Result<u64, String> {
    if let Ok(ms) = text.parse::<u64>() {
        return Ok(ms);
    }
    let t = OffsetDateTime::parse(text, &Rfc3339)
        .map_err(|e| format!("not RFC 3339 (2026-12-01T00:00:00Z) or Unix ms: {e}"))?;
    u64::try_from(t.unix_timestamp_nanos() / 1_000_000).map_err(|_| "before 1970".to_owned())
}

/// Streams the report's CSV into `out`; the number of bytes written.
pub async fn run(args: &ExportArgs, out: &mut impl Write) -> Result<u64, ExportError> {
    let mut client = ReportingClient::connect(args.url.clone())
        .await
        .map_err(|source| ExportError::Connect {
            url: args.url.clone(),
            source,
        })?;
    let mut request = Request::new(ExportRequest {
        report: match args.report {
            ReportName::BlockedUsers => Report::BlockedUsers,
            ReportName::PollVotes => Report::PollVotes,
            ReportName::ContextStats => Report::ContextStats,
            ReportName::UserStats => Report::UserStats,
            ReportName::PeerTranscripts => Report::PeerTranscripts,
            ReportName::ModeratorTranscripts => Report::ModeratorTranscripts,
            ReportName::ModeratorPerformance => Report::ModeratorPerformance,
            ReportName::InteractionResults => Report::InteractionResults,
            ReportName::ActivityOverTime => Report::ActivityOverTime,
        } as i32,
        filter: Some(ReportRequest {
            context_id: args.context.clone().unwrap_or_default(),
            from_ms: args.from.unwrap_or(0),
            to_ms: args.to.unwrap_or(0),
        }),
        bucket: match args.bucket {
            None => Bucket::Unspecified,
            Some(BucketName::Minute) => Bucket::Minute,
            Some(BucketName::Hour) => Bucket::Hour,
        } as i32,
    });
    let key = MetadataValue::try_from(format!("Bearer {}", args.api_key))
        .map_err(|_| ExportError::BadKey)?;
    request.metadata_mut().insert("authorization", key);
    let mut chunks = client.export(request).await?.into_inner();
    let mut written = 0;
    while let Some(chunk) = chunks.message().await? {
        out.write_all(&chunk.data)?;
        written += chunk.data.len() as u64;
    }
    out.flush()?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_rfc_3339_or_unix_ms() {
        assert_eq!(parse_time("1767225600123"), Ok(1_767_225_600_123));
        assert_eq!(
            parse_time("2026-01-01T00:00:00.123Z"),
            Ok(1_767_225_600_123)
        );
        assert_eq!(
            parse_time("2026-01-01T01:00:00+01:00"),
            Ok(1_767_225_600_000)
        );
        assert!(parse_time("yesterday").is_err());
    }
}
