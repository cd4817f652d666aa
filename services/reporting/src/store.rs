//! The reporting store (SQLite, `reporting.db`): what the projection derived from the
//! log, and the cursor saying how far it got — written in one transaction with what it
//! covers, so a restart goes on exactly where the last commit ended: nothing is lost or
//! counted twice. A per-stream high-water mark makes applying an event twice harmless
//! too (for consumers that deliver at least once).

use std::{
    collections::{BTreeMap, HashMap},
    path::Path,
};

use futures_util::{Stream, StreamExt};
use plenary_bus::LogEntry;
use plenary_proto::v1::{
    events::{ContextEvent, ConversationEvent},
    reporting::{
        ActivityRow, BlockedUserRow, ContextStatsRow, InteractionResultRow,
        ModeratorPerformanceRow, ModeratorThreads, ModeratorTranscriptRow, PeerTranscriptRow,
        PollVoteRow, ReportRequest, UserStatsRow,
    },
};
use prost::Message;
use sqlx::{
    AnyConnection, AnyPool, Connection, Executor, Row,
    any::{AnyPoolOptions, AnyRow},
};

use crate::projection::{Change, Posted, context_changes, conversation_changes};

mod threads;

/// A failure of the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("reporting store: {0}")]
    Sql(#[from] sqlx::Error),
    #[error("reporting store migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error(
        "reporting store: shard {shard} is fenced (another reporter took it over, fence {stored} > {ours})"
    )]
    Fenced { shard: u32, stored: u64, ours: u64 },
    #[error("reporting store: {0}")]
    Config(String),
}

/// How far ingestion has got.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cursor {
    /// The last log position applied.
    pub position: u64,
    /// The time of the last event applied (Unix ms).
    pub last_event_ms: u64,
}

/// What one ingested batch did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ingested {
    pub applied: u64,
    /// Events set aside as unreadable (in the `unreadable` table, and logged).
    pub unreadable: u64,
}

/// The reporting store: SQLite (embedded mode) or PostgreSQL (cluster mode), through
/// sqlx's `Any` driver. The SQL is written once in the dialect both share (`$n`
/// parameters, `ON CONFLICT`, `CASE` for a two-value max); each backend has its own
/// migrations (`migrations/sqlite`, `migrations/postgres`).
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    /// Users' emails as committed: most events name a user whose email the store
    /// already holds, and the batch writes only the ones that changed.
    known_users: std::sync::Arc<std::sync::Mutex<HashMap<String, String>>>,
}

/// Most users remembered in [`Store::known_users`] (forgotten all at once past it).
const KNOWN_USERS: usize = 200_000;

impl Store {
    /// Opens (creating if needed) the SQLite store at `path` (embedded mode).
    pub async fn open(path: &Path) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let path = path
            .to_str()
            .ok_or_else(|| StoreError::Config(format!("{} is not UTF-8", path.display())))?;
        let pool = AnyPoolOptions::new()
            .max_connections(4)
            .after_connect(|conn, _| {
                Box::pin(async move {
                    // Derived data: a power loss may drop the last commits, and the
                    // cursor with them, so they are ingested again — nothing is lost.
                    conn.execute(
                        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                         PRAGMA busy_timeout = 5000;",
                    )
                    .await?;
                    Ok(())
                })
            })
            .connect(&format!("sqlite://{path}?mode=rwc"))
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        Ok(Store::with_pool(pool))
    }

    /// Connects to the PostgreSQL store at `url` (cluster mode), in `schema` when given
    /// (created if missing; tests use one each), and brings it up to date.
    pub async fn connect_postgres(url: &str, schema: Option<&str>) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        if !url.starts_with("postgres://") && !url.starts_with("postgresql://") {
            return Err(StoreError::Config(format!(
                "--postgres must be a postgres:// URL, not {url:?}"
            )));
        }
        let schema = match schema {
            Some(s) if !s.is_empty() => {
                if !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    return Err(StoreError::Config(format!(
                        "schema {s:?}: letters, digits and _ only"
                    )));
                }
                let mut conn = AnyConnection::connect(url).await?;
                conn.execute(format!("CREATE SCHEMA IF NOT EXISTS {s}").as_str())
                    .await?;
                conn.close().await?;
                Some(s.to_owned())
            }
            _ => None,
        };
        let pool = AnyPoolOptions::new()
            .max_connections(8)
            .after_connect(move |conn, _| {
                let schema = schema.clone();
                Box::pin(async move {
                    if let Some(schema) = schema {
                        conn.execute(format!("SET search_path TO {schema}").as_str())
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect(url)
            .await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        Ok(Store::with_pool(pool))
    }

    fn with_pool(pool: AnyPool) -> Store {
        Store {
            pool,
            known_users: Default::default(),
        }
    }

    pub async fn cursor(&self) -> Result<Cursor, StoreError> {
        let row = sqlx::query("SELECT position, last_event_ms FROM cursor WHERE id = 1")
            .fetch_one(&self.pool)
            .await?;
        Ok(Cursor {
            position: row.get::<i64, _>(0) as u64,
            last_event_ms: row.get::<i64, _>(1) as u64,
        })
    }

    /// Applies a batch of log entries (in log order) and moves the cursor to the last,
    /// in one transaction.
    ///
    /// `fences` (cluster mode: the reporting-stream shards the entries come from, with
    /// this reporter's fence for each) are checked in the same transaction: a reporter
    /// whose shard was taken over by a newer one commits nothing ([`StoreError::Fenced`]).
    pub async fn ingest(
        &self,
        entries: &[LogEntry],
        fences: &[(u32, u64)],
    ) -> Result<Ingested, StoreError> {
        let Some(last) = entries.last() else {
            return Ok(Ingested::default());
        };
        let mut tx = self.pool.begin().await?;
        for &(shard, fence) in fences {
            check_fence(&mut tx, shard, fence).await?;
        }
        let mut done = Ingested::default();
        let mut batch = Batch::default();
        for entry in entries {
            match apply(&mut tx, entry, &mut batch).await? {
                true => done.applied += 1,
                false => done.unreadable += 1,
            }
        }
        {
            let known = self.known_users.lock().unwrap_or_else(|e| e.into_inner());
            batch
                .users
                .retain(|user, email| known.get(user) != Some(email));
        }
        let users: Vec<(String, String)> = batch
            .users
            .iter()
            .map(|(u, e)| (u.clone(), e.clone()))
            .collect();
        batch.flush(&mut tx).await?;
        sqlx::query(
            "UPDATE cursor SET position = CASE WHEN $1 > position THEN $1 ELSE position END, \
             last_event_ms = CASE WHEN $2 > last_event_ms THEN $2 ELSE last_event_ms END \
             WHERE id = 1",
        )
        .bind(last.position as i64)
        .bind(last.at_ms as i64)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        let mut known = self.known_users.lock().unwrap_or_else(|e| e.into_inner());
        if known.len() + users.len() > KNOWN_USERS {
            known.clear();
        }
        known.extend(users);
        Ok(done)
    }

    /// Sets one entry aside as unreadable (with `reason`) in a transaction of its own:
    /// for an entry the store refused as data, so the entries after it go on.
    pub async fn set_aside(&self, entry: &LogEntry, reason: &str) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        set_aside(&mut tx, entry, reason).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The blocked users report's rows, streamed (bounded memory however many).
    pub fn blocked_users(
        &self,
        request: &ReportRequest,
    ) -> impl Stream<Item = Result<BlockedUserRow, StoreError>> + Send + 'static {
        stream_rows(
            self.pool.clone(),
            "SELECT user_id, user_email, context_id, moderator_id, moderator_email, \
                 blocked_at_ms FROM blocks \
                 WHERE ($1 = '' OR context_id = $1) AND blocked_at_ms >= $2 AND blocked_at_ms < $3 \
                 ORDER BY context_id, blocked_at_ms, user_id",
            Binds::All(filters(request)),
            |r| BlockedUserRow {
                user_id: r.get(0),
                user_email: r.get(1),
                context_id: r.get(2),
                moderator_id: r.get(3),
                moderator_email: r.get(4),
                blocked_at_ms: r.get::<i64, _>(5) as u64,
            },
        )
    }

    /// The poll votes report's rows (every kind with a vote but surveys), streamed.
    pub fn poll_votes(
        &self,
        request: &ReportRequest,
    ) -> impl Stream<Item = Result<PollVoteRow, StoreError>> + Send + 'static {
        stream_rows(
            self.pool.clone(),
            "SELECT v.context_id, v.interaction_id, v.user_id, v.first_name, v.last_name, \
                 v.email, COALESCE(i.question, ''), \
                 CASE WHEN i.kind = 'crowd_vote' THEN i.emoji ELSE v.vote END, v.at_ms \
                 FROM votes v LEFT JOIN interactions i \
                   ON i.context_id = v.context_id AND i.interaction_id = v.interaction_id \
                 WHERE ($1 = '' OR v.context_id = $1) AND v.at_ms >= $2 AND v.at_ms < $3 \
                   AND COALESCE(i.kind, '') NOT IN ('survey', 'announcement') \
                 ORDER BY v.context_id, v.seq",
            Binds::All(filters(request)),
            |r| PollVoteRow {
                context_id: r.get(0),
                poll_id: r.get::<i64, _>(1) as u64,
                user_id: r.get(2),
                user_first_name: r.get(3),
                user_last_name: r.get(4),
                user_email: r.get(5),
                question: r.get(6),
                vote: r.get(7),
                vote_time_ms: r.get::<i64, _>(8) as u64,
            },
        )
    }
}

impl Store {
    /// The context stats report's rows (`request` has a range), streamed.
    pub fn context_stats(
        &self,
        request: &ReportRequest,
    ) -> impl Stream<Item = Result<ContextStatsRow, StoreError>> + Send + 'static {
        let (context, from, to) = filters(request);
        let pool = self.pool.clone();
        async_stream(move |tx| async move {
            let mut contexts = sqlx::query(
                "SELECT context_id, name, last_moderator_ms FROM contexts \
                 WHERE ($1 = '' OR context_id = $1) AND first_event_ms < $3 AND last_event_ms >= $2 \
                 ORDER BY context_id",
            )
            .bind(context)
            .bind(from)
            .bind(to)
            .fetch(&pool);
            while let Some(row) = contexts.next().await {
                let row = match row {
                    Ok(r) => context_stats_row(&pool, r.get(0), r.get(1), r.get(2), from, to).await,
                    Err(e) => Err(e.into()),
                };
                if tx.send(row).await.is_err() {
                    break;
                }
            }
        })
    }
}

