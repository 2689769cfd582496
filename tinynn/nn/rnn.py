"""Recurrent layers, as ``torch.nn``: RNN (tanh or ReLU), LSTM, GRU and their one-step cells.

The time loop and backpropagation through time live in ``tinynn/ops/recurrent.py`` (one
graph node per layer and direction); these modules hold the parameters under PyTorch's
names, so a PyTorch state dict loads one to one, check the inputs and stack the layers.

Shapes (L = sequence length, N = batch, D = 2 if bidirectional else 1):
    input   (L, N, input_size), (N, L, input_size) with batch_first, or unbatched (L, input_size)
    h_0     (D*num_layers, N, hidden_size), or (D*num_layers, hidden_size) unbatched;
            batch_first never applies to the states; zeros when not given
    output  (L, N, D*hidden_size) (batch_first: (N, L, ...)): the last layer's h_t for every
            t, the two directions side by side (forward first)
    h_n     like h_0: the final state of every layer and direction (layer 0 forward,
            layer 0 reverse, layer 1 forward, ...); LSTM returns (output, (h_n, c_n)).

Not supported: LSTM's ``proj_size`` (must stay 0) and packed sequences.
"""
import math
import numbers
import warnings

from .. import backend
from ..creation import zeros
from ..ops.recurrent import GRULayer, LSTMLayer, RNNLayer
from ..ops.shape import cat, stack
from . import functional as F, init
from .module import LayerName, Module
from .parameter import Parameter

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def run_layer(mode, x, h0, c0, weights, reverse=False):
    """One layer in one direction over x (L, N, I): returns (outputs (L, N, H), h_n, c_n)."""
    length = x.shape[0]
    last = 0 if reverse else length - 1   # a reverse layer ends at t = 0
    if mode == "LSTM":
        out = LSTMLayer.apply(x, h0, c0, *weights, reverse=reverse)   # (L+1, N, H): h_t..., c_n
        return out[:length], out[last], out[length]
    if mode == "GRU":
        out = GRULayer.apply(x, h0, *weights, reverse=reverse)
    else:
        out = RNNLayer.apply(x, h0, *weights, reverse=reverse,
                             nonlinearity="tanh" if mode == "RNN_TANH" else "relu")
    return out, out[last], None


def _shape(t):
    return tuple(t.shape)


