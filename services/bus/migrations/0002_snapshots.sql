-- The latest snapshot of a stream's state (JSON, as its actor encodes it) as of `seq`,
-- so a stream with a long history starts from it and the events after it instead of
-- replaying from its first event.
CREATE TABLE IF NOT EXISTS snapshots (
    context_id TEXT PRIMARY KEY NOT NULL,
    seq INTEGER NOT NULL,
    state BLOB NOT NULL
) WITHOUT ROWID;
