-- Contexts: name, and when a moderator last acted (any event of theirs).
CREATE TABLE IF NOT EXISTS contexts (
    context_id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    last_moderator_ms INTEGER NOT NULL DEFAULT 0,
    first_event_ms INTEGER NOT NULL,
    last_event_ms INTEGER NOT NULL
) WITHOUT ROWID;

-- Q&A threads as they stand: state (pending, owned, resolved, done) and the moderator
-- who owns it (claimed or resolved it; empty when pending or done).
CREATE TABLE IF NOT EXISTS threads (
    context_id TEXT NOT NULL,
    thread_id INTEGER NOT NULL,
    attendee_id TEXT NOT NULL,
    state TEXT NOT NULL,
    owner_id TEXT NOT NULL,
    owner_email TEXT NOT NULL,
    opened_ms INTEGER NOT NULL,
    changed_ms INTEGER NOT NULL,
    PRIMARY KEY (context_id, thread_id)
) WITHOUT ROWID;

-- Every message posted (group chat, backchannel, Q&A threads); deleted ones stay,
-- marked.
CREATE TABLE IF NOT EXISTS messages (
    context_id TEXT NOT NULL,
    message_id INTEGER NOT NULL,
    author_id TEXT NOT NULL,
    author_email TEXT NOT NULL,
    by_moderator INTEGER NOT NULL,
    thread_id INTEGER NOT NULL,
    backchannel INTEGER NOT NULL,
    text TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (context_id, message_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS messages_by_time ON messages (context_id, at_ms);
