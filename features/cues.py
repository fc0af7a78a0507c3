"""Cues read from a redacted post: the author's age, how long the situation has lasted, where they
live (commune or département, never finer), and whether they ask for help.

Cues feed the case summary and the orientation suggestions an outreach worker reads, so every rule
prefers silence to a wrong guess: an age is taken only when the author states their own
("j'ai 17 ans", not "mon frère de 15 ans" nor "depuis 2 ans"), a place only after a locating word
("à Roubaix", "dans le 93", "en Seine-Saint-Denis"), help-seeking only when the author asks.

Place codes (``departement``): the INSEE code for France (``"93"``, ``"2A"``, ``"974"``);
for Belgium ``"BE-"`` + the ISO 3166-2 province code (``"BE-BRU"`` Brussels, ``"BE-WLG"`` Liège...),
or ``"BE"`` when only the country is known; for Québec ``"QC-"`` + the administrative region number
(``"QC-06"`` Montréal...), or ``"QC"``. Orientation picks the Belgian or Québec referential from that prefix.
The gazetteer lives in ``features/data/gazetteer.csv``.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path

import pandas as pd

GAZETTEER_PATH = Path(__file__).resolve().parent / "data" / "gazetteer.csv"

AGE_BANDS: tuple[str, ...] = ("<16", "16-17", "18-25", "26-29", "30+")


@dataclass(frozen=True)
class Cues:
    """What one post says about its author; ``None`` when the post does not say it."""

    age_years: int | None = None
    age_band: str | None = None
    duration_days: int | None = None
    place: str | None = None
    departement: str | None = None
    help_seeking: bool = False


CUE_COLUMNS: tuple[str, ...] = tuple(field.name for field in fields(Cues))

# --- text folding ----------------------------------------------------------------------------

_APOSTROPHES = {"’": "'", "‘": "'", "`": "'", "´": "'", "ʼ": "'"}
_INVISIBLE = {"\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"}


def _fold(text: str) -> str:
    """Lower-case, accent-free copy of ``text`` with the same length, so match positions point into the original."""
    out = []
    for char in text:
        if char in _APOSTROPHES:
            out.append("'")
            continue
        base = unicodedata.normalize("NFD", char)[0]
        lowered = base.lower()
        out.append(lowered if len(lowered) == 1 else base)
    return "".join(out)


# --- numbers -----------------------------------------------------------------------------------

_NUMBER_WORDS = {
    "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6, "sept": 7,
    "huit": 8, "neuf": 9, "dix": 10, "onze": 11, "douze": 12, "treize": 13, "quatorze": 14,
    "quinze": 15, "seize": 16, "vingt": 20, "trente": 30,
}
_UNITS = r"(?:un|deux|trois|quatre|cinq|six|sept|huit|neuf)"
NUMBER = (
    r"(?:\d{1,3}|dix[\s-](?:sept|huit|neuf)|vingt(?:[\s-](?:et[\s-])?" + _UNITS + r")?"
    r"|un|une|deux|trois|quatre|cinq|six|sept|huit|neuf|dix|onze|douze|treize|quatorze|quinze|seize|trente)"
)


def _to_int(token: str) -> int:
    token = token.strip()
    if token.isdigit():
        return int(token)
    return sum(_NUMBER_WORDS[part] for part in re.split(r"[\s-]+", token) if part != "et")


# --- age ---------------------------------------------------------------------------------------

_AGE_UNIT = r"\s*(?:ans|an|berges|piges|balais|printemps)\b"
# "j'ai 3 ans d'expérience", "j'ai 2 ans de retard": a length of time, not an age.
_NOT_A_COMPLEMENT = r"(?!\s*(?:de\b|d'|du\b|des\b|que\b|qu'))"
_AGE_PATTERNS: tuple[tuple[re.Pattern[str], int], ...] = (
    # (pattern, correction): "bientôt 18 ans" means 17 today.
    (re.compile(
        r"\b(?:j'?\s?ai|g|moi|perso)\s*[,:(]?\s*(?P<mod>deja\s+|bientot\s+|presque\s+|a peine\s+|que\s+|seulement\s+"
        r"|meme pas\s+|tout juste\s+|eu\s+|juste\s+)?(?P<n>" + NUMBER + r")" + _AGE_UNIT + _NOT_A_COMPLEMENT
    ), 0),
    (re.compile(
        r"\b(?:je vais avoir|j'?\s?vais avoir|j'?\s?aurai|je vais sur mes|j'?\s?vais sur mes|bientot mes)\s+"
        r"(?P<n>" + NUMBER + r")(?:" + _AGE_UNIT + r")?" + _NOT_A_COMPLEMENT
    ), -1),
    (re.compile(r"\b(?:je suis|j'?\s?suis|chui|chuis)\s+agee?\s+de\s+(?P<n>" + NUMBER + r")" + _AGE_UNIT), 0),
    # A post that opens with the age: "17 ans, déscolarisée depuis la Toussaint".
    (re.compile(r"^\W*(?:(?:salut|bonjour|bonsoir|allo|hello|coucou|yo|wesh|hey)\W+)?(?P<n>\d{2})" + _AGE_UNIT + r"\s*[,.:;!)\-–]"), 0),
)
# "À 19 ans je sais toujours pas quoi faire": only at the start of a clause, followed by the
# author speaking in the present; "à 15 ans j'ai arrêté" is the past and "il a arrêté à 15 ans" someone else.
_AT_AGE = re.compile(
    r"(?:^|[.!?;,\n(]|\bet|\bmais)\s*a\s+(?P<n>\d{2})" + _AGE_UNIT + _NOT_A_COMPLEMENT + r"(?P<rest>[^.!?;\n]*)"
)
_FIRST_PERSON = re.compile(r"(?:\bje\b|\bj'|\bj\s|\bjsuis\b|\bjsais\b|\bjvis\b|\bjai\b|\bchuis?\b|\bmoi\b|\bm'|\bme\b|\bmon\b|\bma\b|\bmes\b)")
_PAST = re.compile(
    r"\b(?:j'?\s?avais|javais|j'?\s?etais|jetais|quand|j'?\s?ai\s+(?:\w+\s+)?(?:arrete|quitte|eu|fini|commence|lache"
    r"|decroche|perdu|fait|ete|pris|appris|redouble|passe|vecu|connu|rate|abandonne|commence|trouve|eu))\b"
)

# "depuis que j'ai 12 ans", "quand j'ai eu 15 ans": an age in the past.
_PAST_AGE_BEFORE = re.compile(r"(?:depuis que|depuis qu'|quand|lorsque|des que|avant que)\s*$")

_SELF_IN = (
    r"\b(?:je suis|j'?\s?suis|chuis|chui|suis|j'?\s?etais|jetais|je redouble|j'?\s?redouble|je fais|j'?\s?fais"
    r"|je passe|j'?\s?passe|je rentre|j'?\s?rentre|je vais|j'?\s?vais|moi)\s+"
    r"(?:(?:pas|plus|toujours|encore|meme pas|censee?|inscrite?|normalement)\s+)*(?:en|a la|au|a l'|ma|mon)\s*"
)
# "fini mon bac pro", "j'ai eu mon BTS": a completed level says the author is past that age.
_COMPLETED_BEFORE = re.compile(r"\b(?:fini|finie|termine|terminee|eu|obtenu|valide|validee|diplomee?)\s+(?:mon|ma)?\s*$")
_SCHOOL_PATTERNS: tuple[tuple[re.Pattern[str], str | None], ...] = (
    # Belgian "5e secondaire" (age 16) and Québec "secondaire 5" (age 16); the band depends on the year.
    (re.compile(r"\b(?P<year>[1-6])\s*(?:e|eme|ieme|ere|re)?\s+(?:annee\s+)?(?:secondaire|sec)\b"), None),
    (re.compile(r"\b(?:secondaire|sec)\s*(?P<qc_year>[1-5])\b"), None),
    (re.compile(_SELF_IN + r"(?:6|5|4|3)\s*(?:e|eme|ieme)\b|" + _SELF_IN + r"(?:sixieme|cinquieme|quatrieme|troisieme)\b"), "<16"),
    (re.compile(_SELF_IN + r"(?:seconde|2nde|2de|premiere|1ere|1re|terminale|term|tle|tale)\b"
                r"(?!\s+(?:fois|annee|chance|partie|semaine|etape|place))"), "16-17"),
    (re.compile(r"(?:" + _SELF_IN + r"|\b(?:ma|mon)\s+)(?:rheto|terminale|cap|bac pro|bep)\b"), "16-17"),
    (re.compile(
        r"(?:" + _SELF_IN + r"|\b(?:ma|mon)\s+)(?:bts|dut|iut|l1|l2|l3|licence|fac|prepa|master|m1|m2|cegep)\b"
    ), "18-25"),
)


def age_band_of(age_years: int) -> str:
    """The review band of an age in years."""
    if age_years < 16:
        return "<16"
    if age_years < 18:
        return "16-17"
    if age_years < 26:
        return "18-25"
    if age_years < 30:
        return "26-29"
    return "30+"


def _plausible_age(age: int) -> bool:
    return 11 <= age <= 60


def extract_age(folded: str) -> int | None:
    """The author's own stated age in years, from folded text."""
    for pattern, correction in _AGE_PATTERNS:
        for match in pattern.finditer(folded):
            if _PAST_AGE_BEFORE.search(folded[max(0, match.start() - 20):match.start()]):
                continue
            age = _to_int(match.group("n"))
            mod = (match.groupdict().get("mod") or "").strip()
            if mod in ("bientot", "presque", "meme pas"):
                age -= 1
            age += correction
            if _plausible_age(age):
                return age
    for match in _AT_AGE.finditer(folded):
        age = int(match.group("n"))
        rest = match.group("rest")
        if _plausible_age(age) and _FIRST_PERSON.search(rest) and not _PAST.search(rest):
            return age
    return None


