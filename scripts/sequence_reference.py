#!/usr/bin/env python3
"""Reference outputs for tests/pytorch_reference.rs: GRU, LSTM, Conv1d, pooling and Flatten.

Every weight and input is an exact binary fraction given by `grid` below, which the Rust test
computes the same way, so only the outputs need recording. Each output is computed twice: by
PyTorch (float64) and by numpy from the equations in PyTorch's documentation. The script fails
unless both agree to 1e-13, then prints the Rust constants that the test compares against.

    python3 -m venv venv && venv/bin/pip install torch numpy
    venv/bin/python scripts/sequence_reference.py > /tmp/reference.rs

Recorded with torch 2.15.0 and numpy 2.4.6.
"""

import numpy as np
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)


def grid(shape, salt):
    """Entry idx = ((7 i0 + 3 i1 + 5 i2 + 11 i3 + salt) mod 13 - 6) / 16: exact in binary."""
    out = np.zeros(shape)
    for idx in np.ndindex(*shape):
        k = sum(p * i for p, i in zip((7, 3, 5, 11), idx)) + salt
        out[idx] = (k % 13 - 6) / 16
    return out


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def check(name, ours, theirs):
    err = np.max(np.abs(np.asarray(ours) - np.asarray(theirs)))
    assert err < 1e-13, f"{name}: numpy and torch differ by {err}"


def rust(name, array):
    """A Rust constant: nested arrays in the array's own index order."""
    array = np.asarray(array)
    ty = "f64"
    for n in reversed(array.shape):
        ty = f"[{ty}; {n}]"

    def body(a):
        if a.ndim == 0:
            return repr(float(a))
        return "[" + ", ".join(body(x) for x in a) + "]"

    print(f"const {name}: {ty} = {body(array)};")


I, H, L, B = 2, 3, 4, 2

# GRU(I, H): weights (3H x I), (3H x H), biases (3H), input (L, B, I), h0 (1, B, H).
w_ih, w_hh = grid((3 * H, I), 1), grid((3 * H, H), 2)
b_ih, b_hh = grid((3 * H,), 3), grid((3 * H,), 4)
x, h0 = grid((L, B, I), 5), grid((B, H), 6)
gru = torch.nn.GRU(I, H)
with torch.no_grad():
    for p, v in zip((gru.weight_ih_l0, gru.weight_hh_l0, gru.bias_ih_l0, gru.bias_hh_l0), (w_ih, w_hh, b_ih, b_hh)):
        p.copy_(torch.tensor(v))
    out, h_n = gru(torch.tensor(x), torch.tensor(h0)[None])
h, ours = h0.copy(), []
for t in range(L):
    gi, gh = x[t] @ w_ih.T + b_ih, h @ w_hh.T + b_hh
    r = sigmoid(gi[:, :H] + gh[:, :H])
    z = sigmoid(gi[:, H:2 * H] + gh[:, H:2 * H])
    n = np.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:])
    h = (1 - z) * n + z * h
    ours.append(h)
check("gru", ours, out.numpy())
check("gru h_n", h, h_n[0].numpy())
rust("GRU_OUTPUT", out.numpy())  # [t][b][j]

# LSTM(I, H): gates i, f, g, o; input as above, (h0, c0).
w_ih, w_hh = grid((4 * H, I), 7), grid((4 * H, H), 8)
b_ih, b_hh = grid((4 * H,), 9), grid((4 * H,), 10)
c0 = grid((B, H), 11)
lstm = torch.nn.LSTM(I, H)
with torch.no_grad():
    for p, v in zip((lstm.weight_ih_l0, lstm.weight_hh_l0, lstm.bias_ih_l0, lstm.bias_hh_l0), (w_ih, w_hh, b_ih, b_hh)):
        p.copy_(torch.tensor(v))
    out, (h_n, c_n) = lstm(torch.tensor(x), (torch.tensor(h0)[None], torch.tensor(c0)[None]))
h, c, ours = h0.copy(), c0.copy(), []
for t in range(L):
    a = x[t] @ w_ih.T + b_ih + h @ w_hh.T + b_hh
    i, f, g, o = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H]), np.tanh(a[:, 2 * H:3 * H]), sigmoid(a[:, 3 * H:])
    c = f * c + i * g
    h = o * np.tanh(c)
    ours.append(h)