def _reset_recurrent_parameters(module):
    """PyTorch's init for recurrent layers and cells: every parameter
    U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
    bound = 1.0 / math.sqrt(module.hidden_size)
    for weight in module.parameters():
        init.uniform_(weight, -bound, bound)


class RNNBase(Module):
    """The stacked, optionally bidirectional recurrent layer behind RNN, LSTM and GRU.

    Parameters per layer k and direction (suffix ``_reverse`` for the backward one), in
    PyTorch's order: ``weight_ih_l{k}`` (G*hidden, in), ``weight_hh_l{k}`` (G*hidden,
    hidden), ``bias_ih_l{k}`` and ``bias_hh_l{k}`` (G*hidden,), G the number of gates,
    in = input_size for layer 0 and D*hidden_size above. All start as
    U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)).
    """

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        name = {"RNN_TANH": "RNN", "RNN_RELU": "RNN"}.get(mode, mode)
        if mode not in GATES:
            raise ValueError(f"Unrecognized RNN mode: {mode}")
        if isinstance(dropout, bool) or not isinstance(dropout, numbers.Number) \
                or not 0 <= dropout <= 1:
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             "probability of an element being zeroed")
        for arg, value in (("input_size", input_size), ("hidden_size", hidden_size),
                           ("num_layers", num_layers), ("proj_size", proj_size)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"{arg} should be of type int, got: {type(value).__name__}")
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable "
                             "projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if proj_size:
            raise NotImplementedError(f"{name}: proj_size > 0 (LSTM with projections) is not "
                                      f"supported by tinynn")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so "
                          "non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}")
        self.mode, self.input_size, self.hidden_size = mode, input_size, hidden_size
        self.num_layers, self.bias, self.batch_first = num_layers, bias, batch_first
        self.dropout, self.bidirectional, self.proj_size = float(dropout), bidirectional, proj_size
        gate_size = GATES[mode] * hidden_size
        directions = 2 if bidirectional else 1
        self._all_weights = []
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else hidden_size * directions
            for direction in range(directions):
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                shapes = {"weight_ih": (gate_size, layer_input),
                          "weight_hh": (gate_size, hidden_size)}
                if bias:
                    shapes.update(bias_ih=(gate_size,), bias_hh=(gate_size,))
                for prefix, shape in shapes.items():
                    setattr(self, prefix + suffix, Parameter(zeros(*shape, dtype=dtype)))
                self._all_weights.append([prefix + suffix for prefix in shapes])
        self._flat_weights_names = [n for names in self._all_weights for n in names]
        self.reset_parameters()
        if device is not None:
            self.to(backend.Device(device))

    def reset_parameters(self):
        _reset_recurrent_parameters(self)

    def flatten_parameters(self):
        """A no-op kept for PyTorch code (cuDNN's contiguous weight buffer does not exist here)."""

    @property
    def all_weights(self):
        return [[getattr(self, n) for n in names] for names in self._all_weights]

    def _layer_weights(self, layer, direction):
        suffix = f"_l{layer}" + ("_reverse" if direction else "")
        return [getattr(self, p + suffix, None)
                for p in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]

    def _name(self):
        return LayerName(self)

    def _check_states(self, input, states, batched):
        """States must match the input's batching and be (D*num_layers, [N,] hidden_size)."""
        is_lstm, name = self.mode == "LSTM", self._name()
        want = 3 if batched else 2
        kind = "batched 3-D" if batched else "unbatched 2-D"
        if any(s.ndim != want for s in states):
            if is_lstm:
                got = ", ".join(f"{s.ndim}-D" for s in states)
                raise RuntimeError(f"{name}: For {kind} input, hx and cx should also be {want}-D "
                                   f"but got ({got}) tensors")
            raise RuntimeError(f"{name}: For {kind} input, hx should also be {want}-D but got "
                               f"{states[0].ndim}-D tensor")
        for s in states:
            if s.dtype != input.dtype:
                raise RuntimeError(f"{name}: input and hidden tensors are not the same dtype: "
                                   f"input {input.dtype}, hidden {s.dtype}")
        directions = 2 if self.bidirectional else 1
        batch = (input.shape[0 if self.batch_first else 1],) if batched else ()
        expected = (self.num_layers * directions, *batch, self.hidden_size)
        for i, s in enumerate(states):
            if _shape(s) != expected:
                which = f"hidden[{i}]" if is_lstm else "hidden"
                raise RuntimeError(f"{name}: Expected {which} size {expected}, got "
                                   f"{list(s.shape)} (input of shape {_shape(input)})")

    def forward(self, input, hx=None):
        name, is_lstm = self._name(), self.mode == "LSTM"
        if input.ndim not in (2, 3):
            raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.ndim}D tensor "
                             f"instead (input of shape {_shape(input)})")
        weight = self.weight_ih_l0
        if input.dtype != weight.dtype:
            raise ValueError(f"{name}: input must have the type {weight.dtype}, got type "
                             f"{input.dtype}")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"{name}: input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {input.shape[-1]} (input of shape "
                               f"{_shape(input)})")
        batched = input.ndim == 3
        states = ()
        if hx is not None:
            if is_lstm and not (isinstance(hx, (tuple, list)) and len(hx) == 2):
                raise TypeError(f"{name}: hx must be a tuple (h_0, c_0), got {type(hx).__name__}")
            states = tuple(hx) if is_lstm else (hx,)
            self._check_states(input, states, batched)
        if not batched:
            input = input.unsqueeze(1)
            states = tuple(s.unsqueeze(1) for s in states)
        elif self.batch_first:
            input = input.transpose(0, 1)
        if input.shape[0] == 0:
            raise RuntimeError(f"{name}: expected a sequence of length at least 1, got input of "
                               f"shape {_shape(input)}")

        directions = 2 if self.bidirectional else 1
        h_n, c_n = [], []
        x = input
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(directions):
                k = layer * directions + direction
                h0 = states[0][k] if states else None
                c0 = states[1][k] if states and is_lstm else None
                out, h, c = run_layer(self.mode, x, h0, c0, self._layer_weights(layer, direction),
                                      reverse=direction == 1)
                outputs.append(out)
                h_n.append(h)
                c_n.append(c)
            x = outputs[0] if directions == 1 else cat(outputs, dim=2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, training=True)

        output, h_n = x, stack(h_n)
        c_n = stack(c_n) if is_lstm else None
        if not batched:
            output, h_n = output.squeeze(1), h_n.squeeze(1)
            c_n = c_n.squeeze(1) if is_lstm else None
        elif self.batch_first:
            output = output.transpose(0, 1)
        return (output, (h_n, c_n)) if is_lstm else (output, h_n)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.mode == "RNN_RELU":
            s += ", nonlinearity='relu'"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s


class RNN(RNNBase):
    """Elman RNN: ``h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)`` (or ReLU).

    Returns ``(output, h_n)``; see the module docstring for the shapes.
    """

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or "
                             f"'relu'.")
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size,
                         hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """Long short-term memory; gates i, f, g, o stacked in that order in the weights.

        i, f, g, o = σ, σ, tanh, σ of (W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)
        c_t = f * c_{t-1} + i * g,    h_t = o * tanh(c_t)

    ``lstm(input, (h_0, c_0))`` returns ``(output, (h_n, c_n))``; c_0 and c_n have h_0's
    shape. ``proj_size`` must be 0 (projections are not implemented).
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, proj_size, device=device, dtype=dtype)


class GRU(RNNBase):
    """Gated recurrent unit; gates r, z, n stacked in that order in the weights.

        r, z = σ of (W_i{r,z} x_t + b_i{r,z} + W_h{r,z} h_{t-1} + b_h{r,z})
        n = tanh(W_in x_t + b_in + r * (W_hn h_{t-1} + b_hn)),   h_t = (1 - z) * n + z * h_{t-1}

    Returns ``(output, h_n)``.
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, device=device, dtype=dtype)


