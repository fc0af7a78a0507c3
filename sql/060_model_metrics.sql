-- Metrics of each model and of the simple baselines evaluated beside it, per split, slice and label.
-- system is 'model' for the trained model, or the baseline's name ('keywords', 'tfidf_logreg').
-- label is a label name or 'macro'; slice is 'all' or e.g. 'style=discord'.
CREATE TABLE IF NOT EXISTS model_metrics (
    model_version  VARCHAR NOT NULL,
    system         VARCHAR NOT NULL,
    split          VARCHAR NOT NULL,
    slice          VARCHAR NOT NULL DEFAULT 'all',
    label          VARCHAR NOT NULL,
    metric         VARCHAR NOT NULL,
    value          DOUBLE,
    ci_low         DOUBLE,
    ci_high        DOUBLE,
    n              INTEGER,
    computed_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (model_version, system, split, slice, label, metric)
);
