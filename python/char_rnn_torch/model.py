"""The engine's character model as a PyTorch module: encoder/rnn/decoder, the state_dict names of the
engine's checkpoints (src/model/model_tensors.ts).

ids (T, B) -> [encoder.weight (V, E), or one-hot] -> rnn (nn.RNN tanh / nn.LSTM / nn.GRU, L layers,
dropout between layers in training) -> decoder (V, H) -> logits (T, B, V). Gate rows are PyTorch's own
(LSTM i, f, g, o; GRU r, z, n), which the engine follows.

min-char-rnn's tanh RNN has one hidden bias per layer; nn.RNN has two. The engine's bias is bias_ih here,
and bias_hh stays zero and frozen (no gradient, not in the optimizer): with both trained, the pair would
move twice as fast as the engine's single bias.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F

CELLS = {"rnn": lambda **kw: nn.RNN(nonlinearity="tanh", **kw), "lstm": nn.LSTM, "gru": nn.GRU}
GATES = {"rnn": 1, "gru": 3, "lstm": 4}


class CharModel(nn.Module):
    def __init__(self, cell, vocab_size, hidden, layers, embed, dropout):
        super().__init__()
        self.cell = cell
        self.vocab_size = vocab_size
        self.hidden = hidden
        self.layers = layers
        self.encoder = nn.Embedding(vocab_size, embed) if embed > 0 else None
        self.rnn = CELLS[cell](input_size=embed or vocab_size, hidden_size=hidden, num_layers=layers, dropout=dropout)
        self.decoder = nn.Linear(hidden, vocab_size)
        if cell == "rnn":
            for k in range(layers):
                bias_hh = getattr(self.rnn, f"bias_hh_l{k}")
                with torch.no_grad():
                    bias_hh.zero_()
                bias_hh.requires_grad_(False)

    def forward(self, ids, state):
        """ids (T, B) int64; state h (L, B, H), or (h, c) for the LSTM. Returns logits (T, B, V) and the last state."""
        if self.encoder is not None:
            x = self.encoder(ids)
        else:
            x = F.one_hot(ids, self.vocab_size).to(self.decoder.weight.dtype)
        out, state = self.rnn(x, state)
        return self.decoder(out), state

    def zero_state(self, batch):
        h = torch.zeros(self.layers, batch, self.hidden, device=self.decoder.weight.device)
        return (h, torch.zeros_like(h)) if self.cell == "lstm" else h

    def trained_parameters(self):
        """(name, parameter) in the engine's layout order: every parameter but the tanh RNN's frozen bias_hh."""
        return [(name, p) for name, p in self.named_parameters() if p.requires_grad]


def window_loss_sum(logits, targets):
    """Cross-entropy of every prediction of a (T, B) window, summed (the engine divides by B)."""
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), reduction="sum")
