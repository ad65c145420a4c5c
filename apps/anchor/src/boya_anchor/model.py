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
            state = (x.new_zeros(b, N_MELS, 2), x.new_zeros(b, self.conv1.out_channels, 2), None,
                     (x.new_zeros(b, 1, N_MELS), x.new_zeros(b, 1, 1)))
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
