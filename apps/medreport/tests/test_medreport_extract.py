"""The embedded extraction model end to end (it ships in the package), and the recipe's code path on a tiny model."""

import json

import jsonschema
import pytest
from boya.errors import BoyaError
from boya_medreport import vocabulary
from boya_medreport.extract import extract, extract_many, linearize, recipe
from boya_medreport.extract.model import Extractor, build_model, save, train_tokenizer


def test_sectioned_dictation_to_report():
    report = extract(
        "Patient Ann Lee, medical record number four two four two, date of birth 3/4/1950, female. "
        "Exam: CT of the chest with contrast. Indication: rule out pneumothorax. "
        "Findings: There is a pneumothorax in the right pleural space. No pleural effusion or consolidation. "
        "A 1.2 x 0.9 cm nodule in the left upper lobe. Impression: pneumothorax."
    )
    jsonschema.validate(report, vocabulary.schema())
    assert report["patient"] == {
        "name": "Ann Lee",
        "mrn": "4242",
        "birth_date": "1950-03-04",
        "sex": "female",
    }
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
    report = extract(
        "this is an x-ray of the left knee for Omar Ivanova comma a male patient comma MRN four three six nine two seven "
        "comma born March third nineteen sixty six period new paragraph there is a joint effusion period "
        "a meniscal tear cannot be excluded period no fracture period"
    )
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
    texts = [
        "Exam: CT head. Findings: No hemorrhage.",
        "Exam: x-ray of the right wrist. Findings: Fracture of the distal radius.",
    ]
    reports = extract_many(texts)
    assert reports[0]["findings"][0]["observation"] == "intracranial hemorrhage"
    assert (
        reports[1]["findings"][0]["observation"] == "fracture" and reports[1]["exam"]["laterality"] == "right"
    )


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


def _transformers_greedy(model, extractor, inputs, max_new_tokens):
    """What transformers' own generate decodes: the reference our plain-torch T5 must equal token for token."""
    import torch
    from boya_medreport.extract.model import EOS, PAD

    ids = extractor.encode(inputs)
    width = max(map(len, ids))
    input_ids = torch.tensor([row + [PAD] * (width - len(row)) for row in ids])
    with torch.no_grad():
        out = model.generate(
            input_ids=input_ids,
            attention_mask=(input_ids != PAD).long(),
            max_new_tokens=max_new_tokens,
            do_sample=False,
            num_beams=1,
            decoder_start_token_id=PAD,
            eos_token_id=EOS,
            pad_token_id=PAD,
        )
    return [extractor.tokenizer.decode([t for t in row.tolist() if t > 2]).strip() for row in out]


def test_saved_model_decodes_as_transformers_does(tmp_path):
    """A freshly initialised tiny model, saved in fp16 and reloaded: our decoder equals transformers' generate."""
    tokenizer = train_tokenizer(
        ["chest: no effusion.", "knee: small joint effusion and a tear.", linearize.linearize([])], 280
    )
    model = build_model(tokenizer.get_vocab_size(), "tiny").half().float().eval()
    save(model, tokenizer, tmp_path, {"recipe": "medreport-extract", "seed": 0})
    loaded = Extractor(tmp_path)
    inputs = ["chest: no effusion.", "knee: a small joint effusion and a tear of the meniscus, no fracture."]
    assert loaded.run(inputs, max_new_tokens=12) == _transformers_greedy(model, loaded, inputs, 12)


def test_embedded_model_decodes_as_transformers_does():
    from boya_medreport.extract.model import WEIGHTS_DIR, embedded
    from safetensors.torch import load_file
    from transformers import T5Config, T5ForConditionalGeneration

    model = T5ForConditionalGeneration(T5Config.from_json_file(str(WEIGHTS_DIR / "config.json")))
    state = {k: v.float() for k, v in load_file(str(WEIGHTS_DIR / "model.safetensors")).items()}
    model.load_state_dict(state, strict=False)
    model.tie_weights()
    inputs = [
        "chest: there is a small right pleural effusion and no pneumothorax.",
        "knee: joint effusion.",
        "head: no acute intracranial hemorrhage, mass effect or midline shift.",
    ]
    assert embedded().run(inputs) == _transformers_greedy(model.eval(), embedded(), inputs, 96)


def test_weights_that_do_not_match_their_config_are_refused(tmp_path):
    from safetensors.torch import load_file, save_file

    tokenizer = train_tokenizer(["chest: no effusion.", linearize.linearize([])], 280)
    save(
        build_model(tokenizer.get_vocab_size(), "tiny"),
        tokenizer,
        tmp_path,
        {"recipe": "medreport-extract", "seed": 0},
    )
    state = load_file(str(tmp_path / "model.safetensors"))
    state.pop("decoder.final_layer_norm.weight")
    save_file(state, str(tmp_path / "model.safetensors"))
    with pytest.raises(BoyaError, match="do not match"):
        Extractor(tmp_path)
