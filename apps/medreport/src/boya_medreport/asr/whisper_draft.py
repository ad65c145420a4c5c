"""Draft tokens for speculative decoding: n-gram statistics over token ids, no neural network.

A decoder step of tiny.en is bound by memory traffic (every step reads the decoder weights,
the cross-attention keys/values and the output projection), so checking several guessed
tokens in one pass costs little more than decoding one (:mod:`.whisper_decode`). The
guesses come from here: the most frequent continuation of the last 1-4 tokens, looked up
first in the text decoded so far (prompt + transcript: a dictation repeats itself -
"period new paragraph", "medical record number") and then in a table counted over
dictations of the generator the ASR adapter was trained on. A guess only ever changes
speed: the decoder keeps the tokens its own greedy pick agrees with, so a user whose
dictations look nothing like ours gets the same text, decoded a little slower.

Each guess carries an estimate of being right (its share of the continuations counted);
drafting stops once the chance that the whole draft is right falls below ``min_chance``,
so unpredictable stretches (names, record numbers) cost single-token steps only.
"""

from pathlib import Path

import numpy as np

from .table_cache import cached_arrays, content_key

ORDER = 4  # longest context looked up, in tokens
LOCAL_CHANCE = 0.8  # taken as the chance that a continuation seen earlier in the window comes back


class NgramDrafter:
    """Continuation table ``{context tokens: (next token, share of continuations)}`` of token sequences.

    ``min_chance``: replaying the bench's token streams with measured pass costs (one row 12.4 ms,
    ~1.1-2 ms per extra row, 1 thread) gave the same speed for any value from 0.3 to 0.6.
    """

    def __init__(self, table: dict, order: int = ORDER, min_chance: float = 0.5):
        self.table, self.order, self.min_chance = table, order, min_chance

    @classmethod
    def from_sequences(cls, sequences: list[list[int]], order: int = ORDER, **kwargs) -> "NgramDrafter":
        """A drafter counted over token ``sequences``."""
        return cls(table_of(continuations(sequences, order)), order, **kwargs)

    def session(self, context: list[int]) -> "DraftSession":
        """Drafting state for one window whose decoder input so far is ``context``."""
        return DraftSession(self, context)


class DraftSession:
    """The drafter's table plus the n-grams of this window's own tokens, kept up to date by :meth:`extend`."""

    def __init__(self, drafter: NgramDrafter, context: list[int]):
        self.drafter, self.tokens, self.seen = drafter, [], {}
        self.extend(context)

    def extend(self, tokens: list[int]) -> None:
        """Append decided tokens; each context of 2+ tokens before them remembers what followed it last
        (single tokens repeat too loosely within a window: the table's counts decide those)."""
        for token in tokens:
            self.tokens.append(token)
            end = len(self.tokens) - 1
            for n in range(2, min(self.drafter.order, end) + 1):
                self.seen[tuple(self.tokens[end - n : end])] = token

    def draft(self, limit: int) -> list[int]:
        """Up to ``limit`` guessed next tokens (possibly none)."""
        order, table, seen = self.drafter.order, self.drafter.table, self.seen
        guesses, chance = [], 1.0
        recent = self.tokens[-order:]
        while len(guesses) < limit:
            guess = None
            for n in range(min(order, len(recent)), 0, -1):
                context = tuple(recent[-n:])
                if context in seen:
                    guess = seen[context], LOCAL_CHANCE
                    break
                if context in table:
                    guess = table[context]
                    break
            if guess is None:
                break
            chance *= guess[1]
            if chance < self.drafter.min_chance:
                break
            guesses.append(guess[0])
            recent = (recent + [guess[0]])[-order:]
        return guesses


