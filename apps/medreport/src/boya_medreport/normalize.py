"""Stage 3 of the pipeline: spoken dictation → written report text.

Radiologists dictate punctuation and layout ("comma", "period", "new paragraph"),
correct themselves ("scratch that"), and say numbers, dates, sizes and record
numbers as words; a recogniser passes much of that through literally, and adds its
own punctuation besides ("lobe, period."). :func:`normalize` turns both typed and
recognised dictations into the written form a report uses:

    "twelve by nine millimeters period"           → "12 x 9 mm."
    "born march third nineteen eighty four"        → "born March 3, 1984"
    "M R N one two three four five six"            → "MRN 123456"
    "there is a nodule scratch that there is a mass period" → "There is a mass."

Ambiguous words are converted only in their dictation sense: "colon" is punctuation
("findings colon") except after words that name the bowel ("sigmoid colon"); "period"
stays a word in "a period of" / "the postoperative period"; "may" is a month only
when a day follows. Small numbers stay words ("two nodules") unless they measure
something, as style guides write them.
"""

import re

from .respell import respell

__all__ = ["normalize"]

_ONES = {"zero": 0, "oh": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9}  # fmt: skip
_TEENS = {
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}  # fmt: skip
_ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8, "ninth": 9,
    "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13, "fourteenth": 14, "fifteenth": 15, "sixteenth": 16,
    "seventeenth": 17, "eighteenth": 18, "nineteenth": 19, "twentieth": 20, "thirtieth": 30,
}  # fmt: skip
_MONTHS = [
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
]  # fmt: skip
_UNITS = {
    "millimeter": "mm", "millimeters": "mm", "millimetre": "mm", "millimetres": "mm", "mm": "mm",
    "centimeter": "cm", "centimeters": "cm", "centimetre": "cm", "centimetres": "cm", "cm": "cm",
}  # fmt: skip
_PUNCTUATION_COMMANDS = {
    ("period",): ".", ("full", "stop"): ".", ("comma",): ",", ("colon",): ":", ("semicolon",): ";",
    ("semi", "colon"): ";", ("question", "mark"): "?", ("open", "parenthesis"): "(", ("close", "parenthesis"): ")",
    ("open", "paren"): "(", ("close", "paren"): ")",
}  # fmt: skip
_LAYOUT_COMMANDS = {
    ("new", "paragraph"): "\n\n",
    ("next", "paragraph"): "\n\n",
    ("new", "line"): "\n",
    ("next", "line"): "\n",
}
_DELETE_COMMANDS = {("scratch", "that"), ("delete", "that")}
# words after which "colon" is the bowel ("sigmoid colon"); elsewhere it is the punctuation mark ("findings colon")
_COLON_ORGAN_AFTER = {
    "the", "a", "sigmoid", "ascending", "descending", "transverse", "right", "left", "distal", "proximal", "entire",
    "whole", "redundant", "and", "or", "of", "mid", "decompressed", "distended", "dilated", "normal", "visualized",
}  # fmt: skip
# words before which "period" is the noun ("the postoperative period", "a period of")
_PERIOD_NOUN_BEFORE = {
    "a",
    "the",
    "this",
    "that",
    "same",
    "short",
    "long",
    "postoperative",
    "interval",
    "waiting",
    "follow-up",
}
_MRN_CUES = {
    ("mrn",),
    ("m", "r", "n"),
    ("medical", "record", "number"),
    ("record", "number"),
    ("medical", "record"),
}
_SPINE = re.compile(r"^([CcTtLlSs])-?(\d{1,2})$")
_TOKEN = re.compile(r"\n+|[A-Za-z0-9]+(?:[.'/:-][A-Za-z0-9]+)*|[^\sA-Za-z0-9]")
_CLOSERS = set(".,;:?!)")
_BOUNDARIES = set(".,;:?!") | {"\n", "\n\n"}


def normalize(text: str) -> str:
    """Apply dictation commands and write numbers, dates, sizes and record numbers as a report does."""
    tokens = _split_number_hyphens(_TOKEN.findall(text.replace("\r\n", "\n")))
    tokens = _apply_commands(tokens)
    tokens = _lone_non(tokens)
    tokens = respell(_misheard_phrases(tokens))
    tokens = _headings(tokens)
    tokens = _merge_letters(tokens)
    tokens = _record_numbers(tokens)
    tokens = _dates(tokens)
    tokens = _numbers(tokens)
    tokens = _measurements(tokens)
    tokens = _spine_levels(tokens)
    return _join(tokens)


