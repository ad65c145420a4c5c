"""Part of stage 3 (normalisation): medical words a recogniser misspelled, spelled as the vocabulary does.

Whisper writes a long medical word it half hears as a near-miss spelling
("intruminal", "subdaphragmatic", "osteoarthricic", "micro-mascular"); the lexicon
and the extraction model match exact spellings, so the finding is lost. A word is
respelled when it is close to one word of the report vocabulary (observation and
location spellings and the generator's other surface forms) and looks like a
misspelling rather than another English word:

- it is long (7+ letters) and not itself a vocabulary word;
- its letters are >= 90% alike (rapidfuzz's normalised Indel similarity) to that
  vocabulary word's ("inflated" / "inflamed": 87.5%, left alone), or, for a word of
  12+ letters, at most two letters differ (Levenshtein: "diverchiculitis");
- it ends as that word ends (last two letters) and neither contains the other:
  English words near a vocabulary word mostly differ in the ending ("collection" /
  "collecting", "degenerated" / "degenerative") or by a prefix ("basilar" /
  "bibasilar"), where a recogniser's garble keeps the ending ("osteoarthricic").

A hyphenated spelling of a vocabulary word is joined ("sub-diaphragmatic"), and so are two
words a recogniser split one vocabulary word into ("male alignment" for "malalignment"),
when neither is a vocabulary word itself, the first begins the word and the two together
pass the rules above. On the typed text sets (dev, held-out phrasings, 100 real chest X-ray
reports) these rules change nothing but joins that mean the same: "non-calcified" and, in two
real reports, "cardio mediastinal".
"""

import re
from functools import cache, lru_cache

from . import vocabulary as vocab

MIN_LENGTH = 7
MIN_SIMILARITY = 90.0
LONG_WORD, LONG_WORD_EDITS = 12, 2
_WORD = re.compile(r"[A-Za-z]+(?:-[A-Za-z]+)*$")


@cache
def _vocabulary_words() -> frozenset[str]:
    from .dictations import EXTRA_SURFACES, LOCATION_SURFACES

    phrases = list(vocab.locations()) + [s for surfaces in LOCATION_SURFACES.values() for s in surfaces]
    for name, entry in vocab.observations().items():
        phrases += [name, *entry["synonyms"], *EXTRA_SURFACES.get(name, [])]
    for name, spellings in vocab.body_parts().items():
        phrases += [name, *spellings]
    return frozenset(word for phrase in phrases for word in vocab.squash(phrase).split())


@cache
def _targets() -> list[str]:
    return sorted(word for word in _vocabulary_words() if len(word) >= MIN_LENGTH)


@lru_cache(maxsize=4096)
def respelled(word: str) -> str | None:
    """The vocabulary word ``word`` is a misspelling of (or a hyphenated spelling of: "sub-diaphragmatic"), or None."""
    from rapidfuzz import fuzz, process
    from rapidfuzz.distance import Levenshtein

    low = word.lower().replace("-", "")
    if len(low) < MIN_LENGTH or not _WORD.match(word) or vocab.squash(word) in _vocabulary_words():
        return None
    if low in _vocabulary_words():
        return low if low != word.lower() else None
    best = process.extractOne(low, _targets(), scorer=fuzz.ratio, score_cutoff=MIN_SIMILARITY)
    if best is None and len(low) >= LONG_WORD:
        best = process.extractOne(low, _targets(), scorer=Levenshtein.distance, score_cutoff=LONG_WORD_EDITS)
    if best is None:
        return None
    target = best[0]
    if low[-2:] != target[-2:] or low in target or target in low:
        return None
    return target


def respelled_pair(first: str, second: str) -> str | None:
    """The vocabulary word two words are a split (mis)spelling of ("male alignment"), or None."""
    if not (_WORD.match(first) and _WORD.match(second)):
        return None
    words = _vocabulary_words()
    if vocab.squash(first) in words or vocab.squash(second) in words or respelled(second):
        return None
    joined = (first + second).lower()
    target = joined if joined in words else respelled(joined)
    # the first word must be the target's beginning: "no subdaphragmatic" is not one word
    return target if target and target.startswith(first[:3].lower()) else None


def respell(tokens: list[str]) -> list[str]:
    """Tokens with misspelled vocabulary words replaced (capitalised where the first token was)."""
    out, i = [], 0
    while i < len(tokens):
        token = tokens[i]
        pair = respelled_pair(token, tokens[i + 1]) if i + 1 < len(tokens) else None
        target = pair or respelled(token)
        out.append(token if target is None else (target.capitalize() if token[:1].isupper() else target))
        i += 2 if pair else 1
    return out
