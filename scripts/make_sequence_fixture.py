#!/usr/bin/env python3
"""Writes the PyTorch fixtures used by tests/safetensors_sequence.rs.

    python3 -m venv venv && venv/bin/pip install torch safetensors
    venv/bin/python scripts/make_sequence_fixture.py

Two PyTorch models with PyTorch's default initialisation (torch.manual_seed(9)), float32:

1. conv -> ReLU -> GRU -> last step -> Linear, as the Rust network
   (Conv1d<f32, 2, 4, 3, 7, 5>, Relu, Gru<f32, 4, 6>, LastStep, Dense<f32, 6, 1>).
2. LSTM -> Linear at every step, as (Lstm<f32, 2, 3>, EachStep<Dense<f32, 3, 2>>).

A recurrent layer returns a tuple, so these models cannot be nn.Sequential; their state_dict keys
are renamed to the positions the Rust tuple gives each layer (`conv.weight` -> `0.weight`,
`gru.weight_ih_l0` -> `2.weight_ih_l0`, ...). The convolution's (out, in, kernel) weight is
saved as its `weight.reshape(out, in * kernel)`, which the importer also accepts, so that this
fixture covers that path (tests/safetensors.rs covers the natural 3-D shape). Everything else is
saved as PyTorch holds it.

Files (inputs are (L, N, features) for recurrent layers, (N, C, L) for the convolution):
    tests/fixtures/pytorch_conv_gru.safetensors, tests/fixtures/pytorch_conv_gru_io.safetensors
    tests/fixtures/pytorch_lstm.safetensors, tests/fixtures/pytorch_lstm_io.safetensors
"""

from pathlib import Path

import torch
from safetensors.torch import save_file

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"


class ConvGru(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv1d(2, 4, 3)
        self.gru = torch.nn.GRU(4, 6)
        self.fc = torch.nn.Linear(6, 1)

    def forward(self, x):  # x: (N, C, L)
        h = torch.relu(self.conv(x)).permute(2, 0, 1)  # (L, N, C)
        output, _ = self.gru(h)
        return self.fc(output[-1])


class LstmEachStep(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = torch.nn.LSTM(2, 3)
        self.fc = torch.nn.Linear(3, 2)

    def forward(self, x):  # x: (L, N, I)
        output, _ = self.lstm(x)
        return self.fc(output)


def renamed(model, positions):
    state = {}
    for key, value in model.state_dict().items():
        module, name = key.split(".", 1)
        if module == "conv" and name == "weight":
            value = value.reshape(value.shape[0], -1)
        state[f"{positions[module]}.{name}"] = value.contiguous()
    return state


def main():
    torch.manual_seed(9)
    FIXTURES.mkdir(parents=True, exist_ok=True)

    conv_gru = ConvGru()
    x = torch.rand(3, 2, 7) * 4 - 2
    with torch.no_grad():
        y = conv_gru(x)
    save_file(renamed(conv_gru, {"conv": 0, "gru": 2, "fc": 4}), str(FIXTURES / "pytorch_conv_gru.safetensors"))
    save_file({"input": x, "output": y}, str(FIXTURES / "pytorch_conv_gru_io.safetensors"))

    lstm = LstmEachStep()
    x = torch.rand(5, 3, 2) * 4 - 2
    with torch.no_grad():
        y = lstm(x)
    save_file(renamed(lstm, {"lstm": 0, "fc": 1}), str(FIXTURES / "pytorch_lstm.safetensors"))
    save_file({"input": x, "output": y}, str(FIXTURES / "pytorch_lstm_io.safetensors"))
    print(torch.__version__)


if __name__ == "__main__":
    main()
