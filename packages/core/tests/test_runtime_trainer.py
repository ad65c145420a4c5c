"""Trainer numerics: token-exact accumulation, bit-identical resume, inf/nan step skipping, early stopping."""

import json

import pytest
import torch
from boya.hookspecs import hookimpl
from boya.plugins import pm
from boya.runtime import TrainConfig, Trainer
from boya.runtime.models.gpt import GPT, GPTConfig, lm_loss

TINY = GPTConfig(vocab_size=256, block_size=32, n_layer=2, n_head=2, n_embd=32)


def tiny_gpt(seed=0, dropout=0.0):
    torch.manual_seed(seed)
    return GPT(GPTConfig(**{**TINY.to_dict(), "dropout": dropout}))


def padded(sequences, length):
    """Right-pad token sequences to ``length``; padding is -100 in the labels."""
    ids = torch.zeros(len(sequences), length, dtype=torch.long)
    labels = torch.full((len(sequences), length), -100)
    for row, seq in enumerate(sequences):
        ids[row, : len(seq)] = seq
        labels[row, : len(seq)] = seq
    return {"input_ids": ids, "labels": labels}


def examples(n, length=16, seed=1):
    generator = torch.Generator().manual_seed(seed)
    rows = torch.randint(0, 256, (n, length), generator=generator)
    return [{"input_ids": row, "labels": row} for row in rows]


class RecordGrads(torch.optim.SGD):
    def step(self, closure=None):
        self.grads = [p.grad.clone() for group in self.param_groups for p in group["params"]]
        return super().step(closure)


def grads_after_one_step(tmp_path, name, batches, grad_accum):
    model = tiny_gpt()
    optimizer = RecordGrads(model.parameters(), lr=0.1)
    config = TrainConfig(
        out_dir=str(tmp_path / name),
        max_steps=1,
        grad_accum=grad_accum,
        clip_grad=None,
        shuffle=False,
        progress=False,
        loggers=(),
    )
    Trainer(model, config, loss_fn=lm_loss, optimizer=optimizer).fit(batches)
    return torch.cat([g.flatten() for g in optimizer.grads])


def relative_error(a, b):
    return float((a - b).norm() / b.norm())


def test_accumulation_with_ragged_padding_equals_full_batch(tmp_path):
    generator = torch.Generator().manual_seed(3)
    lengths = [32, 5, 9, 30, 3, 17, 24, 8]
    sequences = [torch.randint(0, 256, (n,), generator=generator) for n in lengths]
    micro = [padded(sequences[i : i + 2], max(lengths[i : i + 2])) for i in range(0, 8, 2)]
    full = grads_after_one_step(tmp_path, "full", [padded(sequences, 32)], grad_accum=1)
    accumulated = grads_after_one_step(tmp_path, "accum", micro, grad_accum=4)
    assert relative_error(accumulated, full) <= 1e-6

    def mean_loss(model, batch):  # the usual mistake: every micro-batch weighs the same
        loss_sum, n_tokens = lm_loss(model, batch)
        return loss_sum / n_tokens, 1

    model = tiny_gpt()
    optimizer = RecordGrads(model.parameters(), lr=0.1)
    config = TrainConfig(
        out_dir=str(tmp_path / "naive"),
        max_steps=1,
        grad_accum=4,
        clip_grad=None,
        shuffle=False,
        progress=False,
        loggers=(),
    )
    Trainer(model, config, loss_fn=mean_loss, optimizer=optimizer).fit(micro)
    naive = torch.cat([g.flatten() for g in optimizer.grads])
    assert relative_error(naive, full) > 1e-2  # the test would notice a mean-of-means trainer


class StopAt:
    """A plugin that interrupts training after ``step`` like a killed job."""

    def __init__(self, step):
        self.step = step

    @hookimpl
    def on_step_end(self, trainer, step, metrics):
        if step == self.step:
            raise KeyboardInterrupt


