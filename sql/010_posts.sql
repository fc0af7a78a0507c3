-- Collected public posts, after redaction and pseudonymisation. No raw identity ever lands here:
-- post_uid and author_pseudo are keyed hashes, text_redacted has passed privacy.redact.
-- text_redacted becomes NULL when retention purges the text of an unflagged post; the row stays
-- until retention_until so cases keep their counts.
CREATE TABLE IF NOT EXISTS posts (
    post_uid        VARCHAR PRIMARY KEY,
    platform        VARCHAR NOT NULL,
    source          VARCHAR NOT NULL,
    author_pseudo   VARCHAR NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    collected_at    TIMESTAMPTZ NOT NULL,
    lang            VARCHAR NOT NULL,
    lang_confidence DOUBLE,
    platform_lang   VARCHAR,
    text_redacted   VARCHAR,
    thread_uid      VARCHAR,
    reply_to_uid    VARCHAR,
    -- cues derived by features.cues from the redacted text
    age_years       INTEGER,
    age_band        VARCHAR,
    duration_days   INTEGER,
    place           VARCHAR,
    departement     VARCHAR,
    help_seeking    BOOLEAN,
    batch_id        VARCHAR NOT NULL,
    retention_until TIMESTAMPTZ NOT NULL
);
