//! The durable event log. Embedded mode keeps it in SQLite (WAL) under the data
//! directory; an append returns only once the events are committed, so whatever a
//! client was acknowledged survives `kill -9`.
//!
//! SQLite has one writer at a time, and every commit costs an fsync: so appends from
//! every actor go through one writer task, which commits whatever is waiting in one
//! transaction (group commit across actors). If one append is refused (a duplicate
//! seq), the appends of that transaction are retried one by one, so it fails alone.

use std::{path::Path, str::FromStr, time::Duration};

use plenary_proto::v1::events::ContextEvent;

use crate::StoredEvent;
use sqlx::{
    Row,
    sqlite::{
        SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
        SqliteSynchronous,
    },
};
use tokio::sync::{mpsc, oneshot};

use crate::BusError;

/// How hard a commit pushes data to disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncMode {
    /// fsync on every commit: survives power loss.
    Full,
    /// fsync at WAL checkpoints: survives a process crash (`kill -9`), may lose the
    /// last commits on power loss.
    Normal,
}

impl FromStr for SyncMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "full" => Ok(SyncMode::Full),
            "normal" => Ok(SyncMode::Normal),
            other => Err(format!(
                "unknown sync mode `{other}` (expected full or normal)"
            )),
        }
    }
}

/// A context's state as of `seq`, encoded by its actor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    pub seq: u64,
    pub state: Vec<u8>,
}

/// What the log holds for one stream.
#[derive(Debug)]
pub struct LoadedContext<E = ContextEvent> {
    /// The context's epoch, `None` if it has no events yet.
    pub epoch: Option<u64>,
    /// The latest snapshot, if one was stored.
    pub snapshot: Option<Snapshot>,
    /// Events in seq order: those after the snapshot and some before it (for
    /// recovery): SQLite's since the place asked for, Redis's capped stream tail.
    pub events: Vec<E>,
}

impl<E> Default for LoadedContext<E> {
    fn default() -> Self {
        LoadedContext {
            epoch: None,
            snapshot: None,
            events: Vec::new(),
        }
    }
}

/// The append-only event log: SQLite in embedded mode, Redis Streams in cluster mode.
#[derive(Clone, Debug)]
pub struct EventLog {
    backend: Backend,
}

#[derive(Clone, Debug)]
enum Backend {
    Sqlite {
        pool: SqlitePool,
        writer: mpsc::Sender<AppendJob>,
    },
    Redis(crate::redis::RedisLog),
}

/// One event as a consumer of the whole log reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogEntry {
    /// Its place in the global order: the consumer's cursor once processed.
    pub position: u64,
    /// The stream it belongs to (a context id, `~u/<user>` or `~dm/<a>/<b>`): which
    /// event type `payload` decodes as.
    pub stream_id: String,
    pub seq: u64,
    pub at_ms: u64,
    /// The encoded event.
    pub payload: Vec<u8>,
    /// Where it was read from when `position` does not say: `<shard>/<entry id>` for
    /// a Redis reporting stream; empty for the embedded log.
    pub origin: String,
}

/// One actor's append, for the writer task.
#[derive(Debug)]
struct AppendJob {
    context_id: String,
    epoch: u64,
    /// `(seq, at_ms, encoded event)`.
    rows: Vec<(u64, u64, Vec<u8>)>,
    /// A snapshot to store (a job with no rows, then).
    snapshot: Option<Snapshot>,
    reply: oneshot::Sender<Result<(), BusError>>,
}

/// Appends waiting for the writer before actors wait for room.
const WRITER_QUEUE: usize = 4_096;
/// Most appends committed in one transaction.
const WRITER_BATCH: usize = 512;

