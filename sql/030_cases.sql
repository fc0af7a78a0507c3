-- One row per pseudonymous author who has at least one flagged post. Case scores accumulate
-- evidence over posts with time decay (features.cases); status follows the latest review.
CREATE TABLE IF NOT EXISTS cases (
    case_id          VARCHAR PRIMARY KEY,
    author_pseudo    VARCHAR NOT NULL UNIQUE,
    first_seen       TIMESTAMPTZ NOT NULL,
    last_seen        TIMESTAMPTZ NOT NULL,
    n_posts          INTEGER NOT NULL,
    n_flagged        INTEGER NOT NULL,
    score_no_school  DOUBLE NOT NULL,
    score_no_job     DOUBLE NOT NULL,
    score_isolation  DOUBLE NOT NULL,
    score_distress   DOUBLE NOT NULL,
    labels           VARCHAR[] NOT NULL,
    distress         BOOLEAN NOT NULL,
    priority         DOUBLE NOT NULL,
    age_band         VARCHAR,
    place            VARCHAR,
    duration_days    INTEGER,
    help_seeking     BOOLEAN,
    orientation      JSON NOT NULL,
    evidence         JSON NOT NULL,
    status           VARCHAR NOT NULL DEFAULT 'open',
    updated_at       TIMESTAMPTZ NOT NULL,
    retention_until  TIMESTAMPTZ NOT NULL
);
