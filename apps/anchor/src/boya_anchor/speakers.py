"""Real recordings of several English speakers, for evaluation only: never trained on.

Asterisk's prompts (:mod:`.asterisk`) are one speaker, and part of them is in the
training data, so their held-out score mixes "human speech" with adaptation to
that one voice. These clips come from PocketSphinx 5.1.1's source distribution
(its test data, with their transcripts): a LibriVox reader, the "cards" speaker
and the "go forward" speaker — voices no part of training has heard
(``data/speakers/README.md`` has provenance and licences). Phones come from
forced alignment (:func:`.align.align`), as for Asterisk.
"""

import csv
from importlib.resources import files

from .audio import RATE, load_audio


def speaker_prompts() -> list[dict]:
    """``{"file", "speaker", "text"}`` of every shipped clip, in transcript order."""
    folder = files("boya_anchor").joinpath("data", "speakers")
    with folder.joinpath("transcripts.tsv").open(encoding="utf-8") as handle:
        return [dict(row) for row in csv.DictReader(handle, delimiter="\t")]


def aligned_speaker_clips(names: set[str] | None = None) -> list[dict]:
    """``{"name", "speaker", "samples" (16 kHz), "phones"}`` of the clips (all, or those ``names``) that
    force-align; the others are skipped."""
    from .align import align

    folder = files("boya_anchor").joinpath("data", "speakers")
    clips = []
    for prompt in speaker_prompts():
        if names is not None and prompt["file"].removesuffix(".wav") not in names:
            continue
        samples = load_audio(str(folder.joinpath(prompt["file"])), RATE)
        phones = align(samples, prompt["text"])
        if phones:
            clips.append(
                {
                    "name": prompt["file"].removesuffix(".wav"),
                    "speaker": prompt["speaker"],
                    "samples": samples,
                    "phones": phones,
                }
            )
    return clips
