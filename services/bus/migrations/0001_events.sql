-- One row per context: its epoch, fixed when the context's first event is stored.
CREATE TABLE IF NOT EXISTS contexts (
    context_id TEXT PRIMARY KEY NOT NULL,
    epoch INTEGER NOT NULL
) WITHOUT ROWID;

-- The event log: protobuf-encoded plenary.v1.events.ContextEvent, one per seq.
CREATE TABLE IF NOT EXISTS events (
    context_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    at_ms INTEGER NOT NULL,
    payload BLOB NOT NULL,
    PRIMARY KEY (context_id, seq)
) WITHOUT ROWID;
