"""Redaction of French posts: placeholders for identities, signal and places kept, no disguise gets through."""

from __future__ import annotations

import csv
import re
import socket

import pytest

from privacy_fixtures import build_probes, redactor, score_probes  # noqa: F401 - fixture

from privacy.redact import _chunks


@pytest.mark.parametrize(
    "number",
    [
        "06 39 98 12 34", "06.39.98.12.34", "06-39-98-12-34", "0639981234", "+33 6 39 98 12 34", "+33639981234",
        "0033 6 39 98 12 34", "+33 (0)6 39 98 12 34", "01 99 00 45 67", "05.36.49.00.11", "0639 981 234",
    ],
)
def test_redact_removes_french_phone_numbers_in_every_common_form(redactor, number):
    assert redactor.redact(f"appelle-moi au {number} ce soir") == "appelle-moi au <TEL> ce soir"


def test_redact_keeps_short_numbers_ages_departements_and_3114(redactor):
    text = "j'ai 17 ans, je suis dans le 93 depuis 2 mois, 59000 c'est Lille, appelle le 3114"
    assert redactor.redact(text) == text


def test_redact_gives_an_email_its_own_placeholder_not_a_url(redactor):
    out = redactor.redact("écris à maelys.kerdoncuff@example.org ou maelys [at] example [dot] com ou soan@example.com.")
    assert out == "écris à <EMAIL> ou <EMAIL> ou <EMAIL>."


@pytest.mark.parametrize(
    "url", ["https://example.org/profil/12345", "http://example.com/p?x=1&y=2", "www.example.com/bio", "example.org/u/zorglub"]
)
def test_redact_removes_urls_with_and_without_scheme(redactor, url):
    assert redactor.redact(f"tout est sur {url}, merci") == "tout est sur <URL>, merci"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("suivez @zorglub42 svp", "suivez <PSEUDO> svp"),
        ("sur bluesky c'est petitloup.bsky.social", "sur bluesky c'est <PSEUDO>"),
        ("DM @nuitblanche@mastodon.example.org", "DM <PSEUDO>"),
        ("mon compte u/skyline77 sur reddit", "mon compte <PSEUDO> sur reddit"),
        ("mon snap : kevdu_93", "mon snap : <PSEUDO>"),
        ("ajoute moi sur snap kevdu_93", "ajoute moi sur snap <PSEUDO>"),
    ],
)
def test_redact_removes_handles(redactor, text, expected):
    assert redactor.redact(text) == expected


@pytest.mark.parametrize(
    "address",
    [
        "12 rue des Lilas", "3 bis avenue Jean Jaurès, 59100 Roubaix", "8 impasse des tilleuls", "45 bd Gambetta",
        "2 allée des Cerisiers 69008 Lyon", "17 chemin du moulin", "5 place de la République", "9 quai de la Loire",
        "21 route de Lens",
    ],
)
def test_redact_removes_street_addresses(redactor, address):
    assert redactor.redact(f"j'habite {address} et je suis seul") == "j'habite <ADRESSE> et je suis seul"


def test_redact_keeps_commune_departement_and_life_in_the_street(redactor):
    text = "je dors dans la rue à Saint-Denis, avant j'étais à Lille, dans le 93 y a rien"
    assert redactor.redact(text) == text


def test_redact_removes_nir_and_iban_even_with_wrong_check_digits(redactor):
    out = redactor.redact("sécu 1 04 07 75 123 456 78, IBAN FR76 3000 6000 0112 3456 7890 189 ou fr7612345678901234567890123")
    assert out == "sécu <NIR>, IBAN <IBAN> ou <IBAN>"


