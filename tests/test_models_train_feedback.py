"""Reviewed feedback becomes training posts: confirmed flags are positives, unconfirmed flags negatives, train split only."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from models.corpus.feedback import collect_feedback

AT = datetime(2026, 2, 1, tzinfo=timezone.utc)


def _post(con, uid: str, author: str, text: str | None):
    con.execute(
        "INSERT INTO posts (post_uid, platform, source, author_pseudo, created_at, collected_at, lang, text_redacted,"
        " batch_id, retention_until) VALUES (?, 'mastodon', 'test', ?, ?, ?, 'fr', ?, 'b1', ?)",
        [uid, author, AT, AT, text, AT + timedelta(days=30)],
    )


def _prediction(con, uid: str, flagged: list[str], version: str = "m1", at: datetime = AT):
    con.execute("INSERT INTO predictions VALUES (?, ?, 0.1, 0.1, 0.1, 0.1, ?, NULL, ?)", [uid, version, flagged, at])


def _case(con, case_id: str, author: str):
    con.execute(
        "INSERT INTO cases (case_id, author_pseudo, first_seen, last_seen, n_posts, n_flagged, score_no_school, score_no_job,"
        " score_isolation, score_distress, labels, distress, priority, orientation, evidence, updated_at, retention_until)"
        " VALUES (?, ?, ?, ?, 1, 1, 0, 0, 0, 0, [], false, 0, '{}', '{}', ?, ?)",
        [case_id, author, AT, AT, AT, AT + timedelta(days=365)],
    )


def _review(con, case_id: str, decision: str, confirmed, at: datetime):
    con.execute(
        "INSERT INTO reviews (case_id, decision, labels_confirmed, reviewer, reviewed_at) VALUES (?, ?, ?, 'educ-test', ?)",
        [case_id, decision, confirmed, at],
    )


def test_feedback_labels_are_confirmed_flags_and_join_train_only(warehouse_path):
    from maraude.warehouse import connect

    with connect(warehouse_path) as con:
        _case(con, "c1", "author-a")
        _post(con, "p1", "author-a", "je sors plus de ma chambre et j'en peux plus")
        _prediction(con, "p1", ["isolation", "distress"])
        _post(con, "p2", "author-a", "match ce soir")  # never flagged: not a reviewed post
        _prediction(con, "p2", [])
        _review(con, "c1", "watch", None, AT)
        _review(con, "c1", "reach_out", ["isolation"], AT + timedelta(hours=1))

        _case(con, "c2", "author-b")
        _post(con, "p3", "author-b", "ce taf va me tuer mdr")
        _prediction(con, "p3", ["distress"])
        _review(con, "c2", "false_alarm", [], AT)

        _case(con, "c3", "author-c")  # latest review without labels_confirmed: no feedback
        _post(con, "p4", "author-c", "plus de lycée depuis mars")
        _prediction(con, "p4", ["no_school"])
        _review(con, "c3", "reach_out", ["no_school"], AT)
        _review(con, "c3", "closed", None, AT + timedelta(days=1))

        _case(con, "c4", "author-d")  # purged text: nothing to learn from
        _post(con, "p5", "author-d", None)
        _prediction(con, "p5", ["no_job"])
        _review(con, "c4", "reach_out", ["no_job"], AT)
    records = {record["id"]: record for record in collect_feedback(warehouse_path)}
    assert set(records) == {"fb-p1", "fb-p3"}
    assert records["fb-p1"]["labels"] == ["isolation"]  # distress was flagged but not confirmed
    assert records["fb-p3"]["labels"] == [] and records["fb-p3"]["hard"]
    assert {record["split"] for record in records.values()} == {"train"}


def test_the_latest_prediction_of_a_post_decides_what_was_flagged(warehouse_path):
    from maraude.warehouse import connect

    with connect(warehouse_path) as con:
        _case(con, "c1", "author-a")
        _post(con, "p1", "author-a", "toujours rien trouvé comme taf depuis un an")
        _prediction(con, "p1", ["no_job", "isolation"], version="m1", at=AT)
        _prediction(con, "p1", ["no_job"], version="m2", at=AT + timedelta(days=2))
        _review(con, "c1", "reach_out", ["no_job", "isolation"], AT + timedelta(days=3))
    [record] = collect_feedback(warehouse_path)
    assert record["labels"] == ["no_job"]