def extract_school_band(folded: str) -> str | None:
    """The age band implied by the author's school level ("je suis en terminale", "mon BTS")."""
    for pattern, band in _SCHOOL_PATTERNS:
        match = pattern.search(folded)
        if not match:
            continue
        before = folded[max(0, match.start() - 25):match.start()]
        if _COMPLETED_BEFORE.search(before) or _PAST_AGE_BEFORE.search(before):
            continue
        groups = match.groupdict()
        if groups.get("year"):
            return "<16" if int(groups["year"]) <= 4 else "16-17"
        if groups.get("qc_year"):
            return "<16" if int(groups["qc_year"]) <= 4 else "16-17"
        return band
    return None


# --- duration ----------------------------------------------------------------------------------

_DURATION_UNIT = r"(?P<unit>jours?|j\b|semaines?|sem\b|sems\b|mois|ans?\b|annees?|piges?)"
_HALF = r"(?P<half>\s+et\s+demie?)?"
_APPROX = r"(?:plus\s+de\s+|pres\s+de\s+|presque\s+|environ\s+|genre\s+|au\s+moins\s+|bientot\s+|deja\s+|facile\s+)?"
_DURATION_PATTERNS = (
    re.compile(r"\bdepuis\s+" + _APPROX + r"(?P<n>" + NUMBER + r")\s*" + _DURATION_UNIT + _HALF),
    re.compile(r"\b(?:ca|sa|ça)\s+(?:fait|fera|va faire|faisait)\s+" + _APPROX + r"(?P<n>" + NUMBER + r")\s*" + _DURATION_UNIT + _HALF),
    re.compile(r"\bvoila\s+" + _APPROX + r"(?P<n>" + NUMBER + r")\s*" + _DURATION_UNIT + _HALF + r"\s+que\b"),
    # "3 semaines que je sors plus": the count opens a clause and "que" + the author follows.
    re.compile(r"(?:^|[.!?,;\n]\s*|\bet\s+|\bmais\s+)(?P<n>" + NUMBER + r")\s*" + _DURATION_UNIT + _HALF
               + r"\s+(?:que|qu')\s*(?:je\b|j'|j\s|jsuis|jsais|jai|jme|jvais|jreste|chui|on\b)"),
)


