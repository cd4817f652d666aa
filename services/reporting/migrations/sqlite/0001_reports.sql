-- The reporting store (embedded mode: reporting.db beside the event log).

-- How far ingestion has got: the last log position applied, in the same transaction as
-- what it applied.
CREATE TABLE IF NOT EXISTS cursor (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    position INTEGER NOT NULL,
    last_event_ms INTEGER NOT NULL
);
INSERT OR IGNORE INTO cursor (id, position, last_event_ms) VALUES (1, 0, 0);

-- Per stream, the last event applied: an event at or before it is not applied twice.
CREATE TABLE IF NOT EXISTS streams (
    stream_id TEXT PRIMARY KEY NOT NULL,
    epoch INTEGER NOT NULL,
    seq INTEGER NOT NULL
) WITHOUT ROWID;

-- Events that could not be read: set aside with the reason, never silently skipped.
CREATE TABLE IF NOT EXISTS unreadable (
    position INTEGER PRIMARY KEY NOT NULL,
    stream_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    reason TEXT NOT NULL
);

-- Interactions as last saved: what a vote's question and answer are shown as.
CREATE TABLE IF NOT EXISTS interactions (
    context_id TEXT NOT NULL,
    interaction_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    question TEXT NOT NULL,
    emoji TEXT NOT NULL,
    PRIMARY KEY (context_id, interaction_id)
) WITHOUT ROWID;

-- One row per vote (one per user per interaction).
CREATE TABLE IF NOT EXISTS votes (
    context_id TEXT NOT NULL,
    interaction_id INTEGER NOT NULL,
    user_id TEXT NOT NULL,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    email TEXT NOT NULL,
    vote TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (context_id, interaction_id, user_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS votes_by_time ON votes (at_ms);

-- Blocks in force.
CREATE TABLE IF NOT EXISTS blocks (
    context_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    user_email TEXT NOT NULL,
    moderator_id TEXT NOT NULL,
    moderator_email TEXT NOT NULL,
    blocked_at_ms INTEGER NOT NULL,
    PRIMARY KEY (context_id, user_id)
) WITHOUT ROWID;
