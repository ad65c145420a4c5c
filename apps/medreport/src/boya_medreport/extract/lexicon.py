"""A deterministic backstop for the model: vocabulary terms found in a sentence, with NegEx-style status.

The small model misses findings in phrasings it never saw; a term the vocabulary
spells out ("nodule", "pleural effusion") should not be lost for that. For each
sentence, every known spelling (vocabulary synonyms and the generator's other
surface forms, plurals tolerated) is matched longest first; its status is ``absent``
when a negation cue opens its clause before it ("no", "without", "negative for") or
closes it after ("is not seen", "has resolved"), ``possible`` after a hedge ("may
represent", "cannot be excluded"), else ``present``. Pseudo-negations ("no change
in", "not only") do not negate. :func:`merge` adds only observations the model did
not state for that sentence, so the model's reading wins where both speak.
"""

import re
from functools import cache

from .. import vocabulary as vocab

_CLAUSE = re.compile(r"\s*(?:[;.:]|\bbut\b|\bhowever\b|\balthough\b|\bthough\b|\bwhereas\b|\bexcept\b|\bwith\b(?! no\b))\s*")
_NEG_BEFORE = re.compile(r"\b(?:no|not|without|negative for|free of|clear of|absence of|absent|rule out|ruled out|resolution of|resolved)\b")
_NEG_AFTER = re.compile(r"^[^.;]*?\b(?:is|are|was|were)\s+(?:not|no longer)\b|^[^.;]*?\b(?:not seen|not identified|not present|not visualized|absent|has resolved|have resolved|resolved|excluded|ruled out)\b")
_PSEUDO = re.compile(r"\bno (?:significant |interval |appreciable |further |definite )?(?:change|increase|progression|growth)\b|\bnot only\b|\bno longer increasing\b|\bnot significantly changed\b|\bcannot be excluded\b|\bcannot exclude\b|\bnot excluded\b")
_HEDGE = re.compile(r"\b(?:may|might|could) (?:represent|be|reflect)\b|\bpossible\b|\bpossibly\b|\bsuspected\b|\bsuspicious for\b|\bsuspicion of\b|\bcannot be excluded\b|\bcannot exclude\b|\bnot excluded\b|\bquestionable\b|\bprobable\b|\blikely\b|\bconcerning for\b|\bequivocal\b|\bdifferential\b|\bversus\b|\bvs\b")


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
    window = before.rsplit(",", 1)[-1] + " " + after.split(",", 1)[0]
    if _HEDGE.search(window) and not _NEG_BEFORE.search(_PSEUDO.sub(" ", before)):
        return "possible"
    if _PSEUDO.search(before):
        return "present"
    if _NEG_BEFORE.search(before) or _NEG_AFTER.search(after):
        return "absent"
    return "present"


def merge(model_findings: list[dict], sentence: str, body_part: str | None) -> list[dict]:
    """The model's findings plus lexicon findings for observations the model did not state."""
    stated = {vocab.resolve_observation(f["observation"], body_part) or f["observation"] for f in model_findings}
    return model_findings + [f for f in mentions(sentence, body_part) if f["observation"] not in stated]
