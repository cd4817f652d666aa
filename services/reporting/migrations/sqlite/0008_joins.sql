-- Joins of a context per window (JoinsCounted events): the activity report's joins.
CREATE TABLE IF NOT EXISTS joins (
    context_id TEXT NOT NULL,
    window_start_ms INTEGER NOT NULL,
    joins INTEGER NOT NULL,
    PRIMARY KEY (context_id, window_start_ms)
) WITHOUT ROWID;
