"""The engine's optimizers on torch.optim, with its state keys (src/model/optimizers.ts).

RMSprop and Adam are torch.optim's own. AdaGrad is min-char-rnn's, which torch.optim.Adagrad is not
(that one puts eps outside the root and has an lr decay): sum += g^2; p -= lr g / sqrt(sum + eps).
"""

import torch


class MinCharAdagrad(torch.optim.Optimizer):
    def __init__(self, params, lr=0.1, eps=1e-8):
        super().__init__(params, {"lr": lr, "eps": eps})

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["sum"] = torch.zeros_like(p)
                state["step"] += 1
                state["sum"].addcmul_(p.grad, p.grad)
                p.addcdiv_(p.grad, (state["sum"] + group["eps"]).sqrt(), value=-group["lr"])


STATE_KEYS = {"adagrad": ["sum"], "rmsprop": ["square_avg"], "adam": ["exp_avg", "exp_avg_sq"]}


def make_optimizer(params, config, lr):
    """config: the checkpoint's `config` (optimizer, alpha, betas, eps, weight_decay); lr: the current rate."""
    kind = config["optimizer"]
    if kind == "adagrad":
        return MinCharAdagrad(params, lr=lr, eps=config["eps"])
    if kind == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, alpha=config["alpha"], eps=config["eps"], weight_decay=config["weight_decay"])
    return torch.optim.Adam(params, lr=lr, betas=tuple(config["betas"]), eps=config["eps"], weight_decay=config["weight_decay"])


def set_optimizer_state(optimizer, params, buffers, step):
    """buffers: {key: [tensor per param]} in STATE_KEYS order; step: the optimizer steps taken so far.

    torch.optim.Adam of PyTorch 1.13 and later keeps `step` as a tensor, RMSprop (and this AdaGrad) as an
    int; the key sets are complete, so neither optimizer re-initialises them at its next step.
    """
    for i, p in enumerate(params):
        state = optimizer.state[p]
        state["step"] = torch.tensor(float(step)) if isinstance(optimizer, torch.optim.Adam) else step
        for key, tensors in buffers.items():
            state[key] = tensors[i].to(p.device).clone()


def optimizer_step(optimizer, params):
    """The optimizer steps taken (0 before the first)."""
    state = optimizer.state.get(params[0], {})
    step = state.get("step", 0)
    return int(step.item()) if torch.is_tensor(step) else int(step)
