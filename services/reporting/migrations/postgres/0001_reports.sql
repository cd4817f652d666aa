-- The reporting store in cluster mode (PostgreSQL): the same tables as the embedded
-- SQLite store (migrations/sqlite, where each table's comment says what it holds), in
-- PostgreSQL's types. Times are Unix milliseconds.

CREATE TABLE IF NOT EXISTS cursor (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    position BIGINT NOT NULL,
    last_event_ms BIGINT NOT NULL
);
INSERT INTO cursor (id, position, last_event_ms) VALUES (1, 0, 0) ON CONFLICT DO NOTHING;

CREATE TABLE IF NOT EXISTS streams (
    stream_id TEXT PRIMARY KEY,
    epoch BIGINT NOT NULL,
    seq BIGINT NOT NULL
);

-- Per reporting-stream shard, the newest fence that committed: a reporter whose lease
-- lapsed while it still ran cannot commit after the one that took the shard over.
CREATE TABLE IF NOT EXISTS shard_fences (
    shard BIGINT PRIMARY KEY,
    fence BIGINT NOT NULL
);

-- `entry`: `<shard>/<Redis entry id>` (cluster mode has no global position: 0).
CREATE TABLE IF NOT EXISTS unreadable (
    position BIGINT NOT NULL,
    entry TEXT NOT NULL DEFAULT '',
    stream_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (position, entry)
);

CREATE TABLE IF NOT EXISTS interactions (
    context_id TEXT NOT NULL,
    interaction_id BIGINT NOT NULL,
    kind TEXT NOT NULL,
    question TEXT NOT NULL,
    emoji TEXT NOT NULL,
    PRIMARY KEY (context_id, interaction_id)
);

CREATE TABLE IF NOT EXISTS votes (
    context_id TEXT NOT NULL,
    interaction_id BIGINT NOT NULL,
    user_id TEXT NOT NULL,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    email TEXT NOT NULL,
    vote TEXT NOT NULL,
    at_ms BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    PRIMARY KEY (context_id, interaction_id, user_id)
);
CREATE INDEX IF NOT EXISTS votes_by_time ON votes (at_ms);

CREATE TABLE IF NOT EXISTS blocks (
    context_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    user_email TEXT NOT NULL,
    moderator_id TEXT NOT NULL,
    moderator_email TEXT NOT NULL,
    blocked_at_ms BIGINT NOT NULL,
    PRIMARY KEY (context_id, user_id)
);

CREATE TABLE IF NOT EXISTS contexts (
    context_id TEXT PRIMARY KEY,
    name TEXT NOT NULL DEFAULT '',
    last_moderator_ms BIGINT NOT NULL DEFAULT 0,
    first_event_ms BIGINT NOT NULL,
    last_event_ms BIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS threads (
    context_id TEXT NOT NULL,
    thread_id BIGINT NOT NULL,
    attendee_id TEXT NOT NULL,
    state TEXT NOT NULL,
    owner_id TEXT NOT NULL,
    owner_email TEXT NOT NULL,
    opened_ms BIGINT NOT NULL,
    changed_ms BIGINT NOT NULL,
    PRIMARY KEY (context_id, thread_id)
);
CREATE INDEX IF NOT EXISTS threads_by_attendee ON threads (attendee_id);

CREATE TABLE IF NOT EXISTS messages (
    context_id TEXT NOT NULL,
    message_id BIGINT NOT NULL,
    author_id TEXT NOT NULL,
    author_email TEXT NOT NULL,
    by_moderator BOOLEAN NOT NULL,
    thread_id BIGINT NOT NULL,
    backchannel BOOLEAN NOT NULL,
    text TEXT NOT NULL,
    at_ms BIGINT NOT NULL,
    deleted BOOLEAN NOT NULL DEFAULT FALSE,
    recipient_id TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (context_id, message_id)
);
CREATE INDEX IF NOT EXISTS messages_by_time ON messages (context_id, at_ms);
CREATE INDEX IF NOT EXISTS messages_by_author ON messages (author_id);
CREATE INDEX IF NOT EXISTS messages_by_thread ON messages (context_id, thread_id);

CREATE TABLE IF NOT EXISTS users (
    user_id TEXT PRIMARY KEY,
    email TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS connections (
    user_id TEXT NOT NULL,
    peer_id TEXT NOT NULL,
    PRIMARY KEY (user_id, peer_id)
);

CREATE TABLE IF NOT EXISTS direct_messages (
    stream_id TEXT NOT NULL,
    message_id BIGINT NOT NULL,
    sender_id TEXT NOT NULL,
    recipient_id TEXT NOT NULL,
    between_attendees BOOLEAN NOT NULL,
    text TEXT NOT NULL,
    at_ms BIGINT NOT NULL,
    deleted BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (stream_id, message_id)
);
CREATE INDEX IF NOT EXISTS direct_messages_by_sender ON direct_messages (sender_id);
CREATE INDEX IF NOT EXISTS direct_messages_by_recipient ON direct_messages (recipient_id);
CREATE INDEX IF NOT EXISTS direct_messages_by_time ON direct_messages (at_ms);

CREATE TABLE IF NOT EXISTS waits (
    context_id TEXT NOT NULL,
    thread_id BIGINT NOT NULL,
    started_ms BIGINT NOT NULL,
    replied_ms BIGINT,
    replier_id TEXT NOT NULL DEFAULT '',
    replier_email TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (context_id, thread_id, started_ms)
);

CREATE TABLE IF NOT EXISTS current_claims (
    context_id TEXT NOT NULL,
    thread_id BIGINT NOT NULL,
    moderator_id TEXT NOT NULL,
    claimed_ms BIGINT NOT NULL,
    PRIMARY KEY (context_id, thread_id)
);
CREATE TABLE IF NOT EXISTS claims (
    context_id TEXT NOT NULL,
    thread_id BIGINT NOT NULL,
    moderator_id TEXT NOT NULL,
    moderator_email TEXT NOT NULL,
    at_ms BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS claims_by_context ON claims (context_id, at_ms);

CREATE TABLE IF NOT EXISTS resolutions (
    context_id TEXT NOT NULL,
    thread_id BIGINT NOT NULL,
    moderator_id TEXT NOT NULL,
    moderator_email TEXT NOT NULL,
    claimed_ms BIGINT,
    resolved_ms BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS resolutions_by_context ON resolutions (context_id, resolved_ms);

CREATE TABLE IF NOT EXISTS answers (
    context_id TEXT NOT NULL,
    interaction_id BIGINT NOT NULL,
    question BIGINT NOT NULL,
    option_idx BIGINT,
    value TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS answers_by_interaction ON answers (context_id, interaction_id, question);

CREATE TABLE IF NOT EXISTS survey_questions (
    context_id TEXT NOT NULL,
    interaction_id BIGINT NOT NULL,
    question BIGINT NOT NULL,
    text TEXT NOT NULL,
    PRIMARY KEY (context_id, interaction_id, question)
);
CREATE TABLE IF NOT EXISTS survey_options (
    context_id TEXT NOT NULL,
    interaction_id BIGINT NOT NULL,
    question BIGINT NOT NULL,
    option_idx BIGINT NOT NULL,
    text TEXT NOT NULL,
    PRIMARY KEY (context_id, interaction_id, question, option_idx)
);
