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
and size with the lexicon's status, and lexicon findings the model missed are added;
:func:`place` then keeps only locations and sizes the sentence says of each finding.
Cues are read with the matched terms masked, so words inside a term ("malalignment *with*
dislocation") never cut a negation's scope; a hedge after a list covers the list.
"""

import re
from functools import cache

from .. import vocabulary as vocab
from ..rules import parse_size_mm

_CLAUSE = re.compile(
    r"\s*(?:[;.:]|\bbut\b|\bhowever\b|\balthough\b|\bthough\b|\bwhereas\b|\bexcept\b|\bwith\b(?! no\b)|\bthere (?:is|are)\b)\s*"
)
# the rest of a list (terms are masked as ___)
_LIST_OF_TERMS = re.compile(r"^(?:\s*,?\s*(?:and |or |nor |and or )?(?:\w+ )?_+)+")
_NONE_AFTER = re.compile(r"^\s*:\s*(?:none|negative|absent|not seen)\b")  # "Pleural effusion: none."
# "Evaluate for fracture." names no finding
_ASKED = re.compile(r"\b(?:evaluate|evaluation|assess|assessment) for\s*$|^\s*(?:rule out|r o)\s*$")
_NEG_BEFORE = re.compile(
    r"\b(?:no|not|without|negative for|free of|clear of|absence of|absent|rule out|ruled out|resolution of|resolved)\b"
)
_NEG_AFTER = re.compile(
    r"^[^.;]*?\b(?:is|are|was|were)\s+(?:not|no longer)\b|^[^.;]*?\b(?:not seen|not identified|not present|not visualized|absent|has resolved|have resolved|resolved|excluded|ruled out)\b"
)
# "lungs are clear airspace disease": "clear of" said without "of"
_CLEAR_BEFORE = re.compile(r"\b(?:are|is|remain|remains) clear\s*$")
_PSEUDO = re.compile(
    r"\bno (?:significant |interval |appreciable |further |definite )?(?:change|increase|progression|growth)\b|\bnot only\b|\bno longer increas(?:ing|es?)\b|\bnot significantly changed\b|\bcannot be excluded\b|\bcannot exclude\b|\bnot excluded\b"
)
_HEDGE = re.compile(
    r"\b(?:may|might|could) (?:represent|be|reflect|indicate)\b|\bpossible\b|\bpossibly\b|\bsuspected\b|\bsuspicious for\b|\bsuspicion of\b|\bquestionable\b|\bprobable\b|\bprobably\b|\blikely\b|\bconcerning for\b|\bequivocal\b|\bdifferential\b|\bversus\b|\bvs\b|\band or\b|\bcannot (?:exclude|rule out)\b"
)
# Hedges that follow the term they qualify ("atelectasis is suspected", "effusion cannot be excluded"); a prefix
# hedge after the term ("effusion and probable atelectasis") qualifies the next term, not this one.
_HEDGE_AFTER = re.compile(
    r"^\W*(?:(?:is|are|was|were|remains?) (?:also )?(?:suspected|possible|questionable|likely|not excluded)\b|versus\b|vs\b|and or\b|(?:\w+ ){0,4}?(?:cannot|can ?not|could not|difficult to|not) (?:be )?(?:entirely |completely |totally )?(?:excluded|exclude|ruled out)\b)"
)


# Findings stated about an organ rather than named: "the heart is mildly enlarged", "fracture of the left 6th rib".
_STATEMENTS = [
    (
        re.compile(
            r"\b(?:heart|cardiac)(?: size| silhouette| shadow| contour)?\s+(?:is |are |remains |appears |size |xxxx |not )*(?:\w+ly )?(?:enlarged|large|increased)\b"
        ),
        "cardiomegaly",
        {"chest"},
    ),
    (
        re.compile(r"\bfractures? (?:of|through|involving) (?:the |a )?[\w\s,-]*?\bribs?\b"),
        "rib fracture",
        {"chest"},
    ),
    # the rib named first: "irregularity of the left 6th rib which likely represents an old fracture" (no negation between)
    (
        re.compile(
            r"\bribs?\b(?:(?!\b(?:no|not|without|intact|negative)\b)[^.;]){0,60}?\b(?:represents?|reflects?|from|with|compatible with|consistent with) (?:an? |the )?(?:old |healed |healing |remote |prior )?fractures?\b"
        ),
        "rib fracture",
        {"chest"},
    ),
    # "PE": too short for the synonym list, unambiguous on a chest exam
    (
        re.compile(r"\bpe\b"),
        "pulmonary embolism",
        {"chest"},
    ),
    # nodular patterns: "reticulonodular changes", "fibronodular infiltrates", "nodular irregularities" are indexed as nodules
    (
        re.compile(
            r"\b(?:reticulo|fibro|micro)?nodular (?:\w+ )?(?:opacit|densit|infiltrat|irregularit|change|marking|scar|pattern|focus|foci)\w*"
        ),
        "pulmonary nodule",
        {"chest"},
    ),
]


# bare words that name a finding only on some exams, or not reliably on any: "edema" alone is soft tissue edema on
# a knee, and on a chest radiograph mostly a differential ("scarring or edema") the collection's indexers did not count
_AMBIGUOUS = {
    "stenosis": (),
    "calculus": (),
    "steatosis": (),
    "edema": (),
    "herniation": ("lumbar spine", "cervical spine"),
}


@cache
def _patterns(body_part: str | None) -> list[tuple[re.Pattern, str]]:
    from ..dictations import EXTRA_SURFACES

    spellings = {}
    for name, entry in vocab.observations().items():
        if body_part and body_part not in entry["body_parts"]:
            continue
        for spelling in [name, *entry["synonyms"], *EXTRA_SURFACES.get(name, [])]:
            key = vocab.squash(spelling)
            if len(key) < 3 or key in _AMBIGUOUS and body_part not in _AMBIGUOUS[key]:
                continue
            resolved = (
                vocab.resolve_observation(spelling, body_part) if spelling in entry["synonyms"] else name
            )
            spellings.setdefault(key, resolved or name)
    ordered = sorted(spellings.items(), key=lambda item: -len(item[0]))
    # a plural spelling also matches its singular ("dilated ventricles": "no dilated ventricle"), a singular its plural
    return [
        (
            re.compile(
                r"\b" + re.escape(re.sub(r"(?<![siu])s$", "", key)).replace(r"\ ", r"[\s-]+") + r"(?:e?s)?\b"
            ),
            name,
        )
        for key, name in ordered
    ]


def _terms(text: str, body_part: str | None) -> list[tuple[int, int, str]]:
    """``(start, end, observation)`` of every term in squashed ``text``, longest spellings first, never overlapping."""
    found, taken = [], []
    statements = [(p, name) for p, name, parts in _STATEMENTS if body_part in parts or body_part is None]
    for pattern, name in statements + _patterns(body_part):
        for match in pattern.finditer(text):
            if any(a < match.end() and match.start() < b for a, b in taken):
                continue
            taken.append((match.start(), match.end()))
            found.append((match.start(), match.end(), name))
    return found


def _squashed(sentence: str) -> str:
    return vocab.squash(re.sub(r"[^\w\s;,.:/-]", " ", sentence))


def _mask(text: str, spans) -> str:
    for start, end, *_ in spans:
        text = text[:start] + "_" * (end - start) + text[end:]
    return text


def mentions(sentence: str, body_part: str | None) -> list[dict]:
    """Findings the sentence names with vocabulary terms, each once, in order of mention."""
    text = _squashed(sentence)
    found = _terms(text, body_part)
    # clause and negation cues are read with the terms masked: "malalignment with dislocation" holds no clause break
    masked = _mask(text, found)
    results, seen = [], set()
    for start, end, name in sorted(found):
        status = _status(masked, text[start:end], start, end)
        if name in seen or status is None:
            continue
        seen.add(name)
        results.append({"observation": name, "status": status, "location": None, "size": None})
    return results


def _status(masked: str, term: str, start: int, end: int) -> str | None:
    """``present``, ``absent`` or ``possible`` for the term at ``start:end``; None when it is only asked about."""
    clause_start = max((m.end() for m in _CLAUSE.finditer(masked, 0, start)), default=0)
    before = masked[clause_start:start]
    if _ASKED.search(before):
        return None
    rest = masked[end:]
    after = rest[: next((m.start() for m in _CLAUSE.finditer(rest)), len(rest))]
    # a hedge inside an organ statement qualifies it too: "the 6th rib, which likely represents an old fracture"
    # ... and a hedge after a list covers every term of it: "atelectasis, infiltrate or edema cannot be excluded"
    tail, tail_of_list = _LIST_OF_TERMS.sub("", after, count=1), _LIST_OF_TERMS.sub("", rest, count=1)
    hedged = (
        _HEDGE.search(before.rsplit(",", 1)[-1])
        or _HEDGE_AFTER.search(after.split(",", 1)[0])
        or _HEDGE_AFTER.search(tail.split(",", 1)[0])
        or _HEDGE.search(term)
    )
    if hedged and not _NEG_BEFORE.search(_PSEUDO.sub(" ", before)):
        return "possible"
    if _PSEUDO.search(before):
        return "present"
    if (
        _NEG_BEFORE.search(before)
        or _CLEAR_BEFORE.search(before)
        or _NEG_AFTER.search(after)
        or _NONE_AFTER.match(tail_of_list)
        or re.search(r"\bnot\b", term)
    ):  # an organ statement that says "not": "the heart is not enlarged"
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
    return place(kept + [f for name, f in found.items() if name not in stated], sentence, body_part)


_SIZE = re.compile(
    r"(?<![\w.])(\d*\.?\d+(?:\s*(?:x|by|times)\s*\d*\.?\d+)*)\s*(mm|cm|millimet(?:er|re)s?|centimet(?:er|re)s?)\b"
)


@cache
def _location_patterns() -> list[tuple[re.Pattern, str]]:
    from ..dictations import LOCATION_SURFACES

    spellings = {vocab.squash(name): name for name in vocab.locations()}
    for name, surfaces in LOCATION_SURFACES.items():
        for surface in surfaces:
            spellings.setdefault(vocab.squash(surface.removeprefix("the ")), name)
    ordered = sorted(spellings.items(), key=lambda item: -len(item[0]))
    return [
        (re.compile(r"\b" + re.escape(key).replace(r"\ ", r"\s+") + r"\b"), name) for key, name in ordered
    ]


def _locations(text: str) -> list[str]:
    found, taken = [], []
    for pattern, name in _location_patterns():
        for match in pattern.finditer(text):
            if not any(a < match.end() and match.start() < b for a, b in taken):
                taken.append((match.start(), match.end()))
                found.append((match.start(), name))
    return [name for _, name in sorted(found)]


def _said(location: str, words: str, locations: list[str]) -> bool:
    """Whether a finding's words give ``location``: named ("left upper lobe"), or with no other location named,
    its distinctive words ("left pleural effusion" gives the left pleural space)."""
    name = vocab.resolve_location(location)
    if name in locations or locations:
        return name in locations
    return all(
        re.search(rf"\b{re.escape(w)}\b", words)
        for w in vocab.squash(name or location).split()
        if w not in ("space", "spaces")
    )


def place(findings: list[dict], sentence: str, body_part: str | None) -> list[dict]:
    """Locations and sizes only where the sentence says them, each for the finding it is said of.

    The model copies a location or size from its input most of the time, but on an unseen
    phrasing it may write a neighbouring one ("left lower lobe" for "left upper lobe"), give
    one finding's location to another in a list, or drop it. Each finding owns the words from
    its name to the next finding's name (the first finding also the words before it: "A 1.2 cm
    nodule", "In the left upper lobe, there is ..."). A model location or size that its words
    do not give (:func:`_said`) is replaced by the one they name, when there is exactly one, and
    is otherwise left empty rather than guessed; negated findings get none assigned.
    """
    text = _squashed(sentence)
    spans = sorted(_terms(text, body_part))
    owned: dict[str, str] = {}
    for i, (start, end, name) in enumerate(spans):
        following = text[end : spans[i + 1][0] if i + 1 < len(spans) else len(text)]
        owned.setdefault(name, (text[:start] + " ; " if i == 0 else "") + text[start:end] + " ; " + following)
    for f in findings:
        words = owned.get(vocab.resolve_observation(f["observation"], body_part) or f["observation"], text)
        locations, sizes = (
            _locations(_mask(words, _terms(words, body_part))),
            [m.group(0) for m in _SIZE.finditer(words)],
        )
        if f.get("location") and not _said(f["location"], words, locations):
            f["location"] = None
        if f.get("size") and parse_size_mm(f["size"]) not in {parse_size_mm(s) for s in sizes}:
            f["size"] = None
        if f["status"] == "absent":
            continue
        if not f.get("location") and len(set(locations)) == 1:
            f["location"] = locations[0]
        if not f.get("size") and len(sizes) == 1:
            f["size"] = sizes[0]
    return findings
