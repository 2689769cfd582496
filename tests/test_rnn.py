"""Recurrent layers (nn.RNN, nn.LSTM, nn.GRU and the cells) against PyTorch's documentation.

The reference below is written in plain NumPy straight from the documented equations
(torch.nn.RNN / LSTM / GRU pages), one time step at a time, with the gates read from the
weights in PyTorch's order (LSTM i, f, g, o; GRU r, z, n). It never calls tinynn.
"""
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import tinynn
import tinynn.nn as nn
import tinynn.nn.functional as F
from tinynn import backend
from tinynn.ops.recurrent import GRULayer, LSTMLayer, RNNLayer
from opcheck import check_op, graph_nodes

MODES = {"RNN_TANH": lambda *a, **k: nn.RNN(*a, **k),
         "RNN_RELU": lambda *a, **k: nn.RNN(*a, nonlinearity="relu", **k),
         "LSTM": lambda *a, **k: nn.LSTM(*a, **k),
         "GRU": lambda *a, **k: nn.GRU(*a, **k)}
GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


# ---------------------------------------------------------------------------- NumPy reference

def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def ref_cell(mode, x, h, c, w_ih, w_hh, b_ih, b_hh):
    """One documented step: x (N, I), h and c (N, H) -> (h', c')."""
    hidden = w_hh.shape[1]
    b_ih = np.zeros(w_ih.shape[0]) if b_ih is None else b_ih
    b_hh = np.zeros(w_hh.shape[0]) if b_hh is None else b_hh

    def gate(k):  # W_i* x + b_i*, W_h* h + b_h* for gate number k
        rows = slice(k * hidden, (k + 1) * hidden)
        return x @ w_ih[rows].T + b_ih[rows], h @ w_hh[rows].T + b_hh[rows]

    if mode in ("RNN_TANH", "RNN_RELU"):
        a = sum(gate(0))
        return (np.tanh(a) if mode == "RNN_TANH" else np.maximum(a, 0)), None
    if mode == "LSTM":
        i, f, g, o = (sum(gate(k)) for k in range(4))
        i, f, g, o = sigmoid(i), sigmoid(f), np.tanh(g), sigmoid(o)
        c_new = f * c + i * g
        return o * np.tanh(c_new), c_new
    (xr, hr), (xz, hz), (xn, hn) = gate(0), gate(1), gate(2)
    r, z = sigmoid(xr + hr), sigmoid(xz + hz)
    n = np.tanh(xn + r * hn)
    return (1 - z) * n + z * h, None