def _low(token: str) -> str:
    return token.lower()


def _is_number_word(token: str) -> bool:
    low = token.lower()
    return low in _ONES or low in _TEENS or low in _TENS or low in {"hundred", "thousand", "point", "by"}


def _split_number_hyphens(tokens: list[str]) -> list[str]:
    """ "twenty-four" → "twenty four", "12-by-9" → "12 by 9", "1-2-3" → "1 2 3", "12mm" → "12 mm", "x1" → "x 1";
    "x-ray", "C5-C6" stay."""
    out = []
    for token in tokens:
        parts = token.split("-")
        if glued := re.fullmatch(r"(\d+(?:\.\d+)?)(mm|cm)", token, flags=re.IGNORECASE):
            out.extend(glued.groups())
        elif glued := re.fullmatch(
            r"(x)(\d+)", token, flags=re.IGNORECASE
        ):  # "x one" as Whisper writes it: "x1"
            out.extend(glued.groups())
        elif (
            len(parts) > 1
            and not any(_SPINE.match(p) for p in parts)
            and all(p.isdigit() or _is_number_word(p) for p in parts)
        ):
            out.extend(parts)
        else:
            out.append(token)
    return out


def _match(tokens: list[str], i: int, phrases) -> tuple | None:
    for phrase in sorted(phrases, key=len, reverse=True):
        if tuple(_low(t) for t in tokens[i : i + len(phrase)]) == phrase:
            return phrase
    return None


def _apply_commands(tokens: list[str]) -> list[str]:
    """Punctuation, layout and deletion commands; the recogniser's own punctuation around them is dropped."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        phrase = _match(tokens, i, _PUNCTUATION_COMMANDS)
        if phrase and not _is_literal(tokens, i, phrase, out):
            mark = _PUNCTUATION_COMMANDS[phrase]
            if mark != "(":
                while out and out[-1] in _CLOSERS - {")"}:
                    out.pop()
            out.append(mark)
            i = _skip_punctuation(tokens, i + len(phrase))
            continue
        phrase = _match(tokens, i, _LAYOUT_COMMANDS)
        if phrase:
            while out and out[-1] in {",", ";"}:
                out.pop()
            out.append(_LAYOUT_COMMANDS[phrase])
            i = _skip_punctuation(tokens, i + len(phrase))
            continue
        phrase = _match(tokens, i, _DELETE_COMMANDS)
        if phrase:
            _delete_last_phrase(out)
            i = _skip_punctuation(tokens, i + len(phrase))
            continue
        out.append(tokens[i])
        i += 1
    return out


def _lone_non(tokens: list[str]) -> list[str]:
    """A "non" that ends a clause is a dictated "none" as the recogniser spells it ("Fracture: Non.")."""
    return [
        token[0] + "one"
        if _low(token) == "non" and (i + 1 == len(tokens) or tokens[i + 1] in _BOUNDARIES)
        else token
        for i, token in enumerate(tokens)
    ]


# How the recogniser writes dictation phrases that it hears as other English: "Noted is a ..." as "No two is a"
# or "No did is a" (which would read as a negation), "acute infarct" as "acute in fact", "narrowing of" as
# "narrow of" or "narrow no of". Each is rewritten only in the word order that has no other reading ("no two are
# alike", "in fact, the ..." stay).
_MISHEARD_NOTED = ({"no"}, {"two", "did", "doubt"}, {"is"})
_INFARCT_AFTER = {
    "acute",
    "subacute",
    "chronic",
    "old",
    "ischemic",
    "cerebral",
    "lacunar",
    "embolic",
    "cerebellar",
    "an",
}


def _misheard_phrases(tokens: list[str]) -> list[str]:
    """ "No two is a" → "Noted is a", "acute in fact" → "acute infarct", "narrow no of" → "narrowing of"."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        low = [_low(t) for t in tokens[i : i + 3]]
        if len(low) == 3 and all(word in options for word, options in zip(low, _MISHEARD_NOTED, strict=True)):
            out += [tokens[i][0] + "oted", tokens[i + 2]]
            i += 3
        elif low[:2] == ["in", "fact"] and out and _low(out[-1]) in _INFARCT_AFTER:
            out.append("infarct")
            i += 2
        elif low[:2] == ["narrow", "of"] or low == ["narrow", "no", "of"]:
            out.append(tokens[i] + "ing")
            i += 1 if low[1] == "of" else 2
        else:
            out.append(tokens[i])
            i += 1
    return out


