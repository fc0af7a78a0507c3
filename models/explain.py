"""Why a post was flagged: the words whose removal lowers the flagged label's score most (occlusion).

For each flagged post, every word is dropped in turn and the post is rescored; a word's weight for
a label is ``score(full post) - score(post without the word)``; function words are not candidates. Only flagged posts and their
flagged labels are explained, and all the variants of a batch of posts are scored together, so the
cost is about (words per flagged post) forward passes of short texts. The pipeline stores the
result in ``predictions.explanation`` for reviewers: ``{label: [[word, weight], ...]}``.

Text is already redacted when it reaches the classifier, so the words shown are redacted too.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from models.inference import head_and_tail

MAX_WORDS = 128
"""Longer posts are explained on a head and a tail of words (a quarter, then three quarters), cut by
:func:`models.inference.head_and_tail` as the model's input is: the words the model reads, since a
long message often says the thing that matters in its middle or at its end. 128 words is about 192
tokens of French."""

_WORD = re.compile(r"\S+")
FUNCTION_WORDS = frozenset(
    "le la les l' un une des de du d' et ou à au aux en dans sur pour par avec ce cet cette ces c' ça ca "
    "je j' tu il elle on nous vous ils elles me m' te t' se s' mon ma mes ton ta tes son sa ses que qu' "
    "qui est a ai j'ai c'est y".split()
)
"""Words never offered as explanations, so they are not occluded either: it roughly halves the cost
and keeps the words a reviewer sees meaningful. Negations (pas, plus, rien, personne) stay candidates."""
_EDGE_PUNCTUATION = re.compile(r"^[^\w@#]+|[^\w]+$")


def _display(word: str) -> str:
    """The word without surrounding punctuation (kept as is when nothing else remains, e.g. an emoji)."""
    stripped = _EDGE_PUNCTUATION.sub("", word)
    return stripped or word


def explain(
    classifier,
    texts: Sequence[str],
    flagged_labels: Sequence[Sequence[str]],
    top_k: int = 3,
    batch_size: int = 64,
) -> list[dict[str, list[list]]]:
    """Per post, ``{label: [[word, weight], ...]}`` for its flagged labels, top ``top_k`` words by weight.

    ``classifier`` has ``labels`` and ``predict_proba(texts, batch_size)`` (``models.inference.Classifier``).
    Posts without flagged labels get ``{}``. Only words that raise the score (weight > 0) are kept;
    weights are rounded to 4 decimals. Repeated words are merged, keeping the largest weight.
    """
    if len(texts) != len(flagged_labels):
        raise ValueError(f"{len(texts)} texts but {len(flagged_labels)} lists of flagged labels")
    label_index = {label: index for index, label in enumerate(classifier.labels)}
    results: list[dict[str, list[list]]] = [{} for _ in texts]
    variants: list[str] = []
    plans = []  # (post index, words, first variant row)
    for post, (text, labels) in enumerate(zip(texts, flagged_labels)):
        unknown = [label for label in labels if label not in label_index]
        if unknown:
            raise ValueError(f"unknown labels {unknown}; the classifier knows {list(classifier.labels)}")
        if not labels:
            continue
        words = head_and_tail(_WORD.findall(text), MAX_WORDS)
        if not words:
            continue
        candidates = [i for i, word in enumerate(words) if _display(word).lower() not in FUNCTION_WORDS]
        plans.append((post, [words[i] for i in candidates], len(variants)))
        variants.append(" ".join(words))
        variants.extend(" ".join(words[:i] + words[i + 1 :]) for i in candidates)
    if not variants:
        return results
    scores = np.asarray(classifier.predict_proba(variants, batch_size=batch_size))
    for post, words, first in plans:
        full = scores[first]
        without = scores[first + 1 : first + 1 + len(words)]
        for label in flagged_labels[post]:
            column = label_index[label]
            weights = full[column] - without[:, column]
            best: dict[str, float] = {}
            for word, weight in zip(words, weights.tolist()):
                shown = _display(word)
                if weight > 0 and weight > best.get(shown, 0.0):
                    best[shown] = weight
            ranked = sorted(best.items(), key=lambda item: (-item[1], item[0]))[:top_k]
            results[post][label] = [[word, round(weight, 4)] for word, weight in ranked if round(weight, 4) > 0]
    return results