def ref_rnn(mode, params, x, h0, c0, num_layers, bidirectional):
    """The stacked layer: x (L, N, I) time-major; h0, c0 (D*layers, N, H) or None."""
    directions = 2 if bidirectional else 1
    length, batch = x.shape[:2]
    hidden = params["weight_hh_l0"].shape[1]
    zeros = np.zeros((num_layers * directions, batch, hidden))
    h0 = zeros if h0 is None else h0
    c0 = zeros if c0 is None else c0
    h_n, c_n, layer_input = [], [], x
    for layer in range(num_layers):
        outputs = []
        for d in range(directions):
            sfx = f"_l{layer}" + ("_reverse" if d else "")
            w = [params.get(p + sfx) for p in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
            h, c = h0[layer * directions + d], c0[layer * directions + d]
            out = np.zeros((length, batch, hidden))
            for t in (reversed(range(length)) if d else range(length)):
                h, c = ref_cell(mode, layer_input[t], h, c, *w)
                out[t] = h
            outputs.append(out)
            h_n.append(h)
            c_n.append(c)
        layer_input = np.concatenate(outputs, axis=2)
    return layer_input, np.stack(h_n), (np.stack(c_n) if mode == "LSTM" else None)


def as_numpy(t):
    return backend.to_numpy(t.detach().array).astype(np.float64)


def params_of(module):
    return {k: as_numpy(v) for k, v in module.state_dict().items()}


def rand(shape, seed=0, device=None, dtype=np.float64, scale=1.0):
    values = np.random.default_rng(seed).standard_normal(shape) * scale
    return tinynn.tensor(values.astype(dtype), device=device)


def with_parameters(module, tensors):
    """Let ``module`` run on ``tensors`` in place of its parameters (in registration order),
    as torch.func.functional_call does, so gradients reach these tensors."""
    for name, t in zip(list(module._parameters), tensors):
        module._parameters[name] = t
    return module


def parameter_shapes(module):
    return [tuple(p.shape) for p in module.parameters()]


# ---------------------------------------------------------------------------- gradchecks

L, N, I, H = 3, 2, 3, 2


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("with_state", [False, True])
@pytest.mark.parametrize("mode", list(MODES))
def test_layer_function_gradcheck(device, mode, reverse, with_state):
    g = GATES[mode]
    weight_shapes = [(g * H, I), (g * H, H), (g * H,), (g * H,)]
    states = 2 if mode == "LSTM" else 1
    state_shapes = [(N, H)] * states if with_state else []

    def fn(x, *rest):
        given, weights = rest[:len(state_shapes)], rest[len(state_shapes):]
        given = list(given) + [None] * (states - len(given))
        if mode == "LSTM":
            return LSTMLayer.apply(x, *given, *weights, reverse=reverse)
        if mode == "GRU":
            return GRULayer.apply(x, *given, *weights, reverse=reverse)
        return RNNLayer.apply(x, *given, *weights, reverse=reverse,
                              nonlinearity="tanh" if mode == "RNN_TANH" else "relu")

    check_op(fn, [(L, N, I)] + state_shapes + weight_shapes, "normal", device)


@pytest.mark.parametrize("mode", list(MODES))
def test_module_gradcheck_two_layers_bidirectional_batch_first(device, mode):
    module = MODES[mode](I, H, num_layers=2, bidirectional=True, batch_first=True)
    states = 2 if mode == "LSTM" else 1

    def fn(x, *rest):
        hx, params = rest[:states], rest[states:]
        with_parameters(module, params)
        output, h = module(x, tuple(hx) if mode == "LSTM" else hx[0])
        return (output, *h) if mode == "LSTM" else (output, h)

    shapes = [(N, L, I)] + [(4, N, H)] * states + parameter_shapes(module)
    check_op(fn, shapes, "normal", device)


@pytest.mark.parametrize("mode", ["LSTM", "GRU", "RNN_TANH"])
def test_module_gradcheck_without_states_unbatched_and_no_bias(device, mode):
    module = MODES[mode](I, H, num_layers=2, bias=False)

    def fn(x, *params):
        with_parameters(module, params)
        output, h = module(x)
        return (output, *h) if mode == "LSTM" else (output, h)

    check_op(fn, [(L, I)] + parameter_shapes(module), "normal", device)


@pytest.mark.parametrize("cls,states", [(nn.RNNCell, 1), (nn.LSTMCell, 2), (nn.GRUCell, 1)])
def test_cell_gradcheck(device, cls, states):
    cell = cls(I, H)

    def fn(x, *rest):
        hx, params = rest[:states], rest[states:]
        with_parameters(cell, params)
        return cell(x, tuple(hx) if states == 2 else hx[0])

    check_op(fn, [(N, I)] + [(N, H)] * states + parameter_shapes(cell), "normal", device)


def test_graph_has_one_node_per_layer_and_direction_whatever_the_length():
    lstm = nn.LSTM(3, 4, num_layers=2, bidirectional=True)

    def node_count(length):
        out, (h, c) = lstm(tinynn.randn(length, 2, 3))
        return len(graph_nodes(out.grad_fn))

    assert node_count(4) == node_count(40)
    out, _ = lstm(tinynn.randn(7, 2, 3))
    names = [type(n).__name__ for n in graph_nodes(out.grad_fn)]
    assert names.count("LSTMLayer") == 4


# ---------------------------------------------------------------------------- forward values

@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("num_layers,bidirectional,batch_first,with_state,bias", [
    (1, False, False, False, True),
    (2, True, True, True, True),
    (2, False, False, True, False),
    (1, True, False, False, True),
])
def test_forward_matches_documented_equations(device, mode, num_layers, bidirectional,
                                              batch_first, with_state, bias):
    module = MODES[mode](4, 5, num_layers=num_layers, bidirectional=bidirectional,
                         batch_first=batch_first, bias=bias, device=device, dtype=tinynn.float64)
    d = 2 if bidirectional else 1
    x = rand((6, 3, 4), seed=1)                    # time-major values
    h0 = rand((num_layers * d, 3, 5), seed=2) if with_state else None
    c0 = rand((num_layers * d, 3, 5), seed=3) if with_state else None
    want_out, want_h, want_c = ref_rnn(
        mode, params_of(module), as_numpy(x), None if h0 is None else as_numpy(h0),
        None if c0 is None else as_numpy(c0), num_layers, bidirectional)
    inp = (x.transpose(0, 1) if batch_first else x).to(device)
    hx = None
    if with_state:
        hx = (h0.to(device), c0.to(device)) if mode == "LSTM" else h0.to(device)
    output, h = module(inp, hx)
    if batch_first:
        output = output.transpose(0, 1)
    assert output.shape == (6, 3, d * 5)
    np.testing.assert_allclose(as_numpy(output), want_out, rtol=1e-10, atol=1e-12)
    if mode == "LSTM":
        h, c = h
        np.testing.assert_allclose(as_numpy(c), want_c, rtol=1e-10, atol=1e-12)
    assert h.shape == (num_layers * d, 3, 5)
    np.testing.assert_allclose(as_numpy(h), want_h, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("mode", list(MODES))
def test_unbatched_input_gives_unbatched_outputs(device, mode):
    module = MODES[mode](4, 3, num_layers=2, bidirectional=True, batch_first=True,
                         dtype=tinynn.float64, device=device)
    x, h0, c0 = rand((5, 4), 1), rand((4, 3), 2), rand((4, 3), 3)
    want_out, want_h, want_c = ref_rnn(mode, params_of(module), as_numpy(x)[:, None],
                                       as_numpy(h0)[:, None], as_numpy(c0)[:, None], 2, True)
    hx = (h0.to(device), c0.to(device)) if mode == "LSTM" else h0.to(device)
    output, h = module(x.to(device), hx)   # batch_first does not apply to unbatched input
    if mode == "LSTM":
        h, c = h
        assert c.shape == (4, 3)
        np.testing.assert_allclose(as_numpy(c), want_c[:, 0], rtol=1e-10)
    assert output.shape == (5, 6) and h.shape == (4, 3)
    np.testing.assert_allclose(as_numpy(output), want_out[:, 0], rtol=1e-10)
    np.testing.assert_allclose(as_numpy(h), want_h[:, 0], rtol=1e-10)


@settings(max_examples=25, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mode=st.sampled_from(list(MODES)), length=st.integers(1, 5), batch=st.integers(1, 3),
       size=st.integers(1, 4), hidden=st.integers(1, 4), layers=st.integers(1, 3),
       bidirectional=st.booleans(), batch_first=st.booleans(), with_state=st.booleans())
def test_forward_property_over_shapes(mode, length, batch, size, hidden, layers, bidirectional,
                                      batch_first, with_state):
    module = MODES[mode](size, hidden, num_layers=layers, bidirectional=bidirectional,
                         batch_first=batch_first, dtype=tinynn.float64)
    d = 2 if bidirectional else 1
    x = rand((length, batch, size), 1)
    h0 = rand((layers * d, batch, hidden), 2) if with_state else None
    c0 = rand((layers * d, batch, hidden), 3) if with_state else None
    want_out, want_h, want_c = ref_rnn(mode, params_of(module), as_numpy(x),
                                       None if h0 is None else as_numpy(h0),
                                       None if c0 is None else as_numpy(c0), layers, bidirectional)
    hx = None if not with_state else (h0, c0) if mode == "LSTM" else h0
    output, h = module(x.transpose(0, 1) if batch_first else x, hx)
    output = output.transpose(0, 1) if batch_first else output
    np.testing.assert_allclose(as_numpy(output), want_out, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(as_numpy(h[0] if mode == "LSTM" else h), want_h, rtol=1e-9,
                               atol=1e-12)
    if mode == "LSTM":
        np.testing.assert_allclose(as_numpy(h[1]), want_c, rtol=1e-9, atol=1e-12)


def test_pytorch_state_dict_loads_and_gives_the_documented_output():
    """Values written as PyTorch would store them (gates i, f, g, o stacked) load one to one."""
    rng = np.random.default_rng(5)
    shapes = {"weight_ih_l0": (8, 3), "weight_hh_l0": (8, 2), "bias_ih_l0": (8,),
              "bias_hh_l0": (8,)}
    state = {k: rng.standard_normal(s) for k, s in shapes.items()}
    lstm = nn.LSTM(3, 2).double()
    lstm.load_state_dict({k: tinynn.tensor(v) for k, v in state.items()})
    x = rng.standard_normal((4, 1, 3))
    out, (h, c) = lstm(tinynn.tensor(x))
    # By hand, two steps from h0 = c0 = 0: rows 0-1 of the weights are i, 2-3 f, 4-5 g, 6-7 o.
    h1 = c1 = np.zeros(2)
    for t in range(2):
        a = (state["weight_ih_l0"] @ x[t, 0] + state["bias_ih_l0"]
             + state["weight_hh_l0"] @ h1 + state["bias_hh_l0"])
        i, f, g, o = sigmoid(a[0:2]), sigmoid(a[2:4]), np.tanh(a[4:6]), sigmoid(a[6:8])
        c1 = f * c1 + i * g
        h1 = o * np.tanh(c1)
        np.testing.assert_allclose(as_numpy(out)[t, 0], h1, rtol=1e-12)


def test_gru_reset_gate_multiplies_the_hidden_term_after_its_bias():
    """h0 = 0 and W_hh = 0: n = tanh(W_in x + b_in + r * b_hn), so b_hn is scaled by r."""
    gru = nn.GRU(1, 1, dtype=tinynn.float64)
    with tinynn.no_grad():
        gru.weight_ih_l0.array[:] = np.array([[0.0], [0.0], [1.0]])   # r, z, n
        gru.weight_hh_l0.array[:] = 0.0
        gru.bias_ih_l0.array[:] = np.array([0.3, -2.0, 0.1])
        gru.bias_hh_l0.array[:] = np.array([0.2, 0.0, 0.7])
    out, _ = gru(tinynn.tensor([[[0.5]]], dtype=tinynn.float64))
    r, z = sigmoid(0.5), sigmoid(-2.0)
    n = np.tanh(0.5 + 0.1 + r * 0.7)
    assert as_numpy(out).item() == pytest.approx((1 - z) * n)


# ---------------------------------------------------------------------------- parameters

def test_state_dict_keys_and_shapes_are_pytorchs():
    lstm = nn.LSTM(10, 20, num_layers=2, bidirectional=True)
    want = []
    for layer, size in ((0, 10), (1, 40)):
        for sfx in ("", "_reverse"):
            want += [(f"weight_ih_l{layer}{sfx}", (80, size)),
                     (f"weight_hh_l{layer}{sfx}", (80, 20)),
                     (f"bias_ih_l{layer}{sfx}", (80,)), (f"bias_hh_l{layer}{sfx}", (80,))]
    assert [(k, tuple(v.shape)) for k, v in lstm.state_dict().items()] == want
    gru = nn.GRU(3, 7, bias=False)
    assert [(k, tuple(v.shape)) for k, v in gru.state_dict().items()] == \
        [("weight_ih_l0", (21, 3)), ("weight_hh_l0", (21, 7))]
    rnn = nn.RNN(3, 7, 2, "relu")
    assert list(rnn.state_dict()) == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
                                      "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1"]
    assert rnn.weight_ih_l1.shape == (7, 7) and rnn.nonlinearity == "relu"
    assert [(k, tuple(v.shape)) for k, v in nn.LSTMCell(3, 5).state_dict().items()] == \
        [("weight_ih", (20, 3)), ("weight_hh", (20, 5)), ("bias_ih", (20,)), ("bias_hh", (20,))]
    assert [(k, tuple(v.shape)) for k, v in nn.GRUCell(3, 5, bias=False).state_dict().items()] == \
        [("weight_ih", (15, 3)), ("weight_hh", (15, 5))]
    assert lstm._flat_weights_names[:2] == ["weight_ih_l0", "weight_hh_l0"]
    assert lstm.all_weights[1][0] is lstm.weight_ih_l0_reverse


@pytest.mark.parametrize("make", [lambda: nn.LSTM(30, 64, 2), lambda: nn.GRU(8, 64),
                                  lambda: nn.RNN(8, 64), lambda: nn.LSTMCell(8, 64),
                                  lambda: nn.GRUCell(8, 64), lambda: nn.RNNCell(8, 64)])
def test_all_weights_start_uniform_in_plus_minus_one_over_sqrt_hidden(make):
    module = make()
    bound = 1 / np.sqrt(64)
    for name, p in module.named_parameters():
        values = as_numpy(p)
        assert p.dtype == tinynn.float32
        assert np.abs(values).max() <= bound, name
        if values.size >= 64:
            assert np.abs(values).max() > 0.8 * bound, name   # spread over the whole range
            assert abs(values.mean()) < 0.3 * bound, name


def test_repr_and_defaults():
    assert repr(nn.LSTM(10, 20)) == "LSTM(10, 20)"
    assert repr(nn.GRU(10, 20, 2, batch_first=True, bidirectional=True, dropout=0.5)) == \
        "GRU(10, 20, num_layers=2, batch_first=True, dropout=0.5, bidirectional=True)"
    assert repr(nn.LSTMCell(3, 4, bias=False)) == "LSTMCell(3, 4, bias=False)"
    rnn = nn.RNN(2, 3)
    assert (rnn.num_layers, rnn.bias, rnn.batch_first, rnn.dropout, rnn.bidirectional,
            rnn.nonlinearity) == (1, True, False, 0.0, False, "tanh")
    assert nn.LSTM(2, 3).proj_size == 0
    rnn.flatten_parameters()   # a no-op, as PyTorch code calls it


# ---------------------------------------------------------------------------- cells

@pytest.mark.parametrize("cls,mode", [(nn.RNNCell, "RNN_TANH"), (nn.LSTMCell, "LSTM"),
                                      (nn.GRUCell, "GRU")])
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("with_state", [True, False])
def test_cells_follow_the_documented_step(device, cls, mode, batched, with_state):
    cell = cls(4, 3, dtype=tinynn.float64, device=device)
    p = params_of(cell)
    w = (p["weight_ih"], p["weight_hh"], p["bias_ih"], p["bias_hh"])
    x, h, c = rand((2, 4), 1), rand((2, 3), 2), rand((2, 3), 3)
    hn, cn = (as_numpy(h), as_numpy(c)) if with_state else (np.zeros((2, 3)),) * 2
    want_h, want_c = ref_cell(mode, as_numpy(x), hn, cn, *w)
    if not batched:
        x, h, c, want_h = x[0], h[0], c[0], want_h[0]
        want_c = None if want_c is None else want_c[0]
    x, h, c = x.to(device), h.to(device), c.to(device)
    if mode == "LSTM":
        got_h, got_c = cell(x, (h, c)) if with_state else cell(x)
        np.testing.assert_allclose(as_numpy(got_c), want_c, rtol=1e-10)
    else:
        got_h = cell(x, h) if with_state else cell(x)
    assert got_h.shape == want_h.shape
    np.testing.assert_allclose(as_numpy(got_h), want_h, rtol=1e-10)


def test_relu_cell_and_relu_rnn():
    cell = nn.RNNCell(3, 4, nonlinearity="relu", dtype=tinynn.float64)
    p = params_of(cell)
    x = rand((5, 3), 1)
    want, _ = ref_cell("RNN_RELU", as_numpy(x), np.zeros((5, 4)), None, p["weight_ih"],
                       p["weight_hh"], p["bias_ih"], p["bias_hh"])
    np.testing.assert_allclose(as_numpy(cell(x)), want, rtol=1e-12)
    assert (want == 0).any() and (want > 0).any()


def test_cell_loop_equals_the_layer():
    lstm = nn.LSTM(3, 4, dtype=tinynn.float64)
    cell = nn.LSTMCell(3, 4, dtype=tinynn.float64)
    cell.load_state_dict({k[:-3]: v for k, v in lstm.state_dict().items()})
    x = rand((6, 2, 3), 1)
    out, (h_n, c_n) = lstm(x)
    h = c = tinynn.zeros(2, 4, dtype=tinynn.float64)
    for t in range(6):
        h, c = cell(x[t], (h, c))
        np.testing.assert_allclose(as_numpy(h), as_numpy(out[t]), rtol=1e-12)
    np.testing.assert_allclose(as_numpy(c), as_numpy(c_n[0]), rtol=1e-12)


# ---------------------------------------------------------------------------- dtypes, numerics

@pytest.mark.parametrize("mode", list(MODES))
def test_float32_stays_float32(device, mode):
    module = MODES[mode](4, 5, num_layers=2, bidirectional=True, device=device)
    x = rand((3, 2, 4), 1, device=device, dtype=np.float32).requires_grad_()
    output, h = module(x)
    h = h if mode == "LSTM" else (h,)
    assert output.dtype == tinynn.float32 and all(s.dtype == tinynn.float32 for s in h)
    (output.sum() + sum(s.sum() for s in h)).backward()
    assert x.grad.dtype == tinynn.float32
    assert all(p.grad.dtype == tinynn.float32 for p in module.parameters())


def test_large_inputs_saturate_without_overflow_or_nan():
    lstm, gru = nn.LSTM(2, 3), nn.GRU(2, 3)
    x = tinynn.tensor(np.array([[[1e4, -1e4]], [[-1e4, 1e4]]], dtype=np.float32),
                      requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for m in (lstm, gru):
            out, _ = m(x)
            out.sum().backward()
            assert np.isfinite(as_numpy(out)).all() and np.isfinite(as_numpy(x.grad)).all()
            assert np.abs(as_numpy(out)).max() <= 1


# ---------------------------------------------------------------------------- dropout

def test_dropout_between_layers_only_while_training():
    rnn = nn.GRU(3, 4, num_layers=2, dropout=1.0, dtype=tinynn.float64)
    x = rand((5, 2, 3), 1)
    p = params_of(rnn)
    plain, plain_h, _ = ref_rnn("GRU", p, as_numpy(x), None, None, 2, False)
    rnn.eval()
    np.testing.assert_allclose(as_numpy(rnn(x)[0]), plain, rtol=1e-12)
    rnn.train()
    # p = 1 drops all of layer 0's output: layer 1 reads zeros; its own output is kept.
    layer1 = {k.replace("_l1", "_l0"): v for k, v in p.items() if "_l1" in k}
    dropped, _, _ = ref_rnn("GRU", layer1, np.zeros((5, 2, 4)), None, None, 1, False)
    out, h = rnn(x)
    np.testing.assert_allclose(as_numpy(out), dropped, rtol=1e-12)
    np.testing.assert_allclose(as_numpy(h[0]), plain_h[0], rtol=1e-12)   # layer 0 untouched
    np.testing.assert_allclose(as_numpy(h[1]), dropped[-1], rtol=1e-12)


def test_dropout_half_scales_kept_values_and_varies():
    tinynn.manual_seed(0)
    rnn = nn.RNN(3, 50, num_layers=2, dropout=0.5)
    x = tinynn.randn(4, 2, 3)
    a, _ = rnn(x)
    b, _ = rnn(x)
    assert not np.allclose(as_numpy(a), as_numpy(b))
    rnn.eval()
    c, _ = rnn(x)
    d, _ = rnn(x)
    np.testing.assert_array_equal(as_numpy(c), as_numpy(d))


def test_dropout_with_one_layer_warns_and_checks_range():
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        nn.LSTM(3, 4, dropout=0.2)
    for bad in (-0.1, 1.5, True, "0.5"):
        with pytest.raises(ValueError, match="dropout should be a number in range"):
            nn.GRU(3, 4, num_layers=2, dropout=bad)


# ---------------------------------------------------------------------------- errors

def test_wrong_input_size_names_the_layer_and_shapes():
    lstm = nn.LSTM(10, 20, 2)
    with pytest.raises(RuntimeError, match=r"LSTM\(10, 20, num_layers=2\): input.size\(-1\) must "
                                           r"be equal to input_size. Expected 10, got 7 "
                                           r"\(input of shape \(5, 3, 7\)\)"):
        lstm(tinynn.randn(5, 3, 7))
    with pytest.raises(ValueError, match=r"Expected input to be 2D or 3D, got 4D"):
        lstm(tinynn.randn(5, 3, 7, 1))
    with pytest.raises(ValueError, match=r"input must have the type tinynn.float32, got type "
                                         r"tinynn.float64"):
        lstm(tinynn.randn(5, 3, 10, dtype=tinynn.float64))


def test_wrong_state_shapes():
    lstm = nn.LSTM(10, 20, 2)
    x = tinynn.randn(5, 3, 10)
    good = tinynn.zeros(2, 3, 20)
    with pytest.raises(RuntimeError, match=r"Expected hidden\[0\] size \(2, 3, 20\), got "
                                           r"\[1, 3, 20\]"):
        lstm(x, (tinynn.zeros(1, 3, 20), good))
    with pytest.raises(RuntimeError, match=r"Expected hidden\[1\] size \(2, 3, 20\), got "
                                           r"\[2, 4, 20\]"):
        lstm(x, (good, tinynn.zeros(2, 4, 20)))
    with pytest.raises(RuntimeError, match=r"For batched 3-D input, hx and cx should also be "
                                           r"3-D but got \(2-D, 3-D\) tensors"):
        lstm(x, (tinynn.zeros(2, 20), good))
    gru = nn.GRU(10, 20, bidirectional=True, batch_first=True)
    with pytest.raises(RuntimeError, match=r"GRU\(10, 20, batch_first=True, bidirectional=True\): "
                                           r"Expected hidden size \(2, 5, 20\), got \[1, 5, 20\]"):
        gru(tinynn.randn(5, 3, 10), tinynn.zeros(1, 5, 20))   # batch_first: N = 5
    with pytest.raises(RuntimeError, match=r"For unbatched 2-D input, hx should also be 2-D but "
                                           r"got 3-D tensor"):
        gru(tinynn.randn(3, 10), tinynn.zeros(2, 1, 20))
    with pytest.raises(RuntimeError, match=r"Expected hidden size \(2, 20\), got \[2, 21\]"):
        gru(tinynn.randn(3, 10), tinynn.zeros(2, 21))
    with pytest.raises(RuntimeError, match="not the same dtype: input tinynn.float32, hidden "
                                           "tinynn.float64"):
        gru(tinynn.randn(3, 10), tinynn.zeros(2, 20, dtype=tinynn.float64))


def test_constructor_errors():
    with pytest.raises(ValueError, match="Unknown nonlinearity 'sigmoid'"):
        nn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="Unknown nonlinearity"):
        nn.RNNCell(3, 4, nonlinearity="gelu")
    with pytest.raises(ValueError, match="hidden_size must be greater than zero"):
        nn.LSTM(3, 0)
    with pytest.raises(ValueError, match="num_layers must be greater than zero"):
        nn.GRU(3, 4, num_layers=0)
    with pytest.raises(TypeError, match="hidden_size should be of type int, got: float"):
        nn.LSTM(3, 4.0)
    with pytest.raises(NotImplementedError, match="proj_size"):
        nn.LSTM(3, 4, proj_size=2)
    with pytest.raises(ValueError, match="proj_size has to be smaller than hidden_size"):
        nn.LSTM(3, 4, proj_size=4)


def test_cell_errors():
    cell = nn.LSTMCell(4, 3)
    with pytest.raises(ValueError, match=r"LSTMCell\(4, 3\): Expected input to be 1D or 2D, "
                                         r"got 3D instead"):
        cell(tinynn.randn(1, 2, 4))
    with pytest.raises(ValueError, match=r"Expected hx\[0\] to be 1D or 2D, got 3D instead"):
        cell(tinynn.randn(2, 4), (tinynn.zeros(1, 2, 3), tinynn.zeros(2, 3)))
    with pytest.raises(RuntimeError, match="input has inconsistent input_size: got 5 expected 4"):
        cell(tinynn.randn(2, 5))
    with pytest.raises(RuntimeError, match="Input batch size 2 doesn't match hidden1 batch size 3"):
        cell(tinynn.randn(2, 4), (tinynn.zeros(2, 3), tinynn.zeros(3, 3)))
    gru = nn.GRUCell(4, 3)
    with pytest.raises(RuntimeError,
                       match="hidden0 has inconsistent hidden_size: got 2, expected 3"):
        gru(tinynn.randn(2, 4), tinynn.zeros(2, 2))
    with pytest.raises(RuntimeError, match=r"not the same dtype: input tinynn.float32, hx\[1\] "
                                           r"tinynn.float64"):
        cell(tinynn.randn(2, 4), (tinynn.zeros(2, 3), tinynn.zeros(2, 3, dtype=tinynn.float64)))
    with pytest.raises(ValueError, match="Expected hidden to be 1D or 2D, got 0D instead"):
        gru(tinynn.randn(2, 4), tinynn.tensor(1.0))


def test_device_mismatch_is_an_error(device):
    if device.type == "cpu":
        pytest.skip("needs a second device")
    rnn = nn.RNN(3, 4)   # on the CPU
    with pytest.raises(RuntimeError, match="device"):
        rnn(tinynn.randn(2, 1, 3, device=device))


# ---------------------------------------------------------------------------- training

class RowReader(nn.Module):
    """The row-by-row MNIST model in small: an LSTM over rows, a Linear on the last output."""

    def __init__(self, size, hidden, classes):
        super().__init__()
        self.lstm = nn.LSTM(size, hidden, batch_first=True)
        self.head = nn.Linear(hidden, classes)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.head(out[:, -1, :])


def test_lstm_row_reader_learns_a_synthetic_task():
    """Images of 8 rows x 8 pixels; the class is the row that holds a bright stripe."""
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 4, 128)
    images = rng.uniform(0, 0.3, (128, 8, 8)).astype(np.float32)
    images[np.arange(128), 2 * labels, :] += 0.7
    x, y = tinynn.tensor(images), tinynn.tensor(labels)
    model = RowReader(8, 16, 4)
    opt = tinynn.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(30):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
    accuracy = (model(x).argmax(1) == y).float().mean().item()
    assert accuracy > 0.9