impl EventLog {
    /// Opens (creating if needed) the log in `data_dir/plenary.db`.
    pub async fn open(data_dir: &Path, sync: SyncMode) -> Result<Self, BusError> {
        std::fs::create_dir_all(data_dir).map_err(|source| BusError::DataDir {
            path: data_dir.display().to_string(),
            source,
        })?;
        let options = SqliteConnectOptions::new()
            .filename(data_dir.join("plenary.db"))
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(match sync {
                SyncMode::Full => SqliteSynchronous::Full,
                SyncMode::Normal => SqliteSynchronous::Normal,
            })
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        let last: Option<i64> = sqlx::query_scalar("SELECT MAX(g) FROM events")
            .fetch_one(&pool)
            .await?;
        let connection = pool.acquire().await?.detach();
        let (writer, jobs) = mpsc::channel(WRITER_QUEUE);
        tokio::spawn(write_loop(connection, jobs, last.unwrap_or(0) as u64));
        Ok(EventLog {
            backend: Backend::Sqlite { pool, writer },
        })
    }

    /// The cluster-mode log.
    pub fn redis(log: crate::redis::RedisLog) -> Self {
        EventLog {
            backend: Backend::Redis(log),
        }
    }

    /// Whether appends need a shard lease (cluster mode).
    pub fn is_fenced(&self) -> bool {
        matches!(self.backend, Backend::Redis(_))
    }

    /// Reads a context whole: its latest snapshot and every event the log keeps.
    pub async fn load(&self, context_id: &str) -> Result<LoadedContext, BusError> {
        self.load_stream::<ContextEvent>(context_id).await
    }

    /// Reads a stream of any kind whole: its latest snapshot and every event the log
    /// keeps.
    pub async fn load_stream<E: StoredEvent>(
        &self,
        context_id: &str,
    ) -> Result<LoadedContext<E>, BusError> {
        match &self.backend {
            Backend::Sqlite { pool, .. } => load_sqlite(pool, context_id, None).await,
            Backend::Redis(log) => log.load(context_id).await,
        }
    }

    /// Reads what an actor needs to start: the latest snapshot, the events after it and
    /// up to `keep` events before it (for recovery). Redis returns its capped tail.
    pub async fn load_recent<E: StoredEvent>(
        &self,
        context_id: &str,
        keep: usize,
    ) -> Result<LoadedContext<E>, BusError> {
        match &self.backend {
            Backend::Sqlite { pool, .. } => load_sqlite(pool, context_id, Some(keep)).await,
            Backend::Redis(log) => log.load(context_id).await,
        }
    }

    /// Reads up to `limit` events of one stream whose seqs are in `from..=to`, oldest
    /// first, or newest first when `newest_first`: older history on demand. What the
    /// log no longer keeps (Redis's capped tail) is simply not returned.
    pub async fn read_seqs<E: StoredEvent>(
        &self,
        stream_id: &str,
        from: u64,
        to: u64,
        limit: usize,
        newest_first: bool,
    ) -> Result<Vec<E>, BusError> {
        if from > to || limit == 0 {
            return Ok(Vec::new());
        }
        match &self.backend {
            Backend::Sqlite { pool, .. } => {
                let order = if newest_first { "DESC" } else { "ASC" };
                let rows = sqlx::query(&format!(
                    "SELECT seq, payload FROM events WHERE context_id = ? AND seq >= ? \
                     AND seq <= ? ORDER BY seq {order} LIMIT ?"
                ))
                .bind(stream_id)
                .bind(from.min(i64::MAX as u64) as i64)
                .bind(to.min(i64::MAX as u64) as i64)
                .bind(limit.min(i64::MAX as usize) as i64)
                .fetch_all(pool)
                .await?;
                rows.into_iter()
                    .map(|row| {
                        let seq: i64 = row.get(0);
                        let payload: &[u8] = row.get(1);
                        E::decode(payload).map_err(|source| BusError::Corrupt {
                            context_id: stream_id.to_owned(),
                            seq: seq as u64,
                            source,
                        })
                    })
                    .collect()
            }
            Backend::Redis(log) => {
                log.read_seqs(stream_id, from, to, limit, newest_first)
                    .await
            }
        }
    }

