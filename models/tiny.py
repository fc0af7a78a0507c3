"""A tiny, random, complete Maraude model folder built in code: no download, a second to build.

Everyone's unit tests and the pipeline tests use it where the real classifier would be too slow
or not yet trained. Its scores are meaningless (random weights) but its folder has exactly the
layout of ``docs/architecture.md``: a ``transformers`` ``AutoModelForSequenceClassification``
(BERT, 2 layers, hidden size 32) with the four labels, a fast word-level tokenizer over a few
hundred French words, ``maraude.json``, ``metrics.json`` and ``MODEL_CARD.md``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path

from maraude import LABELS

TINY_BASE_MODEL = "tiny-random-bert"
TINY_MAX_LENGTH = 64

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")

# Everyday words of the posts Maraude reads (school, work, loneliness, distress, chat slang) and
# their function words, so that test sentences mostly map to real ids rather than [UNK].
FRENCH_WORDS = """
je j' tu il elle on nous vous ils elles me m' te t' se s' moi toi lui eux mon ma mes ton ta tes son sa ses
notre nos votre vos leur leurs le la l' les un une des du de d' au aux ce cet cette ces ça c' qui que qu'
quoi dont où et ou mais donc or ni car si ne n' pas plus jamais rien personne aucun tout tous toute toutes
très trop peu beaucoup encore déjà toujours souvent parfois aujourd'hui hier demain maintenant depuis
pendant avant après avec sans pour par sur sous dans chez entre vers contre comme quand comment pourquoi
est suis es sont sommes êtes était étais été être ai as a avons avez ont avait avais eu avoir fais fait
faire vais va vont aller allé suis sors sortir reste rester resté veux veut vouloir peux peut pouvoir
dois doit devoir sais sait savoir crois pense dis dit parle parler écoute aide aider cherche chercher
trouve trouver travaille travailler bosse bosser dors dormir mange manger pleure pleurer joue jouer
arrête arrêter arrêté quitte quitter quitté viré virée exclu exclue renvoyé renvoyée inscrit inscrite
école collège lycée fac université cours classe prof profs bac brevet cap bts cfa apprentissage stage
formation diplôme études élève étudiant étudiante décrochage déscolarisé déscolarisée absences absent
travail taf boulot job emploi chômage chômeur chômeuse patron entretien cv candidature candidatures
mission locale france travail pôle rsa cej intérim contrat cdi cdd salaire argent thune loyer
seul seule isolé isolée solitude ami amis amie copain copains copine pote potes famille parents mère
père frère sœur mère daron daronne maison chambre appart rue dehors ville quartier internet jeu jeux
discord insta réseaux téléphone écran nuit jour jours semaine semaines mois an ans année années
triste fatigué fatiguée épuisé épuisée vide mal peur honte angoisse stress déprime dépression larmes
envie mourir mort morte disparaître finir fin vie suicide crever tuer lame scarifie blessure médocs
pont adieu lettre bien mieux pire bon bonne mauvais nul nulle grave vrai vraiment juste seulement
personne parle répond répondre sortir plus rien sens inutile perdu perdue galère galérer soutien
salut bonjour bonsoir merci svp stp mdr ptdr lol jsp jpp wsh frère frérot ouf grave askip tkt bref
oui non peut-être ok genre truc chose choses temps heure heures matin soir week-end vacances été hiver
premier première dernier dernière nouveau nouvelle vieux vieille petit petite grand grande jeune jeunes
âge 15 16 17 18 19 20 21 22 23 24 25 ans depuis trois six deux un mois semaines
besoin aide parler écouter psy médecin infirmière cmp 3114 urgence appel appeler numéro
""".split()

PUNCTUATION = list(".,;:!?'\"()-…«»")


def _vocabulary() -> list[str]:
    seen: dict[str, None] = dict.fromkeys(SPECIAL_TOKENS)
    for word in [*FRENCH_WORDS, *PUNCTUATION]:
        # the pre-tokenizer splits "j'ai" into "j", "'", "ai": keep elided words without their apostrophe
        seen.setdefault(word.lower().rstrip("'"), None)
    return list(seen)


def build_tiny_tokenizer():
    """A fast word-level tokenizer (lower-cased, split on spaces and punctuation) over the tiny vocabulary."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocabulary = {token: index for index, token in enumerate(_vocabulary())}
    backend = Tokenizer(models.WordLevel(vocabulary, unk_token="[UNK]"))
    backend.normalizer = normalizers.Sequence([normalizers.NFC(), normalizers.Lowercase()])
    backend.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    backend.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B [SEP]",
        special_tokens=[("[CLS]", vocabulary["[CLS]"]), ("[SEP]", vocabulary["[SEP]"])],
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=backend,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        model_max_length=TINY_MAX_LENGTH,
    )


def make_tiny_model_dir(
    out_dir: str | Path,
    *,
    version: str = "tiny-test",
    thresholds: Mapping[str, float] | None = None,
    seed: int = 0,
) -> Path:
    """Write a complete model folder with random weights into ``out_dir`` and return its path.

    ``thresholds`` (label → float) defaults to 0.5 for every label; the same ``seed`` gives the
    same weights.
    """
    import torch
    from transformers import AutoModelForSequenceClassification, BertConfig

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tokenizer = build_tiny_tokenizer()
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=TINY_MAX_LENGTH,
        pad_token_id=tokenizer.pad_token_id,
        problem_type="multi_label_classification",
        id2label=dict(enumerate(LABELS)),
        label2id={label: index for index, label in enumerate(LABELS)},
    )
    torch.manual_seed(seed)
    model = AutoModelForSequenceClassification.from_config(config)
    model.save_pretrained(str(out_dir))
    tokenizer.save_pretrained(str(out_dir))

    chosen = {label: 0.5 for label in LABELS}
    if thresholds is not None:
        unknown = set(thresholds) - set(LABELS)
        if unknown:
            raise ValueError(f"unknown labels in thresholds: {sorted(unknown)}; expected some of {list(LABELS)}")
        chosen.update({label: float(value) for label, value in thresholds.items()})
    info = {
        "version": version,
        "labels": list(LABELS),
        "thresholds": chosen,
        "base_model": TINY_BASE_MODEL,
        "corpus_hash": None,
        "max_length": TINY_MAX_LENGTH,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "seed": seed,
    }
    (out_dir / "maraude.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    (out_dir / "metrics.json").write_text(json.dumps({"trained": False}, indent=2) + "\n", encoding="utf-8")
    (out_dir / "MODEL_CARD.md").write_text(
        f"# {version}\n\nA tiny BERT with random weights, built by `models.tiny.make_tiny_model_dir` for tests."
        " Its scores mean nothing; never promote it.\n",
        encoding="utf-8",
    )
    return out_dir
