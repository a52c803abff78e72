#!/usr/bin/python3
"""PyTorch's CPU training speed on the models of `char-rnn bench`: the reference the CPU backend's targets
compare against (issue 10). Trains on data/tinyshakespeare.txt, one-hot input, seq 25, B contiguous streams
with the hidden state carried between windows (as src/data/batches.ts does), loss summed over the window and
averaged over the batch, every gradient element clipped to [-5, 5], and prints chars/s (T * B characters a
step) over a fixed number of timed steps after warm-up steps:

  rnn-100-b1    nn.RNN (tanh) hidden 100, batch 1, Linear decoder, AdaGrad lr 0.1 (eps 1e-8), weights
                randn * 0.01 and zero biases: min-char-rnn
  rnn-512-b32   the same at hidden 512, batch 32
  lstm-2x512-b32  nn.LSTM 2 layers x 512, batch 32, Linear decoder, Adam lr 2e-3, PyTorch's default init

  /usr/bin/python3 bench/pytorch_cpu.py [--threads 1] [--steps N] [--config NAME ...]

Written for Debian's PyTorch 1.13 (python3-torch); uses nothing newer. That build's BLAS is whatever
libblas.so.3 points to (BLAS_INFO=generic): with only Debian's reference libblas3 installed, a large sgemm
runs near 6 GFLOP/s on one thread and does not use more; `apt install libopenblas0` makes it several times
faster. The first lines printed say which BLAS was found and what sgemm reaches, so that a figure is read
against the BLAS it was measured with.
"""

import argparse
import os
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

CONFIGS = {
    # name: (cell, hidden, layers, batch, optimiser, timed steps)
    'rnn-100-b1': ('rnn', 100, 1, 1, 'adagrad', 400),
    'rnn-512-b32': ('rnn', 512, 1, 32, 'adagrad', 30),
    'lstm-2x512-b32': ('lstm', 512, 2, 32, 'adam', 8),
}


class CharModel(nn.Module):
    def __init__(self, cell, vocab, hidden, layers):
        super().__init__()
        kind = nn.RNN if cell == 'rnn' else nn.LSTM
        extra = {'nonlinearity': 'tanh'} if cell == 'rnn' else {}
        self.vocab = vocab
        self.rnn = kind(vocab, hidden, num_layers=layers, **extra)
        self.decoder = nn.Linear(hidden, vocab)
        if cell == 'rnn':
            # min-char-rnn's initialisation (and the CPU backend's): weights randn * 0.01, biases zero.
            for name, p in self.named_parameters():
                nn.init.normal_(p, std=0.01) if 'weight' in name else nn.init.zeros_(p)

    def forward(self, x, state):
        # x is (T, B) character ids; one-hot input as min-char-rnn.
        out, state = self.rnn(F.one_hot(x, self.vocab).float(), state)
        return self.decoder(out), state


def detach(state):
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)
    return state.detach()


def run(name, ids, vocab, seq, steps, warmup):
    cell, hidden, layers, batch, optimiser, default_steps = CONFIGS[name]
    steps = steps or default_steps
    torch.manual_seed(42)
    model = CharModel(cell, vocab, hidden, layers)
    if optimiser == 'adagrad':
        opt = torch.optim.Adagrad(model.parameters(), lr=0.1, eps=1e-8)
    else:
        opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    # B contiguous streams of the corpus.
    length = (len(ids) - 1) // batch
    streams = ids[: length * batch + 1]
    zeros = torch.zeros(layers, batch, hidden)
    state = (zeros, zeros.clone()) if cell == 'lstm' else zeros
    pos = 0
    t0 = None
    loss = None
    for step in range(warmup + steps):
        if step == warmup:
            t0 = time.perf_counter()
        if pos + seq + 1 > length:
            pos = 0
            state = (zeros, zeros.clone()) if cell == 'lstm' else zeros
        starts = torch.arange(batch) * length + pos
        window = starts[None, :] + torch.arange(seq + 1)[:, None]  # (T + 1, B)
        chars = streams[window]
        x, y = chars[:-1], chars[1:]
        logits, state = model(x, state)
        loss = F.cross_entropy(logits.reshape(-1, vocab), y.reshape(-1), reduction='sum') / batch
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_value_(model.parameters(), 5.0)
        opt.step()
        state = detach(state)
        pos += seq
    elapsed = time.perf_counter() - t0
    return steps * seq * batch / elapsed, elapsed, steps, float(loss)


def blas_line():
    info = torch.__config__.show()
    blas = next((part.split('=')[1] for part in info.replace(',', ' ').split() if part.startswith('BLAS_INFO=')), '?')
    path = '/etc/alternatives/libblas.so.3-x86_64-linux-gnu'
    target = os.path.realpath(path) if os.path.exists(path) else 'unknown'
    a, b = torch.randn(800, 512), torch.randn(512, 2048)
    torch.mm(a, b)
    t0 = time.perf_counter()
    for _ in range(5):
        torch.mm(a, b)
    gflops = 2 * 800 * 512 * 2048 * 5 / (time.perf_counter() - t0) / 1e9
    return f'BLAS_INFO={blas}, libblas.so.3 -> {target}; sgemm (800, 2048, 512): {gflops:.1f} GFLOP/s'


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--threads', type=int, default=1, help='torch.set_num_threads (default 1)')
    p.add_argument('--steps', type=int, default=0, help='timed steps (default: per configuration)')
    p.add_argument('--warmup', type=int, default=3)
    p.add_argument('--seq', type=int, default=25)
    p.add_argument('--config', nargs='*', default=list(CONFIGS), choices=list(CONFIGS))
    p.add_argument('--data', default=os.path.join(os.path.dirname(__file__), '..', 'data', 'tinyshakespeare.txt'))
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    text = open(args.data, encoding='utf-8').read()
    chars = sorted(set(text))
    index = {c: i for i, c in enumerate(chars)}
    ids = torch.tensor([index[c] for c in text], dtype=torch.long)
    print(blas_line())
    print(f'PyTorch {torch.__version__}, {torch.get_num_threads()} thread(s), {os.cpu_count()} CPUs; vocab {len(chars)}, seq {args.seq}')
    print('| config | threads | timed steps | seconds | chars/s | last loss |')
    print('|---|---|---|---|---|---|')
    for name in args.config:
        cps, elapsed, steps, loss = run(name, ids, len(chars), args.seq, args.steps, args.warmup)
        print(f'| {name} | {args.threads} | {steps} | {elapsed:.2f} | {cps:,.0f} | {loss:.2f} |', flush=True)


if __name__ == '__main__':
    main()