    /// Appends events of one context atomically. In cluster mode `fence` must hold the
    /// shard's lease; the append is refused otherwise.
    pub async fn append(
        &self,
        context_id: &str,
        epoch: u64,
        events: &[impl StoredEvent],
        fence: Option<&crate::redis::Fence>,
    ) -> Result<(), BusError> {
        match (&self.backend, fence) {
            (Backend::Sqlite { writer, .. }, _) => {
                append_sqlite(writer, context_id, epoch, events).await
            }
            (Backend::Redis(log), Some(fence)) => {
                log.append(context_id, epoch, events, fence).await
            }
            (Backend::Redis(_), None) => Err(BusError::NotOwner),
        }
    }

    /// Reads up to `limit` events of every stream after position `after` of the global
    /// order (0: from the start), in that order: what a consumer such as the reporting
    /// service reads, storing the last position it processed as its cursor. Embedded
    /// mode only (cluster mode: the per-shard reporting streams).
    pub async fn read_after(&self, after: u64, limit: usize) -> Result<Vec<LogEntry>, BusError> {
        let Backend::Sqlite { pool, .. } = &self.backend else {
            return Err(BusError::Unavailable(
                "the cluster's log is read through its reporting streams".into(),
            ));
        };
        let rows = sqlx::query(
            "SELECT g, context_id, seq, at_ms, payload FROM events WHERE g > ? ORDER BY g LIMIT ?",
        )
        .bind(after as i64)
        .bind(limit.min(i64::MAX as usize) as i64)
        .fetch_all(pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|row| LogEntry {
                position: row.get::<i64, _>(0) as u64,
                stream_id: row.get(1),
                seq: row.get::<i64, _>(2) as u64,
                at_ms: row.get::<i64, _>(3) as u64,
                payload: row.get(4),
                origin: String::new(),
            })
            .collect())
    }

    /// The position of the last event committed (0: none): how far a consumer of the
    /// whole log could read. Embedded mode only.
    pub async fn last_position(&self) -> Result<u64, BusError> {
        let Backend::Sqlite { pool, .. } = &self.backend else {
            return Err(BusError::Unavailable(
                "the cluster's log is read through its reporting streams".into(),
            ));
        };
        let last: Option<i64> = sqlx::query_scalar("SELECT MAX(g) FROM events")
            .fetch_one(pool)
            .await?;
        Ok(last.unwrap_or(0) as u64)
    }

    /// Stores a snapshot, unless a later one is stored already. In cluster mode `fence`
    /// must hold the shard's lease.
    pub async fn store_snapshot(
        &self,
        context_id: &str,
        snapshot: &Snapshot,
        fence: Option<&crate::redis::Fence>,
    ) -> Result<(), BusError> {
        match (&self.backend, fence) {
            (Backend::Sqlite { writer, .. }, _) => {
                // Through the writer, like appends: one writer never waits on another.
                let (reply, answer) = oneshot::channel();
                let job = AppendJob {
                    context_id: context_id.to_owned(),
                    epoch: 0,
                    rows: Vec::new(),
                    snapshot: Some(snapshot.clone()),
                    reply,
                };
                submit(writer, job, answer).await
            }
            (Backend::Redis(log), Some(fence)) => {
                log.store_snapshot(context_id, snapshot.seq, &snapshot.state, fence)
                    .await
            }
            (Backend::Redis(_), None) => Err(BusError::NotOwner),
        }
    }
}

