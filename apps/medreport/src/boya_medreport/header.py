"""Patient and exam fields of a dictation, read deterministically.

These fields are closed-form (a record number is digits, a birth date is a date,
a modality is one of four codes), so patterns read them more reliably than a
small model could copy arbitrary names and numbers; the extraction model is kept
for the open language of findings. Spoken digits ("six four four", "oh") and
spoken dates ("June fourth nineteen fifty nine") are read here too, so the
header survives a transcript whose normaliser missed them.
"""

import datetime
import re

from . import vocabulary as vocab

_DIGIT_WORDS = {
    "zero": "0",
    "oh": "0",
    "o": "0",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
}
_UNITS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
_TENS = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
_ORDINALS = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
    "eleventh": 11,
    "twelfth": 12,
    "thirteenth": 13,
    "fourteenth": 14,
    "fifteenth": 15,
    "sixteenth": 16,
    "seventeenth": 17,
    "eighteenth": 18,
    "nineteenth": 19,
    "twentieth": 20,
    "thirtieth": 30,
}
MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]

_NAME_WORD = r"(?:[A-Z][A-Za-z'\-]*\.?|van|de|der|von|da|del|di|la|le|al|bin|ibn)"
_NAME = rf"([A-Z][A-Za-z'\-]*\.?(?:\s+{_NAME_WORD}){{1,3}})"
_NAME_CUES = [
    re.compile(rf"\bpatient(?:'s)?\s+name\s*(?:is|:)?\s*{_NAME}"),
    re.compile(rf"\b[Pp]atient\s*(?:is|:)?\s+{_NAME}"),
    re.compile(rf"\b[Nn]ame\s*(?:is|:)?\s*{_NAME}"),
    re.compile(rf"\bfor\s+(?:patient\s+)?{_NAME}\s*,"),
    # a first name the recogniser wrote lower-case ("This is ingrid Lopez,"), read here only, before the comma
    re.compile(rf"\b(?:This is|We have)\s+([A-Za-z][a-z'\-]*(?:\s+{_NAME_WORD}){{1,3}})\s*,"),
    re.compile(rf"^{_NAME}\s*,"),
]
_NOT_NAMES = {
    "ct",
    "mri",
    "mr",
    "x-ray",
    "the",
    "a",
    "an",
    "exam",
    "this",
    "male",
    "female",
    "patient",
    "name",
    "dob",
    "mrn",
}
_MRN = re.compile(
    r"\b(?:medical record(?: number| no\.?)?|mrn|mr number|record number|record no\.?|chart number|patient id|id number)\s*(?:is|:|#|number)?\s*((?:\d[\d\s\-]*\d)|\d)",
    re.I,
)
_DOB = re.compile(r"\b(?:date of birth|d\.?o\.?b\.?|born(?: on)?|birth ?date)\s*(?:is|:|of)?\s*", re.I)
# "women"/"men": how Whisper often hears a dictated "woman"/"man" ("a 45-year-old women")
_SEX = re.compile(
    r"\b(female|male|woman|women|man|men|girl|boy|lady|gentleman)\b|\bsex\s*:?\s*([FMfm])\b", re.I
)


def spoken_digits_to_digits(text: str) -> str:
    """Runs of spoken digits ("six four four", "oh") become digit strings; other words are left alone."""

    def join(match):
        return "".join(_DIGIT_WORDS[w.lower()] for w in re.findall(r"[A-Za-z]+", match.group(0)))

    word = r"(?:zero|oh|one|two|three|four|five|six|seven|eight|nine)"
    return re.sub(rf"\b{word}(?:[\s,\-]+{word}){{2,}}\b", join, text, flags=re.I)


def _number_words(words: list[str]) -> tuple[int | None, int]:
    """A cardinal or ordinal below 100 at the start of ``words``: (value, words used)."""
    if not words:
        return None, 0
    w = words[0].lower().strip(",")
    if w.isdigit():
        return int(w), 1
    if re.fullmatch(r"\d+(st|nd|rd|th)", w):
        return int(w[:-2]), 1
    if w in _ORDINALS:
        return _ORDINALS[w], 1
    if w in _UNITS:
        return _UNITS[w], 1
    if w in _TENS:
        if len(words) > 1:
            nxt = words[1].lower().strip(",")
            if nxt in _UNITS and 0 < _UNITS[nxt] < 10:
                return _TENS[w] + _UNITS[nxt], 2
            if nxt in _ORDINALS and _ORDINALS[nxt] < 10:
                return _TENS[w] + _ORDINALS[nxt], 2
        return _TENS[w], 1
    return None, 0