_HEADING_WORDS = {
    "Findings",
    "Impression",
    "Impressions",
    "Indication",
    "Technique",
    "Comparison",
    "Conclusion",
    "Recommendation",
    "Recommendations",
}


def _headings(tokens: list[str]) -> list[str]:
    """In text without any sentence punctuation, mark capitalised section headings ("... contrast Findings no
    effusion" -> "... contrast. Findings: no effusion"): an ASR transcript of natural speech may carry
    none, and sections are split at punctuated headings. Punctuated text is left alone ("The Findings are")."""
    if any(token in (".", "?", "!", ":") for token in tokens):
        return tokens
    out = []
    for i, token in enumerate(tokens):
        following = tokens[i + 1] if i + 1 < len(tokens) else ""
        previous = out[-1].lower() if out else ""
        if (
            token in _HEADING_WORDS
            and following[:1].isalnum()
            and previous not in ("the", "these", "those", "their", "his", "her", "our", "my", "your", "of")
        ):
            if out and out[-1] not in _BOUNDARIES:
                out.append(".")
            out += [token, ":"]
        else:
            out.append(token)
    return out


def _is_literal(tokens: list[str], i: int, phrase: tuple, out: list[str]) -> bool:
    """Whether a command word is meant as the word itself: "sigmoid colon", "a period of"."""
    # the recogniser may have put a comma before the command word: look past it
    previous = _low(next((t for t in reversed(out) if t not in _BOUNDARIES), ""))
    following = _low(tokens[i + len(phrase)]) if i + len(phrase) < len(tokens) else ""
    if phrase == ("colon",):
        return previous in _COLON_ORGAN_AFTER
    if phrase == ("period",):
        return previous in _PERIOD_NOUN_BEFORE or following == "of"
    return False


def _skip_punctuation(tokens: list[str], i: int) -> int:
    while i < len(tokens) and tokens[i] in _CLOSERS - {")"}:
        i += 1
    return i


def _delete_last_phrase(out: list[str]) -> None:
    """ "scratch that": drop what was said since the previous punctuation mark or line break."""
    while out and out[-1] in _BOUNDARIES - {"\n", "\n\n"}:
        out.pop()
    while out and out[-1] not in _BOUNDARIES:
        out.pop()


def _merge_letters(tokens: list[str]) -> list[str]:
    """Spelled "M R N" / "M.R.N." → "MRN"."""
    out = []
    i = 0
    while i < len(tokens):
        if [t.lower().replace(".", "") for t in tokens[i : i + 3]] == ["m", "r", "n"]:
            out.append("MRN")
            i += 3
        elif tokens[i].lower().replace(".", "") == "mrn":
            out.append("MRN")
            i += 1
        else:
            out.append(tokens[i])
            i += 1
    return out


def _record_numbers(tokens: list[str]) -> list[str]:
    """Digits after an MRN cue, spoken one by one or grouped ("1-2-3", "one two three") → one number."""
    out = []
    i = 0
    while i < len(tokens):
        cue = _match(tokens, i, _MRN_CUES)
        if not cue:
            out.append(tokens[i])
            i += 1
            continue
        out.extend(tokens[i : i + len(cue)])
        i += len(cue)
        while i < len(tokens) and _low(tokens[i]) in {
            "is",
            "number",
            "#",
            ":",
            ",",
        }:  # "medical record, number: 4 6 1"
            out.append(tokens[i])
            i += 1
        groups, j = [], i
        while j < len(tokens):
            token, low = tokens[j], _low(tokens[j])
            if low in _ONES or token.isdigit():
                groups.append(str(_ONES[low]) if low in _ONES else token)
            elif not (
                token in {"-", ","}
                and groups
                and j + 1 < len(tokens)
                and (_low(tokens[j + 1]) in _ONES or tokens[j + 1].isdigit())
                and not _measures(tokens, j + 2, [])  # "MRN 123456, 5 mm" ends before the size
            ):
                break
            j += 1
        digits = "".join(groups)
        if len(digits) >= 3:
            out.append(digits)
            i = j
    return out


