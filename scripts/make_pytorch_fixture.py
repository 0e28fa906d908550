#!/usr/bin/env python3
"""Writes the PyTorch interchange fixtures used by tests/safetensors.rs.

    pip install numpy safetensors
    python3 scripts/make_pytorch_fixture.py

The model is the PyTorch module

    nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 2))

with PyTorch's default initialisation, U(-1/sqrt(in), 1/sqrt(in)) for weights and biases. Its
`state_dict` (keys `0.weight` [8, 3], `0.bias` [8], `2.weight`, `2.bias`, `4.weight`, `4.bias`;
float32, row-major, weights [out, in]) is written with the reference `safetensors` package exactly
as `safetensors.torch.save_file(model.state_dict(), path)` would write it.

PyTorch itself is not used: its PyPI wheels need several GB of CUDA libraries. The outputs are
computed with numpy in float32 from PyTorch's documented formulas instead: `nn.Linear` is
`y = x W^T + b`, `nn.Tanh` is `tanh`, `nn.ReLU` is `max(0, x)`. Inputs are a batch of 6 rows
(PyTorch's batch-first layout); outputs are the model's outputs for them.

Files:
    tests/fixtures/pytorch_mlp.safetensors     the state_dict
    tests/fixtures/pytorch_mlp_io.safetensors  "input" [6, 3] and "output" [6, 2], float32
"""

from pathlib import Path

import numpy as np
from safetensors.numpy import save_file

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"


def linear(rng, fan_in, fan_out):
    bound = 1.0 / np.sqrt(fan_in)
    weight = rng.uniform(-bound, bound, size=(fan_out, fan_in)).astype(np.float32)
    bias = rng.uniform(-bound, bound, size=(fan_out,)).astype(np.float32)
    return weight, bias


def main():
    rng = np.random.default_rng(20240611)
    state = {}
    for position, (fan_in, fan_out) in zip((0, 2, 4), ((3, 8), (8, 8), (8, 2))):
        weight, bias = linear(rng, fan_in, fan_out)
        state[f"{position}.weight"] = weight
        state[f"{position}.bias"] = bias

    x = rng.uniform(-2.0, 2.0, size=(6, 3)).astype(np.float32)
    h = np.tanh(x @ state["0.weight"].T + state["0.bias"])
    h = np.maximum(h @ state["2.weight"].T + state["2.bias"], np.float32(0.0))
    y = h @ state["4.weight"].T + state["4.bias"]
    assert y.dtype == np.float32

    FIXTURES.mkdir(parents=True, exist_ok=True)
    save_file(state, str(FIXTURES / "pytorch_mlp.safetensors"))
    save_file({"input": x, "output": y}, str(FIXTURES / "pytorch_mlp_io.safetensors"))
    print(y)


if __name__ == "__main__":
    main()
