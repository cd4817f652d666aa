-- Every answer of every vote, one row per chosen option, rating or text: what the
-- interaction results report counts. `question` is a survey question's index (0 for
-- the other kinds); `option_idx` a survey choice's option (its text is in
-- survey_options), NULL when `value` holds the answer itself.
CREATE TABLE IF NOT EXISTS answers (
    context_id TEXT NOT NULL,
    interaction_id INTEGER NOT NULL,
    question INTEGER NOT NULL,
    option_idx INTEGER,
    value TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS answers_by_interaction ON answers (context_id, interaction_id, question);

-- Surveys as last saved: their questions and the options of their choice questions.
CREATE TABLE IF NOT EXISTS survey_questions (
    context_id TEXT NOT NULL,
    interaction_id INTEGER NOT NULL,
    question INTEGER NOT NULL,
    text TEXT NOT NULL,
    PRIMARY KEY (context_id, interaction_id, question)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS survey_options (
    context_id TEXT NOT NULL,
    interaction_id INTEGER NOT NULL,
    question INTEGER NOT NULL,
    option_idx INTEGER NOT NULL,
    text TEXT NOT NULL,
    PRIMARY KEY (context_id, interaction_id, question, option_idx)
) WITHOUT ROWID;
