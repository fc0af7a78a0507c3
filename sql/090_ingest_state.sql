-- Cursor per configured source, advanced in the same transaction that lands the batch.
CREATE TABLE IF NOT EXISTS ingest_state (
    source         VARCHAR PRIMARY KEY,
    platform       VARCHAR NOT NULL,
    cursor         VARCHAR,
    last_batch_id  VARCHAR,
    last_count     INTEGER,
    updated_at     TIMESTAMPTZ NOT NULL
);