impl Store {
    /// The user stats report's rows (everything; no filters), streamed.
    pub fn user_stats(
        &self,
    ) -> impl Stream<Item = Result<UserStatsRow, StoreError>> + Send + 'static {
        stream_rows(
            self.pool.clone(),
            "WITH ids AS ( \
               SELECT user_id AS id FROM users \
               UNION SELECT sender_id FROM direct_messages \
               UNION SELECT recipient_id FROM direct_messages \
               UNION SELECT attendee_id FROM threads \
               UNION SELECT user_id FROM connections), \
             conn AS MATERIALIZED (SELECT user_id AS id, COUNT(*) AS n FROM connections GROUP BY user_id), \
             dm_in AS MATERIALIZED (SELECT recipient_id AS id, COUNT(*) AS n FROM direct_messages \
               WHERE between_attendees GROUP BY recipient_id), \
             dm_out AS MATERIALIZED (SELECT sender_id AS id, COUNT(*) AS n FROM direct_messages \
               WHERE between_attendees GROUP BY sender_id), \
             ext_in AS MATERIALIZED (SELECT recipient_id AS id, COUNT(*) AS n FROM messages \
               WHERE thread_id != 0 AND by_moderator AND recipient_id != '' \
               GROUP BY recipient_id), \
             ext_out AS MATERIALIZED (SELECT author_id AS id, COUNT(*) AS n FROM messages \
               WHERE thread_id != 0 AND NOT by_moderator GROUP BY author_id) \
             SELECT ids.id, COALESCE(u.email, ''), COALESCE(conn.n, 0), COALESCE(dm_in.n, 0), \
               COALESCE(dm_out.n, 0), COALESCE(ext_in.n, 0), COALESCE(ext_out.n, 0) \
             FROM ids LEFT JOIN users u ON u.user_id = ids.id \
             LEFT JOIN conn ON conn.id = ids.id LEFT JOIN dm_in ON dm_in.id = ids.id \
             LEFT JOIN dm_out ON dm_out.id = ids.id LEFT JOIN ext_in ON ext_in.id = ids.id \
             LEFT JOIN ext_out ON ext_out.id = ids.id ORDER BY ids.id",
            Binds::None,
            |r| UserStatsRow {
                id: r.get(0),
                email: r.get(1),
                connections: r.get::<i64, _>(2) as u32,
                internal_received: r.get::<i64, _>(3) as u64,
                internal_sent: r.get::<i64, _>(4) as u64,
                external_received: r.get::<i64, _>(5) as u64,
                external_sent: r.get::<i64, _>(6) as u64,
            },
        )
    }

    /// The peer-to-peer transcripts' rows, in time order, streamed.
    pub fn peer_transcripts(
        &self,
        request: &ReportRequest,
    ) -> impl Stream<Item = Result<PeerTranscriptRow, StoreError>> + Send + 'static {
        stream_rows(
            self.pool.clone(),
            "SELECT sender_id, recipient_id, at_ms, text FROM direct_messages \
                 WHERE at_ms >= $1 AND at_ms < $2 ORDER BY at_ms, stream_id, message_id",
            {
                let (_, from, to) = filters(request);
                Binds::Range(from, to)
            },
            |r| PeerTranscriptRow {
                sender: r.get(0),
                recipient: r.get(1),
                time_ms: r.get::<i64, _>(2) as u64,
                message: r.get(3),
            },
        )
    }

    /// The moderator transcripts' rows (Q&A thread messages), streamed.
    pub fn moderator_transcripts(
        &self,
        request: &ReportRequest,
    ) -> impl Stream<Item = Result<ModeratorTranscriptRow, StoreError>> + Send + 'static {
        stream_rows(
            self.pool.clone(),
            "SELECT t.attendee_id, m.context_id, t.state, m.author_id, m.recipient_id, \
                 m.at_ms, m.text FROM messages m JOIN threads t \
                   ON t.context_id = m.context_id AND t.thread_id = m.thread_id \
                 WHERE ($1 = '' OR m.context_id = $1) AND m.at_ms >= $2 AND m.at_ms < $3 \
                 ORDER BY m.context_id, m.thread_id, m.message_id",
            Binds::All(filters(request)),
            |r| ModeratorTranscriptRow {
                creator: r.get(0),
                context_id: r.get(1),
                state: r.get(2),
                sender: r.get(3),
                recipient: r.get(4),
                time_ms: r.get::<i64, _>(5) as u64,
                message: r.get(6),
            },
        )
    }
}

