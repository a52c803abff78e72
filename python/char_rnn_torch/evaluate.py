"""The engine's `eval` (src/cpu/backend.ts evaluate): one stream over the whole text from a zero state,
carrying the state across windows of seq characters; the mean cross-entropy per predicted character."""

import json
import math
import sys

import torch

from .checkpoint import Checkpoint
from .data import read_corpus
from .model import window_loss_sum


@torch.no_grad()
def evaluate(model, ids, seq):
    """Loss per character (nats) of ids (N,): the sum over the N - 1 predictions, divided by N - 1."""
    was_training = model.training
    model.eval()
    device = model.decoder.weight.device
    state = model.zero_state(1)
    total = 0.0
    for start in range(0, len(ids) - 1, seq):
        window = torch.from_numpy(ids[start : start + seq + 1]).to(device)[:, None]  # (<= T + 1, 1)
        logits, state = model(window[:-1], state)
        total += window_loss_sum(logits, window[1:]).item()
    model.train(was_training)
    return total / (len(ids) - 1)


def run_eval(args):
    ck = Checkpoint(args.checkpoint)
    model = ck.model().to(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    ids = read_corpus(args.data, ck.vocab)
    if len(ids) < 2:
        sys.exit(f"{args.data}: evaluation needs at least 2 characters")
    loss = evaluate(model, ids, ck.config["seq"])
    bits = loss / math.log(2)
    if args.json:
        print(json.dumps({"loss_per_char": loss, "bits_per_char": bits, "chars": len(ids) - 1}))
    else:
        print(f"loss_per_char {loss:.6f}\nbits_per_char {bits:.6f}\nchars {len(ids) - 1}")
