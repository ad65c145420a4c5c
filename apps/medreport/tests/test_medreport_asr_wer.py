import shutil

import numpy as np
import pytest
from boya.errors import BoyaError
from boya_medreport.asr.speech import HELD_OUT_VOICES, TRAIN_VOICES, VOICES, augment, synthesize
from boya_medreport.asr.wer import score_words, word_error_rate

needs_espeak = pytest.mark.skipif(
    shutil.which("espeak-ng") is None, reason="needs espeak-ng (apt-get install -y espeak-ng)"
)


def test_word_error_rate_counts_edits_over_reference_words():
    assert word_error_rate(["no acute abnormality"], ["no cute abnormality"]) == pytest.approx(1 / 3)
    assert word_error_rate(
        ["no acute abnormality", "small effusion"], ["no acute abnormality", "small effusion here"]
    ) == pytest.approx(1 / 5)
    with pytest.raises(ValueError):
        word_error_rate([""], ["anything"])


def test_written_comparison_matches_spoken_and_written_forms():
    spoken, written = (
        "nodule of twelve point five millimeters period MRN one two three four",
        "Nodule of 12.5 mm. MRN 1234",
    )
    assert word_error_rate([spoken], [written]) == 0.0
    assert word_error_rate([spoken], [written], written=False) > 0.5
    assert score_words("Level C5-C6, 3/4 of 12.5 mm.") == "level c5-c6 3/4 of 12.5 mm"


def test_voice_sets_are_disjoint_and_cover_every_engine():
    assert not set(TRAIN_VOICES) & set(HELD_OUT_VOICES)
    engines = lambda names: {VOICES[name][0] for name in names}  # noqa: E731
    assert engines(TRAIN_VOICES) == engines(HELD_OUT_VOICES) == {"espeak-ng", "flite", "festival"}
    with pytest.raises(BoyaError, match="unknown voice"):
        synthesize("hello", "robot")


@needs_espeak
def test_synthesize_and_augment():
    samples = synthesize("no acute abnormality", "espeak-us")
    assert samples.dtype == np.float32 and 0.5 < samples.size / 16_000 < 5
    faster = synthesize("no acute abnormality", "espeak-us", speed=1.5)
    assert faster.size < samples.size * 0.85

    rng = np.random.default_rng(0)
    assert abs(augment(samples, rng, speed=1.25).size - samples.size / 1.25) < 2
    noisy = augment(samples, rng, snr_db=10.0)
    snr = 10 * np.log10(np.mean(samples**2) / np.mean((noisy - samples) ** 2))
    assert 9.0 < snr < 11.0


class ParrotPlugin:
    """A third-party ASR backend registered through the app's hook: always hears the same words."""

    from boya import hookimpl

    @hookimpl
    def asr_backends(self, register):
        class Parrot:
            def transcribe(self, samples, prompt=None):
                return "No acute abnormality, period."

        register("parrot", lambda model=None: Parrot())


@needs_espeak
def test_wer_by_voice_through_a_plugin_backend():
    from boya.plugins import pm
    from boya_medreport import asr
    from boya_medreport.asr.wer import wer_by_voice

    pm.register(ParrotPlugin(), name="test-parrot-asr")
    asr.load_transcriber.cache_clear()
    try:
        assert "parrot" in asr.backends()
        result = wer_by_voice(
            ["no acute abnormality period", "no acute fracture period"],
            voices=("espeak-us",),
            backend="parrot",
        )
    finally:
        pm.unregister(name="test-parrot-asr")
        asr.load_transcriber.cache_clear()
    assert result["wer"] == {"espeak-us": round(1 / 6, 4)}  # one substitution in six words
    assert result["audio_seconds"] > 1
