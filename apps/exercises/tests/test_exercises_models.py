"""The trained models: knowledge tracing and the GPT-2 wording model, each trained for a few steps by boya.runtime."""

from pathlib import Path

import pytest
from boya.errors import BoyaError
from boya.runtime import TrainConfig
from boya_exercises import kt
from boya_exercises.exercise import generate
from boya_exercises.verify import verify
from boya_exercises.wording import Facts

DATA = Path(__file__).parent / "data"


def test_read_logs_and_malformed_files(tmp_path):
    students = kt.read_logs(DATA / "sample_builder_train.csv")
    assert len(students) == 80 and all(len(s) == len(a) for s, a in students)
    bad = tmp_path / "bad.csv"
    bad.write_text("3\n1,2,3\n1,0\n")
    with pytest.raises(BoyaError, match="inconsistent"):
        kt.read_logs(bad)
    bad.write_text("2\n1,2\n")
    with pytest.raises(BoyaError, match="3 lines per student"):
        kt.read_logs(bad)


def test_auc_is_the_mann_whitney_statistic():
    import numpy as np

    assert kt.auc(np.array([0.9, 0.8, 0.2, 0.1]), np.array([1, 1, 0, 0])) == 1.0
    assert kt.auc(np.array([0.5, 0.5]), np.array([1, 0])) == 0.5


@pytest.mark.slow
def test_kt_recipe_trains_saves_and_predicts(tmp_path):
    from boya_exercises.recipes import train_kt

    config = TrainConfig(
        out_dir=str(tmp_path / "kt"),
        max_steps=4,
        lr=3e-3,
        data=str(DATA / "sample_builder_train.csv"),
        progress=False,
    )
    weights = train_kt(config)
    model, model_config = kt.load(weights.parent)
    probabilities, labels = kt.predict(
        model, kt.read_logs(DATA / "sample_builder_test.csv"), model_config.n_skills
    )
    assert len(probabilities) == len(labels) > 100
    assert ((probabilities > 0) & (probabilities < 1)).all()
    assert 0.0 <= kt.auc(probabilities, labels) <= 1.0


def test_wording_tokenizer_round_trips():
    from boya_exercises.wording_gpt2 import WordingTokenizer, build_vocab, corpus

    pairs = corpus(40, 1)
    tokenizer = WordingTokenizer(build_vocab(pairs))
    for prompt, story in pairs:
        assert tokenizer.decode(tokenizer.encode(prompt + story)) == prompt + story


@pytest.mark.slow
def test_wording_model_trains_and_unverifiable_stories_fall_back(tmp_path):
    from boya_exercises.wording_gpt2 import ModelWriter, train

    config = TrainConfig(out_dir=str(tmp_path / "gpt2"), max_steps=3, lr=3e-3, batch_size=8, progress=False)
    weights = train(config, lines=60)
    writer = ModelWriter.load(weights.parent)
    story = writer.write("3.OA.C.7", Facts("mul", ("7", "8")), 0)
    assert isinstance(story, str)
    for seed in range(3):
        exercise = generate("3.OA.C.7", "short_answer", 2, seed=seed, stem_writer=writer)
        assert verify(exercise).ok  # a 3-step model writes nonsense: the template stem is served instead


def test_missing_wording_model_is_a_clear_error(tmp_path):
    from boya_exercises.wording_gpt2 import ModelWriter

    with pytest.raises(BoyaError, match="no wording model"):
        ModelWriter.load(tmp_path)


def test_stem_writer_output_must_verify_or_template_is_served():
    from dataclasses import replace

    def liar(problem, kp, difficulty, rng):
        return replace(
            problem, stem="There are 2 boxes with 3 cards in each box. How many cards are there in all?"
        )

    for seed in range(5):
        exercise = generate("3.OA.C.7", "short_answer", 3, seed=seed, stem_writer=liar)
        assert verify(exercise).ok
        if exercise["answer"] != "6":
            assert "boxes" not in exercise["stem"]


def test_diversity_measures():
    from boya_exercises.bench import distinct_n, self_bleu

    assert distinct_n(["a b c", "a b c"]) == 0.5
    assert distinct_n(["a b", "c d"]) == 1.0
    same, varied = (
        ["the cat sat on the mat"] * 3,
        ["the cat sat on the mat", "dogs run fast", "seven boxes hold apples"],
    )
    assert self_bleu(same) > 0.9 > self_bleu(varied)


def test_gnn_features_and_baseline_on_a_tiny_class():
    from boya_exercises import gnn

    logs = gnn.simulate_logs(30, seed=2)
    n = len(gnn.kp_order())
    baseline = gnn.IRTBaseline(logs, n)
    data = gnn.features(logs, baseline, n)
    assert data["x"].shape == (30, n, 3) and len(data["y"]) == sum(len(log.targets) for log in logs)
    model = gnn.build_model(n)
    loss, count = gnn.loss_fn(model, gnn.batches(data, 16)[0])
    assert loss.item() > 0 and count > 0


def test_engine_student_model_as_knowledge_tracer_beats_chance_on_the_sample():
    probabilities, labels = kt.elo_predictions(
        kt.read_logs(DATA / "sample_builder_train.csv"), kt.read_logs(DATA / "sample_builder_test.csv")
    )
    assert len(probabilities) == len(labels) > 100
    assert kt.auc(probabilities, labels) > 0.6
