"""Fixtures of the privacy tests: fictional identities, the probe set, raw posts, a seeded warehouse.

Every value is fictional: phone numbers from the ranges ARCEP reserves for fiction (01 99 00,
02 61 91, 03 53 01, 04 65 71, 05 36 49, 06 39 98), e-mail addresses at example.org / example.com,
invented or deliberately common names attached to no real person, the documented example IBAN.

The probe set is built from templates the recognisers were not tuned on one by one: it mixes names
from the lexicon with names outside it, in three casings, and counts what survives redaction.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import pytest

from extractors.base import RawPost

FICTION_PHONE_PREFIXES = ("01 99 00", "02 61 91", "03 53 01", "04 65 71", "05 36 49", "06 39 98")

# Common first names and surnames (in the lexicon) and invented ones (not in it).
LEXICON_FIRST = ["lucas", "chloé", "yanis", "inès", "kevin", "aminata", "théo", "léa", "mehdi", "manon", "enzo", "sarah"]
LEXICON_LAST = ["moreau", "diallo", "lefebvre", "benali", "girard", "nguyen", "dubois", "traoré", "garcia", "roussel"]
INVENTED_FIRST = ["maëlys", "soan", "nolhan", "kaïna", "ilyana", "elyes", "timoté", "lyam"]
INVENTED_LAST = ["kerdoncuff", "quillebœuf", "benchekroun", "vasselin", "tréguier", "morvannou", "ballestrazzi", "ouédraogo"]

# Words that carry the signal (and places orientation needs): redaction must keep them.
SIGNAL_WORDS = [
    "lycée", "taf", "chômage", "seul", "seule", "CFA", "Mission Locale", "France Travail", "3114", "décrochage",
    "foyer", "apprentissage", "stage", "bac", "rue", "déprime", "collège", "boulot", "isolé", "école",
    "Lille", "Roubaix", "Marseille", "93", "Seine-Saint-Denis", "Pôle emploi", "RSA", "fac", "formation",
]

SIGNAL_SENTENCES = [
    "j'ai quitté le lycée il y a 4 mois et j'ai pas de taf",
    "Je suis au chômage depuis la rentrée, seul à Lille",
    "le CFA m'a viré, la Mission Locale répond pas",
    "France Travail m'a radié, je tourne en rond dans le 93",
    "si ça va vraiment pas, appelle le 3114",
    "je suis en décrochage, je vais plus à l'école depuis novembre",
    "je dors au foyer depuis une semaine à Roubaix",
    "j'ai pas trouvé d'apprentissage ni de stage",
    "j'ai raté mon bac et je suis seule",
    "je vis à la rue depuis deux semaines à Marseille",
    "grosse déprime, je parle plus à personne, je me sens isolé",
    "j'ai lâché la fac, plus de boulot, plus de RSA",
    "je vais plus au collège, ma mère sait pas",
    "je cherche une formation en Seine-Saint-Denis, Pôle emploi m'a rien proposé",
]


def fiction_phone(rng: random.Random) -> str:
    """A French number from a fiction range, spaced: "06 39 98 12 34"."""
    return f"{rng.choice(FICTION_PHONE_PREFIXES)} {rng.randrange(100):02d} {rng.randrange(100):02d}"


def phone_spellings(number: str, rng: random.Random) -> str:
    """The number written one of the ways people write it."""
    digits = number.replace(" ", "")
    pairs = [digits[i:i + 2] for i in range(0, 10, 2)]
    national = digits[1:]
    forms = [
        " ".join(pairs), ".".join(pairs), "-".join(pairs), digits,
        "+33 " + national[0] + " " + " ".join(national[i:i + 2] for i in range(1, 9, 2)),
        "+33" + national, "0033 " + national[0] + " " + " ".join(national[i:i + 2] for i in range(1, 9, 2)),
        "+33 (0)" + national[0] + " " + " ".join(national[i:i + 2] for i in range(1, 9, 2)),
        "\uff10" + "".join(chr(0xFF10 + int(d)) for d in digits[1:]),  # fullwidth digits
        " ".join(pairs).replace(" ", "\u00a0"),
        digits[:2] + "\u200b" + digits[2:],  # zero-width space inside
    ]
    return rng.choice(forms)


def casings(name: str, rng: random.Random) -> str:
    """The name as typed: "Chloé Moreau", "chloé moreau" or "CHLOÉ MOREAU"."""
    return rng.choice([name.title(), name.lower(), name.upper()])


@dataclass
class Probe:
    """One probe post and what was planted in it."""

    text: str
    contact_values: list[str] = field(default_factory=list)  # phones, e-mails, handles, URLs, addresses, NIR, IBAN
    name_words: list[str] = field(default_factory=list)  # each planted first name / surname word
    signal_words: list[str] = field(default_factory=list)


_ADDRESSES = [
    "12 rue des Lilas", "3 bis avenue Jean Jaurès, 59100 Roubaix", "8 impasse des Tilleuls", "45 bd Gambetta",
    "2 allée des Cerisiers 69008 Lyon", "17 chemin du Moulin", "5 place de la République", "9 quai de la Loire",
    "21 route de Lens", "14 boulevard Voltaire 75011 Paris", "6 rue du Général Leclerc", "30 avenue de la Gare",
]
_NIRS = ["1 04 07 75 123 456 78", "2 05 11 93 066 123 45", "1 03 02 59 350 012 61", "2 06 09 2A 004 321 09"]
_IBANS = ["FR76 3000 6000 0112 3456 7890 189", "FR7630006000011234567890189", "fr76 1027 8060 0000 0205 5990 132"]


def _name(rng: random.Random) -> tuple[str, list[str]]:
    first = rng.choice(LEXICON_FIRST + INVENTED_FIRST)
    last = rng.choice(LEXICON_LAST + INVENTED_LAST)
    full = casings(f"{first} {last}", rng)
    return full, [first, last]


def build_probes(n: int = 240, *, seed: int = 7) -> list[Probe]:
    """``n`` deterministic probe posts, each planting a few identities around signal sentences."""
    rng = random.Random(seed)
    probes = []
    for _ in range(n):
        probe = Probe(text="")
        signal_parts = [rng.choice(SIGNAL_SENTENCES)]
        parts = list(signal_parts)
        for _ in range(rng.randint(1, 3)):
            kind = rng.choice(["phone", "email", "handle", "url", "address", "nir", "iban", "name", "name", "name"])
            if kind == "phone":
                value = phone_spellings(fiction_phone(rng), rng)
                parts.append(rng.choice(["appelle-moi au {v}", "mon num {v}", "tel: {v}", "écris au {v} stp"]).format(v=value))
                probe.contact_values.append(value)
            elif kind == "email":
                first, last = rng.choice(LEXICON_FIRST + INVENTED_FIRST), rng.choice(LEXICON_LAST + INVENTED_LAST)
                value = f"{first}.{last}{rng.randrange(100)}@{rng.choice(['example.org', 'example.com'])}"
                parts.append(rng.choice(["mon mail {v}", "écrivez à {v}", "contact : {v}"]).format(v=value))
                probe.contact_values.append(value)
            elif kind == "handle":
                word = rng.choice(["zorglub", "kevdu", "petitloup", "nuitblanche", "skyline"]) + str(rng.randrange(10, 99))
                value = rng.choice([f"@{word}", f"{word}.bsky.social", f"u/{word}", f"@{word}@mastodon.example.org"])
                template = rng.choice(["suivez {v}", "c'est {v} sur les réseaux", "DM {v}", "mon compte {v}"])
                if rng.random() < 0.3:
                    value = f"{word}_{rng.randrange(10)}"
                    template = rng.choice(["mon snap : {v}", "insta: {v}", "ajoute moi sur snap {v}"])
                parts.append(template.format(v=value))
                probe.contact_values.append(value)
            elif kind == "url":
                slug = rng.choice(["profil", "u", "p", "watch"]) + "/" + str(rng.randrange(10_000, 99_999))
                value = rng.choice([f"https://example.org/{slug}", f"www.example.com/{slug}", f"example.org/{slug}", f"http://example.com/{slug}?ref=bio"])
                parts.append(rng.choice(["mon lien {v}", "tout est sur {v}", "({v})"]).format(v=value))
                probe.contact_values.append(value)
            elif kind == "address":
                value = rng.choice(_ADDRESSES)
                value = value.lower() if rng.random() < 0.3 else value
                parts.append(rng.choice(["j'habite {v}", "venez au {v}", "je suis au {v} en ce moment"]).format(v=value))
                probe.contact_values.append(value)
            elif kind == "nir":
                value = rng.choice(_NIRS)
                parts.append(f"mon numéro de sécu c'est {value}")
                probe.contact_values.append(value)
            elif kind == "iban":
                value = rng.choice(_IBANS)
                parts.append(f"envoyez sur l'IBAN {value}")
                probe.contact_values.append(value)
            else:
                full, words = _name(rng)
                template = rng.choice([
                    "je m'appelle {v}", "moi c'est {v}", "{v} m'a dit de poster ici", "demandez à {v}",
                    "avec {v} on galère", "signé {v}", "mon pote {v} est dans la même", "merci {v} pour l'aide",
                ])
                parts.append(template.format(v=full))
                probe.name_words.extend(words)
        if rng.random() < 0.5:
            signal_parts.append(rng.choice(SIGNAL_SENTENCES))
            parts.append(signal_parts[-1])
        rng.shuffle(parts)
        probe.text = ", ".join(parts) + rng.choice(["", ".", " !", " mdr", "..."])
        # Signal words counted in the signal sentences only ("rue" inside a planted address must go).
        probe.signal_words = [word for part in signal_parts for word in SIGNAL_WORDS if _contains_word(part, word)]
        probes.append(probe)
    return probes


def _contains_word(text: str, word: str) -> bool:
    return re.search(rf"(?<![\w]){re.escape(word.lower())}(?![\w])", text.lower()) is not None


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def contact_leaked(value: str, redacted: str) -> bool:
    """Whether a planted contact or ID value survives in the redacted text in any common spelling."""
    from privacy.leakscan import phone_pattern, variants
    from privacy.normalize import normalize_text

    normalised = normalize_text(value)
    if phone_pattern(normalised) is not None:
        return phone_pattern(normalised).search(redacted.encode()) is not None
    lowered = redacted.lower()
    if any(form in lowered for form in variants(normalised).values()):
        return True
    # Long digit runs (NIR, IBAN, street numbers with postcode) must not survive even re-spaced.
    digits = _digits(normalised)
    return len(digits) >= 8 and digits in _digits(redacted)


def name_left(word: str, redacted: str) -> bool:
    """Whether a planted name word is still readable in the redacted text."""
    return _contains_word(redacted, word)


@dataclass(frozen=True)
class ProbeScore:
    """The figures the done-when check asks for."""

    contact_values: int
    contact_leaks: int
    name_words: int
    names_left: int
    signal_words: int
    signal_kept: int

    @property
    def names_left_rate(self) -> float:
        return self.names_left / max(self.name_words, 1)

    @property
    def signal_kept_rate(self) -> float:
        return self.signal_kept / max(self.signal_words, 1)


def score_probes(probes: list[Probe], redacted: list[str]) -> tuple[ProbeScore, list[str]]:
    """Score the redactor's output on the probes; also returns a description of each failure."""
    failures = []
    counts = dict(contact_values=0, contact_leaks=0, name_words=0, names_left=0, signal_words=0, signal_kept=0)
    for probe, output in zip(probes, redacted):
        for value in probe.contact_values:
            counts["contact_values"] += 1
            if contact_leaked(value, output):
                counts["contact_leaks"] += 1
                failures.append(f"contact leak: {output!r}")
        for word in probe.name_words:
            counts["name_words"] += 1
            if name_left(word, output):
                counts["names_left"] += 1
                failures.append(f"name left ({word}): {output!r}")
        for word in probe.signal_words:
            counts["signal_words"] += 1
            if _contains_word(output, word):
                counts["signal_kept"] += 1
            else:
                failures.append(f"signal lost ({word}): {output!r}")
    return ProbeScore(**counts), failures


