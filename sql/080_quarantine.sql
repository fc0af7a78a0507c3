-- Records rejected at any stage, with the reason. record_ref is a keyed post_uid when one could be
-- computed, never a raw id; detail names fields and types, never their raw values.
CREATE SEQUENCE IF NOT EXISTS quarantine_seq;
CREATE TABLE IF NOT EXISTS quarantine (
    quarantine_id   BIGINT PRIMARY KEY DEFAULT nextval('quarantine_seq'),
    stage           VARCHAR NOT NULL,
    source          VARCHAR,
    platform        VARCHAR,
    batch_id        VARCHAR,
    record_ref      VARCHAR,
    reason          VARCHAR NOT NULL,
    detail          VARCHAR,
    quarantined_at  TIMESTAMPTZ NOT NULL,
    retention_until TIMESTAMPTZ NOT NULL,
    UNIQUE (stage, source, record_ref, reason)
);
