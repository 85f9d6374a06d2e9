"""Which items are in English, and which item a translation repeats.

USCIS publishes one announcement in up to a dozen languages, each as its own feed entry ("DHS Publishes Fair
and Humane Public Charge Rule (Urdu)", "Eligible Ukrainians Can Now Apply for Re-Parole - Russian"). LABELING.md
labels an item by what it says, so a translation concerns the case types of its original; and an attorney should
hear of the announcement once, not once per language.
"""

from __future__ import annotations

import re
from typing import Container, Iterable, Sequence

# English function words. Dense English legal prose ("Matter of Panin": "A respondent's release from Federal
# pretrial criminal custody does not preclude...") has few of the commonest ones, so the list is broad; the
# translations agencies publish (Spanish, French, Creole, Tagalog, Cyrillic, Arabic scripts) score at most
# 0.025 on the corpus and English abstracts at least 0.06.
_ENGLISH = re.compile(r"\b(the|and|of|to|for|in|is|are|will|with|on|that|by|from|this|be|has|have|was|were|an|at|"
                      r"as|or|not|may|must|who|which|their|its|under|we|our|you|your)\b", re.IGNORECASE)

# The languages USCIS and DHS translate into, as their titles name them (in English or in the language itself).
LANGUAGES = frozenset("""
    spanish español espanol french français francais creole kreyòl kreyol russian ukrainian
    wolof urdu vietnamese tagalog portuguese pashto nepali korean dari chinese bengali arabic somali
    amharic farsi persian hindi punjabi japanese polish swahili
    tigrinya burmese kinyarwanda lingala quechua mam k'iche' hmong khmer lao thai turkish uzbek tajik
    kurdish romanian italian german hebrew gujarati telugu tamil armenian georgian mongolian indonesian
    chuukese marshallese karen kirundi oromo yoruba igbo hausa twi pulaar fulani mixteco
""".split()) | {"haitian creole", "simplified chinese", "traditional chinese"}

# A title ending in a parenthesised or dashed marker: "... Rule (Urdu)", "... Re-Parole - Russian".
_MARKER = re.compile(r"^(?P<base>.+?)\s*(?:\((?P<paren>[^()]{2,30})\)|\s-\s(?P<dash>[^\W\d][\w' ]{1,29}))\s*$")


def is_english(text: str) -> bool:
    """Agencies publish translations with an English title; the English model reads those from the title."""
    words = re.findall(r"\w+", text)
    return len(words) < 8 or len(_ENGLISH.findall(text)) / len(words) >= 0.04


def translation_of(title: str, summary: str = "") -> str | None:
    """The title of the original when this item is a translation of it, else None.

    The marker must name a language, or the text beside it must not be English: "(CBSA)" on an English
    factsheet and "(BIA 2020)" on a precedent are not translations, but a source's own misspelling
    ("- Ukrianian") on a Russian text is.
    """
    found = _MARKER.match(title.strip())
    if found is None:
        return None
    marker = (found["paren"] or found["dash"]).strip().lower()
    if marker in LANGUAGES or (summary and not is_english(summary)):
        return found["base"]
    return None


def originals(items: Sequence[tuple[str, str]], stored: Container[str] = ()) -> dict[int, int | None]:
    """For each translation among (title, summary) pairs, by position, the item it repeats: an untranslated
    item of its original's title in `items`; else None when `stored` (lowercased original titles) holds it;
    else the first translation of it in `items`. The first of an announcement is not a key: it is the one
    read and announced."""
    bases = [translation_of(title, summary) for title, summary in items]
    untranslated: dict[str, int] = {}
    for row, ((title, _), base) in enumerate(zip(items, bases)):
        if base is None:
            untranslated.setdefault(title.strip().lower(), row)
    found: dict[int, int | None] = {}
    first: dict[str, int] = {}
    for row, base in enumerate(bases):
        if base is None:
            continue
        key = base.lower()
        if key in untranslated:
            found[row] = untranslated[key]
        elif key in stored:
            found[row] = None
        elif key in first:
            found[row] = first[key]
        else:
            first[key] = row
    return found


def announced(originals_wanted: Iterable[str], stored: Sequence[tuple[int, str, str]]) -> dict[str, tuple[int, str]]:
    """For each original title (lowercased), the stored change (id, title) that is that item, else the first of
    `stored` (id, title, summary rows, oldest first) that is a translation of it."""
    bases = [(translation_of(title, summary) or "").lower() for _, title, summary in stored]  # once per row
    found: dict[str, tuple[int, str]] = {}
    for wanted in set(originals_wanted):
        original = [(i, title) for i, title, _ in stored if title.strip().lower() == wanted]
        translated = [(i, title) for (i, title, _), base in zip(stored, bases) if base == wanted]
        if original or translated:
            found[wanted] = (original or translated)[0]
    return found
