-- Joins of a context per window (JoinsCounted events): the activity report's joins.
CREATE TABLE IF NOT EXISTS joins (
    context_id TEXT NOT NULL,
    window_start_ms BIGINT NOT NULL,
    joins BIGINT NOT NULL,
    PRIMARY KEY (context_id, window_start_ms)
);