@pytest.mark.parametrize(
    "text",
    [
        "Chloé Moreau m'a dit de venir", "chloé moreau m'a dit de venir", "CHLOÉ MOREAU m'a dit de venir",
        "chloe moreau m'a dit de venir", "Yanis m'a dit de venir", "MEHDI m'a dit de venir",
    ],
)
def test_redact_removes_known_names_in_any_casing(redactor, text):
    assert redactor.redact(text) == "<PERSONNE> m'a dit de venir"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("je m'appelle soan kerdoncuff et j'ai 16 ans", "je m'appelle <PERSONNE> et j'ai 16 ans"),
        ("moi c'est ilyana, j'ai 16 ans", "moi c'est <PERSONNE>, j'ai 16 ans"),
        ("merci nolhan vasselin pour l'aide", "merci <PERSONNE> pour l'aide"),
        ("demandez à SOAN BALLESTRAZZI", "demandez à <PERSONNE>"),
        ("Hier Zéphyrin Vasselin est passé", "Hier <PERSONNE> est passé"),
        ("avec lucas kerdoncuff on galère", "avec <PERSONNE> on galère"),
    ],
)
def test_redact_removes_names_outside_the_lexicon_from_context(redactor, text, expected):
    assert redactor.redact(text) == expected


def test_redact_keeps_words_that_are_only_sometimes_names(redactor):
    text = "j'ai offert une rose, mon jean est troué, je lis une pierre de rosette au max"
    assert redactor.redact(text) == text


def test_redact_keeps_signal_words(redactor):
    text = (
        "j'ai quitté le lycée, pas de taf, au chômage, seul, le CFA m'a viré, la Mission Locale et France Travail "
        "répondent pas, Pôle emploi non plus, j'ai appelé le 3114"
    )
    assert redactor.redact(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "je leur ai dit que je suis gay. 8 mois sans un message",
        "il faut que j'en parle à quelqu'un de réel",
        "mon cousin chill au GTA RP pendant son arrêt",
        "mi koné pa si mi sa tien ankor lontan",
        "Khey un peu de cohérence stp. Ayaa.",
    ],
)
def test_redact_keeps_ordinary_words_that_triggers_took_for_names(redactor, text):
    # Each of these once lost a word the classifier needs ("quelqu'un" after "parle à", a
    # creole verb that is also a surname, "gay" after "je suis").
    assert redactor.redact(text) == text


@pytest.mark.parametrize("word", ["CDI", "CDD", "SMIC", "CEJ", "CIO", "CPAS", "Actiris", "Cégep", "Rhéto", "Parcoursup"])
def test_redact_keeps_contract_and_institution_words_where_a_signature_could_stand(redactor, word):
    # "signé. CDI." (I signed a permanent contract) looks like a signature to spaCy's NER, which
    # took the contract for a name and the post lost what it was about.
    text = f"signé. {word}. je crois que j'ai souri toute la journée"
    assert redactor.redact(text) == text
    assert redactor.redact(f"signé. {word}. Kevin Dupont m'a appelé") == f"signé. {word}. <PERSONNE> m'a appelé"


@pytest.mark.parametrize(
    "text",
    [
        "depuis Noël je sors plus de ma chambre",
        "avant Noël j'allais encore en cours",
        "les vacances de Noël sont finies et j'y suis pas retourné",
        "joyeux Noël à ceux qui sont seuls ce soir",
        "le père Noël existe pas",
    ],
)
def test_redact_keeps_christmas_where_the_words_before_make_it_the_holiday(redactor, text):
    # "Noël" is also a first name: redacted, "depuis Noël" lost the duration cue that features/
    # reads, and the name grew over the next word ("le père <PERSONNE> pas").
    assert redactor.redact(text) == text


def test_since_christmas_survives_redaction_as_a_duration_cue(redactor):
    from datetime import datetime

    from features.cues import extract_cues

    redacted = redactor.redact("depuis Noël je sors plus de ma chambre")
    assert extract_cues(redacted, datetime(2026, 2, 3)).duration_days == 40


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("j'ai parlé à Noël hier", "j'ai parlé à <PERSONNE> hier"),
        ("merci Noël", "merci <PERSONNE>"),
        ("Noël Dupont m'a appelé", "<PERSONNE> m'a appelé"),
        ("depuis Noël Dupont me parle plus", "depuis <PERSONNE> me parle plus"),
    ],
)
def test_redact_still_removes_noel_the_person(redactor, text, expected):
    assert redactor.redact(text) == expected


