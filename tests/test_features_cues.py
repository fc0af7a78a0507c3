"""Cues from redacted posts: the author's own age, duration, place and help-seeking, and their traps."""

from datetime import datetime, timezone

import pandas as pd
import pytest

from features.cues import CUE_COLUMNS, Cues, age_band_of, cues_frame, extract_cues

POSTED = datetime(2025, 11, 20, 18, 30, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("text", "age"),
    [
        ("j'ai 17 ans et jsp quoi faire", 17),
        ("jai 17ans et je m'ennuie", 17),
        ("moi 17 berges, déscolarisé", 17),
        ("g 22 piges et toujours rien", 22),
        ("j’ai dix-neuf ans", 19),
        ("À 19 ans je sais toujours pas quoi faire de ma vie", 19),
        ("j'ai bientôt 18 ans", 17),
        ("je vais avoir 16 ans en mars", 15),
        ("17 ans, déscolarisée depuis la Toussaint", 17),
        ("j'ai eu 18 ans hier", 18),
        ("Salut, 19 ans, je vis à Saint-Paul", 19),
    ],
)
def test_age_is_read_from_the_author_stating_it(text, age):
    assert extract_cues(text).age_years == age


@pytest.mark.parametrize(
    "text",
    [
        "depuis 2 ans je galère",
        "il y a 3 ans j'étais bien",
        "ça fait 2 ans que je cherche",
        "mon frère de 15 ans a arrêté le lycée",
        "ma sœur a 16 ans et elle sort plus",
        "j'ai 2 ans d'expérience en cuisine",
        "j'ai 3 ans de retard sur tout le monde",
        "à 15 ans j'ai arrêté l'école",
        "mon cousin a arrêté à 16 ans",
        "<PERSONNE> a 19 ans",
        "j'ai 3 ans",
        "je réfléchis à mon orientation depuis que j'ai 12 ans",
    ],
)
def test_age_traps_give_no_age(text):
    assert extract_cues(text).age_years is None


@pytest.mark.parametrize(
    ("text", "band"),
    [
        ("je suis en 3e et je déteste", "<16"),
        ("jsuis en terminale mais j'y vais plus", "16-17"),
        ("je redouble ma seconde", "16-17"),
        ("je suis en première", "16-17"),
        ("ma rhéto c'est mort", "16-17"),
        ("je suis en 5e secondaire", "16-17"),
        ("je suis en secondaire 5 à la polyvalente", "16-17"),
        ("j'ai lâché mon BTS", "18-25"),
        ("je suis en L1 de psycho", "18-25"),
        ("je vais plus au cégep", "18-25"),
        ("je suis en CAP cuisine", "16-17"),
        ("je suis en bac pro commerce", "16-17"),
    ],
)
def test_school_level_gives_an_age_band(text, band):
    cues = extract_cues(text)
    assert cues.age_years is None
    assert cues.age_band == band


@pytest.mark.parametrize(
    "text",
    [
        "c'était ma première fois au concert",
        "mon frère est en terminale",
        "t'es pas cap de venir",
        "on a franchi un cap",
        "mon but c'est de trouver un taf",
        "j'ai fini mon bac pro en juin",
        "quand j'étais en 4ème on m'insultait",
    ],
)
def test_school_level_traps_give_no_band(text):
    assert extract_cues(text).age_band is None


def test_stated_age_wins_over_school_level():
    assert extract_cues("j'ai 19 ans et je suis en terminale").age_band == "18-25"


@pytest.mark.parametrize(
    ("age", "band"), [(14, "<16"), (16, "16-17"), (17, "16-17"), (18, "18-25"), (25, "18-25"), (26, "26-29"), (31, "30+")]
)
def test_age_band_boundaries(age, band):
    assert age_band_of(age) == band


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("depuis 6 mois je fais rien", 180),
        ("ça fait 2 ans que je cherche", 730),
        ("ca fait 3 semaines que jsors plus", 21),
        ("3 semaines que je sors plus de ma chambre", 21),
        ("depuis un an et demi", 548),
        ("depuis 15j je dors plus", 15),
        ("depuis la rentrée j'y vais plus", 80),  # 1 Sept → 20 Nov
        ("depuis la Toussaint", 19),  # 1 Nov → 20 Nov
        ("depuis septembre", 80),
        ("depuis début octobre", 50),
        ("depuis Noël", 330),  # last Christmas before 20 Nov 2025 is 25 Dec 2024
    ],
)
def test_duration_in_days_relative_to_the_post(text, days):
    assert extract_cues(text, POSTED).duration_days == days


@pytest.mark.parametrize("text", ["il y a 3 ans j'ai eu mon bac", "pendant 2 ans j'ai bossé", "dans 2 mois je pars"])
def test_duration_traps_give_nothing(text):
    assert extract_cues(text, POSTED).duration_days is None


