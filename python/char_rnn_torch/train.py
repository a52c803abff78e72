"""The engine's training loop (src/train.ts, src/cpu/backend.ts) in PyTorch, on one process or many.

At iteration n: take the next (T, B) window (a wrap resets the carried state to zero and, with char-rnn's
schedule, decays the learning rate); loss = cross-entropy summed over the window and averaged over the B
streams; backward; clip_grad_norm_ (--clip-norm) then clamp to [-clip, clip]; the optimizer's step; carry
the last state. smooth_loss moves as min-char-rnn's: 0.999 smooth + 0.001 loss.

Distributed: each of N processes takes B / N contiguous streams and divides its summed loss by B / N.
DistributedDataParallel averages the gradients over the N processes, which gives the gradient of the
whole batch's loss (sum over all B streams / B), so every process takes the single-process step. The
state is gathered back to (L, B, H) for the checkpoint, written by rank 0.

Not reproduced: the engine's own random generator. Dropout masks come from torch's generator (seeded
per process), and the checkpoint keeps the engine's `rng` as it was read.
"""

import json
import math
import os
import sys
import time

import torch
from torch.nn.parallel import DistributedDataParallel

from .checkpoint import Checkpoint, save_checkpoint
from .data import BatchLoader, read_corpus, split_corpus
from .distributed import Processes
from .evaluate import evaluate
from .model import window_loss_sum
from .optim import make_optimizer

SMOOTH_LOSS_DECAY = 0.999


def train(args):
    procs = Processes(args.device)
    try:
        run(args, procs)
    finally:
        procs.close()


def run(args, procs):
    ck = Checkpoint(args.resume)
    c = ck.config
    model = ck.model().to(procs.device)
    params = [p for _, p in model.trained_parameters()]
    optimizer = make_optimizer(params, c, c["lr"])
    st = ck.restore_training(model, optimizer)
    lr = st["lr"]
    if not (args.data or ck.metadata.get("data")):
        raise ValueError(f"{args.resume} names no corpus: give --data FILE")
    data_path = os.path.abspath(args.data or ck.metadata["data"])
    train_ids, val_ids = split_corpus(read_corpus(data_path, ck.vocab), c["val_frac"], c["seq"])

    B = c["batch"]
    first, count = procs.streams(B)
    loader = BatchLoader(train_ids, B, c["seq"], first, count)
    loader.pointer = st["pointer"]
    streams = slice(first, first + count)
    hidden = st["hidden"][:, streams].to(procs.device)
    state = (hidden, st["cell"][:, streams].to(procs.device)) if c["cell"] == "lstm" else hidden
    torch.manual_seed(c["seed"] + procs.rank)  # dropout masks only

    net = model
    if procs.world > 1:
        net = DistributedDataParallel(model, device_ids=[procs.device.index] if procs.device.type == "cuda" else None)
    smooth_loss = st["smooth_loss"]
    out = Output(args.json, procs.main)
    out.line("start", f"resuming {args.resume} at iteration {ck.iter} on {procs.world} process(es), {procs.device}",
             iter=ck.iter, iters=args.iters, processes=procs.world, device=str(procs.device), batch=B)
    t0 = time.perf_counter()
    n = ck.iter
    model.train()  # dropout on; evaluate() turns it off and back on

    def save():
        h, cell = (state if c["cell"] == "lstm" else (state, None))
        h, cell = procs.gather_streams(h.detach()), (procs.gather_streams(cell.detach()) if cell is not None else None)
        if procs.main:
            save_checkpoint(args.save, ck.encode(model, optimizer, h, cell, n, loader.pointer, smooth_loss, lr, data_path))
            out.line("save", f"saved {args.save} at iteration {n}", iter=n, path=args.save)

    while n < args.iters:
        inputs, targets, reset = loader.next(n == 0)
        if reset and n > 0:
            epochs_done = math.floor(n / loader.windows_per_epoch + 0.5)  # JavaScript's Math.round
            if c["lr_decay"] < 1 and epochs_done >= c["lr_decay_after"]:
                lr *= c["lr_decay"]
                for group in optimizer.param_groups:
                    group["lr"] = lr
        if reset:
            state = model.zero_state(count)
        logits, state = net(torch.from_numpy(inputs).to(procs.device), state)
        loss_sum = window_loss_sum(logits, torch.from_numpy(targets).to(procs.device))
        (loss_sum / count).backward()
        if c["clip_norm"] > 0:
            torch.nn.utils.clip_grad_norm_(params, c["clip_norm"])
        if c["clip"] > 0:
            torch.nn.utils.clip_grad_value_(params, c["clip"])
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        state = tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()
        loss = procs.sum(loss_sum.item()) / B
        smooth_loss = SMOOTH_LOSS_DECAY * smooth_loss + (1 - SMOOTH_LOSS_DECAY) * loss
        if args.log_every > 0 and n % args.log_every == 0:
            out.line("log", f"iter {n}, loss {smooth_loss:.6f}", iter=n, loss=loss, smooth_loss=smooth_loss)
        n += 1
        if args.save and args.save_every > 0 and n % args.save_every == 0 and n < args.iters:
            save()
        if len(val_ids) > 0 and procs.main and (n % args.eval_every == 0 or n == args.iters):
            v = evaluate(model, val_ids, c["seq"])
            out.line("val", f"val iter {n}: {v:.4f} nats/char", iter=n, loss=v, bits=v / math.log(2), chars=len(val_ids) - 1)
    if args.save:
        save()
    out.line("summary", f"trained to iteration {n} in {time.perf_counter() - t0:.1f} s, smooth loss {smooth_loss:.6f}",
             iters=n, smooth_loss=smooth_loss, lr=lr, seconds=time.perf_counter() - t0, processes=procs.world)


class Output:
    """Rank 0 prints: JSON Lines ({type, ...}) with --json, else the engine's text lines."""

    def __init__(self, json_lines, main):
        self.json_lines = json_lines
        self.main = main

    def line(self, kind, text, **fields):
        if not self.main:
            return
        if self.json_lines:
            print(json.dumps({"type": kind, **fields}), flush=True)
        else:
            print(text, file=sys.stdout if kind == "log" else sys.stderr, flush=True)
