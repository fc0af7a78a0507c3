"""Two simple baselines evaluated beside every model, so its figures mean something.

- ``keywords``: the rules a careful person would write from ../shared/LABELS.md, one regular
  expression list per label, without any model. It shows what the transformer adds beyond words
  (the author rule, idioms, implicit posts).
- ``tfidf_logreg``: TF-IDF of words and character n-grams + one logistic regression per label,
  trained on the train split, thresholds chosen on validation like the model's.

Both expose ``labels``, ``thresholds`` and ``predict_proba(texts) -> (n, 4)`` like
``models.inference.Classifier``, so the evaluation treats the three systems the same way.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

import numpy as np

from maraude import LABELS


def _fold(text: str) -> str:
    """Lower case without accents, so one pattern covers "déscolarisé" and "descolarise"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


# Written from the label definitions (accents folded). Deliberately plain: no author rule, no idiom handling.
KEYWORD_PATTERNS: dict[str, list[str]] = {
    "no_school": [
        r"descolaris", r"decroch", r"(arrete|lache|quitte|abandonne)\w* (les cours|l'?ecole|le lycee|le college|la fac|le cfa|mes etudes|l'?apprentissage)",
        r"(vais|va|allais|retourne) plus (en cours|a l'?ecole|au lycee|au college|a la fac|au cfa)",
        r"(vire|exclu|renvoye)\w* (du|de l'?|de la) (lycee|college|ecole|bahut|cfa|fac)",
        r"plus (scolarise|inscrit)", r"pas remis les pieds (en cours|au lycee|au bahut|a l'?ecole)",
    ],
    "no_job": [
        r"chomage", r"chomeur", r"chomeuse", r"france travail", r"pole emploi", r"mission locale", r"\bcej\b", r"\brsa\b",
        r"sans (emploi|taf|boulot|travail)", r"(cherche|recherche)\w* (du|un) (taf|boulot|travail|job|emploi)",
        r"je fais rien de mes journees", r"aucune reponse (a|aux) (mes )?candidatures", r"\bneet\b", r"assurance[- ]emploi",
        r"\bcpas\b", r"\bforem\b", r"\bactiris\b", r"aide sociale", r"licencie",
    ],
    "isolation": [
        r"\bseule?\b", r"solitude", r"isole", r"personne (a qui|pour) parler", r"(pas|plus|aucun) d'?amis?",
        r"personne ne me (parle|calcule|repond)", r"enferme\w* dans ma chambre", r"je parle a personne",
    ],
    "distress": [
        r"suicid", r"me tuer", r"en finir", r"envie de mourir", r"veux mourir", r"scarifi", r"me faire du mal",
        r"plus envie de vivre", r"\b3114\b", r"disparaitre", r"a quoi bon", r"plus la force", r"derniere?s? volontes?",
        r"dire adieu", r"plus d'?espoir", r"desespoir", r"me mutil",
    ],
}


class KeywordBaseline:
    """Keyword rules: a label scores 1.0 when one of its patterns occurs in the post, else 0.0."""

    name = "keywords"

    def __init__(self, patterns: dict[str, list[str]] | None = None, labels: Sequence[str] = LABELS):
        self.labels = list(labels)
        chosen = patterns or KEYWORD_PATTERNS
        self._compiled = {label: re.compile("|".join(f"(?:{p})" for p in chosen[label])) for label in self.labels}
        self.thresholds = {label: 0.5 for label in self.labels}

    def predict_proba(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """1.0 where a label's pattern matches, 0.0 elsewhere; shape (n, labels)."""
        folded = [_fold(text) for text in texts]
        return np.array(
            [[float(bool(self._compiled[label].search(text))) for label in self.labels] for text in folded],
            dtype=np.float32,
        ).reshape(len(folded), len(self.labels))


class TfidfLogRegBaseline:
    """TF-IDF (words 1-2 and character 2-5 n-grams) + one class-balanced logistic regression per label."""

    name = "tfidf_logreg"

    def __init__(self, labels: Sequence[str] = LABELS, seed: int = 0):
        self.labels = list(labels)
        self.seed = seed
        self.thresholds = {label: 0.5 for label in self.labels}
        self._vectorizer = None
        self._models: list = []

    def fit(self, texts: Sequence[str], y: np.ndarray) -> "TfidfLogRegBaseline":
        """Fit on ``texts`` and their 0/1 label matrix ``y``."""
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import FeatureUnion
        from sklearn.feature_extraction.text import TfidfVectorizer

        self._vectorizer = FeatureUnion(
            [
                ("words", TfidfVectorizer(preprocessor=_fold, ngram_range=(1, 2), min_df=2, sublinear_tf=True)),
                ("chars", TfidfVectorizer(preprocessor=_fold, analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True)),
            ]
        )
        features = self._vectorizer.fit_transform(list(texts))
        self._models = []
        for index in range(len(self.labels)):
            column = np.asarray(y)[:, index].astype(int)
            model = LogisticRegression(C=4.0, class_weight="balanced", max_iter=2000, random_state=self.seed)
            self._models.append(model.fit(features, column) if column.min() != column.max() else float(column[0]))
        return self

    def predict_proba(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """Probability of each label; shape (n, labels)."""
        if self._vectorizer is None:
            raise RuntimeError("fit the TF-IDF baseline on the train split before scoring")
        features = self._vectorizer.transform(list(texts))
        columns = [
            model.predict_proba(features)[:, 1] if not isinstance(model, float) else np.full(features.shape[0], model)
            for model in self._models
        ]
        return np.stack(columns, axis=1).astype(np.float32)