impl Store {
    /// Moderator performance over [from, to): claims and resolutions in the range,
    /// waits that started in it, per context and moderator.
    pub async fn moderator_performance(
        &self,
        request: &ReportRequest,
    ) -> Result<Vec<ModeratorPerformanceRow>, StoreError> {
        let (context, from, to) = filters(request);
        #[derive(Default)]
        struct Acc {
            email: String,
            claimed: u32,
            resolved: u32,
            waits: Vec<u64>,
            resolves: Vec<u64>,
        }
        let mut per: BTreeMap<(String, String), Acc> = BTreeMap::new();
        // One row per claim, resolution and answered wait in the range: (what, context,
        // moderator, email, from, to).
        let facts: Vec<(String, String, String, String, Option<i64>, i64)> = sqlx::query_as(
            "SELECT 'claim', context_id, moderator_id, moderator_email, NULL, at_ms FROM claims \
               WHERE ($1 = '' OR context_id = $1) AND at_ms >= $2 AND at_ms < $3 \
             UNION ALL SELECT 'resolve', context_id, moderator_id, moderator_email, claimed_ms, \
               resolved_ms FROM resolutions \
               WHERE ($1 = '' OR context_id = $1) AND resolved_ms >= $2 AND resolved_ms < $3 \
             UNION ALL SELECT 'wait', context_id, replier_id, replier_email, started_ms, \
               replied_ms FROM waits WHERE ($1 = '' OR context_id = $1) \
               AND started_ms >= $2 AND started_ms < $3 AND replied_ms IS NOT NULL",
        )
        .bind(&context)
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await?;
        for (what, ctx, moderator, email, start, end) in facts {
            let acc = per.entry((ctx, moderator)).or_default();
            if acc.email.is_empty() {
                acc.email = email;
            }
            let took = start.map(|start| end.saturating_sub(start).max(0) as u64);
            match what.as_str() {
                "claim" => acc.claimed += 1,
                "resolve" => {
                    acc.resolved += 1;
                    acc.resolves.extend(took);
                }
                _ => acc.waits.extend(took),
            }
        }
        Ok(per
            .into_iter()
            .map(|((context_id, moderator_id), mut acc)| {
                let (wait, resolve) = (spread(&mut acc.waits), spread(&mut acc.resolves));
                ModeratorPerformanceRow {
                    context_id,
                    moderator_id,
                    moderator_email: acc.email,
                    threads_claimed: acc.claimed,
                    threads_resolved: acc.resolved,
                    first_responses: acc.waits.len() as u32,
                    first_response_median_ms: wait.map(|s| s.0),
                    first_response_p90_ms: wait.map(|s| s.1),
                    first_response_max_ms: wait.map(|s| s.2),
                    timed_resolutions: acc.resolves.len() as u32,
                    claim_to_resolve_median_ms: resolve.map(|s| s.0),
                    claim_to_resolve_p90_ms: resolve.map(|s| s.1),
                    claim_to_resolve_max_ms: resolve.map(|s| s.2),
                }
            })
            .collect())
    }
}

impl Store {
    /// The interaction results' rows, streamed.
    pub fn interaction_results(
        &self,
        request: &ReportRequest,
    ) -> impl Stream<Item = Result<InteractionResultRow, StoreError>> + Send + 'static {
        stream_rows(
            self.pool.clone(),
            "SELECT a.context_id, a.interaction_id, COALESCE(i.kind, ''), \
               COALESCE(i.question, ''), COALESCE(sq.text, ''), a.question, \
               CASE WHEN a.option_idx IS NOT NULL THEN COALESCE(so.text, '#' || a.option_idx) \
                 WHEN i.kind = 'crowd_vote' THEN i.emoji ELSE a.value END AS answer, \
               COUNT(*) AS n \
             FROM answers a \
             LEFT JOIN interactions i \
               ON i.context_id = a.context_id AND i.interaction_id = a.interaction_id \
             LEFT JOIN survey_questions sq ON sq.context_id = a.context_id \
               AND sq.interaction_id = a.interaction_id AND sq.question = a.question \
             LEFT JOIN survey_options so ON so.context_id = a.context_id \
               AND so.interaction_id = a.interaction_id AND so.question = a.question \
               AND so.option_idx = a.option_idx \
             WHERE ($1 = '' OR a.context_id = $1) \
             GROUP BY a.context_id, a.interaction_id, a.question, answer \
             ORDER BY a.context_id, a.interaction_id, a.question, n DESC, answer",
            Binds::Context(request.context_id.clone()),
            |r| InteractionResultRow {
                context_id: r.get(0),
                interaction_id: r.get::<i64, _>(1) as u64,
                kind: r.get(2),
                question: r.get(3),
                item: r.get(4),
                item_index: r.get::<i64, _>(5) as u32,
                answer: r.get(6),
                count: r.get::<i64, _>(7) as u32,
            },
        )
    }
}

/// Most a report of activity over time may span.
pub const ACTIVITY_MAX_RANGE_MS: u64 = 90 * 24 * 3600 * 1000;

impl Store {
    /// Activity per bucket of `bucket_ms` over [from, to) (`request` has both ends):
    /// every bucket, zeros included, streamed.
    pub async fn activity(
        &self,
        request: &ReportRequest,
        bucket_ms: u64,
    ) -> Result<impl Stream<Item = Result<ActivityRow, StoreError>> + Send + 'static, StoreError>
    {
        let (context, from, to) = filters(request);
        // (bucket, what) → count, for the buckets with anything in them.
        let counted: Vec<(i64, String, i64)> = sqlx::query_as(
            "SELECT (at_ms - $2) / $4 AS b, CASE WHEN thread_id = 0 THEN 'm' ELSE 'q' END, \
               COUNT(*) FROM messages WHERE ($1 = '' OR context_id = $1) \
               AND at_ms >= $2 AND at_ms < $3 AND (thread_id = 0 OR NOT by_moderator) \
               GROUP BY b, thread_id = 0 \
             UNION ALL SELECT (at_ms - $2) / $4 AS b, 'v', COUNT(*) FROM votes \
               WHERE ($1 = '' OR context_id = $1) AND at_ms >= $2 AND at_ms < $3 GROUP BY b \
             UNION ALL SELECT (window_start_ms - $2) / $4 AS b, 'j', \
               CAST(SUM(joins) AS BIGINT) FROM joins WHERE ($1 = '' OR context_id = $1) \
               AND window_start_ms >= $2 AND window_start_ms < $3 GROUP BY b",
        )
        .bind(context)
        .bind(from)
        .bind(to)
        .bind(bucket_ms as i64)
        .fetch_all(&self.pool)
        .await?;
        let mut sparse: BTreeMap<u64, (u64, u64, u64, u64)> = BTreeMap::new();
        for (bucket, what, n) in counted {
            let row = sparse.entry(bucket as u64).or_default();
            match what.as_str() {
                "m" => row.0 = n as u64,
                "q" => row.1 = n as u64,
                "v" => row.2 = n as u64,
                _ => row.3 = n as u64,
            }
        }
        let (from, to) = (from as u64, to as u64);
        let buckets = (to - from).div_ceil(bucket_ms);
        Ok(futures_util::stream::iter((0..buckets).map(move |b| {
            let (messages, questions, votes, joins) = sparse.get(&b).copied().unwrap_or_default();
            Ok(ActivityRow {
                bucket_start_ms: from + b * bucket_ms,
                messages,
                questions,
                votes,
                joins,
            })
        })))
    }
}

