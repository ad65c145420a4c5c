"""Whisper's front end: 16 kHz samples -> the log-mel spectrogram of one 30 s window, in torch.

It computes what transformers' ``WhisperFeatureExtractor`` computes (its torch path), so a
checkpoint sees the features it was trained on without importing transformers: the window
is zero-padded to 30 s, a 400-point STFT (periodic Hann window, hop 160, reflect-padded
centre) gives power spectra, Slaney-normalised mel filters (0-8 kHz, on the Slaney mel scale)
pool them, and the log10 is clamped to 8 decades below its maximum and scaled by (x + 4) / 4.
"""

from functools import lru_cache

import numpy as np

SAMPLE_RATE = 16_000
N_FFT = 400
HOP_LENGTH = 160
WINDOW_SAMPLES = 30 * SAMPLE_RATE  # 3000 frames: the encoder's fixed input length


def log_mel(samples: np.ndarray, num_mel_bins: int = 80):
    """``(1, num_mel_bins, 3000)`` float32 features of up to 30 s of 16 kHz mono audio."""
    import torch

    if samples.size > WINDOW_SAMPLES:
        samples = samples[:WINDOW_SAMPLES]
    waveform = torch.zeros(WINDOW_SAMPLES, dtype=torch.float32)
    waveform[: samples.size] = torch.from_numpy(np.ascontiguousarray(samples, dtype=np.float32))
    stft = torch.stft(waveform, N_FFT, HOP_LENGTH, window=torch.hann_window(N_FFT), return_complex=True)
    power = (stft[..., :-1].abs() ** 2).contiguous()  # the last frame is dropped, as in transformers
    mel = torch.from_numpy(mel_filters(num_mel_bins)).T @ power
    log_spec = torch.clamp(mel, min=1e-10).log10()
    log_spec = torch.maximum(log_spec, log_spec.max() - 8.0)
    return ((log_spec + 4.0) / 4.0).unsqueeze(0)


@lru_cache(maxsize=2)
def mel_filters(num_mel_bins: int) -> np.ndarray:
    """``(201, num_mel_bins)`` triangular filters, Slaney mel scale and area normalisation (as librosa's default)."""
    fft_freqs = np.linspace(0, SAMPLE_RATE // 2, 1 + N_FFT // 2)
    mels = np.linspace(_hertz_to_mel(0.0), _hertz_to_mel(8000.0), num_mel_bins + 2)
    edges = _mel_to_hertz(mels)
    widths = np.diff(edges)
    slopes = edges[None, :] - fft_freqs[:, None]
    down = -slopes[:, :-2] / widths[:-1]
    up = slopes[:, 2:] / widths[1:]
    filters = np.maximum(0.0, np.minimum(down, up))
    filters *= 2.0 / (edges[2 : num_mel_bins + 2] - edges[:num_mel_bins])
    return filters.astype(np.float32)


# the Slaney mel scale: linear below 1 kHz (3 mels per 200 Hz), logarithmic above
_MIN_LOG_HERTZ, _MIN_LOG_MEL, _LOGSTEP = 1000.0, 15.0, 27.0 / np.log(6.4)


def _hertz_to_mel(freq):
    freq = np.asarray(freq, dtype=np.float64)
    return np.where(
        freq >= _MIN_LOG_HERTZ,
        _MIN_LOG_MEL + np.log(np.maximum(freq, _MIN_LOG_HERTZ) / _MIN_LOG_HERTZ) * _LOGSTEP,
        3.0 * freq / 200.0,
    )


def _mel_to_hertz(mels):
    mels = np.asarray(mels, dtype=np.float64)
    return np.where(
        mels >= _MIN_LOG_MEL, _MIN_LOG_HERTZ * np.exp((mels - _MIN_LOG_MEL) / _LOGSTEP), 200.0 * mels / 3.0
    )
