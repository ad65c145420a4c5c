"""The embedded extraction model end to end (it ships in the package), and the recipe's code path on a tiny model."""

import json

import jsonschema
import pytest
from boya.errors import BoyaError

from boya_medreport import vocabulary
from boya_medreport.extract import extract, extract_many, linearize, recipe
from boya_medreport.extract.model import Extractor, build_model, save, train_tokenizer


def test_sectioned_dictation_to_report():
    report = extract("Patient Ann Lee, medical record number four two four two, date of birth 3/4/1950, female. "
                     "Exam: CT of the chest with contrast. Indication: rule out pneumothorax. "
                     "Findings: There is a pneumothorax in the right pleural space. No pleural effusion or consolidation. "
                     "A 1.2 x 0.9 cm nodule in the left upper lobe. Impression: pneumothorax.")
    jsonschema.validate(report, vocabulary.schema())
    assert report["patient"] == {"name": "Ann Lee", "mrn": "4242", "birth_date": "1950-03-04", "sex": "female"}
    assert report["exam"] == {"modality": "CT", "body_part": "chest", "laterality": None, "contrast": True}
    got = {(f["observation"], f["present"]): (f["location"], f["size_mm"]) for f in report["findings"]}
    assert got[("pneumothorax", True)] == ("right pleural space", None)
    assert ("pleural effusion", False) in got and ("consolidation", False) in got
    assert ("pulmonary nodule", True) in got
    assert report["critical"] is True and report["alerts"]
    assert report["indication"].lower() == "rule out pneumothorax"


def test_location_and_size_are_copied_from_an_unseen_phrasing():
    """The shipped model alone writes "left lower lobe" and drops the size here; the lexicon takes both from the sentence."""
    report = extract("Exam: chest x-ray. Findings: A 1.2 x 0.9 cm nodule in the left upper lobe.")
    assert [(f["location"], f["size_mm"]) for f in report["findings"]] == [("left upper lobe", 12)]


def test_spoken_narrative_dictation_and_hedge():
    report = extract("this is an x-ray of the left knee for Omar Ivanova comma a male patient comma MRN four three six nine two seven "
                     "comma born March third nineteen sixty six period new paragraph there is a joint effusion period "
                     "a meniscal tear cannot be excluded period no fracture period")
    assert report["patient"]["mrn"] == "436927" and report["patient"]["birth_date"] == "1966-03-03"
    assert report["exam"]["laterality"] == "left" and report["exam"]["body_part"] == "knee"
    got = {(f["observation"], f["present"]): f for f in report["findings"]}
    assert ("joint effusion", True) in got and ("fracture", False) in got
    assert got[("meniscal tear", True)].get("certainty") == "possible"


def test_bad_text_is_a_clear_error_and_delimiters_are_harmless():
    with pytest.raises(BoyaError, match="empty"):
        extract("  \x00\x07 ")
    with pytest.raises(BoyaError, match="limit"):
        extract("no effusion. " * 3000)
    report = extract("Patient A|B^C, MRN 12&34. Exam: chest x-ray. Findings: no ~pneumothorax\\ \x1b.")
    json.dumps(report)
    assert report["exam"]["body_part"] == "chest"


def test_batch_keeps_order():
    texts = ["Exam: CT head. Findings: No hemorrhage.", "Exam: x-ray of the right wrist. Findings: Fracture of the distal radius."]
    reports = extract_many(texts)
    assert reports[0]["findings"][0]["observation"] == "intracranial hemorrhage"
    assert reports[1]["findings"][0]["observation"] == "fracture" and reports[1]["exam"]["laterality"] == "right"


@pytest.mark.slow
def test_recipe_trains_a_tiny_model_through_the_runtime(tmp_path):
    from boya.runtime import TrainConfig

    config = TrainConfig(out_dir=str(tmp_path / "run"), max_steps=3, lr=1e-3, progress=False, threads=1)
    path = recipe.train(config, n_examples=64, size="tiny", vocab_size=300, batch_size=16)
    loaded = Extractor(path)
    assert loaded.recipe["recipe"] == "medreport-extract" and loaded.recipe["seed"] == 0
    assert len(loaded.run(["chest: no effusion."], max_new_tokens=5)) == 1


def test_model_directory_without_weights_is_a_clear_error(tmp_path):
    with pytest.raises(BoyaError, match="no extraction model"):
        Extractor(tmp_path)


def test_saved_model_reloads_identically(tmp_path):
    import torch

    tokenizer = train_tokenizer(["chest: no effusion.", linearize.linearize([])], 280)
    model = build_model(tokenizer.get_vocab_size(), "tiny")
    save(model, tokenizer, tmp_path, {"recipe": "medreport-extract", "seed": 0})
    loaded = Extractor(tmp_path)
    ids = torch.tensor([[5, 6, 1]])
    with torch.no_grad():
        a = model.half().float()(input_ids=ids, decoder_input_ids=ids).logits
        b = loaded.model(input_ids=ids, decoder_input_ids=ids).logits
    assert torch.allclose(a, b, atol=1e-4)
