-- Q&A waits: one row per time a thread waited for a moderator — opened, or reopened by
-- a new question — until the first moderator message after it (who and when; NULL while
-- unanswered).
CREATE TABLE IF NOT EXISTS waits (
    context_id TEXT NOT NULL,
    thread_id INTEGER NOT NULL,
    started_ms INTEGER NOT NULL,
    replied_ms INTEGER,
    replier_id TEXT NOT NULL DEFAULT '',
    replier_email TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (context_id, thread_id, started_ms)
) WITHOUT ROWID;

-- Claims in force (one per thread), and every claim made (for counts over a range).
CREATE TABLE IF NOT EXISTS current_claims (
    context_id TEXT NOT NULL,
    thread_id INTEGER NOT NULL,
    moderator_id TEXT NOT NULL,
    claimed_ms INTEGER NOT NULL,
    PRIMARY KEY (context_id, thread_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS claims (
    context_id TEXT NOT NULL,
    thread_id INTEGER NOT NULL,
    moderator_id TEXT NOT NULL,
    moderator_email TEXT NOT NULL,
    at_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS claims_by_context ON claims (context_id, at_ms);

-- Every resolution, with the claim it ended (claimed_ms NULL if it was not claimed).
CREATE TABLE IF NOT EXISTS resolutions (
    context_id TEXT NOT NULL,
    thread_id INTEGER NOT NULL,
    moderator_id TEXT NOT NULL,
    moderator_email TEXT NOT NULL,
    claimed_ms INTEGER,
    resolved_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS resolutions_by_context ON resolutions (context_id, resolved_ms);