def _cardinal(tokens: list[str], i: int) -> tuple[int, int] | None:
    """Parse a spoken cardinal ("three hundred and twelve") at ``i``: (value, next index)."""
    total, current, j, last = 0, 0, i, None
    while j < len(tokens):
        low = _low(tokens[j])
        if low in _ONES and low != "oh" and last in {None, "tens", "hundred", "thousand", "and"}:
            current += _ONES[low]
            last = "ones"
        elif low in _TEENS and last in {None, "hundred", "thousand", "and"}:
            current += _TEENS[low]
            last = "teens"
        elif low in _TENS and last in {None, "hundred", "thousand", "and"}:
            current += _TENS[low]
            last = "tens"
        elif low == "hundred" and last in {"ones", "teens"} and current < 100:
            current *= 100
            last = "hundred"
        elif low == "thousand" and last in {"ones", "teens", "tens", "hundred"} and total == 0:
            total, current = (total + current) * 1000, 0
            last = "thousand"
        elif (
            low == "and"
            and last in {"hundred", "thousand"}
            and j + 1 < len(tokens)
            and _low(tokens[j + 1]) in (_ONES.keys() | _TEENS.keys() | _TENS.keys())
        ):
            last = "and"
        else:
            break
        j += 1
    if last in {None, "and"}:
        return None
    return total + current, j


def _year(tokens: list[str], i: int) -> tuple[int, int] | None:
    """ "nineteen eighty four" → 1984, "nineteen oh five" → 1905, "twenty twenty four" → 2024, "two thousand five" → 2005."""
    low = [_low(t) for t in tokens[i : i + 3]]
    if low and low[0] in _TEENS.keys() | {"twenty"} and len(low) > 1:
        century = _TEENS.get(low[0], 20)
        if low[1] == "oh" and len(low) > 2 and low[2] in _ONES:
            return century * 100 + _ONES[low[2]], i + 3
        if low[1] in _TENS:
            rest = _ONES[low[2]] if len(low) > 2 and low[2] in _ONES and low[2] not in {"zero", "oh"} else 0
            return century * 100 + _TENS[low[1]] + rest, i + (3 if rest else 2)
        if low[1] in _TEENS:
            return century * 100 + _TEENS[low[1]], i + 2
    parsed = _cardinal(tokens, i)
    if parsed and 1000 <= parsed[0] <= 2100:
        return parsed
    if i < len(tokens) and re.fullmatch(r"(18|19|20)\d\d", tokens[i]):
        return int(tokens[i]), i + 1
    return None


def _misheard_year(tokens: list[str], i: int) -> tuple[int, int] | None:
    """A year after a month and day that the recogniser wrote oddly, read only there where a year is due:
    in two digit groups ("19 84"), the century's "-teen" as "-ty" ("ninety eighty two" for nineteen eighty
    two) or the decade's "-ty" dropped ("nineteen four eight", "19 4 8" for nineteen forty eight)."""
    low = [_low(t) for t in tokens[i : i + 3]]
    if len(low) < 2:
        return None
    if low[0] == "ninety" and low[1] in _TENS:
        ones = _ONES.get(low[2], 0) if len(low) > 2 and low[2] not in {"zero", "oh"} else 0
        return 1900 + _TENS[low[1]] + ones, i + (3 if ones else 2)
    century = {"nineteen": 19, "19": 19, "twenty": 20, "20": 20}.get(low[0])
    if (
        century and low[0].isdigit() and re.fullmatch(r"\d\d", low[1])
    ):  # "19 84": the year in two digit groups
        return century * 100 + int(low[1]), i + 2
    digits = [_ONES.get(w, int(w) if re.fullmatch(r"\d", w) else None) for w in low[1:3]]
    if century and len(digits) == 2 and None not in digits and low[1] not in {"zero", "oh"}:
        return century * 100 + 10 * digits[0] + digits[1], i + 3
    return None


