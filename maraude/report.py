"""What outreach workers read: the run summary and the top of the review queue, in French."""

from __future__ import annotations

import json
import textwrap

from maraude import LABELS

LABELS_FR = {
    "no_school": "décrochage scolaire",
    "no_job": "sans emploi ni formation",
    "isolation": "isolement",
    "distress": "détresse",
}
DECISIONS_FR = {
    "reach_out": "aller vers la personne (prise de contact par un·e professionnel·le)",
    "watch": "à suivre, sans contact pour l'instant",
    "already_supported": "déjà accompagné·e par une structure",
    "not_concerned": "pas concerné·e (hors public ou hors mission)",
    "false_alarm": "fausse alerte du modèle",
    "closed": "clore le cas",
}


def _labels_fr(labels) -> str:
    return ", ".join(LABELS_FR.get(label, label) for label in (labels or [])) or "—"


def summary(con) -> str:
    """Counts of the warehouse as a youth worker or coordinator would want them."""
    posts = con.execute("SELECT count(*) FROM posts").fetchone()[0]
    quarantined = con.execute("SELECT reason, count(*) FROM quarantine GROUP BY reason ORDER BY 2 DESC").fetchall()
    flagged = con.execute(
        "SELECT " + ", ".join(f"count(*) FILTER (WHERE list_contains(flagged_labels, '{label}'))" for label in LABELS)
        + ", count(*) FILTER (WHERE len(flagged_labels) > 0), count(*) FROM predictions"
    ).fetchone()
    cases = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE status <> 'closed'), count(*) FILTER (WHERE distress AND status <> 'closed')"
        " FROM cases"
    ).fetchone()
    runs = con.execute("SELECT count(*), count(*) FILTER (WHERE NOT success) FROM quality_runs").fetchone()
    lines = [
        "Résumé de l'entrepôt Maraude",
        f"  Publications conservées (françaises, anonymisées) : {posts}",
        f"  Publications analysées par le modèle : {flagged[-1]}, dont {flagged[-2]} avec au moins un signal",
    ]
    lines += [f"    - {LABELS_FR[label]} : {count}" for label, count in zip(LABELS, flagged)]
    total_q = sum(count for _, count in quarantined)
    detail = ", ".join(f"{reason} ({count})" for reason, count in quarantined[:6])
    lines.append(f"  Enregistrements mis en quarantaine : {total_q}" + (f" — {detail}" if detail else ""))
    lines.append(f"  Situations (une par personne pseudonymisée) : {cases[0]}, dont {cases[1]} ouvertes et {cases[2]} avec détresse")
    lines.append(f"  Contrôles qualité (Great Expectations) : {runs[0]} exécutés, {runs[1]} en échec")
    return "\n".join(lines)


def review_queue(con, limit: int = 10) -> str:
    """The top of ``review_queue`` with the latest flagged excerpt (already redacted) and why it was flagged."""
    rows = con.execute(
        "SELECT rang, case_id, distress, priority, labels, alerte, age_band, place, duration_days, help_seeking,"
        " n_posts, n_flagged, last_seen, orientation, evidence FROM review_queue LIMIT ?",
        [limit],
    ).fetchall()
    if not rows:
        return "File de revue : aucune situation ouverte."
    out = [f"File de revue — les {len(rows)} premières situations (la détresse passe toujours en premier)", ""]
    for (rang, case_id, distress, priority, labels, alerte, age_band, place, duration, help_seeking,
         n_posts, n_flagged, last_seen, orientation, evidence) in rows:
        out.append(f"#{rang}  {case_id}  priorité {priority:.0f}/100  — {_labels_fr(labels)}")
        if alerte:
            out.append(f"    ⚠ {alerte}")
        facts = [f"{n_flagged} publication(s) signalée(s) sur {n_posts}", f"dernier signal le {last_seen:%d/%m/%Y}"]
        if age_band:
            facts.append(f"âge estimé {age_band} ans")
        if place:
            facts.append(f"lieu : {place}")
        if duration:
            facts.append(f"depuis environ {duration} jours")
        if help_seeking:
            facts.append("demande de l'aide")
        out.append("    " + " · ".join(facts))
        items = json.loads(evidence) if isinstance(evidence, str) else (evidence or [])
        if items:
            latest = items[0]
            excerpt = (con.execute("SELECT text_redacted FROM posts WHERE post_uid = ?", [latest["post_uid"]]).fetchone() or [None])[0]
            if excerpt:
                out.append("    « " + textwrap.shorten(excerpt, width=160, placeholder=" …") + " »")
            why = con.execute(
                "SELECT explanation FROM predictions WHERE post_uid = ? AND explanation IS NOT NULL LIMIT 1",
                [latest["post_uid"]],
            ).fetchone()
            if why and why[0]:
                words = json.loads(why[0])
                parts = [f"{LABELS_FR.get(label, label)} ← " + ", ".join(w for w, _ in pairs[:3]) for label, pairs in words.items() if pairs]
                if parts:
                    out.append("    Mots qui ont pesé : " + " ; ".join(parts))
        suggestions = json.loads(orientation) if isinstance(orientation, str) else (orientation or [])
        if suggestions:
            out.append("    Orientation possible :")
            out += [f"      - {s['structure']} : {s['pourquoi']} [{s['contact']}]" for s in suggestions[:3]]
        out.append("")
    out.append("Maraude ne contacte personne et ne décide rien : une personne formée lit, vérifie et décide.")
    out.append("Décision : maraude review decide CASE_ID --decision reach_out|watch|already_supported|not_concerned|false_alarm|closed")
    return "\n".join(out)