def dictation_drafter(tokenizer, tokenizer_file: Path, count: int = 300, seed: int = 0) -> NgramDrafter:
    """A drafter counted over ``count`` dictations of the generator's training phrasings, in spoken
    form ("comma", "period", spoken numbers: what the adapted tiny.en writes), and nothing else:
    the bench's held-out phrasings stay unseen, so its acceptance rate is a fair one.

    ``tokenizer`` is read from ``tokenizer_file``. The counts are cached (:mod:`.table_cache`) under
    that file, the generator's and this module's sources and the arguments: building them took ~0.4 s
    of every load."""
    import random

    from .. import dictations, vocabulary

    def build():
        rng = random.Random(seed)
        texts = [dictations.dictation(rng, "train", spoken=True)["dictation"] for _ in range(count)]
        encoded = tokenizer.encode_batch([" " + text.strip() for text in texts], add_special_tokens=False)
        return continuations([e.ids for e in encoded], ORDER)

    sources = [Path(dictations.__file__), Path(vocabulary.__file__), Path(__file__)]
    key = content_key(tokenizer_file, *sources, vocabulary.VOCABULARY_FILE, f"{count} {seed} {ORDER}")
    return NgramDrafter(table_of(cached_arrays("drafter", key, build)))


def table_of(arrays: dict[str, np.ndarray]) -> dict:
    """The lookup table ``{context: (next token, share)}`` of :func:`continuations`' arrays."""
    table = {}
    for name, grams in arrays.items():
        if not name.startswith("grams"):
            continue
        n = grams.shape[1] - 1
        continued = zip(grams[:, n].tolist(), arrays[f"shares{n}"].tolist(), strict=True)
        table.update(zip(map(tuple, grams[:, :n].tolist()), continued, strict=True))
    return table


def continuations(sequences: list[list[int]], order: int) -> dict[str, np.ndarray]:
    """For every context of ``n`` = 1..``order`` tokens: its most frequent next token (lowest id on ties)
    and that token's share of the context's continuations, as arrays ``grams<n>`` (a row per context:
    its ``n`` tokens, then the next one) and ``shares<n>`` (none for an ``n`` without contexts).
    Counted with numpy on 16-bit token ids packed into one integer per context: a Python loop over a
    few hundred dictations took ~0.5 s."""
    pad = -1  # separates sequences, so no n-gram spans two of them
    flat = np.concatenate(
        [np.asarray([*s, *[pad] * order], dtype=np.int64) for s in sequences] or [np.zeros(0)]
    )
    if flat.size and flat.max() >= 1 << 16:
        raise ValueError(f"token id {int(flat.max())} does not fit the drafter's 16 bits")
    arrays = {}
    for n in range(1, order + 1):
        if flat.size <= n:
            continue
        rows = np.lib.stride_tricks.sliding_window_view(flat, n + 1)
        rows = rows[(rows != pad).all(axis=1)]
        if not rows.size:
            continue
        keys = np.zeros(len(rows), dtype=np.uint64)
        for i in range(n):
            keys = (keys << np.uint64(16)) | rows[:, i].astype(np.uint64)
        rows = rows[np.lexsort((rows[:, n], keys))]  # grouped by context, next tokens ascending
        keys = np.sort(keys)
        new_pair = np.ones(len(rows), dtype=bool)
        new_pair[1:] = (keys[1:] != keys[:-1]) | (rows[1:, n] != rows[:-1, n])
        pairs = np.flatnonzero(new_pair)  # first row of each (context, next) run
        counts = np.diff(np.append(pairs, len(rows)))
        pair_keys = keys[pairs]
        # first pair of each context
        starts = np.flatnonzero(np.append(True, pair_keys[1:] != pair_keys[:-1]))
        sizes = np.diff(np.append(starts, len(pairs)))
        group = np.repeat(np.arange(len(starts)), sizes)
        # each context's first most frequent continuation: the lowest id on ties
        top = np.flatnonzero(counts == np.repeat(np.maximum.reduceat(counts, starts), sizes))
        best = top[np.unique(group[top], return_index=True)[1]]
        shares = counts[best] / np.add.reduceat(counts, starts)
        arrays[f"grams{n}"], arrays[f"shares{n}"] = rows[pairs[best]], shares
    return arrays
