-- What the cluster-mode (PostgreSQL) store has too, so both stores share their SQL:
-- where an unreadable entry came from when its position does not say, and the shard
-- fences (unused in embedded mode).
ALTER TABLE unreadable ADD COLUMN entry TEXT NOT NULL DEFAULT '';
CREATE TABLE IF NOT EXISTS shard_fences (
    shard INTEGER PRIMARY KEY NOT NULL,
    fence INTEGER NOT NULL
);
