"""Fusion: the eager op counter, the launch counter, the fusion report and compiled training."""

import pytest
import torch
from boya.runtime import TrainConfig, Trainer
from boya.runtime.fusion import EagerOpCounter, count_launches, fusion_report
from boya.runtime.models.gpt import GPT, GPTConfig, lm_loss

TINY = GPTConfig(vocab_size=256, block_size=32, n_layer=2, n_head=2, n_embd=32)


def test_eager_counter_counts_compute_ops_and_views_apart():
    x = torch.randn(4, 4, requires_grad=True)
    counter = EagerOpCounter()
    with counter:
        y = (x.t() * 2).sum()
        y.backward()
    assert counter.compute["aten.mul"] >= 2  # forward and the gradient of the product
    assert counter.compute["aten.sum"] == 1
    assert counter.views["aten.t"] >= 1
    assert "aten.t" not in counter.compute


def test_launch_counter_reads_an_inductor_wrapper():
    wrapper = '''
cpp_fused_add_0 = async_compile.cpp_pybinding(['float*'], """ ... """)
class Runner:
    def call(self, args):
        cpp_fused_add_0(buf0, arg0_1)
        extern_kernels.addmm(arg1_1, buf0, arg2_1, alpha=1, beta=1, out=buf1)
        buf2 = torch.ops.aten._scaled_dot_product_flash_attention_for_cpu.default(buf1, buf1, buf1, 0.0, True)
        assert_size_stride(buf3, (2, 2), (2, 1), 'torch.ops.aten._scaled_dot_product_flash_attention_for_cpu.default')
        triton_poi_fused_mul_1.run(buf4, buf5, 64, stream=stream0)
        return (buf2, )
'''
    launches = count_launches(wrapper)
    assert launches == {"fused": 2, "extern": 1, "fallback": 1}


def batch():
    rows = torch.randint(0, 256, (2, 32), generator=torch.Generator().manual_seed(0))
    return {"input_ids": rows, "labels": rows}


@pytest.mark.slow
def test_fusion_report_counts_eager_ops_and_inductor_launches(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCHINDUCTOR_CACHE_DIR", str(tmp_path))
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(16, 32), torch.nn.GELU(), torch.nn.LayerNorm(32), torch.nn.Linear(32, 4)
    )

    def loss_fn(model, batch):
        return torch.nn.functional.cross_entropy(model(batch["x"]), batch["y"], reduction="sum"), len(
            batch["y"]
        )

    report = fusion_report(model, loss_fn, {"x": torch.randn(8, 16), "y": torch.randint(0, 4, (8,))})
    assert report["eager_top_ops"]["aten.addmm"] == 2 and report["eager_views"] > 0
    assert report["graphs"] == 2  # forward and backward
    assert report["extern_calls"] >= 5  # 2 forward GEMMs + at least 3 backward ones stay library calls
    assert report["fused_kernels"] > 0  # gelu, layer norm, softmax... fused into a few C++ kernels
    assert report["fused_launches"] < report["eager_ops"]
    assert report["reduction"] == pytest.approx(1 - report["fused_launches"] / report["eager_ops"])


@pytest.mark.slow
def test_compiled_regions_train_like_eager_without_graph_breaks(tmp_path):
    rows = torch.randint(0, 256, (4, 32), generator=torch.Generator().manual_seed(0))
    data = [{"input_ids": row, "labels": row} for row in rows]
    losses = {}
    for mode in ("off", "regions"):
        torch.manual_seed(0)
        config = TrainConfig(
            out_dir=str(tmp_path / mode),
            max_steps=2,
            batch_size=2,
            compile=mode,
            compile_cache_dir=str(tmp_path / "cache"),
            progress=False,
            log_every=1,
        )
        trainer = Trainer(GPT(TINY), config, loss_fn=lm_loss)
        losses[mode] = trainer.fit(data)["loss"]
    import json

    first = json.loads((tmp_path / "regions" / "metrics.jsonl").read_text().splitlines()[0])
    assert first["graph_breaks"] == 0 and first["graphs"] >= 1 and first["recompiles"] == 0
    assert losses["regions"] == pytest.approx(losses["off"], rel=1e-4)
