"""Fixtures shared by the medreport ASR tests."""

import pytest
import torch
from boya_medreport.asr.whisper_model import Whisper


@pytest.fixture
def one_torch_thread():
    """Run the test on one torch thread: the test machine's cores are shared, and two threads oversubscribe them."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def random_tiny_whisper():
    """A random tiny Whisper (our module, no transformers; 1000 tokens) and one window of features; a wide
    init keeps greedy picks and beam rankings clear of float ties."""
    config = {"vocab_size": 1000, "num_mel_bins": 80, "d_model": 64, "encoder_layers": 2, "decoder_layers": 2,
              "encoder_attention_heads": 4, "decoder_attention_heads": 4, "encoder_ffn_dim": 128,
              "decoder_ffn_dim": 128, "max_source_positions": 1500, "max_target_positions": 448}  # fmt: skip
    torch.manual_seed(0)
    model = Whisper(config).eval().requires_grad_(False)
    for name, parameter in model.named_parameters():
        if "layer_norm" in name:
            parameter.fill_(1.0 if name.endswith("weight") else 0.0)
        else:
            parameter.normal_(0, 0.3)
    return model, torch.randn(1, 80, 3000)
