"""Pruning: the saved file really shrinks, loads back to the same outputs, and the report is right."""

import pytest
import torch
from boya.errors import BoyaError
from boya.runtime.inference import load_model, prune_model, save_optimized
from boya.runtime.inference.saved_model import WEIGHTS, decode_sparse, encode_sparse


@pytest.fixture(scope="module")
def trained(trained_tiny_lm):
    return trained_tiny_lm


def _logits(model, ids):
    with torch.no_grad():
        return model(input_ids=ids).logits


def test_prune_save_load_shrinks_the_file_and_reproduces_outputs(trained, tmp_path):
    ids = torch.randint(0, 256, (2, 48), generator=torch.Generator().manual_seed(0))
    dense = save_optimized(load_model(trained), tmp_path / "dense", details={})
    loaded = load_model(trained)
    report = prune_model(loaded.model, 0.5)
    assert report[-1]["name"] == "total" and report[-1]["sparsity"] == pytest.approx(0.5, abs=1e-3)
    assert {row["name"] for row in report[:-1]} >= {
        "transformer.wte.weight",
        "transformer.h.0.attn.c_attn.weight",
    }
    assert "lm_head.weight" not in {row["name"] for row in report}  # tied to wte: pruned and counted once
    expected = _logits(loaded.model, ids)
    saved = save_optimized(loaded, tmp_path / "pruned", details={"pruning": {"amount": 0.5}})
    ratio = (saved / WEIGHTS).stat().st_size / (dense / WEIGHTS).stat().st_size
    assert ratio < 0.6
    reloaded = load_model(saved).model
    assert torch.equal(_logits(reloaded, ids), expected)
    assert reloaded.lm_head.weight is reloaded.transformer.wte.weight


def test_bitmask_encoding_round_trip_and_choice():
    torch.manual_seed(0)
    sparse = torch.randn(64, 64) * (torch.rand(64, 64) > 0.7)
    dense = torch.randn(64, 64)
    small = torch.zeros(10)
    tensors, spec = encode_sparse({"s": sparse, "d": dense, "small": small})
    assert set(spec) == {"s"}  # dense data, and tiny tensors, stay as they are
    assert tensors["s::mask"].dtype == torch.uint8 and tensors["s::mask"].numel() == 64 * 64 // 8
    # no larger buffer saved
    assert tensors["s::values"].untyped_storage().nbytes() == int((sparse != 0).sum()) * 4
    back = decode_sparse(tensors, spec)
    assert torch.equal(back["s"], sparse) and torch.equal(back["d"], dense)


@pytest.mark.parametrize("method", ["heads", "channels"])
def test_structured_pruning_zeroes_whole_units(trained, method):
    loaded = load_model(trained)
    ids = torch.randint(0, 256, (1, 32), generator=torch.Generator().manual_seed(1))
    prune_model(loaded.model, 0.5, method)
    block = loaded.model.transformer.h[0]
    if method == "heads":
        qkv = block.attn.c_attn.weight.view(3, 4, 16, 64)  # (q/k/v, head, head_dim, n_embd)
        zero_heads = [h for h in range(4) if not qkv[:, h].any()]
        assert len(zero_heads) == 2
        assert not block.attn.c_proj.weight.view(64, 4, 16)[:, zero_heads].any()
    else:
        zero_rows = (~block.mlp.c_fc.weight.any(dim=1)).sum()
        assert zero_rows == 128  # half of the 4 x 64 hidden units
    assert torch.isfinite(_logits(loaded.model, ids)).all()


def test_bad_prune_arguments(trained):
    loaded = load_model(trained)
    with pytest.raises(BoyaError, match="between 0 and 1"):
        prune_model(loaded.model, 1.5)
    with pytest.raises(BoyaError, match="unknown pruning method"):
        prune_model(loaded.model, 0.5, "rows")
