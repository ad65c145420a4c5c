"""A deterministic backstop for the model: vocabulary terms found in a sentence, with NegEx-style status.

The small model misses findings in phrasings it never saw; a term the vocabulary
spells out ("nodule", "pleural effusion") should not be lost for that. For each
sentence, every known spelling (vocabulary synonyms and the generator's other
surface forms, plurals tolerated) is matched longest first; its status is ``absent``
when a negation cue opens its clause before it ("no", "without", "negative for") or
closes it after ("is not seen", "has resolved"), ``possible`` after a hedge ("may
represent", "cannot be excluded"), else ``present``. Pseudo-negations ("no change
in", "not only") do not negate. :func:`merge` gates the model by this evidence: a
model finding the sentence does not name is dropped, the rest keep the model's location
and size with the lexicon's status, and lexicon findings the model missed are added.
"""

import re
from functools import cache

from .. import vocabulary as vocab

_CLAUSE = re.compile(r"\s*(?:[;.:]|\bbut\b|\bhowever\b|\balthough\b|\bthough\b|\bwhereas\b|\bexcept\b|\bwith\b(?! no\b))\s*")
_NEG_BEFORE = re.compile(r"\b(?:no|not|without|negative for|free of|clear of|absence of|absent|rule out|ruled out|resolution of|resolved)\b")
_NEG_AFTER = re.compile(r"^[^.;]*?\b(?:is|are|was|were)\s+(?:not|no longer)\b|^[^.;]*?\b(?:not seen|not identified|not present|not visualized|absent|has resolved|have resolved|resolved|excluded|ruled out)\b")
_PSEUDO = re.compile(r"\bno (?:significant |interval |appreciable |further |definite )?(?:change|increase|progression|growth)\b|\bnot only\b|\bno longer increasing\b|\bnot significantly changed\b|\bcannot be excluded\b|\bcannot exclude\b|\bnot excluded\b")
_HEDGE = re.compile(r"\b(?:may|might|could) (?:represent|be|reflect|indicate)\b|\bpossible\b|\bpossibly\b|\bsuspected\b|\bsuspicious for\b|\bsuspicion of\b|\bquestionable\b|\bprobable\b|\bprobably\b|\blikely\b|\bconcerning for\b|\bequivocal\b|\bdifferential\b|\bversus\b|\bvs\b|\band or\b|\bcannot (?:exclude|rule out)\b")
# Hedges that follow the term they qualify ("atelectasis is suspected", "effusion cannot be excluded"); a prefix
# hedge after the term ("effusion and probable atelectasis") qualifies the next term, not this one.
_HEDGE_AFTER = re.compile(r"^\W*(?:(?:is|are|was|were|remains?) (?:also )?(?:suspected|possible|questionable|likely|not excluded)\b|versus\b|vs\b|and or\b|(?:\w+ ){0,4}?(?:cannot|can ?not|could not|difficult to|not) (?:be )?(?:entirely |completely |totally )?(?:excluded|exclude|ruled out)\b)")


# Findings stated about an organ rather than named: "the heart is mildly enlarged", "fracture of the left 6th rib".
_STATEMENTS = [
    (re.compile(r"\b(?:heart|cardiac)(?: size| silhouette| shadow| contour)?\s+(?:is |are |remains |appears |size |xxxx )*(?:\w+ly )?(?:enlarged|large|increased)\b"), "cardiomegaly", {"chest"}),
    (re.compile(r"\bfractures? (?:of|through|involving) (?:the |a )?[\w\s,-]*?\bribs?\b"), "rib fracture", {"chest"}),
]


@cache
def _patterns(body_part: str | None) -> list[tuple[re.Pattern, str]]:
    from ..dictations import EXTRA_SURFACES

    spellings = {}
    for name, entry in vocab.observations().items():
        if body_part and body_part not in entry["body_parts"]:
            continue
        for spelling in [name, *entry["synonyms"], *EXTRA_SURFACES.get(name, [])]:
            key = vocab.squash(spelling)
            if len(key) < 3 or key in ("stenosis", "calculus", "edema", "herniation", "steatosis", "cuff tear"):
                continue
            resolved = vocab.resolve_observation(spelling, body_part) if spelling in entry["synonyms"] else name
            spellings.setdefault(key, resolved or name)
    ordered = sorted(spellings.items(), key=lambda item: -len(item[0]))
    return [(re.compile(r"\b" + re.escape(key).replace(r"\ ", r"[\s-]+") + r"(?:e?s)?\b"), name) for key, name in ordered]


def mentions(sentence: str, body_part: str | None) -> list[dict]:
    """Findings the sentence names with vocabulary terms, each once, in order of mention."""
    text = vocab.squash(re.sub(r"[^\w\s;,.:/-]", " ", sentence))
    found, taken = [], []
    statements = [(p, name) for p, name, parts in _STATEMENTS if body_part in parts or body_part is None]
    for pattern, name in statements + _patterns(body_part):
        for match in pattern.finditer(text):
            if any(a < match.end() and match.start() < b for a, b in taken):
                continue
            taken.append((match.start(), match.end()))
            found.append((match.start(), match.end(), name))
    results, seen = [], set()
    for start, end, name in sorted(found):
        if name in seen:
            continue
        seen.add(name)
        results.append({"observation": name, "status": _status(text, start, end), "location": None, "size": None})
    return results


def _status(text: str, start: int, end: int) -> str:
    clause_start = max((m.end() for m in _CLAUSE.finditer(text, 0, start)), default=0)
    before = text[clause_start:start]
    after = text[end:]
    after = after[: next((m.start() for m in _CLAUSE.finditer(after)), len(after))]
    hedged = _HEDGE.search(before.rsplit(",", 1)[-1]) or _HEDGE_AFTER.search(after.split(",", 1)[0])
    if hedged and not _NEG_BEFORE.search(_PSEUDO.sub(" ", before)):
        return "possible"
    if _PSEUDO.search(before):
        return "present"
    if _NEG_BEFORE.search(before) or _NEG_AFTER.search(after):
        return "absent"
    return "present"


def merge(model_findings: list[dict], sentence: str, body_part: str | None) -> list[dict]:
    """The model's findings that the sentence has evidence for, plus lexicon findings the model did not state.

    A small model trained on templates invents findings on language it never saw
    (a sentence about the lungs read as a pleural effusion); a finding is
    kept only when the sentence names it (a vocabulary spelling or an organ statement).
    Where both read the same observation the model keeps its location and size, and the
    lexicon's status wins when they disagree: negation and hedge scope are rules of the
    language, which the lexicon applies to any phrasing.
    """
    found = {f["observation"]: f for f in mentions(sentence, body_part)}
    kept, stated = [], set()
    for f in model_findings:
        name = vocab.resolve_observation(f["observation"], body_part) or f["observation"]
        if name not in found or name in stated:
            continue
        stated.add(name)
        kept.append({**f, "status": found[name]["status"]})
    return kept + [f for name, f in found.items() if name not in stated]
