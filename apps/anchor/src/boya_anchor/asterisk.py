"""Asterisk's recorded English prompts: the real human speech we train on and score on, split by file.

Debian's ``asterisk-core-sounds-en-wav`` ships one speaker's telephone-quality
prompts (8 kHz) with their transcripts. Phones come from forced alignment
(:func:`.align.align`). The prompts are split once, by file and in transcript
order: the first :data:`HELD_OUT_PROMPTS` spoken prompts are for evaluation only
(``boya anchor eval`` scores the first 40 of them that align), the rest may be
used for training. Both parts are the same speaker, so a gain on the held-out
part is partly speaker adaptation, not only "human speech" in general.
"""

import gzip
import re
from pathlib import Path

from .audio import RATE, load_audio

SOUNDS = Path("/usr/share/asterisk/sounds/en")
TRANSCRIPTS = Path("/usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz")
HELD_OUT_PROMPTS = 55


def spoken_prompts() -> list[tuple[Path, str]]:
    """(wav, transcript) of every installed prompt with a spoken transcript of 3+ words (no tones), in transcript order."""
    if not SOUNDS.is_dir() or not TRANSCRIPTS.is_file():
        return []
    prompts = []
    for line in gzip.open(TRANSCRIPTS, "rt", encoding="utf-8", errors="replace").read().splitlines():
        match = re.match(r"^([a-z0-9-]+): (.+)$", line.strip())
        if not match or "[" in match.group(2) or len(match.group(2).split()) < 3:
            continue
        path = SOUNDS / f"{match.group(1)}.wav"
        if path.is_file():
            prompts.append((path, match.group(2)))
    return prompts


def held_out_prompts() -> list[tuple[Path, str]]:
    return spoken_prompts()[:HELD_OUT_PROMPTS]


def training_prompts() -> list[tuple[Path, str]]:
    return spoken_prompts()[HELD_OUT_PROMPTS:]


def aligned(prompts: list[tuple[Path, str]], limit: int | None = None) -> list[dict]:
    """``{"name", "samples" (16 kHz), "phones"}`` of the prompts that force-align; the others are skipped."""
    from .align import align

    clips = []
    for path, text in prompts:
        samples = load_audio(path, RATE)
        phones = align(samples, text)
        if phones:
            clips.append({"name": path.stem, "samples": samples, "phones": phones})
        if limit is not None and len(clips) >= limit:
            break
    return clips
