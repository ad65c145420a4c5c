"""The causal viseme model: log-mel frames in, mouth-shape and viseme scores out, 100 times a second.

Two causal convolutions (each sees the current and two past frames) feed a GRU,
so every output depends only on audio already heard; ``lookahead`` frames of
delay are added by training the output at frame t to describe frame t - lookahead.
Three heads: the 9 Rhubarb shapes, the 15 Oculus visemes, and voice activity.
About 180k parameters: under 1 ms per 10 ms chunk on one CPU thread.

With ``cmn_prior`` > 0, each band also has its running mean so far subtracted
(causal cepstral mean normalisation, the global mean standing in for the first
``cmn_prior`` frames): a telephone line or a cheap microphone shifts every band's
level, and this removes the shift without looking ahead.
"""

import numpy as np
import torch
from torch import nn

from .features import N_MELS
from .phones import SHAPES, VISEMES


class CausalVisemeNet(nn.Module):
    def __init__(self, hidden: int = 128, lookahead: int = 2, cmn_prior: int = 0):
        super().__init__()
        self.lookahead = lookahead
        self.cmn_prior = cmn_prior
        self.register_buffer("mean", torch.zeros(N_MELS))
        self.register_buffer("std", torch.ones(N_MELS))
        self.conv1 = nn.Conv1d(N_MELS, hidden, 3)
        self.conv2 = nn.Conv1d(hidden, hidden, 3)
        self.gru = nn.GRU(hidden, hidden, batch_first=True)
        self.shape_head = nn.Linear(hidden, len(SHAPES))
        self.viseme_head = nn.Linear(hidden, len(VISEMES))
        self.vad_head = nn.Linear(hidden, 1)

    def forward(self, mel: torch.Tensor, state=None):
        """``mel`` (B, T, 80) → shape logits (B, T, 9), viseme logits (B, T, 15), VAD logit (B, T), state.

        ``state`` carries the last two input frames of each convolution, the GRU state
        and the running band sums between calls, so streaming chunk by chunk equals
        one call on the whole.
        """
        x = (mel - self.mean) / self.std  # (B, T, 80)
        b, t = mel.shape[:2]
        if state is None:
            state = (
                x.new_zeros(b, N_MELS, 2),
                x.new_zeros(b, self.conv1.out_channels, 2),
                None,
                (x.new_zeros(b, 1, N_MELS), x.new_zeros(b, 1, 1)),
            )
        pad1, pad2, h, (band_sum, count) = state
        if self.cmn_prior:
            sums = band_sum + x.cumsum(1)
            counts = count + torch.arange(1, t + 1, dtype=x.dtype, device=x.device).view(1, t, 1)
            x = x - sums / (counts + self.cmn_prior)
            band_sum, count = sums[:, -1:], counts[:, -1:]
        x = x.transpose(1, 2)  # (B, 80, T)
        x1 = torch.cat([pad1, x], dim=2)
        y1 = torch.relu(self.conv1(x1))
        x2 = torch.cat([pad2, y1], dim=2)
        y2 = torch.relu(self.conv2(x2))
        out, h = self.gru(y2.transpose(1, 2), h)  # (B, T, H)
        new_state = (x1[:, :, -2:], x2[:, :, -2:], h, (band_sum, count))
        return self.shape_head(out), self.viseme_head(out), self.vad_head(out).squeeze(-1), new_state


class FrameStepper:
    """The same network, one 10 ms frame at a time, in NumPy: the live engine's per-chunk path.

    Calling the torch module for a single frame costs ~0.7 ms, almost all of it per-op
    dispatch; these eight small float32 matrix-vector products cost a few tens of
    microseconds, which keeps the live path well under its 1 ms budget even when the
    machine is busy. Weights are copied once; each step updates the state in place
    (convolution input histories, GRU state, running band sums). Outputs equal
    :meth:`CausalVisemeNet.forward` on the whole stream to float32 rounding (tested).
    """

    def __init__(self, model: CausalVisemeNet):
        def arr(t):
            return t.detach().cpu().numpy().astype("float32")

        self.lookahead = model.lookahead
        self.cmn_prior = model.cmn_prior
        self.mean, self.inv_std = arr(model.mean), 1.0 / arr(model.std)
        # Conv weights (out, in, 3) as (out, 3*in) over the history [x(t-2), x(t-1), x(t)] laid out time-major.
        self.w1 = np.ascontiguousarray(
            arr(model.conv1.weight).transpose(0, 2, 1).reshape(model.conv1.out_channels, -1)
        )
        self.w2 = np.ascontiguousarray(
            arr(model.conv2.weight).transpose(0, 2, 1).reshape(model.conv2.out_channels, -1)
        )
        self.b1, self.b2 = arr(model.conv1.bias), arr(model.conv2.bias)
        self.w_ih, self.w_hh = arr(model.gru.weight_ih_l0), arr(model.gru.weight_hh_l0)
        self.b_ih, self.b_hh = arr(model.gru.bias_ih_l0), arr(model.gru.bias_hh_l0)
        self.w_out = np.concatenate([arr(model.shape_head.weight), arr(model.vad_head.weight)])
        self.b_out = np.concatenate([arr(model.shape_head.bias), arr(model.vad_head.bias)])
        hidden = model.gru.hidden_size
        self.hist1 = np.zeros(3 * N_MELS, np.float32)
        self.hist2 = np.zeros(3 * model.conv1.out_channels, np.float32)
        self.h = np.zeros(hidden, np.float32)
        self.band_sum = np.zeros(N_MELS, np.float32)
        self.count = 0

    def step(self, mel_row):
        """One log-mel row (80,) → (shape logits (9,), VAD logit)."""
        x = (mel_row - self.mean) * self.inv_std
        if self.cmn_prior:
            self.band_sum += x
            self.count += 1
            x = x - self.band_sum / (self.count + self.cmn_prior)
        n1, n2, hidden = N_MELS, len(self.b1), len(self.h)
        self.hist1[:-n1] = self.hist1[n1:]
        self.hist1[-n1:] = x
        y1 = np.maximum(self.w1 @ self.hist1 + self.b1, 0.0)
        self.hist2[:-n2] = self.hist2[n2:]
        self.hist2[-n2:] = y1
        y2 = np.maximum(self.w2 @ self.hist2 + self.b2, 0.0)
        gi = self.w_ih @ y2 + self.b_ih
        gh = self.w_hh @ self.h + self.b_hh
        r = _sigmoid(gi[:hidden] + gh[:hidden])
        z = _sigmoid(gi[hidden : 2 * hidden] + gh[hidden : 2 * hidden])
        n = np.tanh(gi[2 * hidden :] + r * gh[2 * hidden :])
        self.h = (1.0 - z) * n + z * self.h
        out = self.w_out @ self.h + self.b_out
        return out[:-1], float(out[-1])


def _sigmoid(x):
    """The logistic function of a NumPy array through tanh: 1 / (1 + exp(-x)) without overflow warnings for large |x|."""
    return 0.5 * (1.0 + np.tanh(0.5 * x))
