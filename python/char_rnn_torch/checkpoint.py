"""The engine's checkpoints (src/model/checkpoint.ts) in both directions.

A checkpoint holds the weights under the CharModel's state_dict names, and, to resume, the optimizer's
state `train.<optimizer>.<key>.<name>` (torch.optim's state keys, so they map onto optimizer.state[p][key]),
the carried state `train.hidden` (L, B, H) and `train.cell` (L, B, H), and in `__metadata__` the loop's
position (iter, pointer, smooth_loss, rng), the optimizer's (step, lr: the current rate), `vocab` and
`config` as JSON. A file without `format` is a PyTorch state_dict with only `vocab`: the model follows from
its tensors, and it evaluates but cannot resume.

Writing keeps the engine's tensor order and metadata strings (numbers as JavaScript prints them), so a
checkpoint loaded and saved without a step is the same file, bit for bit.
"""

import decimal
import json
import os
import tempfile

import numpy as np
import torch

from .model import GATES, CharModel
from .optim import STATE_KEYS, optimizer_step, set_optimizer_state
from .safetensors import encode_safetensors, read_safetensors

FORMAT = "webgpu-char-rnn/1"
OLD_ADAGRAD_PREFIX = "train.adagrad."  # AdaGrad's sum in files from before the other optimizers
HIDDEN, CELL_STATE = "train.hidden", "train.cell"
# What an older or a weights-only config lacks: min-char-rnn's values (src/model/checkpoint_config.ts).
DEFAULT_CONFIG = {
    "embed": 0,
    "dropout": 0,
    "seq": 25,
    "batch": 1,
    "optimizer": "adagrad",
    "lr": 0.1,
    "alpha": 0.95,
    "betas": [0.9, 0.999],
    "eps": 1e-8,
    "weight_decay": 0,
    "clip": 5,
    "clip_norm": 0,
    "lr_decay": 1,
    "lr_decay_after": 0,
    "val_frac": 0,
    "seed": 0,
}


class CheckpointError(Exception):
    pass


