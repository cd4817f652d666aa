//! Reports as CSV: RFC 4180 quoting by the `csv` crate, a header row with the report's
//! column names (the reference's, in its order), UTF-8, times in RFC 3339 UTC, and every
//! cell that a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, a
//! tab or a carriage return) prefixed with `'` (OWASP's advice against CSV injection).
//! Rows are encoded as they stream in, in chunks: memory stays flat however many.

use futures_util::{Stream, StreamExt};
use plenary_proto::v1::reporting::{
    ActivityRow, BlockedUserRow, ContextStatsRow, InteractionResultRow, ModeratorPerformanceRow,
    ModeratorThreads, ModeratorTranscriptRow, PeerTranscriptRow, PollVoteRow, UserStatsRow,
};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

/// A chunk is sent once this many bytes are encoded.
pub const CHUNK_BYTES: usize = 64 * 1024;

/// A report row as CSV.
pub trait CsvRow: Send + 'static {
    /// The column names, in order.
    const HEADER: &'static [&'static str];
    /// The cells, in the header's order (not yet neutralised).
    fn cells(&self) -> Vec<String>;
}

/// A cell a spreadsheet would not run: formula-like text gets a leading `'`.
pub fn neutralise(cell: String) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell,
    }
}

/// A Unix-ms time as RFC 3339 UTC with milliseconds; empty for 0 (never).
pub fn time_cell(ms: u64) -> String {
    if ms == 0 {
        return String::new();
    }
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// Encodes a stream of rows as CSV chunks (the header first).
pub fn encode<T: CsvRow, E: Send + 'static>(
    rows: impl Stream<Item = Result<T, E>> + Send + 'static,
) -> impl Stream<Item = Result<Vec<u8>, E>> + Send + 'static {
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    tokio::spawn(async move {
        let mut rows = std::pin::pin!(rows);
        let writer = || csv::Writer::from_writer(Vec::with_capacity(CHUNK_BYTES + 4096));
        // Writing into a Vec cannot fail.
        let take = |out: csv::Writer<Vec<u8>>| out.into_inner().unwrap_or_default();
        let mut out = writer();
        let _ = out.write_record(T::HEADER);
        while let Some(row) = rows.next().await {
            match row {
                Ok(row) => {
                    let _ = out.write_record(row.cells().into_iter().map(neutralise));
                }
                Err(e) => {
                    let _ = tx.send(Err(e)).await;
                    return;
                }
            }
            let _ = out.flush();
            if out.get_ref().len() >= CHUNK_BYTES {
                let full = std::mem::replace(&mut out, writer());
                if tx.send(Ok(take(full))).await.is_err() {
                    return;
                }
            }
        }
        let rest = take(out);
        if !rest.is_empty() {
            let _ = tx.send(Ok(rest)).await;
        }
    });
    tokio_stream::wrappers::ReceiverStream::new(rx)
}

impl CsvRow for BlockedUserRow {
    const HEADER: &'static [&'static str] = &[
        "userId",
        "userEmail",
        "contextId",
        "moderatorId",
        "moderatorEmail",
        "blockedAt",
    ];
    fn cells(&self) -> Vec<String> {
        vec![
            self.user_id.clone(),
            self.user_email.clone(),
            self.context_id.clone(),
            self.moderator_id.clone(),
            self.moderator_email.clone(),
            time_cell(self.blocked_at_ms),
        ]
    }
}

impl CsvRow for PollVoteRow {
    const HEADER: &'static [&'static str] = &[
        "contextId",
        "pollId",
        "userId",
        "userFirstName",
        "userLastName",
        "userEmail",
        "question",
        "vote",
        "voteTime",
    ];
    fn cells(&self) -> Vec<String> {
        vec![
            self.context_id.clone(),
            self.poll_id.to_string(),
            self.user_id.clone(),
            self.user_first_name.clone(),
            self.user_last_name.clone(),
            self.user_email.clone(),
            self.question.clone(),
            self.vote.clone(),
            time_cell(self.vote_time_ms),
        ]
    }
}

impl CsvRow for ContextStatsRow {
    const HEADER: &'static [&'static str] = &[
        "contextId",
        "contextName",
        "lastActivity",
        "pending",
        "owned",
        "resolved",
        "done",
        "blocked",
        "userMessages",
        "moderatorMessages",
        "moderatorsOwningResolvedThreads",
        "moderatorsOwningUnresolvedThreads",
    ];
    fn cells(&self) -> Vec<String> {
        let owners = |list: &[ModeratorThreads]| {
            list.iter()
                .map(|m| format!("{} ({})", m.email, m.threads))
                .collect::<Vec<_>>()
                .join("; ")
        };
        vec![
            self.context_id.clone(),
            self.context_name.clone(),
            time_cell(self.last_activity_ms),
            self.pending.to_string(),
            self.owned.to_string(),
            self.resolved.to_string(),
            self.done.to_string(),
            self.blocked.to_string(),
            self.user_messages.to_string(),
            self.moderator_messages.to_string(),
            owners(&self.moderators_owning_resolved),
            owners(&self.moderators_owning_unresolved),
        ]
    }
}

impl CsvRow for UserStatsRow {
    const HEADER: &'static [&'static str] = &[
        "id",
        "email",
        "connections",
        "internalReceived",
        "internalSent",
        "externalReceived",
        "externalSent",
    ];
    fn cells(&self) -> Vec<String> {
        vec![
            self.id.clone(),
            self.email.clone(),
            self.connections.to_string(),
            self.internal_received.to_string(),
            self.internal_sent.to_string(),
            self.external_received.to_string(),
            self.external_sent.to_string(),
        ]
    }
}

