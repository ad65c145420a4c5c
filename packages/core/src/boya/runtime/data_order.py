"""The order in which training items are visited, with a position that a checkpoint can hold.

Training data is any map-style sequence (``len()`` and ``[i]``). The order of
epoch ``e`` is a permutation drawn from its own generator seeded with
``seed + e``, so it never touches the global RNG and can be recomputed on
resume from two integers: the epoch and the cursor inside it. That is what
makes ``--resume`` continue from the very next micro-batch (a ``DataLoader``
iterator cannot be checkpointed mid-epoch).
"""

import torch

from ..errors import BoyaError


class DataOrder:
    """Yields lists of item indices (one list per micro-batch), epoch after epoch, forever."""

    def __init__(self, n_items: int, batch_size: int, shuffle: bool, seed: int):
        if n_items < 1:
            raise BoyaError("training data is empty")
        self.n_items = n_items
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.epoch = 0
        self.cursor = 0
        self._order = self._epoch_order()

    def _epoch_order(self) -> list[int]:
        if not self.shuffle:
            return list(range(self.n_items))
        generator = torch.Generator().manual_seed(self.seed + self.epoch)
        return torch.randperm(self.n_items, generator=generator).tolist()

    def next_indices(self) -> list[int]:
        """Indices of the next micro-batch; the last one of an epoch may be shorter."""
        if self.cursor >= self.n_items:
            self.epoch += 1
            self.cursor = 0
            self._order = self._epoch_order()
        indices = self._order[self.cursor : self.cursor + self.batch_size]
        self.cursor += len(indices)
        return indices

    def state_dict(self) -> dict:
        return {"epoch": self.epoch, "cursor": self.cursor, "n_items": self.n_items}

    def load_state_dict(self, state: dict) -> None:
        if state["n_items"] != self.n_items:
            raise BoyaError(
                f"the checkpoint was taken on {state['n_items']} training items, this data has {self.n_items}"
            )
        self.epoch, self.cursor = int(state["epoch"]), int(state["cursor"])
        self._order = self._epoch_order()