/// Reads a stream: its snapshot and its events, all of them (`keep: None`) or those
/// after the snapshot and `keep` before it.
async fn load_sqlite<E: StoredEvent>(
    pool: &SqlitePool,
    context_id: &str,
    keep: Option<usize>,
) -> Result<LoadedContext<E>, BusError> {
    let epoch: Option<i64> = sqlx::query_scalar("SELECT epoch FROM contexts WHERE context_id = ?")
        .bind(context_id)
        .fetch_optional(pool)
        .await?;
    let snapshot = sqlx::query("SELECT seq, state FROM snapshots WHERE context_id = ?")
        .bind(context_id)
        .fetch_optional(pool)
        .await?
        .map(|row| Snapshot {
            seq: row.get::<i64, _>(0) as u64,
            state: row.get(1),
        });
    let after = match (&snapshot, keep) {
        (Some(snapshot), Some(keep)) => snapshot.seq.saturating_sub(keep as u64),
        _ => 0,
    };
    let rows = sqlx::query(
        "SELECT seq, payload FROM events WHERE context_id = ? AND seq > ? ORDER BY seq",
    )
    .bind(context_id)
    .bind(after as i64)
    .fetch_all(pool)
    .await?;
    let mut events = Vec::with_capacity(rows.len());
    for row in rows {
        let seq: i64 = row.get(0);
        let payload: &[u8] = row.get(1);
        let event = E::decode(payload).map_err(|source| BusError::Corrupt {
            context_id: context_id.to_owned(),
            seq: seq as u64,
            source,
        })?;
        events.push(event);
    }
    Ok(LoadedContext {
        epoch: epoch.map(|e| e as u64),
        snapshot,
        events,
    })
}

/// Appends events of one context atomically, through the writer task. The first
/// append of a context records its epoch. Seqs must be new: a duplicate seq fails the
/// whole append (and nothing else committed with it).
async fn append_sqlite(
    writer: &mpsc::Sender<AppendJob>,
    context_id: &str,
    epoch: u64,
    events: &[impl StoredEvent],
) -> Result<(), BusError> {
    let (reply, answer) = oneshot::channel();
    let job = AppendJob {
        context_id: context_id.to_owned(),
        epoch,
        rows: events
            .iter()
            .map(|e| (e.seq(), e.at_ms(), e.encode_to_vec()))
            .collect(),
        snapshot: None,
        reply,
    };
    submit(writer, job, answer).await
}

/// Hands a job to the writer task and waits for its outcome.
async fn submit(
    writer: &mpsc::Sender<AppendJob>,
    job: AppendJob,
    answer: oneshot::Receiver<Result<(), BusError>>,
) -> Result<(), BusError> {
    let gone = || BusError::Unavailable("the event log writer stopped".into());
    writer.send(job).await.map_err(|_| gone())?;
    answer.await.map_err(|_| gone())?
}

/// The writer task: commits the appends waiting, many per transaction, numbering the
/// events in the global order after `last` (a failed transaction leaves a gap).
async fn write_loop(mut conn: SqliteConnection, mut jobs: mpsc::Receiver<AppendJob>, last: u64) {
    let mut batch = Vec::with_capacity(WRITER_BATCH);
    let mut order = last;
    while jobs.recv_many(&mut batch, WRITER_BATCH).await > 0 {
        let results = commit_batch(&mut conn, &batch, &mut order).await;
        for (job, result) in batch.drain(..).zip(results) {
            // The actor may have gone; nothing to tell it then.
            let _ = job.reply.send(result);
        }
    }
}

/// One transaction for the whole batch. If any append is refused (a duplicate seq,
/// which only a stale actor produces), the batch is rolled back and every append is
/// committed on its own, so that one fails alone. Returns each append's outcome.
async fn commit_batch(
    conn: &mut SqliteConnection,
    batch: &[AppendJob],
    order: &mut u64,
) -> Vec<Result<(), BusError>> {
    let together = in_transaction(conn, batch, order).await;
    match together {
        Ok(()) => {
            // Appends only: a snapshot rides along but is not one.
            crate::telemetry::log_committed(batch.iter().filter(|j| !j.rows.is_empty()).count());
            batch.iter().map(|_| Ok(())).collect()
        }
        // Only a refused row is one append's fault; any other failure (I/O, a full
        // disk, a lock) fails the batch: retrying one by one would only repeat it.
        Err(BusError::Storage(e)) if batch.len() > 1 && is_refused_row(&e) => {
            let mut results = Vec::with_capacity(batch.len());
            for job in batch {
                results.push(in_transaction(conn, std::slice::from_ref(job), order).await);
            }
            results
        }
        Err(e) => {
            let why = e.to_string();
            let mut results = vec![Err(e)];
            results.extend(
                (1..batch.len())
                    .map(|_| Err(BusError::Unavailable(format!("commit failed: {why}")))),
            );
            results
        }
    }
}

