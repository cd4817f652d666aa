-- Q&A messages by thread: user stats (messages in a user's threads) and the moderator
-- transcripts read them this way.
CREATE INDEX IF NOT EXISTS messages_by_thread ON messages (context_id, thread_id);
