-- A global order over every stream's events, for consumers that read the whole log
-- after a cursor (the reporting service). `g` is assigned by the log's single writer in
-- commit order, so a reader that has seen `g = n` never later finds a committed event
-- with a smaller `g`. Events stored before this migration are numbered stream by
-- stream, each stream in seq order (what a consumer needs; times are in the events).
ALTER TABLE events ADD COLUMN g INTEGER;

CREATE TEMP TABLE global_order_backfill AS
    SELECT context_id, seq,
           row_number() OVER (ORDER BY context_id, seq) AS g
    FROM events;
CREATE INDEX temp.global_order_backfill_key ON global_order_backfill (context_id, seq);
UPDATE events SET g = (
    SELECT b.g FROM global_order_backfill b
    WHERE b.context_id = events.context_id AND b.seq = events.seq
);
DROP TABLE global_order_backfill;

CREATE UNIQUE INDEX IF NOT EXISTS events_in_global_order ON events (g);