class RNNCellBase(Module):
    """One time step: ``weight_ih`` (G*hidden, input), ``weight_hh`` (G*hidden, hidden),
    ``bias_ih``, ``bias_hh`` (G*hidden,), all U(-1/sqrt(hidden), 1/sqrt(hidden)).

    Input (N, input_size) or unbatched (input_size,); states (N, hidden_size) or (hidden_size,),
    zeros when not given.
    """

    mode = None

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        self.weight_ih = Parameter(zeros(num_chunks * hidden_size, input_size, dtype=dtype))
        self.weight_hh = Parameter(zeros(num_chunks * hidden_size, hidden_size, dtype=dtype))
        if bias:
            self.bias_ih = Parameter(zeros(num_chunks * hidden_size, dtype=dtype))
            self.bias_hh = Parameter(zeros(num_chunks * hidden_size, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()
        if device is not None:
            self.to(backend.Device(device))

    def reset_parameters(self):
        _reset_recurrent_parameters(self)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def _step(self, input, states, names):
        """Check the input and states, run one step; returns the new states (h', or h', c')."""
        name = LayerName(self)
        if input.ndim not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.ndim}D instead")
        for s, which in zip(states, names):
            if s is not None and s.ndim not in (1, 2):
                raise ValueError(f"{name}: Expected {which} to be 1D or 2D, got {s.ndim}D instead")
        if input.dtype != self.weight_ih.dtype:
            raise ValueError(f"{name}: input must have the type {self.weight_ih.dtype}, got "
                             f"type {input.dtype}")
        batched = input.ndim == 2
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"{name}: input has inconsistent input_size: got "
                               f"{input.shape[-1]} expected {self.input_size} (input of shape "
                               f"{_shape(input)})")
        batch = input.shape[0] if batched else 1
        expected = (batch, self.hidden_size) if batched else (self.hidden_size,)
        for i, s in enumerate(states):
            if s is None:
                continue
            if s.dtype != input.dtype:
                raise RuntimeError(f"{name}: input and hidden tensors are not the same dtype: "
                                   f"input {input.dtype}, {names[i]} {s.dtype}")
            if s.ndim != input.ndim:
                raise RuntimeError(f"{name}: for a {input.ndim}-D input, {names[i]} should also "
                                   f"be {input.ndim}-D but got {s.ndim}-D tensor (input of "
                                   f"shape {_shape(input)}, {names[i]} of shape {_shape(s)})")
            if batched and s.shape[0] != batch:
                raise RuntimeError(f"{name}: Input batch size {batch} doesn't match hidden{i} "
                                   f"batch size {s.shape[0]} (input of shape {_shape(input)}, "
                                   f"{names[i]} of shape {_shape(s)})")
            if s.shape[-1] != self.hidden_size:
                raise RuntimeError(f"{name}: hidden{i} has inconsistent hidden_size: got "
                                   f"{s.shape[-1]}, expected {self.hidden_size} ({names[i]} of "
                                   f"shape {_shape(s)}, expected {expected})")
        x = input.reshape(1, batch, self.input_size)    # a sequence of one step
        states = [None if s is None else s.reshape(batch, self.hidden_size) for s in states]
        weights = (self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        c0 = states[1] if len(states) == 2 else None
        _, h, c = run_layer(self.mode, x, states[0], c0, weights)
        new = (h, c) if len(states) == 2 else (h,)
        return tuple(t if batched else t.squeeze(0) for t in new)


class RNNCell(RNNCellBase):
    """``h' = tanh(W_ih x + b_ih + W_hh h + b_hh)`` (or ReLU); ``cell(input, hx=None) -> h'``."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None,
                 dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity: {nonlinearity}. Select from 'tanh' or 'relu'.")
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity
        self.mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"

    def forward(self, input, hx=None):
        return self._step(input, (hx,), ("hidden",))[0]


class LSTMCell(RNNCellBase):
    """One LSTM step (gates i, f, g, o): ``cell(input, (h, c)) -> (h', c')``."""

    mode = "LSTM"

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        h, c = (None, None) if hx is None else hx
        return self._step(input, (h, c), ("hx[0]", "hx[1]"))


class GRUCell(RNNCellBase):
    """One GRU step (gates r, z, n): ``cell(input, hx=None) -> h'``."""

    mode = "GRU"

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        return self._step(input, (hx,), ("hidden",))[0]