impl CsvRow for PeerTranscriptRow {
    const HEADER: &'static [&'static str] = &["sender", "recipient", "time", "message"];
    fn cells(&self) -> Vec<String> {
        vec![
            self.sender.clone(),
            self.recipient.clone(),
            time_cell(self.time_ms),
            self.message.clone(),
        ]
    }
}

impl CsvRow for ModeratorTranscriptRow {
    const HEADER: &'static [&'static str] = &[
        "creator",
        "contextId",
        "state",
        "sender",
        "recipient",
        "time",
        "message",
    ];
    fn cells(&self) -> Vec<String> {
        vec![
            self.creator.clone(),
            self.context_id.clone(),
            self.state.clone(),
            self.sender.clone(),
            self.recipient.clone(),
            time_cell(self.time_ms),
            self.message.clone(),
        ]
    }
}

impl CsvRow for ModeratorPerformanceRow {
    const HEADER: &'static [&'static str] = &[
        "contextId",
        "moderatorId",
        "moderatorEmail",
        "threadsClaimed",
        "threadsResolved",
        "firstResponses",
        "firstResponseMedianMs",
        "firstResponseP90Ms",
        "firstResponseMaxMs",
        "timedResolutions",
        "claimToResolveMedianMs",
        "claimToResolveP90Ms",
        "claimToResolveMaxMs",
    ];
    fn cells(&self) -> Vec<String> {
        let ms = |v: Option<u64>| v.map(|v| v.to_string()).unwrap_or_default();
        vec![
            self.context_id.clone(),
            self.moderator_id.clone(),
            self.moderator_email.clone(),
            self.threads_claimed.to_string(),
            self.threads_resolved.to_string(),
            self.first_responses.to_string(),
            ms(self.first_response_median_ms),
            ms(self.first_response_p90_ms),
            ms(self.first_response_max_ms),
            self.timed_resolutions.to_string(),
            ms(self.claim_to_resolve_median_ms),
            ms(self.claim_to_resolve_p90_ms),
            ms(self.claim_to_resolve_max_ms),
        ]
    }
}

impl CsvRow for InteractionResultRow {
    const HEADER: &'static [&'static str] = &[
        "contextId",
        "interactionId",
        "kind",
        "question",
        "item",
        "itemIndex",
        "answer",
        "count",
    ];
    fn cells(&self) -> Vec<String> {
        vec![
            self.context_id.clone(),
            self.interaction_id.to_string(),
            self.kind.clone(),
            self.question.clone(),
            self.item.clone(),
            self.item_index.to_string(),
            self.answer.clone(),
            self.count.to_string(),
        ]
    }
}

impl CsvRow for ActivityRow {
    const HEADER: &'static [&'static str] =
        &["bucketStart", "messages", "questions", "votes", "joins"];
    fn cells(&self) -> Vec<String> {
        vec![
            time_cell(self.bucket_start_ms),
            self.messages.to_string(),
            self.questions.to_string(),
            self.votes.to_string(),
            self.joins.to_string(),
        ]
    }
}

#[cfg(test)]
mod tests {
    use futures_util::{TryStreamExt, stream};

    use super::*;

    #[test]
    fn formula_like_cells_are_neutralised_and_others_kept() {
        for (cell, out) in [
            ("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"),
            ("+1", "'+1"),
            ("-2", "'-2"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("plain", "plain"),
            ("", ""),
            ("a=b", "a=b"),
        ] {
            assert_eq!(neutralise(cell.into()), out);
        }
    }

    #[test]
    fn times_are_rfc_3339_utc() {
        assert_eq!(time_cell(1_767_225_600_123), "2026-01-01T00:00:00.123Z");
        assert_eq!(time_cell(0), "");
    }

    #[tokio::test]
    async fn tricky_values_parse_back_the_same_and_large_exports_come_in_chunks() {
        let tricky = [
            "Baker, Jr.",
            "say \"hi\"",
            "two\nlines",
            "=cmd|' /C calc'!A0",
            "naïve ✓",
        ];
        let rows: Vec<Result<PollVoteRow, ()>> = (0..2_000)
            .map(|i| {
                Ok(PollVoteRow {
                    context_id: "w1".into(),
                    poll_id: i,
                    user_last_name: tricky[i as usize % tricky.len()].into(),
                    vote: tricky[(i as usize + 1) % tricky.len()].into(),
                    vote_time_ms: 1_767_225_600_000,
                    ..Default::default()
                })
            })
            .collect();
        let chunks: Vec<Vec<u8>> = encode(stream::iter(rows)).try_collect().await.unwrap();
        assert!(chunks.len() > 1, "streamed in chunks");
        assert!(chunks.iter().all(|c| c.len() < 2 * CHUNK_BYTES));
        let bytes = chunks.concat();
        let mut reader = csv::Reader::from_reader(&bytes[..]);
        assert_eq!(
            reader.headers().unwrap().iter().collect::<Vec<_>>(),
            PollVoteRow::HEADER
        );
        let mut n = 0;
        for (i, record) in reader.records().enumerate() {
            let record = record.unwrap();
            let expect = |s: &str| neutralise(s.to_owned());
            assert_eq!(record[1], i.to_string());
            assert_eq!(record[4], expect(tricky[i % tricky.len()]));
            assert_eq!(record[7], expect(tricky[(i + 1) % tricky.len()]));
            assert_eq!(&record[8], "2026-01-01T00:00:00Z");
            n += 1;
        }
        assert_eq!(n, 2_000);
    }
}