/// A constraint refused a row (a duplicate seq, from a stale actor).
fn is_refused_row(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.kind() != sqlx::error::ErrorKind::Other)
}

/// Commits `jobs` in one transaction, or nothing.
async fn in_transaction(
    conn: &mut SqliteConnection,
    jobs: &[AppendJob],
    order: &mut u64,
) -> Result<(), BusError> {
    if let Err(e) = sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await {
        // A transaction left open by an earlier failure must not block the next one.
        let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
        return Err(e.into());
    }
    let mut inserted = Ok(());
    for job in jobs {
        inserted = insert(conn, job, order).await;
        if inserted.is_err() {
            break;
        }
    }
    let end = if inserted.is_ok() {
        "COMMIT"
    } else {
        "ROLLBACK"
    };
    if let Err(e) = sqlx::query(end).execute(&mut *conn).await {
        let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
        return Err(e.into());
    }
    inserted.map_err(Into::into)
}

/// The statements of one append: its events (in one statement), and the stream's
/// epoch with its first event.
async fn insert(
    conn: &mut SqliteConnection,
    job: &AppendJob,
    order: &mut u64,
) -> Result<(), sqlx::Error> {
    if let Some(snapshot) = &job.snapshot {
        // A newer snapshot stored already stays.
        sqlx::query(
            "INSERT INTO snapshots (context_id, seq, state) VALUES (?, ?, ?) \
             ON CONFLICT (context_id) DO UPDATE SET seq = excluded.seq, \
             state = excluded.state WHERE excluded.seq > snapshots.seq",
        )
        .bind(&job.context_id)
        .bind(snapshot.seq as i64)
        .bind(&snapshot.state)
        .execute(&mut *conn)
        .await?;
    }
    if job.rows.is_empty() {
        return Ok(());
    }
    if job.rows.first().is_some_and(|(seq, _, _)| *seq == 1) {
        sqlx::query("INSERT OR IGNORE INTO contexts (context_id, epoch) VALUES (?, ?)")
            .bind(&job.context_id)
            .bind(job.epoch as i64)
            .execute(&mut *conn)
            .await?;
    }
    let mut sql = String::from("INSERT INTO events (context_id, seq, at_ms, payload, g) VALUES ");
    for i in 0..job.rows.len() {
        sql.push_str(if i == 0 {
            "(?, ?, ?, ?, ?)"
        } else {
            ", (?, ?, ?, ?, ?)"
        });
    }
    let mut query = sqlx::query(&sql);
    for (seq, at_ms, payload) in &job.rows {
        *order += 1;
        query = query
            .bind(&job.context_id)
            .bind(*seq as i64)
            .bind(*at_ms as i64)
            .bind(payload)
            .bind(*order as i64);
    }
    query.execute(&mut *conn).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use plenary_proto::v1::events::{MessagePosted, context_event::Kind};

    fn posted(seq: u64) -> ContextEvent {
        ContextEvent {
            context_id: "c1".into(),
            epoch: 7,
            seq,
            at_ms: 1000 + seq,
            actor: None,
            kind: Some(Kind::MessagePosted(MessagePosted {
                message_id: seq,
                text: format!("m{seq}"),
                ..Default::default()
            })),
        }
    }

    #[tokio::test]
    async fn the_whole_log_reads_in_commit_order_after_a_cursor() {
        let dir = tempfile::tempdir().unwrap();
        let log = EventLog::open(dir.path(), SyncMode::Normal).await.unwrap();
        log.append("c1", 7, &[posted(1), posted(2)], None)
            .await
            .unwrap();
        let mut other = posted(1);
        other.context_id = "c2".into();
        log.append("c2", 9, &[other], None).await.unwrap();
        // A refused append (duplicate seq) takes no place in the order.
        assert!(log.append("c1", 7, &[posted(2)], None).await.is_err());
        log.append("c1", 7, &[posted(3)], None).await.unwrap();

        let all = log.read_after(0, 100).await.unwrap();
        let seen: Vec<(&str, u64)> = all.iter().map(|e| (e.stream_id.as_str(), e.seq)).collect();
        assert_eq!(seen, [("c1", 1), ("c1", 2), ("c2", 1), ("c1", 3)]);
        assert!(all.windows(2).all(|w| w[0].position < w[1].position));
        assert_eq!(
            <ContextEvent as prost::Message>::decode(&all[3].payload[..])
                .unwrap()
                .seq,
            3
        );
        // After a cursor, in pages.
        let page = log.read_after(all[1].position, 1).await.unwrap();
        assert_eq!((page[0].stream_id.as_str(), page[0].seq), ("c2", 1));
        assert!(
            log.read_after(all[3].position, 10)
                .await
                .unwrap()
                .is_empty()
        );
        // Reopened: the order goes on after the last position.
        drop(log);
        let log = EventLog::open(dir.path(), SyncMode::Normal).await.unwrap();
        log.append(
            "c2",
            9,
            &[ContextEvent {
                context_id: "c2".into(),
                ..posted(2)
            }],
            None,
        )
        .await
        .unwrap();
        let next = log.read_after(all[3].position, 10).await.unwrap();
        assert_eq!((next[0].stream_id.as_str(), next[0].seq), ("c2", 2));
    }

    #[tokio::test]
    async fn events_stored_before_the_global_order_are_numbered_stream_by_stream() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plenary.db");
        {
            // A log as the release before this one left it: no order column.
            let options = SqliteConnectOptions::new()
                .filename(&path)
                .create_if_missing(true);
            let pool = SqlitePoolOptions::new()
                .connect_with(options)
                .await
                .unwrap();
            for sql in [
                include_str!("../migrations/0001_events.sql"),
                include_str!("../migrations/0002_snapshots.sql"),
            ] {
                sqlx::raw_sql(sql).execute(&pool).await.unwrap();
            }
            for (stream, seq, at_ms) in [("b", 1, 30), ("a", 1, 10), ("a", 2, 40), ("b", 2, 20)] {
                sqlx::query(
                    "INSERT INTO events (context_id, seq, at_ms, payload) VALUES (?, ?, ?, x'')",
                )
                .bind(stream)
                .bind(seq)
                .bind(at_ms)
                .execute(&pool)
                .await
                .unwrap();
            }
            pool.close().await;
        }
        let log = EventLog::open(dir.path(), SyncMode::Normal).await.unwrap();
        let all = log.read_after(0, 10).await.unwrap();
        let seen: Vec<(&str, u64, u64)> = all
            .iter()
            .map(|e| (e.stream_id.as_str(), e.seq, e.position))
            .collect();
        assert_eq!(seen, [("a", 1, 1), ("a", 2, 2), ("b", 1, 3), ("b", 2, 4)]);
        // New events come after them.
        log.append(
            "a",
            1,
            &[ContextEvent {
                context_id: "a".into(),
                ..posted(3)
            }],
            None,
        )
        .await
        .unwrap();
        assert_eq!(log.read_after(4, 10).await.unwrap()[0].position, 5);
    }

    #[tokio::test]
    async fn append_then_reload_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let log = EventLog::open(dir.path(), SyncMode::Full).await.unwrap();
        assert_eq!(log.load("c1").await.unwrap().epoch, None);
        log.append("c1", 7, &[posted(1), posted(2)], None)
            .await
            .unwrap();
        log.append("c1", 7, &[posted(3)], None).await.unwrap();
        drop(log);

        let log = EventLog::open(dir.path(), SyncMode::Full).await.unwrap();
        let loaded = log.load("c1").await.unwrap();
        assert_eq!(loaded.epoch, Some(7));
        let seqs: Vec<u64> = loaded.events.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, vec![1, 2, 3]);
        assert_eq!(loaded.events[2], posted(3));
        assert!(log.load("other").await.unwrap().events.is_empty());
    }

    #[tokio::test]
    async fn a_snapshot_starts_the_load_with_only_the_tail_asked_for_before_it() {
        let dir = tempfile::tempdir().unwrap();
        let log = EventLog::open(dir.path(), SyncMode::Normal).await.unwrap();
        let events: Vec<ContextEvent> = (1..=10).map(posted).collect();
        log.append("c1", 7, &events, None).await.unwrap();
        let snapshot = |seq: u64| Snapshot {
            seq,
            state: format!("state-{seq}").into_bytes(),
        };
        log.store_snapshot("c1", &snapshot(8), None).await.unwrap();
        // An older snapshot (a stale writer) never replaces a newer one.
        log.store_snapshot("c1", &snapshot(5), None).await.unwrap();
        drop(log);

        let log = EventLog::open(dir.path(), SyncMode::Normal).await.unwrap();
        let loaded = log.load_recent::<ContextEvent>("c1", 2).await.unwrap();
        assert_eq!(loaded.snapshot, Some(snapshot(8)));
        assert_eq!(loaded.epoch, Some(7));
        let seqs: Vec<u64> = loaded.events.iter().map(|e| e.seq).collect();
        assert_eq!(
            seqs,
            vec![7, 8, 9, 10],
            "two before the snapshot, all after"
        );
        let whole = log.load("c1").await.unwrap();
        assert_eq!(whole.events.len(), 10, "load reads every event");
        assert_eq!(whole.snapshot, Some(snapshot(8)));
        let fresh = log.load_recent::<ContextEvent>("other", 2).await.unwrap();
        assert!(fresh.snapshot.is_none() && fresh.events.is_empty());
    }

    #[tokio::test]
    async fn duplicate_seq_fails_the_whole_batch() {
        let dir = tempfile::tempdir().unwrap();
        let log = EventLog::open(dir.path(), SyncMode::Normal).await.unwrap();
        log.append("c1", 7, &[posted(1)], None).await.unwrap();
        assert!(
            log.append("c1", 7, &[posted(2), posted(1)], None)
                .await
                .is_err()
        );
        let seqs: Vec<u64> = log
            .load("c1")
            .await
            .unwrap()
            .events
            .iter()
            .map(|e| e.seq)
            .collect();
        assert_eq!(seqs, vec![1], "a failed batch stores nothing");
    }

    #[tokio::test]
    async fn concurrent_appends_commit_together_and_fail_alone() {
        let dir = tempfile::tempdir().unwrap();
        let log = EventLog::open(dir.path(), SyncMode::Full).await.unwrap();
        log.append("bad", 7, &[posted(1)], None).await.unwrap();
        let appends = (0..50).map(|i| {
            let log = log.clone();
            async move {
                let id = if i == 25 {
                    "bad".to_owned()
                } else {
                    format!("c{i}")
                };
                // For "bad", seq 1 is taken: this append alone must fail.
                log.append(&id, 7, &[posted(1), posted(2)], None).await
            }
        });
        let results = futures_util::future::join_all(appends).await;
        for (i, result) in results.iter().enumerate() {
            assert_eq!(result.is_ok(), i != 25, "append {i}: {result:?}");
        }
        for i in (0..50).filter(|i| *i != 25) {
            assert_eq!(log.load(&format!("c{i}")).await.unwrap().events.len(), 2);
        }
        assert_eq!(log.load("bad").await.unwrap().events.len(), 1);
    }
}
