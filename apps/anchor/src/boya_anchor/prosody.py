"""Loudness and pitch per 10 ms, for head nods and tilts (live and offline alike).

Both are causal and cheap: RMS level mapped from -50..-10 dBFS onto 0..1, and an
autocorrelation pitch over the last 40 ms, reported relative to a running mean
so a deep and a high voice tilt the head the same way.
"""

import numpy as np

HOP = 160  # 10 ms at 16 kHz


class Prosody:
    def __init__(self, rate: int = 16_000):
        self.rate = rate
        self._history = np.zeros(4 * rate // 100, np.float32)
        self._mean_f0 = 0.0

    def push(self, hop: np.ndarray) -> tuple[float, float]:
        """(energy 0..1, pitch -1..1) after the next 10 ms of samples."""
        self._history = np.concatenate([self._history[len(hop) :], hop.astype(np.float32)])
        rms = float(np.sqrt(np.mean(hop * hop) + 1e-12))
        energy = float(np.clip((20 * np.log10(rms + 1e-9) + 50.0) / 40.0, 0.0, 1.0))
        if energy < 0.3:
            return energy, 0.0
        x = self._history - self._history.mean()
        lo, hi = self.rate // 400, self.rate // 70
        corr = np.correlate(x, x[: len(x) - hi], mode="valid")[lo:hi]
        if corr.size == 0 or corr.max() <= 0.3 * float(np.dot(x, x)) * (len(x) - hi) / len(x):
            return energy, 0.0
        f0 = self.rate / (lo + int(np.argmax(corr)))
        self._mean_f0 = f0 if self._mean_f0 == 0 else 0.98 * self._mean_f0 + 0.02 * f0
        return energy, float(np.clip(np.log2(f0 / self._mean_f0) * 2.0, -1.0, 1.0))


def prosody_track(samples: np.ndarray, rate: int = 16_000) -> np.ndarray:
    """(frames, 2) energy and pitch for a whole recording."""
    tracker = Prosody(rate)
    n = len(samples) // HOP
    return np.array([tracker.push(samples[i * HOP : (i + 1) * HOP]) for i in range(n)], np.float32).reshape(
        n, 2
    )
