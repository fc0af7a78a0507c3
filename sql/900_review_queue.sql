-- What outreach workers open first: open cases, distress always first, then by priority.
-- Readable columns in French, for the review tools; the 3114 is shown with any distress.
CREATE OR REPLACE VIEW review_queue AS
WITH open_cases AS (
    SELECT *
    FROM cases
    WHERE status IN ('open', 'in_review')
)
SELECT
    row_number() OVER (ORDER BY distress DESC, priority DESC, last_seen DESC, case_id) AS rang,
    case_id,
    distress,
    priority,
    labels,
    CASE WHEN distress THEN 'URGENT : signes de détresse. Montrer le 3114 (numéro national de prévention du suicide, 24h/24).'
         ELSE NULL END AS alerte,
    age_band,
    place,
    duration_days,
    help_seeking,
    n_posts,
    n_flagged,
    first_seen,
    last_seen,
    score_no_school,
    score_no_job,
    score_isolation,
    score_distress,
    orientation,
    evidence,
    status
FROM open_cases
ORDER BY distress DESC, priority DESC, last_seen DESC, case_id;
