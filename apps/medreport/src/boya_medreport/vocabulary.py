"""The canonical vocabulary of the structured report (``data/medreport-vocabulary.json``).

Everything that writes a report (extraction, rules, the edit form, HL7/FHIR coding)
asks this module which spellings are canonical, so that one file decides them.
"""

import json
import re
from functools import cache
from importlib.resources import files
from pathlib import Path

VOCABULARY_FILE = Path(__file__).parent / "data" / "medreport-vocabulary.json"


@cache
def vocabulary() -> dict:
    return json.loads(VOCABULARY_FILE.read_text())


@cache
def schema() -> dict:
    return json.loads(files(__package__).joinpath("data/medreport.schema.json").read_text())


def squash(text: str) -> str:
    """Lowercase, hyphens to spaces, one space between words: the form synonyms are compared in."""
    return " ".join(re.sub(r"[-_/]", " ", text.casefold()).split())


def observations() -> dict:
    return vocabulary()["observations"]


def locations() -> list[str]:
    return vocabulary()["locations"]


def body_parts() -> dict:
    return vocabulary()["body_parts"]


def is_critical(observation: str) -> bool:
    entry = observations().get(observation)
    return bool(entry and entry["critical"])


def _singular(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _key(text: str) -> str:
    return " ".join(_singular(word) for word in squash(text).split())


@cache
def _synonym_index() -> dict[str, list[str]]:
    """Singularised synonym -> the canonical observations that list it (``effusion`` has two)."""
    index: dict[str, list[str]] = {}
    for name, entry in observations().items():
        for spelling in [name, *entry["synonyms"]]:
            keys = index.setdefault(_key(spelling), [])
            if name not in keys:
                keys.append(name)
    return index


def resolve_observation(text: str, body_part: str | None = None) -> str | None:
    """The canonical observation for a spelling, choosing among homonyms by the exam's body part.

    ``effusion`` is a pleural effusion on a chest exam and a joint effusion on a knee;
    a canonical name that does not fit the body part is re-resolved through its
    synonyms. Returns None for a spelling the vocabulary does not know.
    """
    candidates = list(_synonym_index().get(_key(text), []))
    if not candidates:
        return None
    if body_part:
        fitting = [name for name in candidates if body_part in observations()[name]["body_parts"]]
        if not fitting:
            # a canonical name given for the wrong body part: try its other spellings
            for name in candidates:
                for spelling in observations()[name]["synonyms"]:
                    fitting += [
                        n
                        for n in _synonym_index()[_key(spelling)]
                        if body_part in observations()[n]["body_parts"] and n not in fitting
                    ]
        if fitting:
            return fitting[0]
    return candidates[0]


@cache
def _location_index() -> dict[str, str]:
    return {_key(name): name for name in locations()}


def resolve_location(text: str | None) -> str | None:
    """The vocabulary's spelling of a location (case, hyphens, plurals ignored), or None when unknown."""
    if not text:
        return None
    key = _key(text)
    key = re.sub(r"^(the|a|an) ", "", key)
    return _location_index().get(key)


def resolve_body_part(text: str) -> str | None:
    key = squash(text)
    for name, spellings in body_parts().items():
        if key == squash(name) or key in map(squash, spellings):
            return name
    return None


def resolve_modality(text: str) -> str | None:
    key = squash(text)
    for code, spellings in vocabulary()["modalities"].items():
        if key == squash(code) or key in map(squash, spellings):
            return code
    return None
