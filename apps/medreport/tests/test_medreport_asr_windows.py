import numpy as np
from boya_medreport.asr.windows import MAX_PAUSE, shorten_pauses, whisper_windows
from boya_medreport.audio import SAMPLE_RATE


def speechlike(seconds, seed=0):
    """Voiced-looking audio (a modulated tone plus noise) whose every 20 ms frame is loud."""
    rng = np.random.default_rng(seed)
    t = np.arange(round(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return (0.3 * np.sin(2 * np.pi * 180 * t) * (1.2 + np.sin(2 * np.pi * 3 * t)) + 0.02 * rng.standard_normal(t.size)).astype(np.float32)  # fmt: skip


def silence(seconds):
    return np.zeros(round(seconds * SAMPLE_RATE), np.float32)


def test_long_pauses_are_capped_and_speech_kept_intact():
    words = [speechlike(2.0, 1), speechlike(3.0, 2), speechlike(1.0, 3)]
    samples = np.concatenate(
        [silence(0.6), words[0], silence(1.0), words[1], silence(0.04), words[2], silence(2.0)]
    )
    out = shorten_pauses(samples, MAX_PAUSE)
    # the leading, the 1 s and the trailing pause drop to MAX_PAUSE; the 40 ms gap between words stays
    gap, pause = round(0.04 * SAMPLE_RATE), round(MAX_PAUSE * SAMPLE_RATE)
    assert out.size == sum(w.size for w in words) + gap + 3 * pause
    loud = np.flatnonzero(out)
    pieces = np.split(out[loud], np.cumsum([w.size for w in words])[:-1])
    for piece, word in zip(pieces, words, strict=True):
        np.testing.assert_array_equal(piece, word[word != 0])  # every speech sample, in order
    gaps = np.diff(loud)[np.diff(loud) > 1] - 1
    assert sorted(gaps.tolist()) == [gap, pause]


def test_a_recording_without_quiet_frames_is_unchanged():
    hiss = np.random.default_rng(0).standard_normal(5 * SAMPLE_RATE).astype(np.float32)
    noisy = speechlike(5.0) + 0.1 * hiss
    np.testing.assert_array_equal(shorten_pauses(noisy, MAX_PAUSE), noisy)
    tiny = speechlike(0.01)  # shorter than one frame
    np.testing.assert_array_equal(shorten_pauses(tiny, MAX_PAUSE), tiny)


def test_a_recording_just_over_30_s_with_pauses_becomes_one_window():
    parts = []
    for i in range(6):  # 6 x 4.9 s of speech + 5 pauses of 0.5 s = 31.9 s
        parts += [speechlike(4.9, i), silence(0.5)]
    samples = np.concatenate(parts[:-1])
    (window,) = whisper_windows(samples, 30.0)
    assert window.size <= 30 * SAMPLE_RATE and np.count_nonzero(window) == np.count_nonzero(samples)


def test_windows_stay_unchanged_when_packing_saves_none():
    fits = np.concatenate([speechlike(20.0), silence(2.0), speechlike(7.0)])
    (window,) = whisper_windows(fits, 30.0)
    np.testing.assert_array_equal(window, fits)  # what fits is transcribed as recorded, pauses and all
    long = np.concatenate([speechlike(25.0), silence(1.0), speechlike(20.0)])  # 46 s: two windows either way
    windows = whisper_windows(long, 30.0)
    assert len(windows) == 2 and all(w.size <= 30 * SAMPLE_RATE for w in windows)
    np.testing.assert_array_equal(np.concatenate(windows), long)


def test_every_window_is_at_most_30_s():
    rng = np.random.default_rng(3)
    parts = []
    while sum(p.size for p in parts) < 95 * SAMPLE_RATE:
        parts += [speechlike(rng.uniform(0.5, 6.0), len(parts)), silence(rng.uniform(0.05, 1.5))]
    samples = np.concatenate(parts)
    windows = whisper_windows(samples, 30.0)
    assert all(0 < w.size <= 30 * SAMPLE_RATE for w in windows)
    assert sum(np.count_nonzero(w) for w in windows) == np.count_nonzero(samples)