@pytest.fixture(scope="module")
def redactor():
    """A loaded Redactor (spaCy and Presidio load once per test session, the first time)."""
    from privacy.redact import Redactor

    loaded = Redactor()
    loaded.load()
    return loaded


# --- raw posts and a seeded warehouse --------------------------------------------------------

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def raw_post(
    index: int,
    *,
    handle: str = "@zorglub42",
    author_id: str = "109876543210",
    platform: str = "mastodon",
    text: str | None = None,
    created_at: datetime | None = None,
) -> RawPost:
    """A raw post from a fictional account, its text planting a fictional phone number and name."""
    return RawPost(
        platform=platform,
        source="test-source",
        post_id=f"11100{index:04d}",
        author_id=author_id,
        author_handle=handle,
        author_name="Maëlys Kerdoncuff",
        author_url=f"https://mastodon.example.org/{handle}",
        created_at=created_at or T0 + timedelta(minutes=index),
        text=text if text is not None else f"je suis seule depuis des mois, appelle le 06 39 98 00 {index % 100:02d} (Maëlys)",
        url=f"https://mastodon.example.org/{handle}/11100{index:04d}",
        lang_tag="fr",
        reply_to_id=None,
        thread_id=f"11100{index:04d}",
    )


def insert_post(con, post_uid: str, author: str, collected_at: datetime, *, flagged: bool | None, text: str = "je suis seule") -> None:
    """A posts row (and a predictions row unless ``flagged`` is None: not scored yet)."""
    con.execute(
        "INSERT INTO posts (post_uid, platform, source, author_pseudo, created_at, collected_at, lang, text_redacted,"
        " batch_id, retention_until) VALUES (?, 'mastodon', 'test-source', ?, ?, ?, 'fr', ?, 'b1', ?)",
        [post_uid, author, collected_at, collected_at, text, collected_at + timedelta(days=30)],
    )
    if flagged is not None:
        con.execute(
            "INSERT INTO predictions VALUES (?, 'm1', 0.1, 0.1, ?, 0.1, ?, NULL, ?)",
            [post_uid, 0.9 if flagged else 0.1, ["isolation"] if flagged else [], collected_at],
        )


def insert_case(con, case_id: str, author: str, last_seen: datetime) -> None:
    """A cases row for ``author`` whose last flagged post is from ``last_seen``."""
    con.execute(
        "INSERT INTO cases (case_id, author_pseudo, first_seen, last_seen, n_posts, n_flagged, score_no_school,"
        " score_no_job, score_isolation, score_distress, labels, distress, priority, orientation, evidence,"
        " updated_at, retention_until) VALUES (?, ?, ?, ?, 1, 1, 0, 0, 0.9, 0, ['isolation'], false, 0.9, '[]', '[]', ?, ?)",
        [case_id, author, last_seen, last_seen, last_seen, last_seen + timedelta(days=365)],
    )


def insert_review(con, case_id: str, at: datetime, note: str = "contact pris via l'éducateur du secteur") -> None:
    """A reviews row on ``case_id``."""
    con.execute(
        "INSERT INTO reviews (case_id, decision, note, reviewer, reviewed_at) VALUES (?, 'watch', ?, 'educ1', ?)",
        [case_id, note, at],
    )