@pytest.mark.parametrize(
    "disguised",
    [
        "appelle le ０６ ３９ ９８ １２ ３４",  # fullwidth digits
        "appelle le 06\u200b39\u200b98\u200b12\u200b34",  # zero-width spaces
        "appelle le 06\u00a039\u00a098\u00a012\u00a034",  # non-breaking spaces
        "appelle le ٠٦٣٩٩٨١٢٣٤",  # Arabic-Indic digits
    ],
)
def test_normalisation_defeats_disguised_phone_numbers(redactor, disguised):
    assert redactor.redact(disguised) == "appelle le <TEL>"


def test_normalisation_maps_homoglyphs_in_names_and_emails(redactor):
    out = redactor.redact("Кеvin Моreau, écris à kеvin@ехample.org")  # Cyrillic К, е, М, о, е, х
    assert out == "<PERSONNE>, écris à <EMAIL>"


def test_chunks_concatenate_back_to_the_text():
    text = ("Phrase numéro un. " * 500) + "fin sans point"
    pieces = _chunks(text, 1000)
    assert "".join(pieces) == text
    assert all(len(piece) <= 1000 for piece in pieces)


def test_redact_handles_a_100k_character_text(redactor):
    filler = "je suis seul depuis des mois et le lycée c'est fini. " * 2000
    text = filler[:50_000] + " Soan Kerdoncuff au 06 39 98 12 34 " + filler[:50_000] + "écris à soan@example.org"
    out = redactor.redact(text)
    assert "<PERSONNE>" in out and "<TEL>" in out and out.endswith("écris à <EMAIL>")
    assert "Kerdoncuff" not in out and "06 39 98" not in out and len(text) > 100_000


def test_redact_makes_no_network_access(redactor, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("redaction tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    assert redactor.redact("mail: soan@example.org, site: example.com") == "mail: <EMAIL>, site: <URL>"


def test_redact_many_gives_the_same_text_as_redact(redactor):
    texts = ["Chloé Moreau au 06 39 98 12 34", "rien à cacher ici", "écris à soan@example.org"]
    assert redactor.redact_many(texts) == [redactor.redact(text) for text in texts]


def test_probe_set_has_no_contact_leak_few_names_left_and_keeps_the_signal(redactor):
    probes = build_probes(240)
    score, failures = score_probes(probes, redactor.redact_many([probe.text for probe in probes]))
    print(
        f"\nprobes: {len(probes)}; contact/ID values {score.contact_values}, leaked {score.contact_leaks}; "
        f"name words {score.name_words}, left {score.names_left} ({score.names_left_rate:.1%}); "
        f"signal words {score.signal_words}, kept {score.signal_kept} ({score.signal_kept_rate:.1%})"
    )
    assert score.contact_values > 200 and score.name_words > 150 and score.signal_words > 300
    assert score.contact_leaks == 0, failures
    assert score.names_left_rate <= 0.05, failures
    assert score.signal_kept_rate >= 0.95, failures


# Words that carry the signal or the place, as they occur in ordinary real posts.
REAL_POST_WORDS = [
    "seul", "seule", "école", "lycée", "collège", "travail", "boulot", "taf", "chômage", "emploi", "stage", "fac",
    "bac", "famille", "mère", "père", "rue", "aide", "triste", "france", "paris", "marseille", "lyon", "lille",
]


def test_real_posts_keep_their_signal_and_place_words(redactor, shared_dir):
    """Real French posts (used to measure, never to tune): the signal and place words present stay."""
    text_dir = shared_dir / "realdata" / "text"
    with (text_dir / "toxifrench" / "ToxiFrenchBalanced.csv").open(encoding="utf-8") as handle:
        texts = [row["content"] for row in csv.DictReader(handle) if row["label"] == "0"]
    with (text_dir / "mlma_hate_speech" / "fr_dataset.csv").open(encoding="utf-8") as handle:
        texts += [row["tweet"] for row in csv.DictReader(handle) if row["sentiment"] == "normal"]
    outputs = redactor.redact_many(texts)
    present = kept = 0
    for text, output in zip(texts, outputs):
        for word in REAL_POST_WORDS:
            pattern = re.compile(rf"(?<!\w){word}(?!\w)")
            found = len(pattern.findall(text.lower()))
            present += found
            kept += min(found, len(pattern.findall(output.lower())))
    print(f"\nreal posts: {len(texts)}; signal/place words present {present}, kept {kept} ({kept / present:.1%})")
    assert present >= 50
    assert kept / present >= 0.95