def _day(tokens: list[str], i: int) -> tuple[int, int] | None:
    """A day of the month: "third", "twenty first", "3", "3rd", "twenty three"."""
    if i >= len(tokens):
        return None
    low = _low(tokens[i])
    if m := re.fullmatch(r"(\d{1,2})(st|nd|rd|th)?", low):
        return (int(m[1]), i + 1) if 1 <= int(m[1]) <= 31 else None
    if low in _ORDINALS:
        return _ORDINALS[low], i + 1
    if m := re.fullmatch(
        r"(twenty|thirty|third)(?:e?th|i?est)", low
    ):  # "twentieth", "thirtieth" as Whisper may spell them
        return _TENS.get(m[1], 30), i + 1
    if low in {"twenty", "thirty"} and i + 1 < len(tokens) and _low(tokens[i + 1]) in _ORDINALS:
        day = _TENS[low] + _ORDINALS[_low(tokens[i + 1])]
        return (day, i + 2) if day <= 31 else None
    if low in {"twenty", "thirty"} and _year(
        tokens, i + 1
    ):  # "July thirty two thousand four": the 30th, not 32004
        return _TENS[low], i + 1
    parsed = _cardinal(tokens, i)
    return parsed if parsed and 1 <= parsed[0] <= 31 else None


def _dates(tokens: list[str]) -> list[str]:
    """ "march third nineteen eighty four" / "the third of march, 1984" → "March 3, 1984"."""
    out = []
    i = 0
    while i < len(tokens):
        low = _low(tokens[i])
        date = None
        if low in _MONTHS:
            day = _day(tokens, i + 1)
            if day:
                date = (low, day[0], day[1])
        else:  # "the third of march", "the fourteen of april"
            day = _day(tokens, i)
            if (
                day
                and day[1] + 1 < len(tokens)
                and _low(tokens[day[1]]) == "of"
                and _low(tokens[day[1] + 1]) in _MONTHS
            ):
                if out and _low(out[-1]) == "the":
                    out.pop()
                date = (_low(tokens[day[1] + 1]), day[0], day[1] + 2)
        if date is None:
            out.append(tokens[i])
            i += 1
            continue
        month, day, j = date
        out.extend([month.capitalize(), str(day)])
        k = j + 1 if j < len(tokens) and tokens[j] == "," else j
        year = _year(tokens, k) or _misheard_year(tokens, k)
        if year:
            out.extend([",", str(year[0])])
            j = year[1]
        i = j
    return out


def _numbers(tokens: list[str]) -> list[str]:
    """Spoken cardinals, decimals, years and digit runs → digits (small counts stay words)."""
    out = []
    i = 0
    while i < len(tokens):
        low = _low(tokens[i])
        if (
            low == "point"
            and i + 1 < len(tokens)
            and _low(tokens[i + 1]) in _ONES
            and not (out and _is_numeric(out[-1]))
        ):
            digits, j = _decimal_digits(tokens, i + 1)
            out.append(f"0.{digits}")
            i = j
            continue
        if (
            low.isdigit()
            and i + 2 < len(tokens)
            and _low(tokens[i + 1]) == "point"
            and _low(tokens[i + 2]) in _ONES
        ):
            # "1 point three": a recogniser's digit, then the spoken decimals
            digits, j = _decimal_digits(tokens, i + 2)
            out.append(f"{low}.{digits}")
            i = j
            continue
        if low in _ONES and low != "oh":
            run, j = "", i
            while j < len(tokens) and _low(tokens[j]) in _ONES and (j > i or _low(tokens[j]) != "oh"):
                run += str(_ONES[_low(tokens[j])])
                j += 1
            if len(run) >= 3:  # digits read one by one: "seven three one" → "731"
                out.append(run)
                i = j
                continue
        year = _year(tokens, i) if low in _TEENS or low == "twenty" else None
        if year and year[1] - i >= 2 and _low(tokens[i + 1]) not in {"hundred", "thousand"}:
            out.append(str(year[0]))
            i = year[1]
            continue
        parsed = _cardinal(tokens, i)
        if parsed is None:
            out.append(tokens[i])
            i += 1
            continue
        value, j = parsed
        text = str(value)
        if j + 1 < len(tokens) and _low(tokens[j]) == "point" and _low(tokens[j + 1]) in _ONES:
            digits, j = _decimal_digits(tokens, j + 1)
            text = f"{value}.{digits}"
        elif value < 10 and j - i == 1 and not _measures(tokens, j, out):
            text = tokens[i]
        out.append(text)
        i = j
    return out