check("lstm", ours, out.numpy())
check("lstm c_n", c, c_n[0].numpy())
rust("LSTM_OUTPUT", out.numpy())
rust("LSTM_C_N", c_n[0].numpy())  # [b][j]


def conv_numpy(x, w, bias, stride, before, after, dilation):
    """x (N, C, L), w (O, C, K): PyTorch's cross-correlation written out."""
    n, _, length = x.shape
    o, _, k = w.shape
    padded = np.concatenate([np.zeros((n, x.shape[1], before)), x, np.zeros((n, x.shape[1], after))], axis=2)
    l_out = (length + before + after - dilation * (k - 1) - 1) // stride + 1
    y = np.zeros((n, o, l_out))
    for t in range(l_out):
        taps = padded[:, :, [t * stride + j * dilation for j in range(k)]]  # (N, C, K)
        y[:, :, t] = np.einsum("nck,ock->no", taps, w) + bias
    return y


# Conv1d(2, 3, kernel 3, stride 2, padding 1, dilation 2) on (N=2, C=2, L=9).
xc = grid((2, 2, 9), 12)
w, bias = grid((3, 2, 3), 13), grid((3,), 14)
y = F.conv1d(torch.tensor(xc), torch.tensor(w), torch.tensor(bias), stride=2, padding=1, dilation=2)
check("conv strided", conv_numpy(xc, w, bias, 2, 1, 1, 2), y.numpy())
rust("CONV_STRIDED", y.numpy())  # [b][o][t]

# padding='same' with an even kernel (4): PyTorch pads 1 before, 2 after.
xs = grid((2, 2, 6), 15)
w, bias = grid((3, 2, 4), 16), grid((3,), 17)
y = F.conv1d(torch.tensor(xs), torch.tensor(w), torch.tensor(bias), padding="same")
check("conv same", conv_numpy(xs, w, bias, 1, 1, 2, 1), y.numpy())
rust("CONV_SAME", y.numpy())

# Causal: kernel 3, dilation 2, all 4 zeros before.
w, bias = grid((3, 2, 3), 18), grid((3,), 19)
y = F.conv1d(F.pad(torch.tensor(xs), (4, 0)), torch.tensor(w), torch.tensor(bias), dilation=2)
check("conv causal", conv_numpy(xs, w, bias, 1, 4, 0, 2), y.numpy())
rust("CONV_CAUSAL", y.numpy())

# Pooling (kernel 3, stride 2) on (N=2, C=2, L=7), with the values of a sine so that no window ties.
xp = np.sin(np.arange(28).reshape(2, 2, 7) * 0.83)
rust("POOL_INPUT", xp)
mp = F.max_pool1d(torch.tensor(xp), 3, stride=2)
ap = F.avg_pool1d(torch.tensor(xp), 3, stride=2)
check("max pool", np.stack([xp[:, :, 2 * t:2 * t + 3].max(axis=2) for t in range(3)], axis=2), mp.numpy())
check("avg pool", np.stack([xp[:, :, 2 * t:2 * t + 3].mean(axis=2) for t in range(3)], axis=2), ap.numpy())
rust("MAX_POOL", mp.numpy())
rust("AVG_POOL", ap.numpy())

# Conv1d(2, 3, 3) on L = 6 -> (N, 3, 4) -> nn.Flatten -> nn.Linear(12, 2): Flatten's order.
model = torch.nn.Sequential(torch.nn.Conv1d(2, 3, 3), torch.nn.Flatten(), torch.nn.Linear(12, 2))
with torch.no_grad():
    model[0].weight.copy_(torch.tensor(grid((3, 2, 3), 20)))
    model[0].bias.copy_(torch.tensor(grid((3,), 21)))
    model[2].weight.copy_(torch.tensor(grid((2, 12), 22)))
    model[2].bias.copy_(torch.tensor(grid((2,), 23)))
    y = model(torch.tensor(xs))
rust("CONV_FLATTEN_LINEAR", y.numpy())  # [b][o]
