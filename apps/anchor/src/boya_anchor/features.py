"""Causal 80-band log-mel features at 16 kHz, one frame per 10 ms, computed incrementally.

Frame ``i`` sees only the 25 ms of audio that end with hop ``i``, so a live stream
and a whole file give the same numbers (tests check this), and the live mouth
never waits for audio it has not heard.
"""

import numpy as np

RATE = 16_000
HOP = 160
WINDOW = 400
N_FFT = 512
N_MELS = 80


def mel_filterbank(
    n_mels: int = N_MELS,
    n_fft: int = N_FFT,
    rate: int = RATE,
    fmin: float = 50.0,
    fmax: float = 7600.0,
    warp: float = 1.0,
):
    """(n_fft//2+1, n_mels) triangular filters on the HTK mel scale.

    ``warp`` != 1 moves every filter to ``warp`` times its frequency (piecewise linear,
    so the top edge stays at ``fmax``): vocal-tract-length perturbation, which makes
    one recorded speaker sound like a speaker with a shorter or longer vocal tract.
    """

    def mel(f):
        return 2595.0 * np.log10(1.0 + f / 700.0)

    def hz(m):
        return 700.0 * (10 ** (m / 2595.0) - 1.0)

    edges = hz(np.linspace(mel(fmin), mel(fmax), n_mels + 2))
    if warp != 1.0:
        knee = 0.8 * fmax * min(1.0, 1.0 / warp)
        edges = np.where(
            edges <= knee, edges * warp, warp * knee + (edges - knee) * (fmax - warp * knee) / (fmax - knee)
        )
    bins = np.fft.rfftfreq(n_fft, 1.0 / rate)
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (bins[None, :] - lower) / (centre - lower)
    falling = (upper - bins[None, :]) / (upper - centre)
    return np.maximum(0.0, np.minimum(rising, falling)).T.astype(np.float32)


_MEL = mel_filterbank()
_WINDOW = np.hanning(WINDOW).astype(np.float32)


def log_mel(samples: np.ndarray, warp: float = 1.0) -> np.ndarray:
    """(len(samples)//160, 80) features of a whole recording (16 kHz mono float32); ``warp``: see :func:`mel_filterbank`."""
    n = len(samples) // HOP
    padded = np.concatenate([np.zeros(WINDOW - HOP, np.float32), samples[: n * HOP].astype(np.float32)])
    idx = np.arange(WINDOW)[None, :] + HOP * np.arange(n)[:, None]
    frames = padded[idx] * _WINDOW
    power = np.abs(np.fft.rfft(frames, N_FFT)) ** 2
    bank = _MEL if warp == 1.0 else mel_filterbank(warp=warp)
    return np.log(power @ bank + 1e-6).astype(np.float32)


class StreamingLogMel:
    """Feed any number of samples; get the feature rows of every completed 10 ms hop."""

    def __init__(self):
        self._buffer = np.zeros(WINDOW - HOP, np.float32)

    def push(self, samples: np.ndarray) -> np.ndarray:
        self._buffer = np.concatenate([self._buffer, samples.astype(np.float32)])
        n = (len(self._buffer) - (WINDOW - HOP)) // HOP
        if n <= 0:
            return np.zeros((0, N_MELS), np.float32)
        idx = np.arange(WINDOW)[None, :] + HOP * np.arange(n)[:, None]
        frames = self._buffer[idx] * _WINDOW
        self._buffer = self._buffer[n * HOP :]
        power = np.abs(np.fft.rfft(frames, N_FFT)) ** 2
        return np.log(power @ _MEL + 1e-6).astype(np.float32)
