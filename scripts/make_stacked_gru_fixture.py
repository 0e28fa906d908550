#!/usr/bin/env python3
"""Writes the fixture of tests/safetensors_names.rs: a state_dict with PyTorch's own module names.

    python3 -m venv venv && venv/bin/pip install numpy safetensors
    venv/bin/python scripts/make_stacked_gru_fixture.py

The model, as PyTorch would write it:

    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.gru = nn.GRU(3, 5, num_layers=3)
    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = Encoder()
            self.head = nn.Linear(5, 2)
        def forward(self, x):              # x: (L, N, 3)
            out, _ = self.encoder.gru(x)
            return out, self.head(out[-1])

Its state_dict keys are PyTorch's: `encoder.gru.weight_ih_l0` (15, 3), `encoder.gru.weight_hh_l2`
(15, 5), `encoder.gru.bias_ih_l1` (15), ..., `head.weight` (2, 5), `head.bias` (2). The weights are
float32 (drawn uniformly from PyTorch's default range, +-1/sqrt(5)); the outputs are computed in
float64 from those float32 values with numpy, from the equations in PyTorch's nn.GRU
documentation (gates r, z, n in that order; n = tanh(W_in x + b_in + r * (W_hn h + b_hn));
h' = (1 - z) * n + z * h; layer l > 0 takes layer l - 1's outputs as its input).
scripts/sequence_reference.py checks these same equations against torch itself.

Files: tests/fixtures/pytorch_named_gru.safetensors (the state_dict, F32) and
tests/fixtures/pytorch_named_gru_io.safetensors (`input` (4, 2, 3), `output` (4, 2, 5): the last
layer's hidden state at every step, `head` (2, 2); F64).
"""

from pathlib import Path

import numpy as np
from safetensors.numpy import save_file

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"
I, H, LAYERS, L, N = 3, 5, 3, 4, 2

rng = np.random.default_rng(17)
bound = 1 / np.sqrt(H)


def uniform(*shape):
    return rng.uniform(-bound, bound, shape).astype(np.float32)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


state = {}
for layer in range(LAYERS):
    width = I if layer == 0 else H
    state[f"encoder.gru.weight_ih_l{layer}"] = uniform(3 * H, width)
    state[f"encoder.gru.weight_hh_l{layer}"] = uniform(3 * H, H)
    state[f"encoder.gru.bias_ih_l{layer}"] = uniform(3 * H)
    state[f"encoder.gru.bias_hh_l{layer}"] = uniform(3 * H)
state["head.weight"] = uniform(2, H)
state["head.bias"] = uniform(2)

x = rng.uniform(-1, 1, (L, N, I))
sequence = x
for layer in range(LAYERS):
    w_ih, w_hh = (state[f"encoder.gru.{k}_l{layer}"].astype(np.float64) for k in ("weight_ih", "weight_hh"))
    b_ih, b_hh = (state[f"encoder.gru.{k}_l{layer}"].astype(np.float64) for k in ("bias_ih", "bias_hh"))
    h, out = np.zeros((N, H)), []
    for t in range(L):
        gi, gh = sequence[t] @ w_ih.T + b_ih, h @ w_hh.T + b_hh
        r = sigmoid(gi[:, :H] + gh[:, :H])
        z = sigmoid(gi[:, H:2 * H] + gh[:, H:2 * H])
        n = np.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:])
        h = (1 - z) * n + z * h
        out.append(h)
    sequence = np.stack(out)
head = sequence[-1] @ state["head.weight"].astype(np.float64).T + state["head.bias"].astype(np.float64)

save_file(state, FIXTURES / "pytorch_named_gru.safetensors")
save_file({"input": x, "output": sequence, "head": head}, FIXTURES / "pytorch_named_gru_io.safetensors")