/// Median, p90 and max of some durations, by nearest rank (the median of an even count
/// is the lower middle one); `None` for none.
pub fn spread(values: &mut [u64]) -> Option<(u64, u64, u64)> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let rank = |p: usize| values[(values.len() * p).div_ceil(100).max(1) - 1];
    Some((rank(50), rank(90), values[values.len() - 1]))
}

/// One context's stats over [from, to).
async fn context_stats_row(
    pool: &AnyPool,
    context_id: String,
    name: String,
    last_moderator_ms: i64,
    from: i64,
    to: i64,
) -> Result<ContextStatsRow, StoreError> {
    let mut row = ContextStatsRow {
        context_name: name,
        last_activity_ms: last_moderator_ms as u64,
        ..Default::default()
    };
    let states: Vec<(String, i64)> = sqlx::query_as(
        "SELECT state, COUNT(*) FROM threads WHERE context_id = $1 AND opened_ms < $2 GROUP BY state",
    )
    .bind(&context_id)
    .bind(to)
    .fetch_all(pool)
    .await?;
    for (state, n) in states {
        let n = n as u32;
        match state.as_str() {
            "pending" => row.pending = n,
            "owned" => row.owned = n,
            "resolved" => row.resolved = n,
            _ => row.done = n,
        }
    }
    row.blocked = sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM blocks WHERE context_id = $1")
        .bind(&context_id)
        .fetch_one(pool)
        .await? as u32;
    let messages: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT CASE WHEN by_moderator THEN 1 ELSE 0 END, COUNT(*) FROM messages \
         WHERE context_id = $1 AND at_ms >= $2 AND at_ms < $3 GROUP BY by_moderator",
    )
    .bind(&context_id)
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await?;
    for (by_moderator, n) in messages {
        if by_moderator == 1 {
            row.moderator_messages = n as u64;
        } else {
            row.user_messages = n as u64;
        }
    }
    let owners = |state: &'static str| {
        sqlx::query_as::<_, (String, i64)>(
            "SELECT CASE WHEN owner_email = '' THEN owner_id ELSE owner_email END AS who, COUNT(*) AS n \
             FROM threads WHERE context_id = $1 AND opened_ms < $2 AND state = $3 \
             GROUP BY who ORDER BY n DESC, who",
        )
        .bind(context_id.clone())
        .bind(to)
        .bind(state)
        .fetch_all(pool)
    };
    let per_moderator = |rows: Vec<(String, i64)>| {
        rows.into_iter()
            .map(|(email, n)| ModeratorThreads {
                email,
                threads: n as u32,
            })
            .collect()
    };
    row.moderators_owning_resolved = per_moderator(owners("resolved").await?);
    row.moderators_owning_unresolved = per_moderator(owners("owned").await?);
    row.context_id = context_id;
    Ok(row)
}

/// A report's filters as bind values: the context ('' for all) and [from, to) in ms.
fn filters(request: &ReportRequest) -> (String, i64, i64) {
    let to = match request.to_ms {
        0 => i64::MAX,
        t => t.min(i64::MAX as u64) as i64,
    };
    (
        request.context_id.clone(),
        request.from_ms.min(i64::MAX as u64) as i64,
        to,
    )
}

/// What a report's query binds: nothing, `?1`/`?2` = [from, to), or `?1` = context,
/// `?2`/`?3` = [from, to).
enum Binds {
    None,
    Context(String),
    Range(i64, i64),
    All((String, i64, i64)),
}

/// Runs a report's query and streams its rows, each mapped by `map`.
fn stream_rows<T: Send + 'static>(
    pool: AnyPool,
    sql: &'static str,
    binds: Binds,
    map: fn(AnyRow) -> T,
) -> impl Stream<Item = Result<T, StoreError>> + Send + 'static {
    async_stream(move |tx| async move {
        let query = sqlx::query(sql);
        let query = match binds {
            Binds::None => query,
            Binds::Context(context) => query.bind(context),
            Binds::Range(from, to) => query.bind(from).bind(to),
            Binds::All((context, from, to)) => query.bind(context).bind(from).bind(to),
        };
        let mut rows = query.fetch(&pool);
        while let Some(row) = rows.next().await {
            if tx.send(row.map(map).map_err(Into::into)).await.is_err() {
                break;
            }
        }
    })
}

/// Rows produced by a task into a small channel: a report streams with bounded memory,
/// and stops reading when the reader goes away.
fn async_stream<T, F, Fut>(produce: F) -> impl Stream<Item = T> + Send + 'static
where
    T: Send + 'static,
    F: FnOnce(tokio::sync::mpsc::Sender<T>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::channel(256);
    tokio::spawn(produce(tx));
    tokio_stream::wrappers::ReceiverStream::new(rx)
}

/// Applies one entry; false when it could not be read (then set aside).
/// What a batch changes that many of its events touch (the same stream's high-water
/// mark, a context's activity, a user's email): gathered, and written once at its end.
#[derive(Default)]
struct Batch {
    /// Per stream, the last event applied (`None`: none yet), loaded on first use.
    marks: HashMap<String, Option<(u64, u64)>>,
    /// Per context: first event, last event, last moderator event (ms).
    activity: HashMap<String, (i64, i64, i64)>,
    users: HashMap<String, String>,
    /// Messages not yet written, each with its recipient when the batch's threads say
    /// it: written together before any change but a thread step.
    messages: Vec<(Posted, Option<String>)>,
    /// Thread steps: applied in memory, written at the end ([`threads`]).
    threads: threads::Threads,
}

/// Rows written per statement (messages, users, answered waits).
const MESSAGES_PER_INSERT: usize = 250;

/// `($1, …, $width), ($width+1, …), …` for `rows` rows of `width` parameters.
fn placeholders(rows: usize, width: usize) -> String {
    let one: Vec<String> = (1..=width).map(|n| format!("${n}")).collect();
    repeat_rows(&format!("({})", one.join(", ")), width, rows)
}

/// `rows` copies of a row template whose parameters are `$1`…`$width`, joined by
/// commas, the parameters of copy `i` renumbered `$(i × width + n)`.
fn repeat_rows(template: &str, width: usize, rows: usize) -> String {
    let mut out = String::with_capacity((template.len() + 8) * rows);
    for i in 0..rows {
        if i > 0 {
            out.push_str(", ");
        }
        let mut chars = template.char_indices().peekable();
        while let Some((_, c)) = chars.next() {
            if c != '$' {
                out.push(c);
                continue;
            }
            let mut n = 0usize;
            while let Some(&(_, d)) = chars.peek() {
                let Some(digit) = d.to_digit(10) else { break };
                n = n * 10 + digit as usize;
                chars.next();
            }
            out.push_str(&format!("${}", i * width + n));
        }
    }
    out
}

impl Batch {
    /// The stream's last applied event.
    async fn mark(
        &mut self,
        tx: &mut AnyConnection,
        stream_id: &str,
    ) -> Result<Option<(u64, u64)>, StoreError> {
        if let Some(mark) = self.marks.get(stream_id) {
            return Ok(*mark);
        }
        let stored: Option<(i64, i64)> =
            sqlx::query_as("SELECT epoch, seq FROM streams WHERE stream_id = $1")
                .bind(stream_id)
                .fetch_optional(&mut *tx)
                .await?;
        let mark = stored.map(|(e, s)| (e as u64, s as u64));
        self.marks.insert(stream_id.to_owned(), mark);
        Ok(mark)
    }

