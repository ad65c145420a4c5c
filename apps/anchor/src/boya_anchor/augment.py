"""Make clean synthetic speech sound like a streamer's microphone or a phone line.

A model that only ever heard clean synthesizers fails on real voices, so training
audio gets random gain, tempo, room reverb, band-limiting (telephone 300-3400 Hz
at 8 kHz, or a cheap-mic low-pass), mu-law companding and background noise.
Tempo changes return the time factor so phone times can follow.

A voice the model never heard differs mostly in vocal-tract length (formant
positions) and pitch: the speed change (resampling, which shifts formants, pitch
and tempo together) and :func:`speaker_warp` (a frequency warp applied to the
mel filters, :func:`.features.mel_filterbank`) turn each training speaker,
synthetic or human, into many.
"""

import numpy as np
from scipy.signal import butter, fftconvolve, resample_poly, sosfilt

from .features import RATE


def reverb(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Convolve with a synthetic room: exponentially decaying noise, RT60 0.1-0.6 s, plus the direct path."""
    rt60 = rng.uniform(0.1, 0.6)
    n = int(rt60 * RATE)
    t = np.arange(n) / RATE
    tail = rng.standard_normal(n) * np.exp(-6.9 * t / rt60)
    ir = np.concatenate(
        [[1.0], np.zeros(int(rng.uniform(0.002, 0.02) * RATE)), tail * rng.uniform(0.05, 0.3)]
    )
    wet = fftconvolve(x, ir)[: len(x)]
    return wet / (np.max(np.abs(wet)) + 1e-9) * np.max(np.abs(x))


def band_limit(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    if rng.random() < 0.55:  # telephone: 8 kHz, 300-3400 Hz, mu-law
        low = resample_poly(x, 1, 2)
        low = sosfilt(butter(4, [300, 3400], "bandpass", fs=8000, output="sos"), low)
        mu = 255.0
        low = np.sign(low) * np.log1p(mu * np.minimum(1, np.abs(low))) / np.log1p(mu)
        low = np.round(low * 127) / 127
        low = np.sign(low) * ((1 + mu) ** np.abs(low) - 1) / mu
        return resample_poly(low, 2, 1)[: len(x)]
    cutoff = rng.uniform(3000, 7000)
    return sosfilt(butter(4, [rng.uniform(60, 250), cutoff], "bandpass", fs=RATE, output="sos"), x)


def noise(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    white = rng.standard_normal(len(x))
    colour = rng.integers(3)
    if colour:  # pink-ish or brown-ish: integrate white noise with a leak
        white = sosfilt(butter(1, 1000 if colour == 1 else 200, fs=RATE, output="sos"), white)
    power = np.mean(x**2) + 1e-12
    snr_db = rng.uniform(5, 35)
    return x + white * np.sqrt(power / (np.mean(white**2) + 1e-12) / 10 ** (snr_db / 10))


def augment(x: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """A randomly degraded copy of ``x`` (16 kHz) and the factor its duration was scaled by."""
    factor = 1.0
    if rng.random() < 0.6:
        up = int(rng.integers(85, 116))
        x = resample_poly(x, up, 100)
        factor = up / 100
    if rng.random() < 0.5:
        x = reverb(x, rng)
    if rng.random() < 0.75:
        x = band_limit(x, rng)
    if rng.random() < 0.7:
        x = noise(x, rng)
    x = x * 10 ** (rng.uniform(-25, 6) / 20)
    return np.clip(x, -1, 1).astype(np.float32), factor


def speaker_warp(rng: np.random.Generator) -> float:
    """A vocal-tract-length perturbation factor for :func:`.features.log_mel`: 1 a fifth of the time, else 0.84-1.18."""
    return 1.0 if rng.random() < 0.2 else float(np.exp(rng.uniform(np.log(0.84), np.log(1.18))))
