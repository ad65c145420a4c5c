"""Cut a recording into as few Whisper windows as its speech needs.

Whisper encodes a full 30 s window (~0.5 s of CPU on two threads for tiny.en) however
little audio it holds, and each window adds its own prompt pass: a 30.4 s dictation cut
into 25 s + 5.4 s costs nearly twice a 30 s one on one thread (two threads decode the two
side by side: :func:`.whisper.side_by_side`). Like faster-whisper's VAD filter, we
shorten the pauses (quiet stretches longer than ``MAX_PAUSE``) before cutting, but only
when that saves a window: a recording that needs as many windows either way is left as
recorded, so what already fits is transcribed exactly as before.

Pauses are found by frame energy relative to the recording's own loud frames, so a noisy
recording (no frame that quiet) simply keeps its pauses; every shortened pause keeps
``MAX_PAUSE / 2`` of quiet on each side, so soft word onsets and endings stay whole.

On the bench's 20 synthesized dictations this saves one window of 27 (30.4 s: 25 s + 5.3 s
becomes 29.9 s) with WER and F1 unchanged (that transcript differs by one capital letter):
TTS voices pause only 0.15-0.35 s, so little is left to cut. Also playing the longer ones up
to 15% faster (FFmpeg's ``atempo``) to fit would save three more, but it raised one held-out
voice's WER (.099 -> .125): not done.
"""

import numpy as np

from ..audio import SAMPLE_RATE, split_at_pauses

FRAME = SAMPLE_RATE // 50  # 20 ms
QUIET_DB = -35.0  # a frame this far below the loud (95th percentile) frames is a pause
MAX_PAUSE = 0.1  # seconds of a long pause kept (bench TTS pauses are 0.15-0.35 s: 0.3 s would change nothing)


def whisper_windows(samples: np.ndarray, max_seconds: float = 30.0) -> list[np.ndarray]:
    """``samples`` cut at pauses into pieces of at most ``max_seconds``, pauses shortened where that
    means fewer pieces."""
    pieces = split_at_pauses(samples, max_seconds)
    if len(pieces) == 1:
        return pieces
    packed = split_at_pauses(shorten_pauses(samples, MAX_PAUSE), max_seconds)
    return packed if len(packed) < len(pieces) else pieces


def shorten_pauses(samples: np.ndarray, max_pause: float) -> np.ndarray:
    """``samples`` with each run of quiet 20 ms frames longer than ``max_pause`` seconds cut down to
    ``max_pause``: its first and last halves are kept, the middle dropped."""
    frames = samples[: samples.size // FRAME * FRAME].reshape(-1, FRAME)
    if not frames.size:
        return samples
    rms = np.sqrt((frames.astype(np.float64) ** 2).mean(axis=1))
    quiet = rms < np.percentile(rms, 95) * 10 ** (QUIET_DB / 20)
    # runs of quiet frames: [start, end) frame indices from the edges of the padded mask
    edges = np.flatnonzero(np.diff(np.concatenate([[False], quiet, [False]]).astype(np.int8)))
    keep_each_side = round(max_pause * SAMPLE_RATE / 2)
    keep, position = [], 0
    for start, end in edges.reshape(-1, 2) * FRAME:
        if end - start > 2 * keep_each_side:
            keep.append(samples[position : start + keep_each_side])
            position = end - keep_each_side
    keep.append(samples[position:])
    return np.concatenate(keep)