def _year_words(words: list[str]) -> tuple[int | None, int]:
    """A year: 1944, "nineteen forty four", "nineteen oh five", "two thousand five"."""
    if not words:
        return None, 0
    w = words[0].strip(",")
    if re.fullmatch(r"\d{4}", w):
        return int(w), 1
    lw = [x.lower().strip(",") for x in words[:5]]
    if lw[:2] == ["two", "thousand"]:
        rest, used = _number_words(lw[2:] if lw[2:3] != ["and"] else lw[3:])
        return 2000 + (rest or 0), 2 + used + (lw[2:3] == ["and"])
    century, used = _number_words(lw)
    if century in (19, 20) and used:
        if lw[used : used + 1] in (["oh"], ["o"]):
            rest, used2 = _number_words(lw[used + 1 :])
            return (century * 100 + rest, used + 1 + used2) if rest is not None and rest < 10 else (None, 0)
        if lw[used : used + 1] == ["hundred"]:
            return century * 100, used + 1
        rest, used2 = _number_words(lw[used:])
        if rest is not None and 10 <= rest < 100:
            return century * 100 + rest, used + used2
    return None, 0


def parse_date(text: str) -> datetime.date | None:
    """A date at the start of ``text`` in any dictated form (US order for numeric dates)."""
    text = text.strip()
    numeric = re.match(r"(\d{4})[-\s/.](\d{1,2})[-\s/.](\d{1,2})\b", text)
    parts = None
    if numeric:
        parts = (int(numeric[1]), int(numeric[2]), int(numeric[3]))
    elif m := re.match(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})\b", text):
        parts = (int(m[3]), int(m[1]), int(m[2]))
    elif m := re.match(r"(\d{1,2})[\s\-]([A-Za-z]{3,9})\.?[\s\-,]+(\d{4})\b", text):
        month = _month(m[2])
        parts = (int(m[3]), month, int(m[1])) if month else None
    else:
        words = re.findall(r"[A-Za-z]+|\d+(?:st|nd|rd|th)?", text)[:9]
        if words and words[0].lower() == "the":
            day, used = _number_words(words[1:])
            rest = words[1 + used :]
            if day and rest and rest[0].lower() == "of" and len(rest) > 1 and _month(rest[1]):
                year, _ = _year_words(rest[2:])
                parts = (year, _month(rest[1]), day) if year else None
        elif words and _month(words[0]):
            day, used = _number_words(words[1:])
            year, _ = _year_words(words[1 + used :])
            parts = (year, _month(words[0]), day) if day and year else None
        elif words:
            day, used = _number_words(words)
            rest = words[used:]
            if rest and rest[0].lower() == "of":
                rest = rest[1:]
            if day and rest and _month(rest[0]):
                year, _ = _year_words(rest[1:])
                parts = (year, _month(rest[0]), day) if year else None
    if not parts or None in parts:
        return None
    try:
        return datetime.date(*parts)
    except ValueError:
        return None


def _month(word: str) -> int | None:
    word = word.lower().rstrip(".")
    for i, name in enumerate(MONTHS, 1):
        if len(word) >= 3 and name.startswith(word):
            return i
    return None


def patient_fields(text: str) -> dict:
    """``{"name", "mrn", "birth_date", "sex"}`` from the patient part of a dictation; None where not said."""
    digits_text = spoken_digits_to_digits(text)
    mrn = None
    if m := _MRN.search(digits_text):
        mrn = re.sub(r"\D", "", m.group(1)) or None
    birth_date = None
    for m in _DOB.finditer(text):
        # a word the recogniser put between the cue and the date ("born under December 19, 1965") is skipped
        after = text[m.end() :]
        date = parse_date(after) or parse_date(re.sub(r"^\w{1,6}\s+", "", after))
        if date:
            birth_date = date.isoformat()
            break
    sex = None
    if m := _SEX.search(text):
        word = (m.group(1) or m.group(2)).lower()
        sex = "female" if word in ("female", "woman", "women", "girl", "lady", "f") else "male"
    return {"name": _name(text), "mrn": mrn, "birth_date": birth_date, "sex": sex}


def _name(text: str) -> str | None:
    for cue in _NAME_CUES:
        for m in cue.finditer(text):
            words = m.group(1).split()
            while words and words[-1].lower().rstrip(".,") in _NOT_NAMES | {
                "mrn",
                "dob",
                "medical",
                "born",
                "date",
            }:
                words.pop()
            if words and len(words[-1]) > 3:
                words[-1] = words[-1].rstrip(".")
            if len(words) >= 2 and words[0].lower() not in _NOT_NAMES:
                words[0] = words[0][0].upper() + words[0][1:]
                # a dictated "Saint Clair" (which Whisper may write "St Clair") is the surname records write "St. Clair"
                return " ".join(
                    "St." if w in ("Saint", "St") and i + 1 < len(words) else w for i, w in enumerate(words)
                )
    return None


