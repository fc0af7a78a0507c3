"""Orientation suggestions for a case, read from the referential ``features/orientation.yaml``.

The referential (in French, kept in the repo) says, for each public structure, who it is for and
when to suggest it; this module only applies those rules. Maraude never contacts anyone: the
suggestions help an outreach worker prepare a first contact.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from features.cues import AGE_BANDS
from maraude import LABELS

REFERENTIAL_PATH = Path(__file__).resolve().parent / "orientation.yaml"
COUNTRIES = ("FR", "BE", "QC")

class ReferentialError(ValueError):
    """orientation.yaml does not follow the rules written at its top."""


@dataclass(frozen=True)
class Structure:
    """One structure of the referential and the rule that decides when to suggest it."""

    structure: str
    public: str
    contact: str
    countries: frozenset[str]
    labels: frozenset[str]
    on_help_request: bool
    age_bands: frozenset[str]
    unknown_age: bool
    regions: tuple[str, ...]
    reason: str
    rank: int

    def applies(self, labels: frozenset[str], age_band: str | None, help_seeking: bool,
                country: str, departement: str | None) -> bool:
        """Whether the rule matches a case with these cues."""
        if country not in self.countries:
            return False
        if not (self.labels & labels or (self.on_help_request and help_seeking)):
            return False
        if age_band is None:
            if not self.unknown_age:
                return False
        elif age_band not in self.age_bands:
            return False
        # A region-specific structure stays suggested when only the country is known.
        if self.regions and departement and departement != country:
            return any(departement.startswith(prefix) for prefix in self.regions)
        return True


def _parse(entry: dict, position: int) -> Structure:
    when = entry.get("quand") or {}
    countries = COUNTRIES if entry.get("pays") == "tous" else (entry.get("pays"),)
    labels = frozenset(when.get("labels") or ())
    ages = frozenset(when.get("ages") or ())
    name = entry.get("structure") or f"entry {position}"
    problems = [
        *(f"unknown country {c!r}" for c in countries if c not in COUNTRIES),
        *(f"unknown label {label!r}" for label in labels if label not in LABELS),
        *(f"unknown age band {band!r}" for band in ages if band not in AGE_BANDS),
        *(f"missing {field!r}" for field in ("structure", "contact", "pourquoi", "rang") if field not in entry),
    ]
    if problems:
        raise ReferentialError(f"{REFERENTIAL_PATH.name}, structure {name!r}: " + "; ".join(problems))
    return Structure(
        structure=entry["structure"],
        public=entry.get("public", ""),
        contact=entry["contact"],
        countries=frozenset(countries),
        labels=labels,
        on_help_request=bool(when.get("demande_aide", False)),
        age_bands=ages,
        unknown_age=bool(when.get("age_inconnu", False)),
        regions=tuple(when.get("regions") or ()),
        reason=entry["pourquoi"],
        rank=int(entry["rang"]),
    )


@lru_cache(maxsize=4)
def load_referential(path: Path = REFERENTIAL_PATH) -> tuple[Structure, ...]:
    """The structures of the referential, in display order (rank, then file order)."""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    entries = [_parse(entry, position) for position, entry in enumerate(document["structures"])]
    order = sorted(range(len(entries)), key=lambda i: (entries[i].rank, i))
    return tuple(entries[i] for i in order)


def country_of(departement: str | None) -> str:
    """FR, BE or QC from a place code of features.cues (unknown places count as France)."""
    if departement and departement.startswith("BE"):
        return "BE"
    if departement and departement.startswith("QC"):
        return "QC"
    return "FR"


def suggest(
    labels: Iterable[str],
    *,
    age_band: str | None,
    help_seeking: bool,
    departement: str | None,
) -> list[dict[str, str]]:
    """Structures to suggest for a case, in order, each ``{"structure", "pourquoi", "contact"}`` in French.

    The 3114 comes first whenever ``distress`` is among the labels; Belgian and Québec structures
    replace the French ones when ``departement`` starts with ``BE`` or ``QC``; structures proposed
    only because the person asks for help come after those that answer a signal.
    """
    active = frozenset(labels)
    country = country_of(departement)
    matching = [s for s in load_referential() if s.applies(active, age_band, help_seeking, country, departement)]
    # Structures that answer a signal come before those proposed only because the person asks for help.
    matching.sort(key=lambda s: not (s.labels & active))
    # The case itself shows the signals, age band and help-seeking: "pourquoi" says what the structure offers.
    return [{"structure": s.structure, "pourquoi": s.reason, "contact": s.contact} for s in matching]
