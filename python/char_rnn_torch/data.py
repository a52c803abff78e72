"""The corpus as the engine reads it (src/data): code points, the checkpoint's vocabulary, the validation
split, and char-rnn's B contiguous streams, of which one process may take a contiguous range.
"""

import math

import numpy as np


def read_corpus(path, vocab):
    """The text's ids (N,) int64 in the checkpoint's vocabulary. utf-8-sig drops a leading byte-order mark,
    as the engine's TextDecoder does; a character outside the vocabulary is an error naming it."""
    with open(path, "rb") as f:
        text = f.read().decode("utf-8-sig")
    index = {c: i for i, c in enumerate(vocab)}
    try:
        return np.fromiter((index[c] for c in text), dtype=np.int64, count=len(text))
    except KeyError as e:
        raise ValueError(f"{path}: character {e.args[0]!r} (U+{ord(e.args[0]):04X}) is not in the model's vocabulary") from None


def split_corpus(ids, val_frac, seq):
    """(train, validation): the last floor(N * val_frac) ids are held out (src/data/split.ts)."""
    n = len(ids)
    held = math.floor(n * val_frac)
    if val_frac > 0 and (held < seq + 1 or n - held < seq + 1):
        raise ValueError(f"val_frac {val_frac} of {n} characters leaves {held} for validation and {n - held} for training")
    return ids[: n - held], ids[n - held :]


class BatchLoader:
    """Stream b reads ids[b*L .. (b+1)*L) with L = floor(N / B), all B streams at the same pointer
    (src/data/batches.ts). This loader yields streams [first, first + count) only: the pointer, the wrap
    and the epoch length depend on B and L alone, so every process of a distributed run wraps together.
    """

    def __init__(self, ids, batch, seq, first=0, count=None):
        self.ids = ids
        self.batch = batch
        self.seq = seq
        self.first = first
        self.count = batch if count is None else count
        self.stream_length = len(ids) // batch
        if self.stream_length < seq + 1:
            raise ValueError(f"the corpus ({len(ids)} characters) is too short for batch {batch} and seq {seq}")
        self.pointer = 0

    @property
    def windows_per_epoch(self):
        # Window j reads from pointer j * T and is taken while j * T + T + 1 < L.
        return max(1, math.ceil((self.stream_length - self.seq - 1) / self.seq))

    def next(self, first):
        """(inputs, targets, reset): (T, count) int64 arrays, time-major; reset when the pointer wrapped."""
        T, L = self.seq, self.stream_length
        reset = first or self.pointer + T + 1 >= L
        if reset:
            self.pointer = 0
        starts = (np.arange(self.first, self.first + self.count) * L + self.pointer)[None, :]
        rows = starts + np.arange(T + 1)[:, None]  # (T + 1, count)
        window = self.ids[rows]
        self.pointer += T
        return window[:-1], window[1:], reset
