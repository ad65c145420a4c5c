import random

import jsonschema
from boya_medreport import dictations, vocabulary
from boya_medreport.extract import linearize


def test_generated_reports_follow_the_schema_and_vocabulary():
    rng = random.Random(0)
    validator = jsonschema.Draft202012Validator(vocabulary.schema())
    for split in ("train", "heldout"):
        for _ in range(100):
            row = dictations.dictation(rng, split)
            validator.validate(row["report"])
            for f in row["report"]["findings"]:
                assert f["observation"] in vocabulary.observations()
                assert f["location"] is None or f["location"] in vocabulary.locations()
            assert row["report"]["critical"] == any(
                f["present"] and vocabulary.is_critical(f["observation"]) for f in row["report"]["findings"]
            )


def test_heldout_phrasings_differ_from_training_phrasings():
    train = {dictations.finding_sentence(random.Random(i), "chest", "train")[0] for i in range(400)}
    rng = random.Random(1)
    heldout = [dictations.pick(rng, dictations.ABSENT, "heldout") for _ in range(200)]
    unseen = set(dictations.ABSENT[18:])
    assert sum(t in unseen for t in heldout) > 100
    assert not any(t.format(f="x", F="X") in {s.replace("pneumothorax", "x") for s in train} for t in unseen)


def test_generator_covers_negation_lists_hedges_sizes_and_spoken_forms():
    rng = random.Random(3)
    rows = [dictations.dictation(rng, "train") for _ in range(300)]
    text = " ".join(r["dictation"] for r in rows)
    assert " or " in text and "period" in text and "comma" in text
    assert any(f.get("certainty") == "possible" for r in rows for f in r["report"]["findings"])
    assert any(f["size_mm"] for r in rows for f in r["report"]["findings"])
    assert any(not f["present"] for r in rows for f in r["report"]["findings"])


def test_linearized_findings_round_trip():
    findings = [
        {
            "observation": "pulmonary nodule",
            "status": "present",
            "location": "right upper lobe",
            "size": "12 x 9 mm",
        },
        {"observation": "pneumothorax", "status": "absent", "location": None, "size": None},
    ]
    assert linearize.parse(linearize.linearize(findings)) == findings
    assert linearize.parse("none") == []
    assert linearize.parse("garbage = maybe") == []
    assert linearize.parse("pneumothorax = absent | junk") == [
        {"observation": "pneumothorax", "status": "absent", "location": None, "size": None}
    ]


def test_size_in_mm_is_the_largest_dimension():
    assert dictations.size_mm("1.2 x 0.9 cm") == 12
    assert dictations.size_mm("6 x 15 x 4 mm") == 15


def test_with_name_swaps_the_patient_name_in_written_and_spoken_dictations():
    assert not set(dictations.UNSEEN_FIRST) & set(dictations.FIRST)
    assert not set(dictations.UNSEEN_LAST) & set(dictations.LAST)
    rng = random.Random(3)
    rows = [dictations.dictation(rng, "heldout", spoken=spoken) for spoken in (False, True) * 40]
    rows += [dictations.dictation(random.Random(s), "heldout", spoken=True) for s in range(200)]
    saints = [r for r in rows if "St. Clair" in r["report"]["patient"]["name"]]
    assert saints and any("Saint Clair" in r["dictation"] for r in saints)  # the spoken form is swapped too
    for row in rows:
        old = row["report"]["patient"]["name"]
        swapped = dictations.with_name(row, "Oscar Becker")
        assert (
            swapped["report"]["patient"]["name"] == "Oscar Becker" and "Oscar Becker" in swapped["dictation"]
        )
        assert old not in swapped["dictation"] and old.replace("St. ", "Saint ") not in swapped["dictation"]
        assert (
            swapped["report"]["findings"] == row["report"]["findings"]
            and row["report"]["patient"]["name"] == old
        )
