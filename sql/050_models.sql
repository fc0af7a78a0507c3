-- Every trained model. Exactly one champion at a time (enforced by models.registry).
CREATE TABLE IF NOT EXISTS models (
    model_version  VARCHAR PRIMARY KEY,
    created_at     TIMESTAMPTZ NOT NULL,
    base_model     VARCHAR NOT NULL,
    corpus_hash    VARCHAR NOT NULL,
    labels         VARCHAR[] NOT NULL,
    thresholds     JSON NOT NULL,
    status         VARCHAR NOT NULL CHECK (status IN ('champion', 'challenger', 'retired')),
    path           VARCHAR NOT NULL,
    train_seconds  DOUBLE,
    params         JSON
);
