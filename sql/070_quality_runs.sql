-- Every Great Expectations validation, successful or not. details never holds post text or identities.
CREATE TABLE IF NOT EXISTS quality_runs (
    run_id               VARCHAR PRIMARY KEY,
    stage                VARCHAR NOT NULL,
    suite                VARCHAR NOT NULL,
    batch_id             VARCHAR,
    success              BOOLEAN NOT NULL,
    evaluated_rows       INTEGER NOT NULL,
    failed_rows          INTEGER NOT NULL,
    failed_expectations  VARCHAR[] NOT NULL,
    details              JSON,
    run_at               TIMESTAMPTZ NOT NULL
);
