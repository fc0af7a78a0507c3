-- Append-only decisions by outreach workers. Maraude never contacts anyone: a decision records
-- what a trained person chose to do. No free-text identity belongs in note.
CREATE SEQUENCE IF NOT EXISTS reviews_seq;
CREATE TABLE IF NOT EXISTS reviews (
    review_id    BIGINT PRIMARY KEY DEFAULT nextval('reviews_seq'),
    case_id      VARCHAR NOT NULL,
    decision     VARCHAR NOT NULL CHECK (decision IN
                   ('reach_out', 'watch', 'already_supported', 'not_concerned', 'false_alarm', 'closed')),
    orientation  VARCHAR,
    labels_confirmed VARCHAR[],
    note         VARCHAR,
    reviewer     VARCHAR NOT NULL,
    reviewed_at  TIMESTAMPTZ NOT NULL
);
