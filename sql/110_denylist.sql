-- Keyed pseudonyms of people who asked to be forgotten (maraude forget). Collection drops their
-- posts before anything is stored.
CREATE TABLE IF NOT EXISTS denylist (
    author_pseudo  VARCHAR PRIMARY KEY,
    platform       VARCHAR NOT NULL,
    added_at       TIMESTAMPTZ NOT NULL
);