    /// Writes the messages gathered, many rows per statement.
    async fn flush_messages(&mut self, tx: &mut AnyConnection) -> Result<(), StoreError> {
        let messages = std::mem::take(&mut self.messages);
        for chunk in messages.chunks(MESSAGES_PER_INSERT) {
            let mut sql = String::from(
                "INSERT INTO messages (context_id, message_id, author_id, \
                 author_email, by_moderator, thread_id, backchannel, text, at_ms, recipient_id) \
                 VALUES ",
            );
            // Ten parameters a row; the recipient ($10) is NULL unless the batch's
            // threads say it: then as the stored thread says.
            sql.push_str(&repeat_rows(
                "($1, $2, $3, $4, $5, $6, $7, $8, $9, COALESCE($10, (SELECT CASE WHEN $5 \
                 THEN attendee_id ELSE owner_id END FROM threads \
                 WHERE context_id = $1 AND thread_id = $6), ''))",
                10,
                chunk.len(),
            ));
            sql.push_str(" ON CONFLICT DO NOTHING");
            let mut query = sqlx::query(&sql);
            for (m, recipient) in chunk {
                query = query
                    .bind(&m.context_id)
                    .bind(m.message_id as i64)
                    .bind(&m.author.user_id)
                    .bind(&m.author.email)
                    .bind(m.author.moderator)
                    .bind(m.thread_id as i64)
                    .bind(m.backchannel)
                    .bind(&m.text)
                    .bind(m.at_ms as i64)
                    .bind(recipient.as_deref());
            }
            query.execute(&mut *tx).await?;
        }
        Ok(())
    }

    async fn flush(mut self, tx: &mut AnyConnection) -> Result<(), StoreError> {
        self.flush_messages(tx).await?;
        std::mem::take(&mut self.threads).write(tx).await?;
        for (stream_id, mark) in self.marks {
            let Some((epoch, seq)) = mark else { continue };
            sqlx::query(
                "INSERT INTO streams (stream_id, epoch, seq) VALUES ($1, $2, $3) \
                 ON CONFLICT (stream_id) DO UPDATE SET epoch = excluded.epoch, seq = excluded.seq",
            )
            .bind(stream_id)
            .bind(epoch as i64)
            .bind(seq as i64)
            .execute(&mut *tx)
            .await?;
        }
        for (context_id, (first, last, moderator)) in self.activity {
            sqlx::query(
                "INSERT INTO contexts (context_id, last_moderator_ms, first_event_ms, last_event_ms) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (context_id) DO UPDATE SET \
                 last_moderator_ms = CASE WHEN $2 > contexts.last_moderator_ms THEN $2 \
                   ELSE contexts.last_moderator_ms END, \
                 first_event_ms = CASE WHEN $3 < contexts.first_event_ms THEN $3 \
                   ELSE contexts.first_event_ms END, \
                 last_event_ms = CASE WHEN $4 > contexts.last_event_ms THEN $4 \
                   ELSE contexts.last_event_ms END",
            )
            .bind(context_id)
            .bind(moderator)
            .bind(first)
            .bind(last)
            .execute(&mut *tx)
            .await?;
        }
        // In key order: two reporters upserting the same users lock them in one order.
        let mut users: Vec<_> = self.users.into_iter().collect();
        users.sort_unstable();
        for chunk in users.chunks(MESSAGES_PER_INSERT) {
            let sql = format!(
                "INSERT INTO users (user_id, email) VALUES {} \
                 ON CONFLICT (user_id) DO UPDATE SET email = excluded.email",
                placeholders(chunk.len(), 2)
            );
            let mut query = sqlx::query(&sql);
            for (user_id, email) in chunk {
                query = query.bind(user_id).bind(email);
            }
            query.execute(&mut *tx).await?;
        }
        Ok(())
    }
}

async fn apply(
    tx: &mut AnyConnection,
    entry: &LogEntry,
    batch: &mut Batch,
) -> Result<bool, StoreError> {
    // A user's own stream (settings, what their devices were told) feeds no report.
    if entry.stream_id.starts_with(USER_STREAMS) {
        return Ok(true);
    }
    let decoded = if entry.stream_id.starts_with(PAIR_STREAMS) {
        ConversationEvent::decode(&entry.payload[..])
            .map(|e| ((e.epoch, e.seq), conversation_changes(&e)))
    } else {
        ContextEvent::decode(&entry.payload[..]).map(|e| ((e.epoch, e.seq), context_changes(&e)))
    };
    let ((epoch, seq), changes) = match decoded {
        Ok(decoded) => decoded,
        Err(e) => {
            set_aside(tx, entry, &e.to_string()).await?;
            return Ok(false);
        }
    };
    // At or before the stream's last applied event: applied already.
    if batch
        .mark(tx, &entry.stream_id)
        .await?
        .is_some_and(|mark| (epoch, seq) <= mark)
    {
        return Ok(true);
    }
    for change in changes {
        match change {
            Change::Activity {
                context_id,
                at_ms,
                by_moderator,
            } => {
                let at = at_ms as i64;
                let moderator = if by_moderator { at } else { 0 };
                let seen = batch
                    .activity
                    .entry(context_id)
                    .or_insert((at, at, moderator));
                *seen = (seen.0.min(at), seen.1.max(at), seen.2.max(moderator));
            }
            Change::User { user_id, email } => {
                batch.users.insert(user_id, email);
            }
            Change::Message(message) => {
                let recipient = batch.threads.recipient(&message);
                batch.threads.moderator_message(&message);
                batch.messages.push((message, recipient));
                if batch.messages.len() >= 5 * MESSAGES_PER_INSERT {
                    batch.flush_messages(tx).await?;
                }
            }
            Change::Thread {
                context_id,
                thread_id,
                step,
                attendee_id,
                owner,
                at_ms,
            } => batch
                .threads
                .step((context_id, thread_id), step, attendee_id, owner, at_ms),
            change => {
                batch.flush_messages(tx).await?;
                write(tx, change).await?;
            }
        }
    }
    batch
        .marks
        .insert(entry.stream_id.clone(), Some((epoch, seq)));
    Ok(true)
}

/// Refuses the transaction unless `fence` is at least the newest fence committed for
/// `shard`, and records it: of two reporters that both think they hold a shard, only
/// the one that took it last can commit.
async fn check_fence(tx: &mut AnyConnection, shard: u32, fence: u64) -> Result<(), StoreError> {
    let updated = sqlx::query(
        "INSERT INTO shard_fences (shard, fence) VALUES ($1, $2) ON CONFLICT (shard) \
         DO UPDATE SET fence = excluded.fence WHERE shard_fences.fence <= excluded.fence",
    )
    .bind(i64::from(shard))
    .bind(fence as i64)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if updated == 0 {
        let stored: i64 = sqlx::query_scalar("SELECT fence FROM shard_fences WHERE shard = $1")
            .bind(i64::from(shard))
            .fetch_one(&mut *tx)
            .await?;
        return Err(StoreError::Fenced {
            shard,
            stored: stored as u64,
            ours: fence,
        });
    }
    Ok(())
}

/// Stream id prefixes of private chat (`plenary-actors`' user and pair streams).
const USER_STREAMS: &str = "~u/";
const PAIR_STREAMS: &str = "~dm/";

