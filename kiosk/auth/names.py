"""Display names as people read them: the key that decides whether two names are "the same person".

Two committee accounts of one compound may not share a name, or a ledger page could show "刘桂兰 签字同意"
for an account that is not 刘桂兰. So names are compared by what a reader sees, not by their code points:
full-width and half-width forms, compatibility ideographs and Kangxi radicals (NFKC), letter case, traditional
and simplified characters (劉桂蘭 reads as 刘桂兰), accents, spaces of every kind, invisible characters
(zero-width space, joiners, BOM), punctuation such as the middle dots of transliterated names, and Latin,
Cyrillic and Greek letters and digits that look alike (О/O/0, І/l/1) all fold to one key.
"""
import unicodedata
from functools import lru_cache

# Letters that look like a Latin one in the fonts phones use (compared after case folding, so "I" has
# become "i": i, l, 1 and | fold together, as do o, 0 and 〇).
LOOK_ALIKE = str.maketrans({
    "0": "o", "о": "o", "ο": "o", "〇": "o",
    "1": "l", "i": "l", "|": "l", "і": "l", "ι": "l", "ӏ": "l",
    "а": "a", "α": "a", "в": "b", "β": "b", "с": "c", "е": "e", "ε": "e", "н": "h", "һ": "h", "η": "h",
    "к": "k", "κ": "k", "м": "m", "μ": "m", "р": "p", "ρ": "p", "т": "t", "τ": "t", "х": "x", "χ": "x",
    "у": "y", "υ": "y", "ѕ": "s", "ј": "j", "ζ": "z",
})
# Unicode categories that make no visible difference in a name: separators, controls and format characters
# (zero-width ones included), punctuation, symbols and combining marks (accents, once decomposed).
INVISIBLE_OR_DECORATION = ("Z", "C", "P", "S", "M")
KEY_LENGTH = 80


@lru_cache(maxsize=1)
def _simplifier():
    import opencc

    return opencc.OpenCC("t2s")


def name_key(name):
    """Return the comparison key of a display name ("" if nothing readable is left)."""
    text = unicodedata.normalize("NFKC", name or "")
    text = _simplifier().convert(text).casefold()
    text = unicodedata.normalize("NFKD", text).translate(LOOK_ALIKE)
    kept = "".join(ch for ch in text if not unicodedata.category(ch).startswith(INVISIBLE_OR_DECORATION))
    return kept[:KEY_LENGTH]
