-- One row per post and model version. Scores are calibrated probabilities; flagged_labels uses the
-- model's thresholds. explanation holds, per flagged label, the few words that drove the score.
CREATE TABLE IF NOT EXISTS predictions (
    post_uid       VARCHAR NOT NULL,
    model_version  VARCHAR NOT NULL,
    no_school      DOUBLE NOT NULL,
    no_job         DOUBLE NOT NULL,
    isolation      DOUBLE NOT NULL,
    distress       DOUBLE NOT NULL,
    flagged_labels VARCHAR[] NOT NULL,
    explanation    JSON,
    scored_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (post_uid, model_version)
);