async fn set_aside(
    tx: &mut AnyConnection,
    entry: &LogEntry,
    reason: &str,
) -> Result<(), StoreError> {
    tracing::error!(
        position = entry.position,
        origin = %entry.origin,
        stream_id = %entry.stream_id,
        seq = entry.seq,
        reason,
        "an event of the log could not be read: set aside in the reporting store's `unreadable` table"
    );
    // What is set aside may hold what the store refuses (a NUL in PostgreSQL text):
    // recorded without it, so setting it aside cannot fail the same way.
    let clean = |s: &str| s.replace('\0', "\u{FFFD}");
    sqlx::query(
        "INSERT INTO unreadable (position, entry, stream_id, seq, reason) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
    )
    .bind(entry.position as i64)
    .bind(clean(&entry.origin))
    .bind(clean(&entry.stream_id))
    .bind(entry.seq as i64)
    .bind(clean(reason))
    .execute(&mut *tx)
    .await?;
    Ok(())
}

async fn write(tx: &mut AnyConnection, change: Change) -> Result<(), StoreError> {
    match change {
        Change::Interaction {
            context_id,
            interaction_id,
            kind,
            question,
            emoji,
            survey,
        } => {
            for (table, _) in [("survey_questions", ()), ("survey_options", ())] {
                sqlx::query(&format!(
                    "DELETE FROM {table} WHERE context_id = $1 AND interaction_id = $2"
                ))
                .bind(&context_id)
                .bind(interaction_id as i64)
                .execute(&mut *tx)
                .await?;
            }
            for (q, (text, options)) in survey.into_iter().enumerate() {
                sqlx::query(
                    "INSERT INTO survey_questions (context_id, interaction_id, question, text) \
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(&context_id)
                .bind(interaction_id as i64)
                .bind(q as i64)
                .bind(text)
                .execute(&mut *tx)
                .await?;
                for (o, option) in options.into_iter().enumerate() {
                    sqlx::query(
                        "INSERT INTO survey_options (context_id, interaction_id, question, \
                         option_idx, text) VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(&context_id)
                    .bind(interaction_id as i64)
                    .bind(q as i64)
                    .bind(o as i64)
                    .bind(option)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            sqlx::query(
                "INSERT INTO interactions (context_id, interaction_id, kind, question, emoji) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (context_id, interaction_id) DO UPDATE SET \
                 kind = excluded.kind, question = excluded.question, emoji = excluded.emoji",
            )
            .bind(context_id)
            .bind(interaction_id as i64)
            .bind(kind)
            .bind(question)
            .bind(emoji)
            .execute(&mut *tx)
            .await?;
        }
        Change::Vote {
            context_id,
            interaction_id,
            voter,
            vote,
            answers,
            at_ms,
            seq,
        } => {
            let inserted = sqlx::query(
                "INSERT INTO votes (context_id, interaction_id, user_id, first_name, \
                 last_name, email, vote, at_ms, seq) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING",
            )
            .bind(&context_id)
            .bind(interaction_id as i64)
            .bind(voter.user_id)
            .bind(voter.given_name)
            .bind(voter.family_name)
            .bind(voter.email)
            .bind(vote)
            .bind(at_ms as i64)
            .bind(seq as i64)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            // One vote per user: a second one (never from a healthy actor) adds nothing.
            if inserted == 1 {
                for answer in answers {
                    sqlx::query(
                        "INSERT INTO answers (context_id, interaction_id, question, option_idx, \
                         value) VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(&context_id)
                    .bind(interaction_id as i64)
                    .bind(i64::from(answer.question))
                    .bind(answer.option.map(i64::from))
                    .bind(answer.value)
                    .execute(&mut *tx)
                    .await?;
                }
            }
        }
        Change::Blocked {
            context_id,
            user_id,
            user_email,
            moderator,
            at_ms,
        } => {
            sqlx::query(
                "INSERT INTO blocks (context_id, user_id, user_email, moderator_id, \
                 moderator_email, blocked_at_ms) VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (context_id, user_id) DO UPDATE SET user_email = excluded.user_email, \
                 moderator_id = excluded.moderator_id, moderator_email = excluded.moderator_email, \
                 blocked_at_ms = excluded.blocked_at_ms",
            )
            .bind(context_id)
            .bind(user_id)
            .bind(user_email)
            .bind(moderator.user_id)
            .bind(moderator.email)
            .bind(at_ms as i64)
            .execute(&mut *tx)
            .await?;
        }
        Change::Unblocked {
            context_id,
            user_id,
        } => {
            sqlx::query("DELETE FROM blocks WHERE context_id = $1 AND user_id = $2")
                .bind(context_id)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
        }
        Change::Named { context_id, name } => {
            // The batch's activity (always written with it) sets the real times.
            sqlx::query(
                "INSERT INTO contexts (context_id, name, first_event_ms, last_event_ms) \
                 VALUES ($1, $2, 9223372036854775807, 0) \
                 ON CONFLICT (context_id) DO UPDATE SET name = excluded.name",
            )
            .bind(name)
            .bind(context_id)
            .execute(&mut *tx)
            .await?;
        }
        Change::Joins {
            context_id,
            window_start_ms,
            joins,
        } => {
            // Added: a window may be counted in two events (an actor restarted in it);
            // an event is applied once (the stream's high-water mark).
            sqlx::query(
                "INSERT INTO joins (context_id, window_start_ms, joins) VALUES ($1, $2, $3) \
                 ON CONFLICT (context_id, window_start_ms) DO UPDATE SET \
                 joins = joins.joins + excluded.joins",
            )
            .bind(context_id)
            .bind(window_start_ms as i64)
            .bind(i64::from(joins))
            .execute(&mut *tx)
            .await?;
        }
        Change::MessageDeleted {
            context_id,
            message_id,
        } => {
            // Reports keep that it was sent, not what it said.
            sqlx::query(
                "UPDATE messages SET deleted = TRUE, text = '' WHERE context_id = $1 AND message_id = $2",
            )
                .bind(context_id)
                .bind(message_id as i64)
                .execute(&mut *tx)
                .await?;
        }
        // Gathered per batch and written together ([`Batch`]).
        Change::Activity { .. }
        | Change::User { .. }
        | Change::Message(_)
        | Change::Thread { .. } => {}
        Change::Connection {
            user_id,
            peer_id,
            connected,
        } => {
            for (a, b) in [(&user_id, &peer_id), (&peer_id, &user_id)] {
                let sql = if connected {
                    "INSERT INTO connections (user_id, peer_id) VALUES ($1, $2) ON CONFLICT DO NOTHING"
                } else {
                    "DELETE FROM connections WHERE user_id = $1 AND peer_id = $2"
                };
                sqlx::query(sql).bind(a).bind(b).execute(&mut *tx).await?;
            }
        }
        Change::DirectMessage {
            stream_id,
            message_id,
            sender_id,
            recipient_id,
            between_attendees,
            text,
            at_ms,
        } => {
            sqlx::query(
                "INSERT INTO direct_messages (stream_id, message_id, sender_id, \
                 recipient_id, between_attendees, text, at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
            )
            .bind(stream_id)
            .bind(message_id as i64)
            .bind(sender_id)
            .bind(recipient_id)
            .bind(between_attendees)
            .bind(text)
            .bind(at_ms as i64)
            .execute(&mut *tx)
            .await?;
        }
        Change::DirectMessageDeleted {
            stream_id,
            message_id,
        } => {
            sqlx::query(
                "UPDATE direct_messages SET deleted = TRUE, text = '' \
                 WHERE stream_id = $1 AND message_id = $2",
            )
            .bind(stream_id)
            .bind(message_id as i64)
            .execute(&mut *tx)
            .await?;
        }
    }
    Ok(())
}

/// For tests (this crate's and the gateway's): stores on the local servers, each in a
/// place of its own.
pub mod test_support {
    use super::Store;

    /// The PostgreSQL every machine here runs (trust auth, database `test`);
    /// `PLENARY_TEST_POSTGRES` overrides it.
    pub fn postgres_url() -> String {
        std::env::var("PLENARY_TEST_POSTGRES")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
    }

    /// A schema name no other test run uses.
    pub fn unique_schema(tag: &str) -> String {
        let tag: String = tag
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .take(20)
            .collect();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        format!("t_{tag}_{}_{nanos}", std::process::id()).to_lowercase()
    }

    /// A PostgreSQL store in a new schema; panics saying what to start when the server
    /// is not there.
    pub async fn postgres_store(schema: &str) -> Store {
        Store::connect_postgres(&postgres_url(), Some(schema))
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "PostgreSQL 15 must run on 127.0.0.1:5432 with trust auth and a database \
                     `test` (start it: pg_ctlcluster 15 main start): {e}"
                )
            })
    }

    /// Drops a schema a test made (and everything in it).
    pub async fn drop_schema(schema: &str) {
        use sqlx::{Connection, Executor};
        let mut conn = sqlx::AnyConnection::connect(&postgres_url())
            .await
            .expect("PostgreSQL on 127.0.0.1:5432");
        conn.execute(format!("DROP SCHEMA IF EXISTS {schema} CASCADE").as_str())
            .await
            .expect("drop the test schema");
    }

    /// One SQLite and one PostgreSQL store, for a test that must hold on both.
    pub struct Backends {
        _dir: tempfile::TempDir,
        stores: Vec<Store>,
        schema: String,
    }

    impl Backends {
        pub async fn new(tag: &str) -> Backends {
            let dir = tempfile::tempdir().expect("a temporary directory");
            let sqlite = Store::open(&dir.path().join("r.db"))
                .await
                .expect("a SQLite store");
            let schema = unique_schema(tag);
            let postgres = postgres_store(&schema).await;
            Backends {
                _dir: dir,
                stores: vec![sqlite, postgres],
                schema,
            }
        }

        pub fn stores(&self) -> &[Store] {
            &self.stores
        }

        pub async fn drop(self) {
            for store in &self.stores {
                store.pool.close().await;
            }
            drop_schema(&self.schema).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use futures_util::TryStreamExt;

    #[test]
    fn row_templates_are_renumbered_per_copy() {
        assert_eq!(super::placeholders(2, 2), "($1, $2), ($3, $4)");
        assert_eq!(
            super::repeat_rows("($1, f($2, $1), $10)", 10, 2),
            "($1, f($2, $1), $10), ($11, f($12, $11), $20)"
        );
    }
    use plenary_proto::v1::events::{Actor, UserBlocked, UserUnblocked, context_event::Kind};

    use super::*;

    fn entry(position: u64, seq: u64, kind: Kind) -> LogEntry {
        let event = ContextEvent {
            context_id: "w1".into(),
            epoch: 1,
            seq,
            at_ms: 1_000 + seq,
            actor: Some(Actor {
                user_id: "mod".into(),
                email: "mod@example.com".into(),
                ..Default::default()
            }),
            kind: Some(kind),
        };
        LogEntry {
            position,
            stream_id: "w1".into(),
            seq,
            at_ms: event.at_ms,
            payload: event.encode_to_vec(),
            origin: String::new(),
        }
    }

    async fn blocked(store: &Store) -> Vec<String> {
        store
            .blocked_users(&ReportRequest::default())
            .map_ok(|r| r.user_id)
            .try_collect()
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn an_event_applied_again_changes_nothing_and_the_cursor_moves_with_the_batch() {
        let backends = test_support::Backends::new("an_event_applied_aga").await;
        for store in backends.stores() {
            an_event_applied_again_changes_nothing_and_the_cursor_moves_with_the_batch_on(store)
                .await;
        }
        backends.drop().await;
    }

    async fn an_event_applied_again_changes_nothing_and_the_cursor_moves_with_the_batch_on(
        store: &Store,
    ) {
        let block = entry(
            1,
            1,
            Kind::UserBlocked(UserBlocked {
                user_id: "troll".into(),
                email: "t@example.com".into(),
            }),
        );
        let unblock = entry(
            2,
            2,
            Kind::UserUnblocked(UserUnblocked {
                user_id: "troll".into(),
                email: String::new(),
            }),
        );
        store
            .ingest(std::slice::from_ref(&block), &[])
            .await
            .unwrap();
        assert_eq!(blocked(store).await, ["troll"]);
        store.ingest(&[unblock], &[]).await.unwrap();
        assert_eq!(
            store.cursor().await.unwrap(),
            Cursor {
                position: 2,
                last_event_ms: 1_002
            }
        );
        // Delivered again (an at-least-once consumer): the old block stays undone.
        let again = LogEntry {
            position: 3,
            ..block
        };
        assert_eq!(store.ingest(&[again], &[]).await.unwrap().applied, 1);
        assert!(blocked(store).await.is_empty());
    }

    #[test]
    fn spread_is_median_p90_and_max_by_nearest_rank() {
        assert_eq!(spread(&mut []), None);
        assert_eq!(spread(&mut [7]), Some((7, 7, 7)));
        assert_eq!(spread(&mut [4, 1, 3, 2]), Some((2, 4, 4)));
        let mut hundred: Vec<u64> = (1..=100).rev().collect();
        assert_eq!(spread(&mut hundred), Some((50, 90, 100)));
    }

    /// First response is measured from the question that opened the thread, and after
    /// a reopening from the reopening question — not from the thread's creation;
    /// claim-to-resolve from the claim the resolution ended.
    #[tokio::test]
    async fn moderator_performance_is_reopen_aware() {
        let backends = test_support::Backends::new("moderator_performanc").await;
        for store in backends.stores() {
            moderator_performance_is_reopen_aware_on(store, false).await;
        }
        backends.drop().await;
    }

    /// The same steps, each in a batch of its own: what a batch leaves in memory
    /// (`store/threads.rs`) must agree with what the store holds between batches.
    #[tokio::test]
    async fn moderator_performance_is_the_same_with_one_event_per_batch() {
        let backends = test_support::Backends::new("perf_split").await;
        for store in backends.stores() {
            moderator_performance_is_reopen_aware_on(store, true).await;
        }
        backends.drop().await;
    }

    async fn moderator_performance_is_reopen_aware_on(store: &Store, one_per_batch: bool) {
        use plenary_proto::v1::events::{
            MessagePosted, ThreadClaimed, ThreadOpened, ThreadReleased, ThreadReopened,
            ThreadResolved,
        };
        let who = |id: &str, moderator: bool| Actor {
            user_id: id.into(),
            email: format!("{id}@example.com"),
            moderator,
            ..Default::default()
        };
        let (att, m1, m2) = (who("att", false), who("m1", true), who("m2", true));
        let post = |thread_id| {
            Kind::MessagePosted(MessagePosted {
                thread_id,
                text: "x".into(),
                ..Default::default()
            })
        };
        let script: Vec<(u64, Actor, Kind)> = vec![
            (
                1_000,
                att.clone(),
                Kind::ThreadOpened(ThreadOpened {
                    thread_id: 1,
                    attendee_id: "att".into(),
                }),
            ),
            (1_000, att.clone(), post(1)),
            (
                3_000,
                m1.clone(),
                Kind::ThreadClaimed(ThreadClaimed {
                    thread_id: 1,
                    ..Default::default()
                }),
            ),
            (5_000, m1.clone(), post(1)), // first response: 4 s
            (6_000, m1.clone(), post(1)), // not a first response
            (
                9_000,
                m1.clone(),
                Kind::ThreadResolved(ThreadResolved { thread_id: 1 }),
            ), // 6 s after the claim
            (
                20_000,
                att.clone(),
                Kind::ThreadReopened(ThreadReopened { thread_id: 1 }),
            ),
            (20_000, att.clone(), post(1)),
            (
                20_100,
                m2.clone(),
                Kind::ThreadClaimed(ThreadClaimed {
                    thread_id: 1,
                    ..Default::default()
                }),
            ),
            (
                20_200,
                m2.clone(),
                Kind::ThreadReleased(ThreadReleased {
                    thread_id: 1,
                    automatic: false,
                }),
            ),
            (
                20_300,
                m1.clone(),
                Kind::ThreadClaimed(ThreadClaimed {
                    thread_id: 1,
                    ..Default::default()
                }),
            ),
            (20_500, m1.clone(), post(1)), // 0.5 s after the reopening, not 19.5 s
            (
                30_300,
                m1.clone(),
                Kind::ThreadResolved(ThreadResolved { thread_id: 1 }),
            ), // 10 s
            // A second thread resolved without a reply, then reopened and answered:
            // its first wait ends unanswered at the resolution (no value); the reply
            // answers the reopening's wait only — 0.7 s, not 60.7 s.
            (
                40_000,
                att.clone(),
                Kind::ThreadOpened(ThreadOpened {
                    thread_id: 2,
                    attendee_id: "att".into(),
                }),
            ),
            (
                41_000,
                m2.clone(),
                Kind::ThreadResolved(ThreadResolved { thread_id: 2 }),
            ),
            (
                100_000,
                att.clone(),
                Kind::ThreadReopened(ThreadReopened { thread_id: 2 }),
            ),
            (100_000, att.clone(), post(2)),
            (100_700, m2.clone(), post(2)),
        ];
        let entries: Vec<LogEntry> = script
            .into_iter()
            .enumerate()
            .map(|(i, (at_ms, actor, kind))| {
                let event = ContextEvent {
                    context_id: "w1".into(),
                    epoch: 1,
                    seq: i as u64 + 1,
                    at_ms,
                    actor: Some(actor),
                    kind: Some(kind),
                };
                LogEntry {
                    position: i as u64 + 1,
                    stream_id: "w1".into(),
                    seq: event.seq,
                    at_ms,
                    payload: event.encode_to_vec(),
                    origin: String::new(),
                }
            })
            .collect();
        if one_per_batch {
            for entry in &entries {
                store
                    .ingest(std::slice::from_ref(entry), &[])
                    .await
                    .unwrap();
            }
        } else {
            store.ingest(&entries, &[]).await.unwrap();
        }
        let rows = store
            .moderator_performance(&ReportRequest::default())
            .await
            .unwrap();
        let m1_row = rows.iter().find(|r| r.moderator_id == "m1").unwrap();
        assert_eq!(
            (
                m1_row.threads_claimed,
                m1_row.threads_resolved,
                m1_row.first_responses
            ),
            (2, 2, 2)
        );
        assert_eq!(m1_row.moderator_email, "m1@example.com");
        assert_eq!(
            (
                m1_row.first_response_median_ms,
                m1_row.first_response_p90_ms,
                m1_row.first_response_max_ms
            ),
            (Some(500), Some(4_000), Some(4_000))
        );
        assert_eq!(
            (
                m1_row.claim_to_resolve_median_ms,
                m1_row.claim_to_resolve_max_ms
            ),
            (Some(6_000), Some(10_000))
        );
        let m2_row = rows.iter().find(|r| r.moderator_id == "m2").unwrap();
        assert_eq!(
            (
                m2_row.threads_claimed,
                m2_row.threads_resolved,
                m2_row.first_responses
            ),
            (1, 1, 1)
        );
        assert_eq!(m2_row.first_response_max_ms, Some(700));
        assert_eq!(m2_row.timed_resolutions, 0, "resolved unclaimed");
        assert_eq!(rows.len(), 2);
        // A range holding only the reopened wait and the second resolution.
        let later = store
            .moderator_performance(&ReportRequest {
                from_ms: 15_000,
                to_ms: 35_000,
                ..Default::default()
            })
            .await
            .unwrap();
        let m1_later = later.iter().find(|r| r.moderator_id == "m1").unwrap();
        assert_eq!(m1_later.first_response_max_ms, Some(500));
        assert_eq!(m1_later.claim_to_resolve_max_ms, Some(10_000));
        assert_eq!(
            (m1_later.threads_claimed, m1_later.threads_resolved),
            (1, 1)
        );
    }

    #[tokio::test]
    async fn an_unreadable_event_is_set_aside_not_skipped_silently() {
        let backends = test_support::Backends::new("an_unreadable_event_").await;
        for store in backends.stores() {
            an_unreadable_event_is_set_aside_not_skipped_silently_on(store).await;
        }
        backends.drop().await;
    }

    #[tokio::test]
    async fn a_reporter_with_an_older_fence_commits_nothing() {
        let backends = test_support::Backends::new("fence").await;
        for store in backends.stores() {
            let first = entry(
                0,
                1,
                Kind::UserBlocked(UserBlocked {
                    user_id: "a".into(),
                    email: String::new(),
                }),
            );
            let second = entry(
                0,
                2,
                Kind::UserBlocked(UserBlocked {
                    user_id: "b".into(),
                    email: String::new(),
                }),
            );
            store.ingest(&[first], &[(3, 5)]).await.unwrap();
            let refused = store.ingest(std::slice::from_ref(&second), &[(3, 4)]).await;
            assert!(
                matches!(
                    refused,
                    Err(StoreError::Fenced {
                        shard: 3,
                        stored: 5,
                        ours: 4
                    })
                ),
                "{refused:?}"
            );
            assert_eq!(blocked(store).await, ["a"], "nothing of the refused batch");
            store.ingest(&[second], &[(3, 5), (4, 1)]).await.unwrap();
            assert_eq!(blocked(store).await, ["a", "b"]);
        }
        backends.drop().await;
    }

    async fn an_unreadable_event_is_set_aside_not_skipped_silently_on(store: &Store) {
        let garbage = LogEntry {
            position: 7,
            stream_id: "w1".into(),
            seq: 3,
            at_ms: 5,
            payload: vec![0xff, 0xff, 0xff],
            origin: String::new(),
        };
        let done = store.ingest(&[garbage], &[]).await.unwrap();
        assert_eq!((done.applied, done.unreadable), (0, 1));
        let (stream, seq): (String, i64) =
            sqlx::query_as("SELECT stream_id, seq FROM unreadable WHERE position = 7")
                .fetch_one(&store.pool)
                .await
                .unwrap();
        assert_eq!((stream.as_str(), seq), ("w1", 3));
        assert_eq!(
            store.cursor().await.unwrap().position,
            7,
            "and ingestion goes on"
        );
    }
}