def test_named_periods_need_the_post_date():
    assert extract_cues("depuis la rentrée j'y vais plus").duration_days is None
    assert extract_cues("depuis 6 mois je fais rien").duration_days == 180


def test_rentree_counts_from_the_previous_september_before_september():
    spring = datetime(2026, 3, 1, tzinfo=timezone.utc)
    assert extract_cues("depuis la rentrée", spring).duration_days == (spring.date() - datetime(2025, 9, 1).date()).days


@pytest.mark.parametrize(
    ("text", "place", "departement"),
    [
        ("je vis dans le 93", "Seine-Saint-Denis", "93"),
        ("le 9-3 c'est pas ce qu'on dit", "Seine-Saint-Denis", "93"),
        ("neuf trois represent", "Seine-Saint-Denis", "93"),
        ("je suis du 59", "Nord", "59"),
        ("jsuis sur Marseille", "Marseille", "13"),
        ("j'habite à Roubaix", "Roubaix", "59"),
        ("en Seine-Saint-Denis y a rien", "Seine-Saint-Denis", "93"),
        ("au Havre il pleut", "Le Havre", "76"),
        ("à st etienne", "Saint-Étienne", "42"),
        ("ici à la Réunion", "La Réunion", "974"),
        ("en Gwada", "Guadeloupe", "971"),
        ("dans le 974", "La Réunion", "974"),
        ("j'habite à Saint-Denis, le 974", "Saint-Denis", "974"),
        ("j'habite à Saint-Denis, dans le 93", "Saint-Denis", "93"),
        ("je suis à Liège", "Liège", "BE-WLG"),
        ("à Charleroi", "Charleroi", "BE-WHT"),
        ("au Québec", "Québec", "QC"),
        ("à Laval, près de Montréal", "Laval", "QC-13"),
        ("je vais plus en rhéto", "Belgique", "BE"),
        ("je lâche le cégep", "Québec", "QC"),
    ],
)
def test_place_at_commune_or_departement_level(text, place, departement):
    cues = extract_cues(text)
    assert (cues.place, cues.departement) == (place, departement)


@pytest.mark.parametrize(
    "text",
    [
        "c'est nice ici",
        "à nice",
        "la réunion de demain est annulée",
        "le 13 mars j'ai rdv",
        "du 13 au 20 je suis pas là",
        "dans le nord de la ville",
        "en somme c'est nul",
        "trop cher pour moi",
        "à <LIEU>",
        "marseille c'est loin",
    ],
)
def test_place_traps_give_no_place(text):
    cues = extract_cues(text)
    assert (cues.place, cues.departement) == (None, None)


@pytest.mark.parametrize(
    "text",
    [
        "vous feriez quoi à ma place ?",
        "j'ai besoin d'aide",
        "g besoin d aide svp",
        "qqn sait comment on s'inscrit à la mission locale",
        "je sais pas vers qui me tourner",
        "vers qui aller ??",
        "des conseils ?",
        "jsais pas à qui parler",
        "j'aurais besoin de parler à quelqu'un",
        "je dois faire quoi ?",
    ],
)
def test_help_seeking_when_the_author_asks(text):
    assert extract_cues(text).help_seeking is True


@pytest.mark.parametrize(
    "text",
    [
        "j'ai pas besoin d'aide",
        "merci pour vos conseils",
        "mon frère a besoin d'aide",
        "besoin d'aide pour mon exo de maths",
        "j'ai personne à qui parler",
        "je donne des conseils aux nouveaux",
        "vous faites quoi ce soir",
        "qqn sait comment on passe le niveau 12 sans se faire one shot ?",
        "quelqu'un sait quelle palette elle utilise ?",
    ],
)
def test_help_seeking_traps(text):
    assert extract_cues(text).help_seeking is False


def test_zero_width_characters_do_not_hide_cues():
    cues = extract_cues("j'ai 1\u200b7 ans, j'habite à Rou\u200bbaix, besoin d'ai\u200dde")
    assert (cues.age_years, cues.place, cues.help_seeking) == (17, "Roubaix", True)


def test_empty_text_has_no_cues():
    assert extract_cues("") == Cues()


def test_cues_frame_has_the_posts_cue_columns_in_order():
    frame = cues_frame(
        ["j'ai 17 ans, à Lille, depuis la rentrée, vous feriez quoi ?", "rien à voir", None],
        [POSTED, None, pd.NaT],
    )
    assert list(frame.columns) == list(CUE_COLUMNS) == [
        "age_years", "age_band", "duration_days", "place", "departement", "help_seeking"
    ]
    first = frame.iloc[0]
    assert (first.age_years, first.age_band, first.duration_days, first.place, first.departement, first.help_seeking) == (
        17, "16-17", 80, "Lille", "59", True
    )
    assert frame["age_years"].isna().tolist() == [False, True, True]
    assert frame["help_seeking"].tolist() == [True, False, False]
