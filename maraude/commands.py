"""Core sub-commands: demo, run, review, bench pipeline."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from maraude.settings import REPO_ROOT, get_settings

DEMO_SOURCES = REPO_ROOT / "extractors" / "replay" / "demo_sources.yaml"


def _parse_at(value: str | None) -> datetime:
    if not value:
        # The one place where the clock is read: the run's logical date, passed to every task.
        return datetime.now(timezone.utc).replace(microsecond=0)
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _print_outcomes(outcomes) -> bool:
    ok = True
    for outcome in outcomes:
        if outcome.failed_tasks or outcome.state != "success":
            ok = False
            print(f"ÉCHEC : {outcome.dag_id} ({outcome.state}) — tâches en échec : {', '.join(outcome.failed_tasks)}."
                  f" Journaux : {get_settings().home / 'airflow' / 'logs'}", file=sys.stderr)
    return ok


def _show(warehouse_path: Path, limit: int = 10) -> None:
    from maraude import report, warehouse

    with warehouse.connect(warehouse_path, read_only=True) as con:
        print(report.summary(con))
        print()
        print(report.review_queue(con, limit=limit))


def demo(args: argparse.Namespace) -> int:
    """The main job on the embedded default, end to end through Airflow."""
    from extractors.replay import serve
    from maraude import orchestrate
    from models.registry import ensure_champion
    from privacy.keys import load_keys

    started = time.monotonic()
    settings = get_settings()
    settings.ensure_dirs()
    load_keys(settings, create=True)
    print("Maraude — démonstration sur le jeu intégré (serveur local qui rejoue les API des plateformes)")
    print("1/4  Modèle : recherche du modèle champion (entraîné au premier lancement)…", flush=True)
    version = ensure_champion(settings, settings.warehouse_path, progress=True)
    print(f"     champion : {version}")
    with serve() as base_url:
        sources_file = orchestrate.materialise_sources(DEMO_SOURCES, base_url, settings.home / "demo_sources.yaml")
        orchestrate.prepare(settings, sources_file=sources_file, warehouse_path=settings.warehouse_path)
        at = _parse_at(args.at)
        print(f"2/4  Collecte via Airflow (maraude_collect) sur {base_url} …", flush=True)
        collect = orchestrate.run_dag("maraude_collect", at, log_dir=settings.home / "airflow" / "logs" / "cli")
        print("3/4  Analyse, situations et contrôles (maraude_score) …", flush=True)
        score = orchestrate.run_dag("maraude_score", at, log_dir=settings.home / "airflow" / "logs" / "cli")
    ok = _print_outcomes([collect, score])
    print(f"4/4  Terminé en {time.monotonic() - started:.0f} s. Entrepôt : {settings.warehouse_path}\n")
    _show(settings.warehouse_path)
    return 0 if ok else 1


def run(args: argparse.Namespace) -> int:
    """One scheduled cycle on demand (collect → score) for the sources of a file."""
    from maraude import orchestrate

    settings = get_settings()
    settings.ensure_dirs()
    warehouse_path = Path(args.warehouse) if args.warehouse else settings.warehouse_path
    orchestrate.prepare(settings, sources_file=Path(args.sources), warehouse_path=warehouse_path)
    ok = _print_outcomes(orchestrate.run_cycle(_parse_at(args.at), log_dir=settings.home / "airflow" / "logs" / "cli"))
    _show(warehouse_path, limit=args.top)
    return 0 if ok else 1


def review_queue(args: argparse.Namespace) -> int:
    """Print the top of the review queue from the read-only copy (or the warehouse when no copy exists)."""
    settings = get_settings()
    target = Path(args.warehouse) if args.warehouse else settings.read_copy_path
    if not target.exists():
        target = settings.warehouse_path
    _show(target, limit=args.limit)
    return 0


def review_decide(args: argparse.Namespace) -> int:
    """Record an outreach worker's decision on a case (append-only, audited)."""
    from maraude import report, warehouse

    settings = get_settings()
    target = Path(args.warehouse) if args.warehouse else settings.warehouse_path
    reviewer = args.reviewer or warehouse.current_actor()
    at = datetime.now(timezone.utc)
    with warehouse.connect(target) as con:
        if not con.execute("SELECT 1 FROM cases WHERE case_id = ?", [args.case_id]).fetchone():
            print(f"Situation inconnue : {args.case_id}", file=sys.stderr)
            return 2
        con.execute("BEGIN TRANSACTION")
        con.execute(
            "INSERT INTO reviews (case_id, decision, orientation, labels_confirmed, note, reviewer, reviewed_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [args.case_id, args.decision, args.orientation, args.labels, args.note, reviewer, at],
        )
        status = "closed" if args.decision in ("already_supported", "not_concerned", "false_alarm", "closed") else "in_review"
        con.execute("UPDATE cases SET status = ? WHERE case_id = ?", [status, args.case_id])
        warehouse.audit(con, action="review", target=args.case_id, actor=reviewer, at=at,
                        details={"decision": args.decision, "orientation": args.orientation})
        con.execute("COMMIT")
    print(f"Décision enregistrée pour {args.case_id} : {report.DECISIONS_FR[args.decision]}.")
    return 0


def bench_pipeline(args: argparse.Namespace) -> int:
    """Posts/s end to end on the replay source, per stage, and peak memory."""
    from maraude.bench import run_pipeline_bench

    return run_pipeline_bench(model_dir=args.model)


def register(commands, bench_commands) -> None:
    """Add the core sub-commands."""
    p = commands.add_parser("demo", help="run Maraude end to end on the embedded default (replay server, Airflow, DuckDB)")
    p.add_argument("--at", help="logical date of the run (ISO 8601; default: now)")
    p.set_defaults(func=demo)

    p = commands.add_parser("run", help="one collect → score cycle through Airflow for the sources of a file")
    p.add_argument("--sources", required=True, help="sources YAML file (see sources.example.yaml)")
    p.add_argument("--warehouse", help="warehouse file (default var/warehouse.duckdb)")
    p.add_argument("--at", help="logical date of the run (ISO 8601; default: now); decay and retention use it")
    p.add_argument("--top", type=int, default=10, help="how many cases of the review queue to print")
    p.set_defaults(func=run)

    review = commands.add_parser("review", help="read the review queue, record decisions (outreach teams)")
    review_commands = review.add_subparsers(dest="review_command", required=True, metavar="ACTION")
    p = review_commands.add_parser("queue", help="print the open cases, distress first")
    p.add_argument("--limit", type=int, default=10)
    p.add_argument("--warehouse", help="warehouse file to read (default: the read-only copy)")
    p.set_defaults(func=review_queue)
    p = review_commands.add_parser("decide", help="record a decision on a case")
    p.add_argument("case_id")
    p.add_argument("--decision", required=True,
                   choices=["reach_out", "watch", "already_supported", "not_concerned", "false_alarm", "closed"])
    p.add_argument("--orientation", help="structure proposed (e.g. 'Mission Locale')")
    p.add_argument("--labels", nargs="*", help="labels the reviewer confirms (feeds the next training)")
    p.add_argument("--note", help="short note, no names or contact details")
    p.add_argument("--reviewer", help="who decides (default: $MARAUDE_ACTOR or the system user)")
    p.add_argument("--warehouse", help="warehouse file (default var/warehouse.duckdb)")
    p.set_defaults(func=review_decide)

    p = bench_commands.add_parser("pipeline", help="posts/s end to end on the replay source, per stage, peak memory")
    p.add_argument("--model", help="model folder (default: the champion)")
    p.set_defaults(func=bench_pipeline)