class Checkpoint:
    """A file as read: tensors (name -> float32 array), metadata (the raw strings), vocab and config."""

    def __init__(self, path):
        self.path = path
        self.tensors, self.metadata = read_safetensors(path)
        fmt = self.metadata.get("format")
        if fmt is not None and fmt != FORMAT:
            raise CheckpointError(f"{path}: unsupported format {fmt!r} (expected {FORMAT})")
        if "vocab" not in self.metadata:
            raise CheckpointError(f"{path}: __metadata__ has no vocab")
        self.vocab = json.loads(self.metadata["vocab"])
        config = json.loads(self.metadata["config"]) if fmt else self._inferred_config()
        self.config = {**DEFAULT_CONFIG, **config}
        self.iter = int(self.metadata.get("iter", 0))
        self.resumable = fmt is not None and HIDDEN in self.tensors

    def _inferred_config(self):
        hh = self.tensors.get("rnn.weight_hh_l0")
        if hh is None:
            raise CheckpointError(f"{self.path}: neither __metadata__.format nor a PyTorch encoder/rnn/decoder state_dict")
        hidden = hh.shape[1]
        cells = [c for c, g in GATES.items() if g * hidden == hh.shape[0]]
        if not cells:
            raise CheckpointError(f"{self.path}: rnn.weight_hh_l0 {list(hh.shape)} is not an RNN, GRU or LSTM")
        layers = 0
        while f"rnn.weight_hh_l{layers}" in self.tensors:
            layers += 1
        encoder = self.tensors.get("encoder.weight")
        embed = encoder.shape[1] if encoder is not None else 0
        return {"cell": cells[0], "hidden": hidden, "layers": layers, "embed": embed, "vocab_size": len(self.vocab)}

    def model(self):
        """A float32 CharModel with these weights; a tanh RNN's bias_hh is folded into bias_ih, as the engine
        reads it (added only where nonzero, so that the engine's own files stay bit-exact)."""
        c = self.config
        m = CharModel(c["cell"], len(self.vocab), c["hidden"], c["layers"], c["embed"], c["dropout"])
        state = {name: torch.from_numpy(self.tensors[name].copy()) for name, _ in m.named_parameters()}
        if c["cell"] == "rnn":
            for k in range(c["layers"]):
                bias, bias_hh = state[f"rnn.bias_ih_l{k}"], state.pop(f"rnn.bias_hh_l{k}")
                nonzero = bias_hh != 0
                bias[nonzero] += bias_hh[nonzero]
                state[f"rnn.bias_hh_l{k}"] = torch.zeros_like(bias_hh)
        m.load_state_dict(state)
        return m

    def restore_training(self, model, optimizer):
        """Loads the optimizer's state; returns the loop's: hidden (L, B, H), cell (L, B, H) or None, pointer,
        smooth_loss, lr (the current rate), rng (the engine's generator, kept as the raw string)."""
        if not self.resumable:
            raise CheckpointError(f"{self.path}: holds weights only, no training state: it can be evaluated, not resumed")
        names = [name for name, _ in model.trained_parameters()]
        params = [p for _, p in model.trained_parameters()]
        kind = self.config["optimizer"]
        old = kind == "adagrad" and OLD_ADAGRAD_PREFIX + names[0] in self.tensors
        prefixes = {key: OLD_ADAGRAD_PREFIX if old else f"train.{kind}.{key}." for key in STATE_KEYS[kind]}
        buffers = {key: [torch.from_numpy(self.tensors[prefix + n].copy()) for n in names] for key, prefix in prefixes.items()}
        meta = self.metadata
        step = int(meta["step"]) if "step" in meta else self.iter  # older files: AdaGrad ignores the step
        set_optimizer_state(optimizer, params, buffers, step)
        c = self.config
        shape = (c["layers"], c["batch"], c["hidden"])
        hidden = torch.from_numpy(self.tensors[HIDDEN].reshape(shape).copy())
        cell = torch.from_numpy(self.tensors[CELL_STATE].copy()) if CELL_STATE in self.tensors else None
        lr = float(meta["lr"]) if "lr" in meta else c["lr"]
        return {"hidden": hidden, "cell": cell, "pointer": int(meta["pointer"]), "smooth_loss": float(meta["smooth_loss"]), "lr": lr}

    def encode(self, model, optimizer, hidden, cell, iter, pointer, smooth_loss, lr, data=None):
        """The engine's bytes for this run's state: hidden and cell are the whole batch's (L, B, H)."""
        c = self.config
        trained = [(name, f32(p)) for name, p in model.trained_parameters()]
        tensors = list(trained)
        if c["cell"] == "rnn":
            tensors += [(f"rnn.bias_hh_l{k}", np.zeros(c["hidden"], np.float32)) for k in range(c["layers"])]
        kind = c["optimizer"]
        params = [p for _, p in model.trained_parameters()]
        for key in STATE_KEYS[kind]:
            for (name, value), p in zip(trained, params):
                buf = optimizer.state[p].get(key)
                tensors.append((f"train.{kind}.{key}.{name}", np.zeros_like(value) if buf is None else f32(buf)))
        tensors.append((HIDDEN, f32(hidden)))
        if cell is not None:
            tensors.append((CELL_STATE, f32(cell)))
        meta = self.metadata
        metadata = {"format": FORMAT, "vocab": meta["vocab"], "config": meta["config"], "iter": str(iter)}
        data = data if data is not None else meta.get("data")
        if data is not None:
            metadata["data"] = data
        # The run's best validation so far (the engine's --save-best compares with it when it resumes).
        for key in ("best_val_loss", "best_val_iter"):
            if key in meta:
                metadata[key] = meta[key]
        metadata.update(
            pointer=str(pointer),
            smooth_loss=js_number(smooth_loss),
            step=str(optimizer_step(optimizer, params)),
            lr=js_number(lr),
            rng=meta["rng"],
        )
        return encode_safetensors(tensors, metadata)


def f32(t):
    return t.detach().to("cpu", torch.float32).numpy()


def save_checkpoint(path, data):
    """Writes a temporary file beside `path`, fsyncs it and renames it over `path`: a reader never sees half a file."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def js_number(x):
    """x as JavaScript's String(x) prints it (1e-8, not Python's 1e-08): the engine's metadata numbers."""
    x = float(x)
    if x != x:
        return "NaN"
    if x in (float("inf"), float("-inf")):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0:
        return "0"
    sign = "-" if x < 0 else ""
    # repr gives the shortest digits that read back to x, which is what JavaScript prints too.
    _, digits, exponent = decimal.Decimal(repr(abs(x))).normalize().as_tuple()
    s = "".join(map(str, digits))
    k, n = len(s), len(s) + exponent  # x = 0.s * 10^n
    if k <= n <= 21:
        return sign + s + "0" * (n - k)
    if 0 < n <= 21:
        return sign + s[:n] + "." + s[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * -n + s
    e = n - 1
    mantissa = s if k == 1 else s[0] + "." + s[1:]
    return f"{sign}{mantissa}e{'+' if e > 0 else '-'}{abs(e)}"
