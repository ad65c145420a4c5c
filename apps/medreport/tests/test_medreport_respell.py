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


def test_a_word_split_in_two_is_joined_only_when_neither_half_is_a_vocabulary_word():
    from boya_medreport.respell import respelled_pair

    assert respelled_pair("male", "alignment") == "malalignment"
    assert respelled_pair("Male", "alignment.") is None  # punctuation ends a word
    assert respelled_pair("joint", "effusion") is None  # two vocabulary words stay two
    assert respelled_pair("the", "end") is None
    assert (
        normalize("Free of male alignment with dislocation period")
        == "Free of malalignment with dislocation."
    )
    assert respelled_pair("no", "subdaphragmatic") is None  # the second is respelled on its own