def _unit_days(unit: str) -> int:
    if unit.startswith("j"):
        return 1
    if unit.startswith("sem"):
        return 7
    if unit == "mois":
        return 30
    return 365  # an, ans, année(s), pige(s)


_MONTHS = {
    "janvier": 1, "janv": 1, "fevrier": 2, "fev": 2, "mars": 3, "avril": 4, "mai": 5, "juin": 6,
    "juillet": 7, "aout": 8, "septembre": 9, "sept": 9, "octobre": 10, "oct": 10, "novembre": 11, "nov": 11,
    "decembre": 12, "dec": 12,
}
_MONTH_ALT = "|".join(sorted(_MONTHS, key=len, reverse=True))
_NAMED_SINCE = re.compile(
    r"\bdepuis\s+(?:(?:la|le|les|l'|cette|ce|cet)\s*)?(?:(?P<part>debut|mi|fin)[\s-]+)?(?:(?:le\s+)?mois\s+d'?\s*)?"
    r"(?P<what>rentree|toussaint|vacances de la toussaint|noel|les fetes|fetes|nouvel an|jour de l'an|paques|ete|"
    r"annee|" + _MONTH_ALT + r")\b(?:\s+(?P<year>20\d\d))?"
)


def _easter(year: int) -> date:
    """Gregorian Easter Sunday (anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    l = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l) // 451
    month = (h + l - 7 * m + 114) // 31
    day = (h + l - 7 * m + 114) % 31 + 1
    return date(year, month, day)


def _named_start(what: str, part: str | None, year: int) -> date:
    """The date a named period starts in ``year``."""
    if what == "rentree":
        return date(year, 9, 1)
    if what in ("toussaint", "vacances de la toussaint"):
        return date(year, 11, 1)
    if what in ("noel", "les fetes", "fetes"):
        return date(year, 12, 25)
    if what in ("nouvel an", "jour de l'an", "annee"):
        return date(year, 1, 1)
    if what == "paques":
        return _easter(year)
    if what == "ete":
        return date(year, 7, 1)
    day = {"mi": 15, "fin": 25}.get(part or "", 1)
    return date(year, _MONTHS[what], day)


def _since_named(match: re.Match[str], on: date) -> int | None:
    what, part = match.group("what"), match.group("part")
    if match.group("year"):
        start = _named_start(what, part, int(match.group("year")))
    else:
        start = _named_start(what, part, on.year)
        if start > on:
            start = _named_start(what, part, on.year - 1)
    days = (on - start).days
    return days if days >= 0 else None


def extract_duration(folded: str, created_at: datetime | date | None) -> int | None:
    """How long, in days, the author says their situation has lasted; the first stated duration wins.

    Named periods ("depuis la rentrée", "depuis la Toussaint", "depuis septembre") count from the
    most recent such date on or before ``created_at``; without ``created_at`` they give nothing.
    """
    found: list[tuple[int, int]] = []
    for pattern in _DURATION_PATTERNS:
        for match in pattern.finditer(folded):
            days_per_unit = _unit_days(match.group("unit"))
            count = _to_int(match.group("n")) + (0.5 if match.group("half") else 0)
            found.append((match.start(), int(round(count * days_per_unit))))
    if created_at is not None and not pd.isna(created_at):
        on = created_at.date() if isinstance(created_at, datetime) else created_at
        for match in _NAMED_SINCE.finditer(folded):
            # "depuis une année" is a count (handled above); only "depuis (le début de) l'année" is a date.
            if match.group("what") == "annee" and not re.search(r"(?:l'|cette\s+)annee", match.group(0)):
                continue
            days = _since_named(match, on)
            if days is not None:
                found.append((match.start(), days))
    if not found:
        return None
    return min(found)[1]


# --- place -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    """One gazetteer entry: a commune, département, province, region or country."""

    kind: str
    name: str
    departement: str
    country: str
    needs_capital: bool


_SPECIFICITY = {"commune": 0, "departement": 1, "province": 1, "region": 1, "country": 2}


def _key(name: str) -> str:
    folded = _fold(name).replace("–", " ").replace("-", " ")
    folded = re.sub(r"^(?:le|la|les)\s+|^l'", "", folded)
    return re.sub(r"\s+", " ", folded).strip()


def _key_pattern(key: str) -> str:
    parts = re.split(r"(\s|')", key)
    out = []
    for part in parts:
        if part == " ":
            out.append(r"[\s\-–]+")
        elif part == "'":
            out.append(r"'?\s*")
        elif part:
            out.append(re.escape(part))
    return "".join(out)


@lru_cache(maxsize=1)
def _gazetteer() -> tuple[dict[str, tuple[Place, ...]], re.Pattern[str], dict[str, Place]]:
    """Key → entries, the compiled place pattern, and département code → entry."""
    index: dict[str, list[Place]] = {}
    by_code: dict[str, Place] = {}
    with GAZETTEER_PATH.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            place = Place(row["kind"], row["name"], row["departement"], row["country"], row["needs_capital"] == "1")
            if place.kind == "departement":
                by_code[place.departement.lower()] = place
            names = [place.name] + [alias for alias in row["aliases"].split(";") if alias]
            for name in names:
                key = _key(name)
                variants = {key}
                if key.startswith("saint "):
                    variants.add("st " + key[len("saint "):])
                if key.startswith("sainte "):
                    variants.add("ste " + key[len("sainte "):])
                for variant in variants:
                    index.setdefault(variant, []).append(place)
    alternation = "|".join(_key_pattern(key) for key in sorted(index, key=len, reverse=True))
    prepositions = (
        r"(?:a|sur|vers|dans|en|au|aux|du|des|habite|j'?\s?habite|vis"
        r"|(?:viens|venu|venue|originaire|suis|jsuis|ville|coin|banlieue|region|pres|cote|environs)\s+d(?:e|u|es)"
        r"|(?:viens|venu|venue|originaire|suis|jsuis|ville|coin|banlieue|region|pres|cote|environs)\s+d')"
    )
    pattern = re.compile(
        r"(?:^|(?<=[\s(,;:.!?]))" + prepositions + r"(?:\s+|(?<='))(?:(?:le|la|les)\s+|l'\s*)?"
        r"(?P<name>" + alternation + r")(?![\w'])"
    )
    return {key: tuple(value) for key, value in index.items()}, pattern, by_code


_DIGIT_WORDS = {"un": "1", "deux": "2", "trois": "3", "quatre": "4", "cinq": "5", "six": "6", "sept": "7", "huit": "8", "neuf": "9"}
_DEPT_NUMBER = re.compile(
    r"\b(?:(?P<strong>dans le|ds le|dans l|du|sur le|vers le)\s+(?P<plain>\d{2,3}|2a|2b)"
    r"|(?:dans le|ds le|du|sur le|vers le|le|en)\s+(?P<split>\d[.\-]\d)"
    r"|(?:dans le|ds le|du|sur le|vers le|le)\s+(?P<overseas>97[1-6])"
    r"|(?:(?:dans le|ds le|du|sur le|vers le|le)\s+)?(?P<nickname>neuf[\s-]trois)"
    r"|(?:dans le|ds le|du|sur le|vers le|le)\s+(?P<words>(?:neuf|sept)[\s-](?:un|deux|trois|quatre|cinq|sept|huit)))\b"
    r"(?!\s*(?:ans?\b|h\b|heures?|min|mois|jours?|semaines?|%|€|euros?|e\b|eme|er\b|km|kg|fois|au\b|a\b|/|\d|"
    + _MONTH_ALT + r"))"
)
_COUNTRY_HINTS = (
    (re.compile(r"\b(?:rheto|athenee|cpas|actiris|forem|centre pms|[1-6]\s*(?:e|eme)\s+secondaire)\b"), "BE"),
    (re.compile(r"\b(?:cegep|clsc|carrefour jeunesse|polyvalente|assurance[\s-]emploi|secondaire\s*[1-5]|sec\s*[1-5])\b"), "QC"),
)
_COUNTRY_NAMES = {"BE": "Belgique", "QC": "Québec"}


def _numbered_department(match: re.Match[str]) -> str | None:
    for group in ("plain", "split", "overseas"):
        value = match.group(group)
        if value:
            return re.sub(r"[.\-]", "", value)
    if match.group("nickname"):
        return "93"
    if match.group("words"):
        return "".join(_DIGIT_WORDS[word] for word in re.split(r"[\s-]", match.group("words")))
    return None


def extract_place(text: str, folded: str) -> tuple[str | None, str | None]:
    """(place name, département code) at commune or département level, or (None, None)."""
    index, pattern, by_code = _gazetteer()
    candidates: list[tuple[int, int, tuple[Place, ...]]] = []
    for match in pattern.finditer(folded):
        start = match.start("name")
        entries = _lookup(index, match.group("name"))
        entries = tuple(entry for entry in entries if not entry.needs_capital or text[start].isupper())
        if entries:
            candidates.append((_SPECIFICITY[entries[0].kind], start, entries))
    for match in _DEPT_NUMBER.finditer(folded):
        code = _numbered_department(match)
        if code and code in by_code:
            candidates.append((_SPECIFICITY["departement"], match.start(), (by_code[code],)))
    if candidates:
        codes = {entry.departement for _, _, entries in candidates if len(entries) == 1 for entry in entries}
        countries = {entry.country for _, _, entries in candidates if len(entries) == 1 for entry in entries}
        _, _, entries = min(candidates, key=lambda candidate: candidate[:2])
        # A homonym ("Saint-Denis", "Laval") takes the entry another mention corroborates, else the first listed.
        chosen = next((e for e in entries if e.departement in codes), None) \
            or next((e for e in entries if e.country in countries), None) or entries[0]
        return chosen.name, chosen.departement
    for hint, country in _COUNTRY_HINTS:
        if hint.search(folded):
            return _COUNTRY_NAMES[country], country
    return None, None


def _lookup(index: dict[str, tuple[Place, ...]], matched: str) -> tuple[Place, ...]:
    key = re.sub(r"\s*'\s*", "'", matched)
    key = re.sub(r"[\s\-–]+", " ", key)
    if key in index:
        return index[key]
    # The pattern lets an apostrophe be dropped ("cote dor"); find the key that differs only by it.
    loose = key.replace("'", "")
    return next((entries for candidate, entries in index.items() if candidate.replace("'", "") == loose), ())


# --- help-seeking ------------------------------------------------------------------------------

_SOMEONE = r"(?:qqn|qq1|qqun|qlq1|qlqn|quelqu'?\s?un|quelquun)"
# Asking where to turn: a negation is part of the ask ("je sais pas vers qui me tourner").
_ASK_PATTERNS = tuple(re.compile(p) for p in (
    r"\b(?:vous|vs) feriez quoi\b", r"\bque feriez[\s-]vous\b", r"\bvous auriez fait quoi\b",
    r"\bqu'?est[\s-]ce que vous feriez\b", r"\bvous (?:me )?conseillez quoi\b",
    r"\bvers qui (?:me tourner|aller|je peux|je dois|m'?\s?adresser|me diriger|me retourner)\b",
    r"\ba qui (?:m'?\s?adresser|demander|en parler|je peux|je dois)\b",
    r"\b(?:j?sais|sait|savoir)\s+(?:pas|plus)\s+(?:a qui|ou)\s+(?:parler|aller|demander)\b",
    r"\b" + _SOMEONE + r"\s+(?:sait|saurait|connait|connaitrait|aurait|a deja eu|peut m'?\s?expliquer)\b",
    r"\b(?:des|vos)\s+(?:idees|pistes)\s*\?", r"\bune piste\s*\?",
    r"\b(?:je fais|j'?\s?fais|je dois faire|j'?\s?dois faire) (?:quoi|comment)\s*\?",
    r"\bqu'?est[\s-]ce que je (?:dois|peux|pourrais) faire\b", r"\bque faire\s*\?",
    r"\bou (?:est[\s-]ce que je peux|je peux|puis[\s-]je) (?:aller|trouver de l'aide|demander)\b",
))
# Stating a need: "j'ai pas besoin d'aide" refuses it, "il a besoin d'aide" is someone else's.
_NEED_PATTERNS = tuple(re.compile(p) for p in (
    r"\bbesoin d'?\s?aide\b", r"\baidez[\s-]?moi\b", r"\bqui (?:peut|pourrait|saurait) m'?\s?aider\b",
    r"\b(?:vous pouvez|pouvez[\s-]vous|tu peux|vous pourriez) m'?\s?aider\b",
    r"\b" + _SOMEONE + r"\s+(?:pour m'?\s?aider|a qui parler|pour parler|avec qui parler)\b",
    r"\b(?:besoin|envie)\s+de\s+parler\b", r"\bbesoin de quelqu'?\s?un\b",
    r"\b(?:des|un|vos|quelques|ton|votre)\s+(?:conseils?|avis)\s*(?:\?|svp|stp|please|pls|pliz)",
    r"\b(?:besoin|cherche|demande)\s+(?:de\s+|d'\s?|des\s+|un\s+|vos\s+)?conseils?\b",
))
# "j'ai pas besoin d'aide", "je veux plus de conseils": refused, not asked.
_NEGATED_BEFORE = re.compile(r"\b(?:pas|plus|jamais|aucun|aucune|sans|ni)\s+(?:\w+\s+){0,1}$")
# "il a besoin d'aide", "mon frère aurait besoin de parler": someone else's need, stated.
_THIRD_PERSON_BEFORE = re.compile(r"(?:\b(?:il|elle|ils|elles|qui|on)\s+|[^'\s]\s+)(?:a|ont|avait|aurait|auraient)\s+$")
# Help with homework, a game or make-up is not what outreach is about: look at the rest of the sentence.
_TRIVIAL_AFTER = re.compile(
    r"^[^.!?\n]*\b(?:exo|exercice|devoir|dm|boss|niveau|lvl|quete|build|map|deck|skin|ranked|manette|console"
    r"|palette|maquillage|recette|partie|jeu)\b"
)


def extract_help_seeking(folded: str) -> bool:
    """Whether the author asks for help, advice or someone to talk to."""
    for patterns, negatable in ((_ASK_PATTERNS, False), (_NEED_PATTERNS, True)):
        for pattern in patterns:
            for match in pattern.finditer(folded):
                before = folded[max(0, match.start() - 30):match.start()]
                if negatable and (_NEGATED_BEFORE.search(before) or _THIRD_PERSON_BEFORE.search(before)):
                    continue
                if _TRIVIAL_AFTER.search(folded[match.end():match.end() + 80]):
                    continue
                return True
    return False


# --- public API --------------------------------------------------------------------------------


def extract_cues(text: str, created_at: datetime | None = None) -> Cues:
    """All cues of one redacted post; ``created_at`` anchors named periods ("depuis la rentrée")."""
    # Zero-width characters inside words ("Rou\u200bbaix") are dropped before anything is matched.
    text = "".join(char for char in text or "" if char not in _INVISIBLE)
    if not text:
        return Cues()
    folded = _fold(text)
    age = extract_age(folded)
    band = age_band_of(age) if age is not None else extract_school_band(folded)
    place, departement = extract_place(text, folded)
    return Cues(
        age_years=age,
        age_band=band,
        duration_days=extract_duration(folded, created_at),
        place=place,
        departement=departement,
        help_seeking=extract_help_seeking(folded),
    )


def cues_frame(texts: Iterable[str | None], created_ats: Iterable[datetime | None]) -> pd.DataFrame:
    """Cues of many posts as the posts table's cue columns, one row per text, in order."""
    rows = [
        extract_cues(text or "", None if created_at is None or pd.isna(created_at) else created_at)
        for text, created_at in zip(texts, created_ats, strict=True)
    ]
    frame = pd.DataFrame([[getattr(row, column) for column in CUE_COLUMNS] for row in rows], columns=list(CUE_COLUMNS))
    return frame.astype({
        "age_years": "Int64", "age_band": "object", "duration_days": "Int64",
        "place": "object", "departement": "object", "help_seeking": "bool",
    })
