#!/usr/bin/python3
"""PyTorch's time to quality on the configurations of `char-rnn bench --quality`, with the same split and
evaluation, so that its figures and the issue's PyTorch ones are read side by side: train on the first 90% of
the corpus (B contiguous streams, state carried between windows and reset when the streams wrap, loss summed
over the window and averaged over the batch, every gradient element clipped to [-5, 5]) for S seconds of
training wall-clock time; evaluate the last 10% from a zero state, batch 1, carrying the state window by
window, at S/16, S/8, S/4, S/2 and S, with the clock paused while evaluating.

  /usr/bin/python3 bench/pytorch_quality.py [--seconds 300] [--threads 1] [--config NAME ...]

Configurations (bench/quality.ts): min-char-rnn (tanh RNN 100, seq 25, batch 1, AdaGrad lr 0.1 with
min-char-rnn's init; torch's AdaGrad adds eps outside the root, a 1e-8 difference), lstm-adam (LSTM 128,
seq 50, batch 32, Adam 2e-3), best (GRU 256, seq 50, batch 32, Adam 3e-3), and lstm-256 (the issue's 1.58-nat
figure: LSTM 256, seq 50, batch 32, Adam 2e-3). One-hot input, Linear decoder, seed 42. Written for
Debian's PyTorch 1.13 (python3-torch); see bench/pytorch_cpu.py on which BLAS it finds.
"""

import argparse
import math
import os
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

CONFIGS = {
    # name: (cell, hidden, seq, batch, optimiser, lr)
    'min-char-rnn': ('rnn', 100, 25, 1, 'adagrad', 0.1),
    'lstm-adam': ('lstm', 128, 50, 32, 'adam', 2e-3),
    'best': ('gru', 256, 50, 32, 'adam', 3e-3),
    'lstm-256': ('lstm', 256, 50, 32, 'adam', 2e-3),
}
EVAL_FRACTIONS = [1 / 16, 1 / 8, 1 / 4, 1 / 2, 1]
VAL_FRAC = 0.1


class CharModel(nn.Module):
    def __init__(self, cell, vocab, hidden):
        super().__init__()
        kind = {'rnn': nn.RNN, 'lstm': nn.LSTM, 'gru': nn.GRU}[cell]
        self.cell = cell
        self.vocab = vocab
        self.hidden = hidden
        self.rnn = kind(vocab, hidden)
        self.decoder = nn.Linear(hidden, vocab)
        if cell == 'rnn':
            # min-char-rnn's initialisation (and the CPU backend's): weights randn * 0.01, biases zero.
            for name, p in self.named_parameters():
                nn.init.normal_(p, std=0.01) if 'weight' in name else nn.init.zeros_(p)

    def zero_state(self, batch):
        h = torch.zeros(1, batch, self.hidden)
        return (h, h.clone()) if self.cell == 'lstm' else h

    def forward(self, x, state):
        # x is (T, B) character ids.
        out, state = self.rnn(F.one_hot(x, self.vocab).float(), state)
        return self.decoder(out), state


def detach(state):
    return tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()


@torch.no_grad()
def validate(model, ids, seq):
    """Loss per character (nats) over ids from a zero state, batch 1, as `char-rnn eval`."""
    state = model.zero_state(1)
    total = 0.0
    for start in range(0, len(ids) - 1, seq):
        chunk = ids[start : start + seq + 1]
        logits, state = model(chunk[:-1, None], state)
        total += F.cross_entropy(logits.reshape(-1, model.vocab), chunk[1:], reduction='sum').item()
    return total / (len(ids) - 1)


def run(name, train_ids, val_ids, vocab, seconds):
    cell, hidden, seq, batch, optimiser, lr = CONFIGS[name]
    torch.manual_seed(42)
    model = CharModel(cell, vocab, hidden)
    if optimiser == 'adagrad':
        opt = torch.optim.Adagrad(model.parameters(), lr=lr, eps=1e-8)
    else:
        opt = torch.optim.Adam(model.parameters(), lr=lr)
    length = len(train_ids) // batch
    streams = train_ids[: length * batch]
    state = model.zero_state(batch)
    pos = 0
    step = 0
    trained = 0.0
    for fraction in EVAL_FRACTIONS:
        t0 = time.perf_counter()
        while trained + time.perf_counter() - t0 < fraction * seconds:
            if pos + seq + 1 > length:
                pos = 0
                state = model.zero_state(batch)
            window = (torch.arange(batch) * length + pos)[None, :] + torch.arange(seq + 1)[:, None]  # (T + 1, B)
            chars = streams[window]
            logits, state = model(chars[:-1], state)
            loss = F.cross_entropy(logits.reshape(-1, vocab), chars[1:].reshape(-1), reduction='sum') / batch
            opt.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_value_(model.parameters(), 5.0)
            opt.step()
            state = detach(state)
            pos += seq
            step += 1
        trained += time.perf_counter() - t0
        loss = validate(model, val_ids, seq)
        rate = step * seq * batch / trained
        print(f'| {name} | {trained:.1f} | {step} | {rate:,.0f} | {loss:.4f} | {loss / math.log(2):.4f} |', flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--seconds', type=float, default=300, help='training seconds per configuration (default 300)')
    p.add_argument('--threads', type=int, default=1, help='torch.set_num_threads (default 1)')
    p.add_argument('--config', nargs='*', default=list(CONFIGS), choices=list(CONFIGS))
    p.add_argument('--data', default=os.path.join(os.path.dirname(__file__), '..', 'data', 'tinyshakespeare.txt'))
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    text = open(args.data, encoding='utf-8').read()
    chars = sorted(set(text))
    index = {c: i for i, c in enumerate(chars)}
    ids = torch.tensor([index[c] for c in text], dtype=torch.long)
    held = int(len(ids) * VAL_FRAC)
    train_ids, val_ids = ids[: len(ids) - held], ids[len(ids) - held :]
    print(f'PyTorch {torch.__version__}, {torch.get_num_threads()} thread(s), {os.cpu_count()} CPUs; vocab {len(chars)}, '
          f'train {len(train_ids)} chars, validation {len(val_ids)} chars, {args.seconds} s per configuration')
    print('| config | train s | iterations | chars/s | val nats/char | val bits/char |')
    print('|---|---|---|---|---|---|')
    for name in args.config:
        run(name, train_ids, val_ids, len(chars), args.seconds)


if __name__ == '__main__':
    main()
