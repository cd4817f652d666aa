-- Users as events showed them (the latest non-empty email).
CREATE TABLE IF NOT EXISTS users (
    user_id TEXT PRIMARY KEY NOT NULL,
    email TEXT NOT NULL
) WITHOUT ROWID;

-- Accepted private-chat connections, one row per direction.
CREATE TABLE IF NOT EXISTS connections (
    user_id TEXT NOT NULL,
    peer_id TEXT NOT NULL,
    PRIMARY KEY (user_id, peer_id)
) WITHOUT ROWID;

-- Private messages (a deleted one keeps its row, without its text).
CREATE TABLE IF NOT EXISTS direct_messages (
    stream_id TEXT NOT NULL,
    message_id INTEGER NOT NULL,
    sender_id TEXT NOT NULL,
    recipient_id TEXT NOT NULL,
    between_attendees INTEGER NOT NULL,
    text TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (stream_id, message_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS direct_messages_by_sender ON direct_messages (sender_id);
CREATE INDEX IF NOT EXISTS direct_messages_by_recipient ON direct_messages (recipient_id);
CREATE INDEX IF NOT EXISTS direct_messages_by_time ON direct_messages (at_ms);

-- Q&A messages: to whom (the thread's attendee for a moderator's message; the thread's
-- owner when it was posted for the attendee's, empty while nobody owned it).
ALTER TABLE messages ADD COLUMN recipient_id TEXT NOT NULL DEFAULT '';
CREATE INDEX IF NOT EXISTS messages_by_author ON messages (author_id);
CREATE INDEX IF NOT EXISTS threads_by_attendee ON threads (attendee_id);
