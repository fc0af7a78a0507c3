"""Orientation rules: which public structures an outreach worker sees for a case, in which order."""

import re

import pytest
import yaml

from features.orientation import REFERENTIAL_PATH, ReferentialError, _parse, load_referential, suggest


def names(labels, age_band=None, help_seeking=False, departement=None):
    return [s["structure"] for s in suggest(labels, age_band=age_band, help_seeking=help_seeking, departement=departement)]


@pytest.mark.parametrize("departement", [None, "93", "974", "BE-BRU", "QC-06"])
@pytest.mark.parametrize("age_band", [None, "<16", "16-17", "18-25", "26-29", "30+"])
def test_distress_always_shows_the_3114_first(departement, age_band):
    found = names(["distress", "isolation", "no_job"], age_band, True, departement)
    assert found[0].startswith("3114")


def test_no_3114_without_distress():
    assert not any(name.startswith("3114") for name in names(["isolation", "no_job"], "18-25", True, "59"))


def test_minor_dropout_goes_to_cio_and_psad():
    found = names(["no_school"], "16-17", departement="59")
    assert found[0].startswith("CIO et plateforme de suivi et d'appui aux décrocheurs")
    assert "Mission Locale" in found
    assert "EPIDE" not in found and "France Travail" not in found


def test_young_adult_without_job_goes_to_mission_locale_e2c_epide():
    assert names(["no_job"], "18-25") == ["Mission Locale", "École de la 2e chance (E2C)", "EPIDE"]


def test_over_25_without_job_goes_to_france_travail_only():
    assert names(["no_job"], "26-29") == ["France Travail"]


def test_unknown_age_keeps_both_youth_and_adult_options():
    found = names(["no_job"], None)
    assert "Mission Locale" in found and "France Travail" in found


def test_isolation_of_a_young_person():
    assert names(["isolation"], "16-17") == [
        "Fil Santé Jeunes", "Maison des Adolescents (MDA)", "Point Accueil Écoute Jeunes (PAEJ)"
    ]


def test_help_request_alone_suggests_a_listening_place_after_signal_structures():
    assert names([], "18-25", help_seeking=True) == ["Point Accueil Écoute Jeunes (PAEJ)"]
    assert names(["no_job"], "18-25", help_seeking=True)[-1] == "Point Accueil Écoute Jeunes (PAEJ)"


def test_belgium_replaces_french_structures_and_picks_the_region():
    brussels = names(["no_job"], "18-25", departement="BE-BRU")
    wallonia = names(["no_job"], "18-25", departement="BE-WLG")
    assert brussels == ["CPAS", "Actiris"]
    assert wallonia == ["CPAS", "Le Forem"]
    assert set(names(["no_job"], "18-25", departement="BE")) == {"CPAS", "Actiris", "Le Forem"}


def test_belgian_minor_dropout_goes_to_pms_and_saj():
    assert "Centre PMS et Service de l'aide à la jeunesse (SAJ)" in names(["no_school"], "16-17", departement="BE")


def test_quebec_distress_shows_its_own_lines_after_the_3114():
    found = names(["distress"], "18-25", departement="QC-06")
    assert found[:3] == [
        "3114 — numéro national de prévention du suicide",
        "1 866 APPELLE — ligne québécoise de prévention du suicide",
        "988 — ligne d'aide en cas de crise suicidaire (Canada)",
    ]
    assert "Carrefour jeunesse-emploi (CJE)" in names(["no_job"], "18-25", departement="QC")
    assert "Mission Locale" not in names(["no_job"], "18-25", departement="QC")


def test_each_suggestion_explains_why_in_french():
    suggestion = suggest(["no_school"], age_band="16-17", help_seeking=True, departement="93")[0]
    assert set(suggestion) == {"structure", "pourquoi", "contact"}
    assert "obligation de formation" in suggestion["pourquoi"]
    # The case shows signals and age once; the reason says what this structure offers, not the case again.
    assert "Repéré" not in suggestion["pourquoi"]


def test_referential_holds_no_personal_contact():
    # Only national numbers and public sites: no mobile numbers, no e-mail addresses.
    text = REFERENTIAL_PATH.read_text(encoding="utf-8")
    assert not re.search(r"\b0[67](?:[\s.]?\d\d){4}\b", text)
    assert "@" not in text


def test_every_structure_of_the_referential_is_reachable():
    reachable = set()
    for departement in (None, "BE-BRU", "BE-WLG", "QC-06"):
        for age_band in (None, "<16", "16-17", "18-25", "26-29", "30+"):
            reachable.update(names(["no_school", "no_job", "isolation", "distress"], age_band, True, departement))
    assert reachable == {s.structure for s in load_referential()}


def test_a_referential_entry_with_an_unknown_label_is_rejected():
    entry = yaml.safe_load(
        "structure: X\ncontact: Y\npourquoi: Z\nrang: 1\npays: FR\nquand: {labels: [chomage]}"
    )
    with pytest.raises(ReferentialError, match="unknown label 'chomage'"):
        _parse(entry, 0)
