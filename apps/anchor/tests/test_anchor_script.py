"""Script mode: synthesizer phones, mouth-shape tracks and Rhubarb export formats."""

import json
import re
import shutil

import numpy as np
import pytest
from boya.errors import BoyaError
from boya_anchor import tts
from boya_anchor.phones import ALLOWED, VISEMES, espeak_to_arpabet
from boya_anchor.score import closed_accuracy, phone_frames, set_accuracy
from boya_anchor.visemes import (
    cues_to_frames,
    frames_to_cues,
    rhubarb_json,
    rhubarb_tsv,
    shape_frames,
    viseme_weights,
)

TEXT = "Hello world, the quick brown fox jumps over my lazy dog."


def test_espeak_phones_cover_the_audio_in_order():
    speech = tts.synthesize(TEXT, "espeak:en-us")
    assert speech.rate == 22050 and speech.duration > 2.0
    starts = [a for a, _, _ in speech.phones]
    assert starts == sorted(starts)
    assert speech.phones[-1][1] == pytest.approx(speech.duration, abs=1e-6)
    assert all(p in ALLOWED for _, _, p in speech.phones)
    labels = [p for _, _, p in speech.phones]
    assert {"HH", "L", "W", "K", "B", "F", "JH", "M", "Z"} <= set(labels)
    # Speech lies where the phones say: the silent gap after "world," is quiet in the audio.
    gap = next((a, b) for a, b, p in speech.phones[3:] if p == "SIL")
    inside = speech.samples[int(gap[0] * speech.rate) + 200 : int(gap[1] * speech.rate) - 200]
    assert np.abs(inside).max() < 0.02 < np.abs(speech.samples).max()


def test_espeak_mnemonics_map_to_arpabet():
    assert espeak_to_arpabet("aI") == ("AY",)
    assert espeak_to_arpabet("@L") == ("AH0", "L")
    assert espeak_to_arpabet("t#") == ("T",)
    assert espeak_to_arpabet("_:") == ("SIL",)


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "empty"),
        ("   \n", "empty"),
        ("Hello 你好", "U+4F60"),
        ("smile 😀 please", "U+1F600"),
        ("a" * 20001, "split"),
    ],
)
def test_bad_scripts_are_refused_clearly(text, message):
    with pytest.raises(BoyaError, match=re.escape(message)):
        tts.synthesize(text)


def test_typographic_punctuation_and_accents_are_accepted():
    assert tts.clean_script("\u201cCaf\u00e9\u201d \u2014 it\u2019s  fine\u2026") == '"Café" - it\'s fine...'


def test_unknown_voice_is_a_clear_error():
    with pytest.raises(BoyaError, match="unknown voice"):
        tts.synthesize("hello", "nope:x")
    with pytest.raises(BoyaError, match="no voice"):
        tts.synthesize("hello", "espeak:xx-nothing")


@pytest.mark.skipif(not shutil.which("festival"), reason="festival not installed")
def test_festival_segments_become_arpabet_phones():
    speech = tts.synthesize("Peter bought maple butter.", "festival:kal")
    labels = [p for _, _, p in speech.phones]
    assert labels[0] == "SIL" and "P" in labels and "B" in labels
    assert speech.phones[-1][1] == pytest.approx(speech.duration, abs=1e-6)


# anticipation moved some shapes earlier
def test_script_track_obeys_rhubarb_rules_and_anticipates():
    speech = tts.synthesize(TEXT, "espeak:en-us+f3")
    truth = phone_frames(speech.phones)
    frames = shape_frames(speech.phones)
    assert set_accuracy(frames, truth) == 1.0
    assert closed_accuracy(frames, truth) > 0.95
    late = shape_frames(speech.phones, anticipation=0.0)
    assert sum(a != b for a, b in zip(frames, late, strict=True)) > 0


def test_bilabials_close_the_mouth():
    speech = tts.synthesize("Mama made a big map.", "espeak:en-us")
    frames = shape_frames(speech.phones)
    for start, end, phone in speech.phones:
        if phone in ("M", "B", "P"):
            assert "A" in frames[int(round(start * 100)) : int(round(end * 100))]


def test_viseme_weights_are_distributions_with_the_right_winner():
    speech = tts.synthesize("Papa fought the snake.", "espeak:en-us")
    weights = viseme_weights(speech.phones)
    assert weights.shape[1] == len(VISEMES) == 15
    assert np.allclose(weights.sum(1), 1.0, atol=1e-5)
    for start, end, phone in speech.phones:
        if phone == "P" and end - start > 0.03:
            mid = int(round((start + end) / 2 * 100))
            assert VISEMES[int(np.argmax(weights[mid]))] == "PP"


def test_rhubarb_export_formats_round_trip():
    frames = list("XXXBBBCCDDDDAAX")
    cues = frames_to_cues(frames)
    assert cues[0] == {"start": 0.0, "end": 0.03, "value": "X"}
    assert cues_to_frames(cues, len(frames)) == frames
    doc = json.loads(rhubarb_json(cues, "a.wav", 0.15))
    assert doc["metadata"] == {"soundFile": "a.wav", "duration": 0.15} and doc["mouthCues"] == cues
    tsv = rhubarb_tsv(cues).splitlines()
    assert tsv[0] == "0.00\tX" and tsv[-1] == "0.15\tX" and len(tsv) == len(cues) + 1