def _decimal_digits(tokens: list[str], i: int) -> tuple[str, int]:
    digits = ""
    while i < len(tokens) and _low(tokens[i]) in _ONES:
        digits += str(_ONES[_low(tokens[i])])
        i += 1
    return digits, i


def _measures(tokens: list[str], j: int, out: list[str]) -> bool:
    """Whether a small number is a measurement (followed by a unit or "by"/"times", or after "by"/"times"/"measuring")."""
    following = _low(tokens[j]) if j < len(tokens) else ""
    previous = _low(out[-1]) if out else ""
    spine_letter = len(previous) == 1 and previous in "ctls"
    return (
        following in _UNITS
        or following in {"by", "x", "point"}
        or following == "times"
        and j + 1 < len(tokens)
        and (_is_number_word(tokens[j + 1]) or _is_numeric(tokens[j + 1]))
        or previous in {"by", "x", "times", "measuring", "measures"}
        or spine_letter
    )


def _is_numeric(token: str) -> bool:
    return bool(re.fullmatch(r"\d+(\.\d+)?", token))


def _measurements(tokens: list[str]) -> list[str]:
    """ "12 by 9 millimeters" → "12 x 9 mm"; a unit word right after a number → its symbol."""
    out = []
    for i, token in enumerate(tokens):
        low = _low(token)
        if (
            low in {"by", "times", "x"}
            and out
            and _is_numeric(out[-1])
            and i + 1 < len(tokens)
            and _is_numeric(tokens[i + 1])
        ):
            out.append("x")
        elif low in _UNITS and out and _is_numeric(out[-1]):
            out.append(_UNITS[low])
        else:
            out.append(token)
    return out


def _spine_levels(tokens: list[str]) -> list[str]:
    """Vertebral levels: "C 5 C 6" / "C-5, C-6" / "L5 S1" / "L3L4" / "l-5-S1" → "C5-C6", "L5-S1", "L3-L4"; "T 12" → "T12"."""
    joined = []
    i = 0
    while i < len(tokens):
        if (
            len(tokens[i]) == 1
            and tokens[i].upper() in "CTLS"
            and i + 1 < len(tokens)
            and tokens[i + 1].isdigit()
        ):
            joined.append(tokens[i].upper() + tokens[i + 1])
            i += 2
            continue
        if _SPINE.match(tokens[i]) and tokens[i][0].isupper():
            joined.append(tokens[i].replace("-", ""))
        elif (
            pair := re.fullmatch(r"([CTLS])-?(\d{1,2})-?([CTLS])-?(\d{1,2})", tokens[i], flags=re.I)
        ) and all(map(_is_level, levels := [pair[1].upper() + pair[2], pair[3].upper() + pair[4]])):
            joined.extend(levels)  # "L3L4", "l-5-S1": a level pair as the recogniser may write it
        else:
            joined.append(tokens[i])
        i += 1
    out = []
    for token in joined:
        if (
            _is_level(token)
            and len(out) >= 2
            and out[-1] in {"-", ",", "to", "through"}
            and _is_level(out[-2])
        ):
            out.pop()
            out[-1] = f"{out[-1]}-{token}"
        elif _is_level(token) and out and _is_level(out[-1]):
            out[-1] = f"{out[-1]}-{token}"
        else:
            out.append(token)
    return out


def _is_level(token: str) -> bool:
    m = re.fullmatch(r"([CTLS])(\d{1,2})", token)
    return bool(m) and 1 <= int(m[2]) <= {"C": 8, "T": 12, "L": 5, "S": 5}[m[1]]


def _join(tokens: list[str]) -> str:
    """Tokens → text: no space before closing punctuation, none around line breaks, sentences capitalised."""
    text = ""
    capitalize = True
    for token in tokens:
        if token.startswith("\n"):
            text = text.rstrip(" ") + token
            capitalize = True
            continue
        if token in _CLOSERS:
            text = text.rstrip(" ") + token
            capitalize = capitalize or token in {".", "?", "!", ":"}
            continue
        if capitalize and token[:1].isalpha():
            token = token[0].upper() + token[1:]
        capitalize = False
        if text and not text.endswith(("\n", "(", " ")):
            text += " "
        text += token
    return re.sub(r"[ \t]+", " ", text).strip()