def resume_config(out_dir, precision, **changes):
    return TrainConfig(
        out_dir=str(out_dir),
        max_steps=6,
        batch_size=2,
        grad_accum=2,
        lr=1e-2,
        warmup_steps=2,
        lr_schedule="cosine",
        precision=precision,
        save_every=3,
        log_every=1,
        progress=False,
        **changes,
    )


@pytest.mark.parametrize("precision", ["32", "16-mixed"])
def test_resume_is_bit_identical(tmp_path, precision):
    data = examples(10)
    straight = tiny_gpt(dropout=0.1)
    Trainer(straight, resume_config(tmp_path / "straight", precision), loss_fn=lm_loss).fit(data)

    stopper = StopAt(4)
    pm.register(stopper, name="stop-at-4")
    try:
        with pytest.raises(KeyboardInterrupt):
            Trainer(tiny_gpt(dropout=0.1), resume_config(tmp_path / "split", precision), loss_fn=lm_loss).fit(
                data
            )
    finally:
        pm.unregister(stopper)
    resumed = tiny_gpt(seed=99, dropout=0.1)  # other weights: everything must come from the checkpoint
    trainer = Trainer(resumed, resume_config(tmp_path / "split", precision, resume=True), loss_fn=lm_loss)
    trainer.fit(data)

    for (name, a), b in zip(straight.state_dict().items(), resumed.state_dict().values(), strict=True):
        assert torch.equal(a, b), name
    rows = [json.loads(line) for line in (tmp_path / "split" / "metrics.jsonl").read_text().splitlines()]
    assert [row["step"] for row in rows if row["kind"] == "train"] == [1, 2, 3, 4, 5, 6]
    straight_rows = [
        json.loads(line) for line in (tmp_path / "straight" / "metrics.jsonl").read_text().splitlines()
    ]
    assert [row["loss"] for row in rows] == [row["loss"] for row in straight_rows]


def test_inf_loss_skips_step_and_halves_scale(tmp_path):
    calls = []

    def loss_with_inf_first(model, batch):
        loss_sum, n_tokens = lm_loss(model, batch)
        calls.append(1)
        return (loss_sum * float("inf") if len(calls) == 1 else loss_sum), n_tokens

    model = tiny_gpt()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    config = TrainConfig(
        out_dir=str(tmp_path), max_steps=1, batch_size=2, precision="16-mixed", progress=False, loggers=()
    )
    trainer = Trainer(model, config, loss_fn=loss_with_inf_first)
    metrics = trainer.fit(examples(4))
    assert metrics["skipped"] is True
    assert metrics["loss_scale"] == 32768.0 and trainer.scaler.get_scale() == 32768.0
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())

    trainer.config = config.replace(max_steps=2, resume=True)
    metrics = trainer.fit(examples(4))
    assert metrics["skipped"] is False
    assert not all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_nan_gradients_skip_step_in_fp32(tmp_path):
    model = tiny_gpt()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    config = TrainConfig(out_dir=str(tmp_path), max_steps=1, batch_size=2, progress=False, loggers=())
    metrics = Trainer(model, config, loss_fn=lambda m, b: (lm_loss(m, b)[0] * float("nan"), 10)).fit(
        examples(2)
    )
    assert metrics["skipped"] is True
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_early_stopping_and_metric_files(tmp_path):
    config = TrainConfig(
        out_dir=str(tmp_path),
        max_steps=50,
        batch_size=2,
        lr=0.5,
        eval_every=1,
        early_stopping_patience=2,
        progress=False,
        loggers=("jsonl", "csv"),
        log_every=1,
    )
    metrics = Trainer(tiny_gpt(), config, loss_fn=lm_loss).fit(examples(6), eval_data=examples(2, seed=5))
    assert metrics["stop"] == "early_stopping" and metrics["step"] < 50
    rows = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert {row["kind"] for row in rows} == {"train", "eval"}
    assert (tmp_path / "metrics.csv").read_text().splitlines()[0].startswith("step,loss,lr")
    assert len((tmp_path / "eval_metrics.csv").read_text().splitlines()) == metrics["step"] + 1
    assert (tmp_path / "model.safetensors").is_file()
