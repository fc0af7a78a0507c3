"""Unicode normalisation applied before redaction, so look-alike characters cannot smuggle identities past it.

Posts use fullwidth digits (０６), zero-width characters inside words, non-breaking spaces inside
phone numbers, and Cyrillic or Greek letters that look Latin ("Кеvin"): each would break a pattern or a
lexicon lookup. The normalised text is also what the warehouse stores.
"""

from __future__ import annotations

import re
import unicodedata

import regex

# Cyrillic and Greek letters that render like Latin ones. Mapped only inside words that also hold
# Latin letters, so genuine Cyrillic or Greek words stay as written.
_HOMOGLYPHS = {
    # Cyrillic lowercase
    "а": "a", "в": "b", "е": "e", "ё": "e", "з": "3", "і": "i", "ї": "i", "ј": "j", "к": "k",
    "м": "m", "н": "h", "о": "o", "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s",
    "ԁ": "d", "ԛ": "q", "ԝ": "w", "ɡ": "g", "һ": "h", "ӏ": "l",
    # Cyrillic uppercase
    "А": "A", "В": "B", "Е": "E", "Ё": "E", "З": "3", "І": "I", "Ї": "I", "Ј": "J", "К": "K",
    "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C", "Т": "T", "У": "Y", "Х": "X", "Ѕ": "S",
    "Ԁ": "D", "Ԛ": "Q", "Ԝ": "W", "Ү": "Y", "Ӏ": "I",
    # Greek
    "α": "a", "β": "b", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t",
    "υ": "u", "χ": "x", "γ": "y", "ω": "w",
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N",
    "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
}
_CONFUSABLE_CLASS = "".join(sorted(_HOMOGLYPHS))
_WORD_WITH_CONFUSABLE = re.compile(rf"[\w{_CONFUSABLE_CLASS}@.\-]*[{_CONFUSABLE_CLASS}][\w{_CONFUSABLE_CLASS}@.\-]*")
_LATIN_LETTER = re.compile(r"[A-Za-zÀ-ÖØ-öø-ÿ0-9]")
_TRANSLATE_HOMOGLYPHS = str.maketrans(_HOMOGLYPHS)
_SPACES = re.compile(r"[^\S\n]")
# Unicode-aware classes from the ``regex`` module: format characters, and decimal digits other than 0-9.
_FORMAT_CHARS = regex.compile(r"\p{Cf}+")
_NON_ASCII_DIGIT = regex.compile(r"(?![0-9])\d")


def _map_digits(text: str) -> str:
    """Turn every Unicode decimal digit (Arabic-Indic, Devanagari...) into its ASCII digit."""
    return _NON_ASCII_DIGIT.sub(lambda match: str(unicodedata.decimal(match.group(0))), text)


def _fix_homoglyphs(match: re.Match) -> str:
    word = match.group(0)
    # A word written only in Cyrillic/Greek is a real word of that script, not a disguise.
    if not _LATIN_LETTER.search(word):
        return word
    return word.translate(_TRANSLATE_HOMOGLYPHS)


def normalize_text(text: str) -> str:
    """NFKC, ASCII digits, no format characters (zero-width, soft hyphen), Latin look-alikes mapped.

    Whitespace other than newlines becomes a plain space so that "06\u00a039 98..." reads as a number.
    """
    text = unicodedata.normalize("NFKC", text)
    # Category Cf holds zero-width spaces and joiners, soft hyphens, bidi controls: invisible, and
    # inserted precisely to split a number or a name.
    if not text.isascii():
        text = _FORMAT_CHARS.sub("", text)
        text = _map_digits(text)
        text = _WORD_WITH_CONFUSABLE.sub(_fix_homoglyphs, text)
    return _SPACES.sub(" ", text)
