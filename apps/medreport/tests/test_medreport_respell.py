import pytest
from boya_medreport.normalize import normalize
from boya_medreport.respell import respelled


@pytest.mark.parametrize(
    ("heard", "meant"),
    [
        ("intruminal", "intraluminal"),  # Whisper's near-miss spellings of long medical words
        ("subdaphragmatic", "subdiaphragmatic"),
        ("micro-mascular", "microvascular"),
        ("supraspanatus", "supraspinatus"),
        ("diverchiculitis", "diverticulitis"),  # a long word: two letters off
        ("sub-diaphragmatic", "subdiaphragmatic"),  # a vocabulary word with a hyphen
    ],
)
def test_misspelled_vocabulary_words_are_respelled(heard, meant):
    assert respelled(heard) == meant


@pytest.mark.parametrize(
    "word",
    [
        "collection",  # English words near a vocabulary word differ in the ending ("collecting") ...
        "inflated",
        "degenerated",
        "basilar",  # ... or by a prefix ("bibasilar")
        "effusions",  # inflections and vocabulary words themselves stay
        "pneumothorax",
        "opacities",
        "XXXX",
        "patient",  # short or unrelated words are never looked up as misspellings
    ],
)
def test_other_words_are_left_alone(word):
    assert respelled(word) is None


def test_normalize_respells_in_place_keeping_capitals():
    assert (
        normalize("Intruminal thrombus period no subdaphragmatic free air")
        == "Intraluminal thrombus. No subdiaphragmatic free air"
    )