_EXTRA_MODALITY = {
    "CT": ["ct scan", "cat scan", "cta", "computed tomographic", "computed tomography"],
    "MR": ["mri scan", "magnetic resonance imaging", "mri"],
    "XR": ["x ray", "xray", "radiography", "film", "films", "cxr"],
    "US": ["ultrasonography", "doppler", "sonographic"],
}
_EXTRA_BODY = {
    "head": ["cranial", "skull"],
    "chest": ["chest x ray", "lungs", "pulmonary", "cxr"],
    "lumbar spine": ["lumbar", "l spine"],
    "cervical spine": ["cervical", "c spine"],
    "lower extremity veins": ["venous", "leg veins", "lower extremity", "lower extremities"],
    # "pelvis" alone: the vocabulary's one exam of the pelvis (also what is left of "abdomen and pelvis"
    # when the recogniser garbles "abdomen": "CT of the dominant pelvis")
    "abdomen and pelvis": ["abdomen/pelvis", "abd pelvis", "pelvis"],
}


def _phrases(mapping_a: dict, mapping_b: dict) -> list[tuple[str, str]]:
    pairs = [(vocab.squash(s), k) for k, spellings in mapping_a.items() for s in [k, *spellings]]
    pairs += [(vocab.squash(s), k) for k, spellings in mapping_b.items() for s in spellings]
    return sorted(set(pairs), key=lambda p: -len(p[0]))


def exam_fields(text: str) -> dict:
    """``{"modality", "body_part", "laterality", "contrast"}`` from an exam description."""
    plain = " " + vocab.squash(re.sub(r"[^\w\s/\-]", " ", text)) + " "
    modality = next(
        (
            code
            for phrase, code in _phrases(vocab.vocabulary()["modalities"], _EXTRA_MODALITY)
            if f" {phrase} " in plain
        ),
        None,
    )
    body_part = next(
        (part for phrase, part in _phrases(vocab.body_parts(), _EXTRA_BODY) if f" {phrase} " in plain), None
    )
    if modality is None and body_part == "lower extremity veins" and " duplex " in plain:
        modality = "US"
    if modality is None and (m := _MRI_SCAN_HEARD.search(text)) and exam_fields(text[m.end() :])["body_part"]:
        return exam_fields(f"{text[: m.start()]} MRI scan {text[m.end() :]}")
    if modality is None:
        modality = _misheard_modality(text)
    laterality = None
    if m := re.search(r"\b(left|right|bilateral|both)\b", plain):
        laterality = "bilateral" if m.group(1) == "both" else m.group(1)
    contrast = None
    if re.search(
        r"\bwith and without (?:iv |intravenous )?contrast\b|\bwith (?:iv |intravenous |oral )?contrast\b|\bpost ?contrast\b|\bcontrast enhanced\b|\benhanced\b(?<!unenhanced)|\bcta\b",
        plain,
    ):
        contrast = True
    # "on contrast", "none contrast": how the recogniser hears a dictated "noncontrast" ("MRI of the knee on contrast")
    if re.search(
        r"\bwithout (?:iv |intravenous )?contrast\b|\bnon ?contrast(?:ed)?\b|\b(?:on|none) contrast\b|\bunenhanced\b|\bno contrast\b",
        plain,
    ) and not re.search(r"\bwith and without\b", plain):
        contrast = False
    return {"modality": modality, "body_part": body_part, "laterality": laterality, "contrast": contrast}


# How Whisper writes modality words it does not quite catch: "CAT scan" as the letter C glued to what it heard of
# "at" ("C-at scan", "C-A-T scan", "C80 scan", "C-8-C scan", "C-8E scan"); "MRI" run into the next word ("MRQS
# cervical spine"); "x-rays" with a stray ending ("x-rayest"); "sonography" with another start ("synography",
# "biography", "cinematography"; the other -ography modalities are said with their own first word: "computed
# tomography").
_MISHEARD_MODALITIES = [
    ("CT", re.compile(r"\bc[-\s]?(?:a[-\s]?t|\d+[a-z]?(?:[-\s]?c)?)s?\s+scan\b", re.I)),
    ("MR", re.compile(r"\bMR(?!N\b)[A-Z]+s?\b")),  # not "MRN"
    ("XR", re.compile(r"\bn?x-?ray[a-z]*\b", re.I)),  # "NX-Rays": "an x-rays"
    ("US", re.compile(r"\b(?!(?:radi|angi|mamm|tom|ven|arteri|myel)ography)[a-z]{2,8}ography\b", re.I)),
]


# "MRI scan" as Whisper hears some voices say it: a word ending like "-ris"/"-reese" (or "MRN") and one like
# "skin" ("an crease kin of the head", "wrist skin of the left ankle", "Rhys Ken of the brain", "MRN skin of the
# knee"). Read so only in an exam description that names no modality and names a body part after it ("wrist"
# itself is one).
_MRI_SCAN_HEARD = re.compile(r"\b(?:\w*rh?[aeiouy]+s[et]?e?|MRN)\s+s?[ck][aeiy]n\b", re.I)


def _misheard_modality(text: str) -> str | None:
    """The modality of an exam description whose modality word the recogniser garbled in a known way."""
    return next((code for code, pattern in _MISHEARD_MODALITIES if pattern.search(text)), None)
