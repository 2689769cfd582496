"""nn.Module API, containers, Linear, Parameter, nn.init."""
import math

import numpy as np
import pytest

import tinynn
import tinynn.nn as nn
import tinynn.nn.functional as F
from tinynn.nn import init


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 4)
        self.act = nn.ReLU()
        self.register_buffer("running", tinynn.zeros(4))
        self.register_buffer("scratch", tinynn.zeros(1), persistent=False)

    def forward(self, x):
        return self.act(self.fc(x)) + self.running


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        # assigned out of alphabetical order on purpose: order = insertion order
        self.head = nn.Linear(4, 2)
        self.scale = nn.Parameter(tinynn.ones(1))
        self.block = Block()
        self.not_a_param = tinynn.zeros(2)  # a plain tensor attribute is not registered

    def forward(self, x):
        return self.head(self.block(x)) * self.scale


# As PyTorch: a module's own parameters first, then its children's, each in insertion order.
NET_PARAMS = ["scale", "head.weight", "head.bias", "block.fc.weight", "block.fc.bias"]


# ---------------------------------------------------------------------------- registration


def test_parameters_in_insertion_order():
    net = Net()
    assert [n for n, _ in net.named_parameters()] == NET_PARAMS
    assert [p.shape for p in net.parameters()] == [(1,), (2, 4), (2,), (4, 3), (4,)]
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in net.parameters())
    assert [n for n, _ in Net().named_parameters()] == NET_PARAMS  # deterministic
    assert [n for n, _ in net.named_parameters(recurse=False)] == ["scale"]


def test_reassigning_a_parameter_keeps_its_place():
    lin = nn.Linear(2, 3)
    lin.weight = nn.Parameter(tinynn.zeros(3, 2))
    assert [n for n, _ in lin.named_parameters()] == ["weight", "bias"]
    assert list(lin.state_dict()) == ["weight", "bias"]


def test_children_and_modules():
    net = Net()
    assert list(net.children()) == [net.head, net.block]
    assert [n for n, _ in net.named_children()] == ["head", "block"]
    assert [n for n, _ in net.named_modules()] == ["", "head", "block", "block.fc", "block.act"]
    assert list(net.modules())[0] is net


def test_shared_module_is_listed_once_but_saved_under_both_names():
    net = nn.Module()
    net.a = nn.Linear(2, 2)
    net.b = net.a
    assert len(list(net.parameters())) == 2
    assert [n for n, _ in net.named_modules()] == ["", "a"]
    sd = net.state_dict()
    assert list(sd) == ["a.weight", "a.bias", "b.weight", "b.bias"]  # as torch
    net.load_state_dict(sd)  # and it loads back into the same model


def test_buffers_are_state_but_not_parameters():
    net = Net()
    assert [n for n, _ in net.named_buffers()] == ["block.running", "block.scratch"]
    assert all(b is not p for b in net.buffers() for p in net.parameters())
    keys = list(net.state_dict())
    assert keys == NET_PARAMS[:3] + ["block.running", "block.fc.weight", "block.fc.bias"]
    assert "block.scratch" not in keys  # non-persistent
    assert net.block.running is net.block._buffers["running"]
    net.block.running = tinynn.ones(4)  # assigning a tensor to a buffer name replaces it
    assert net.block.running.tolist() == [1.0] * 4


def test_registration_errors():
    m = nn.Module()
    with pytest.raises(KeyError):
        m.register_buffer("a.b", tinynn.zeros(1))
    with pytest.raises(TypeError):
        m.register_buffer("x", [1, 2])
    lin = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="Parameter"):
        lin.weight = tinynn.zeros(2, 2)
    with pytest.raises(TypeError):
        m.register_parameter("p", tinynn.zeros(1))
    seq = nn.Sequential(nn.Linear(2, 2))
    with pytest.raises(TypeError, match="child module '0'"):
        setattr(seq, "0", tinynn.zeros(1))
    lin.bias = None  # None is allowed for parameters and children alike
    assert lin.bias is None and [n for n, _ in lin.named_parameters()] == ["weight"]
    setattr(seq, "0", None)
    assert list(seq.parameters()) == []

    class Broken(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(1, 1)

    with pytest.raises(AttributeError, match="__init__"):
        Broken()
    with pytest.raises(AttributeError, match="no attribute 'missing'"):
        lin.missing


def test_forward_not_implemented():
    with pytest.raises(NotImplementedError, match="forward"):
        nn.Module()(tinynn.zeros(1))


# ---------------------------------------------------------------------------- modes, grads, dtype


def test_train_eval_propagate():
    net = Net()
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    net.block.train(False)
    assert net.training and not net.block.training and not net.block.fc.training


def test_zero_grad_sets_none_by_default():
    net = Net()
    net(tinynn.randn(5, 3)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    grads = [p.grad for p in net.parameters()]
    net.zero_grad(set_to_none=False)
    assert all(p.grad is g and not g.numpy().any() for p, g in zip(net.parameters(), grads))
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_gradients_match_numpy_backprop():
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    x = rng.standard_normal((5, 3)).astype(np.float32)
    out = model(tinynn.tensor(x))
    (out * out).sum().backward()
    w1, b1 = model[0].weight.detach().numpy(), model[0].bias.detach().numpy()
    w2, b2 = model[2].weight.detach().numpy(), model[2].bias.detach().numpy()
    h = np.tanh(x @ w1.T + b1)
    y = h @ w2.T + b2
    gy = 2 * y
    gw2, gb2 = gy.T @ h, gy.sum(0)
    gz = (gy @ w2) * (1 - h * h)
    gw1, gb1 = gz.T @ x, gz.sum(0)
    for p, g in zip(model.parameters(), [gw1, gb1, gw2, gb2]):
        np.testing.assert_allclose(p.grad.numpy(), g, rtol=1e-4, atol=1e-5)


def test_to_dtype_keeps_parameter_objects():
    net = Net()
    net(tinynn.randn(2, 3)).sum().backward()
    params = list(net.parameters())
    assert net.to(tinynn.float64) is net
    assert all(a is b for a, b in zip(net.parameters(), params))
    assert all(p.dtype == tinynn.float64 and p.grad.dtype == tinynn.float64 for p in net.parameters())
    assert net.block.running.dtype == tinynn.float64
    out = net(tinynn.randn(2, 3, dtype=tinynn.float64))
    assert out.dtype == tinynn.float64
    net.float()
    assert all(p.dtype == tinynn.float32 for p in net.parameters())
    with pytest.raises(TypeError, match="floating point"):
        net.to(tinynn.int64)


def test_requires_grad_switch():
    net = Net()
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())
    assert not net(tinynn.randn(2, 3)).requires_grad


def test_apply_visits_children_first():
    net = Net()
    seen = []
    assert net.apply(lambda m: seen.append(type(m).__name__)) is net
    assert seen == ["Linear", "Linear", "ReLU", "Block", "Net"]

    def init_linear(m):
        if isinstance(m, nn.Linear):
            init.constant_(m.weight, 0.5)
            init.zeros_(m.bias)

    net.apply(init_linear)
    assert net.head.weight.tolist() == [[0.5] * 4] * 2 and net.block.fc.bias.tolist() == [0.0] * 4


def test_forward_hooks():
    lin = nn.Linear(2, 2)
    calls = []
    handle = lin.register_forward_hook(lambda m, inp, out: calls.append(out.shape))
    lin(tinynn.zeros(3, 2))
    handle.remove()
    lin(tinynn.zeros(3, 2))
    assert calls == [(3, 2)]


# ---------------------------------------------------------------------------- state dicts


def test_state_dict_round_trip():
    a, b = Net(), Net()
    a.block.running.array[...] = 7.0
    sd = a.state_dict()
    assert all(not v.requires_grad for v in sd.values())
    assert sd["head.weight"].array is a.head.weight.array  # detached, not copied (as torch)
    result = b.load_state_dict(sd)
    assert result.missing_keys == [] and result.unexpected_keys == []
    for (n1, p1), (n2, p2) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_array_equal(p1.detach().numpy(), p2.detach().numpy())
    assert b.block.running.tolist() == [7.0] * 4
    assert b.head.weight.array is not a.head.weight.array  # values copied into b's own arrays
    x = tinynn.randn(2, 3)
    np.testing.assert_array_equal(a(x).detach().numpy(), b(x).detach().numpy())


def test_load_state_dict_keeps_parameter_identity_and_dtype():
    lin = nn.Linear(2, 2)
    weight = lin.weight
    lin.load_state_dict({"weight": np.ones((2, 2)), "bias": tinynn.zeros(2, dtype=tinynn.float64)})
    assert lin.weight is weight and lin.weight.dtype == tinynn.float32 and lin.bias.dtype == tinynn.float32
    assert lin.weight.tolist() == [[1.0, 1.0], [1.0, 1.0]]


def test_load_state_dict_strict_errors_name_the_keys():
    net = Net()
    sd = net.state_dict()
    missing = {k: v for k, v in sd.items() if k != "block.fc.bias"}
    with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: "block.fc.bias"'):
        Net().load_state_dict(missing)
    extra = dict(sd, **{"head.extra": tinynn.zeros(1)})
    with pytest.raises(RuntimeError, match=r'Unexpected key\(s\) in state_dict: "head.extra"'):
        Net().load_state_dict(extra)
    wrong = dict(sd, **{"head.weight": tinynn.zeros(3, 4)})
    with pytest.raises(RuntimeError, match=r"size mismatch for head.weight: copying a param with shape "
                                           r"tinynn.Size\(\[3, 4\]\) from checkpoint, the shape in current model is "
                                           r"tinynn.Size\(\[2, 4\]\)"):
        Net().load_state_dict(wrong)
    with pytest.raises(RuntimeError, match="Error\\(s\\) in loading state_dict for Net"):
        Net().load_state_dict(missing)


def test_load_state_dict_key_of_a_none_parameter_is_unexpected():
    no_bias = nn.Linear(3, 2, bias=False)
    with pytest.raises(RuntimeError, match=r'Unexpected key\(s\) in state_dict: "bias"'):
        no_bias.load_state_dict(nn.Linear(3, 2).state_dict())
    with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: "bias"'):
        nn.Linear(3, 2).load_state_dict(no_bias.state_dict())
    block = Block()
    with pytest.raises(RuntimeError, match=r'Unexpected key\(s\) in state_dict: "scratch"'):
        block.load_state_dict(dict(block.state_dict(), scratch=tinynn.zeros(1)))


def test_load_state_dict_non_strict():
    net = Net()
    before = net.head.weight.detach().numpy().copy()
    sd = {"block.fc.weight": tinynn.ones(4, 3), "bogus": tinynn.zeros(1)}
    result = net.load_state_dict(sd, strict=False)
    assert "bogus" in result.unexpected_keys and "head.weight" in result.missing_keys
    assert net.block.fc.weight.tolist() == [[1.0] * 3] * 4
    np.testing.assert_array_equal(net.head.weight.detach().numpy(), before)
    with pytest.raises(RuntimeError, match="size mismatch"):  # shapes are checked even then
        net.load_state_dict({"scale": tinynn.zeros(2)}, strict=False)


# ---------------------------------------------------------------------------- repr


def test_repr_like_pytorch():
    model = nn.Sequential(nn.Linear(784, 10), nn.ReLU(), nn.Dropout(0.2), nn.Flatten(), nn.Softmax(dim=1))
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Linear(in_features=784, out_features=10, bias=True)\n"
        "  (1): ReLU()\n"
        "  (2): Dropout(p=0.2, inplace=False)\n"
        "  (3): Flatten(start_dim=1, end_dim=-1)\n"
        "  (4): Softmax(dim=1)\n"
        ")")
    assert repr(Net()) == (
        "Net(\n"
        "  (head): Linear(in_features=4, out_features=2, bias=True)\n"
        "  (block): Block(\n"
        "    (fc): Linear(in_features=3, out_features=4, bias=True)\n"
        "    (act): ReLU()\n"
        "  )\n"
        ")")
    assert repr(nn.Linear(2, 3, bias=False)) == "Linear(in_features=2, out_features=3, bias=False)"
    assert repr(nn.Identity()) == "Identity()"
    assert repr(nn.CrossEntropyLoss()) == "CrossEntropyLoss()"


# ---------------------------------------------------------------------------- containers


def test_sequential():
    l1, l2 = nn.Linear(3, 4), nn.Linear(4, 2)
    seq = nn.Sequential(l1, nn.ReLU(), l2)
    x = tinynn.randn(5, 3)
    np.testing.assert_array_equal(seq(x).detach().numpy(), l2(l1(x).relu()).detach().numpy())
    assert len(seq) == 3 and seq[0] is l1 and seq[-1] is l2
    assert isinstance(seq[:2], nn.Sequential) and len(seq[:2]) == 2 and seq[:2][0] is l1
    assert list(seq[1:].state_dict()) == ["2.weight", "2.bias"]  # slices keep the names
    assert list(seq) == [l1, seq[1], l2]
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    seq.append(nn.Tanh())
    assert len(seq) == 4 and isinstance(seq[3], nn.Tanh)
    named = nn.Sequential({"fc": nn.Linear(3, 2), "act": nn.Sigmoid()})
    assert [n for n, _ in named.named_children()] == ["fc", "act"]
    assert named(x).shape == (5, 2)


def test_module_list_registers_parameters():
    class Plain(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = [nn.Linear(2, 2)]  # a plain list: not registered

    class Registered(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 3)])

    assert list(Plain().parameters()) == []
    r = Registered()
    assert [n for n, _ in r.named_parameters()] == ["layers.0.weight", "layers.0.bias",
                                                    "layers.1.weight", "layers.1.bias"]
    ml = r.layers
    assert len(ml) == 2 and ml[-1].out_features == 3 and len(list(ml)) == 2
    ml.append(nn.ReLU())
    ml.extend([nn.Tanh(), nn.Sigmoid()])
    assert len(ml) == 5 and isinstance(ml[4], nn.Sigmoid)
    ml[0] = nn.Linear(2, 5)
    assert ml[0].out_features == 5
    assert isinstance(ml[1:3], nn.ModuleList)


def test_module_dict():
    md = nn.ModuleDict({"enc": nn.Linear(2, 3), "dec": nn.Linear(3, 2)})
    assert list(md.keys()) == ["enc", "dec"] and "enc" in md and len(md) == 2
    md["act"] = nn.ReLU()
    assert list(md) == ["enc", "dec", "act"]
    assert [n for n, _ in md.named_parameters()] == ["enc.weight", "enc.bias", "dec.weight", "dec.bias"]
    assert md["dec"].in_features == 3
    assert [k for k, _ in md.items()] == ["enc", "dec", "act"]


# ---------------------------------------------------------------------------- layers


def test_linear_forward_values_and_shapes():
    lin = nn.Linear(4, 3)
    w, b = lin.weight.detach().numpy(), lin.bias.detach().numpy()
    x = np.random.default_rng(0).standard_normal((2, 5, 4)).astype(np.float32)
    out = lin(tinynn.tensor(x))
    assert out.shape == (2, 5, 3) and out.dtype == tinynn.float32
    np.testing.assert_allclose(out.detach().numpy(), x @ w.T + b, rtol=1e-5, atol=1e-6)
    assert lin(tinynn.tensor(x[0, 0])).shape == (3,)
    nb = nn.Linear(4, 3, bias=False)
    assert nb.bias is None and list(nb.state_dict()) == ["weight"]
    assert [n for n, _ in nb.named_parameters()] == ["weight"]
    np.testing.assert_allclose(nb(tinynn.tensor(x)).detach().numpy(), x @ nb.weight.detach().numpy().T,
                               rtol=1e-5, atol=1e-6)
    d = nn.Linear(4, 3, dtype=tinynn.float64)
    assert d.weight.dtype == d.bias.dtype == tinynn.float64


def test_linear_default_init_statistics():
    tinynn.manual_seed(0)
    lin = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    w, b = lin.weight.detach().numpy(), lin.bias.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert np.abs(w).max() > 0.99 * bound                       # it uses the full range
    assert abs(w.std() - bound / math.sqrt(3)) < 0.01 * bound    # U(-b, b) has std b/sqrt(3)
    assert abs(w.mean()) < 0.01 * bound
    assert abs(b.std() - bound / math.sqrt(3)) < 0.1 * bound
    tinynn.manual_seed(0)
    again = nn.Linear(400, 300)
    np.testing.assert_array_equal(again.weight.detach().numpy(), w)  # reproducible


def test_linear_wrong_input_size_error():
    lin = nn.Linear(300, 50)
    with pytest.raises(RuntimeError, match=r"64x320 and 300x50"):
        lin(tinynn.zeros(64, 320))
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(64x320 and 300x50\)"):
        F.linear(tinynn.zeros(64, 320), lin.weight, lin.bias)
    with pytest.raises(RuntimeError, match="same dtype"):
        lin(tinynn.zeros(2, 300, dtype=tinynn.float64))


def test_simple_layers():
    x = tinynn.tensor([[-1.0, 0.0, 2.0]])
    ident = nn.Identity(3, unused=True)
    assert ident(x) is x
    assert nn.ReLU()(x).tolist() == [[0.0, 0.0, 2.0]]
    np.testing.assert_allclose(nn.Sigmoid()(x).numpy(), 1 / (1 + np.exp([[1.0, 0.0, -2.0]])), rtol=1e-6)
    np.testing.assert_allclose(nn.Tanh()(x).numpy(), np.tanh([[-1.0, 0.0, 2.0]]), rtol=1e-6)
    e = np.exp([-1.0, 0.0, 2.0])
    np.testing.assert_allclose(nn.Softmax(dim=1)(x).numpy(), [e / e.sum()], rtol=1e-6)
    np.testing.assert_allclose(nn.LogSoftmax(dim=1)(x).numpy(), [np.log(e / e.sum())], rtol=1e-5)
    assert nn.Flatten()(tinynn.zeros(2, 3, 4)).shape == (2, 12)
    assert nn.Flatten(0, 1)(tinynn.zeros(2, 3, 4)).shape == (6, 4)


# ---------------------------------------------------------------------------- Parameter


def test_parameter():
    t = tinynn.tensor([1.0, 2.0])
    p = nn.Parameter(t)
    assert isinstance(p, tinynn.Tensor) and p.requires_grad and p.is_leaf
    assert p.array is t.array  # shares, as torch
    assert repr(p) == "Parameter containing:\ntensor([1., 2.], requires_grad=True)"
    assert not nn.Parameter(t, requires_grad=False).requires_grad


# ---------------------------------------------------------------------------- init


def big(*shape):
    return tinynn.zeros(*shape, requires_grad=True)


def test_init_uniform_normal_constant():
    t = init.uniform_(big(200, 100), -2.0, 3.0)
    a = t.detach().numpy()
    assert a.min() >= -2 and a.max() < 3 and abs(a.mean() - 0.5) < 0.05
    assert t.is_leaf and t.grad_fn is None  # no graph recorded
    n = init.normal_(big(200, 100), mean=1.0, std=2.0).detach().numpy()
    assert abs(n.mean() - 1) < 0.05 and abs(n.std() - 2) < 0.05
    assert init.constant_(big(2, 2), 0.3).detach().numpy() == pytest.approx(np.full((2, 2), 0.3))
    assert not init.zeros_(init.ones_(big(3))).detach().numpy().any()
    assert init.ones_(big(3)).tolist() == [1.0, 1.0, 1.0]


def test_calculate_gain():
    assert init.calculate_gain("linear") == 1 and init.calculate_gain("sigmoid") == 1
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01 ** 2)))
    assert init.calculate_gain("leaky_relu", math.sqrt(5)) == pytest.approx(math.sqrt(1 / 3))
    with pytest.raises(ValueError):
        init.calculate_gain("nope")


def test_xavier_formulas():
    fan_in, fan_out = 300, 200
    bound = math.sqrt(6 / (fan_in + fan_out))
    w = init.xavier_uniform_(big(fan_out, fan_in)).detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.98 * bound
    w = init.xavier_uniform_(big(fan_out, fan_in), gain=2.0).detach().numpy()
    assert np.abs(w).max() <= 2 * bound and np.abs(w).max() > 1.96 * bound
    w = init.xavier_normal_(big(fan_out, fan_in)).detach().numpy()
    assert w.std() == pytest.approx(math.sqrt(2 / (fan_in + fan_out)), rel=0.03)


def test_kaiming_formulas():
    w = init.kaiming_uniform_(big(200, 300), nonlinearity="relu").detach().numpy()
    bound = math.sqrt(2) * math.sqrt(3 / 300)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.98 * bound
    w = init.kaiming_uniform_(big(200, 300), mode="fan_out", nonlinearity="relu").detach().numpy()
    assert np.abs(w).max() <= math.sqrt(2) * math.sqrt(3 / 200)
    assert np.abs(w).max() > 0.98 * math.sqrt(2) * math.sqrt(3 / 200)
    w = init.kaiming_normal_(big(200, 300), nonlinearity="relu").detach().numpy()
    assert w.std() == pytest.approx(math.sqrt(2 / 300), rel=0.03)
    # conv-shaped weight: fan_in = in_channels * kh * kw
    w = init.kaiming_uniform_(big(64, 8, 3, 3), a=math.sqrt(5)).detach().numpy()
    assert np.abs(w).max() <= 1 / math.sqrt(8 * 9) and np.abs(w).max() > 0.98 / math.sqrt(8 * 9)
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.kaiming_uniform_(big(5))
    with pytest.raises(ValueError, match="fan_in, fan_out"):
        init.kaiming_uniform_(big(2, 2), mode="bad")


def test_init_is_reproducible_and_keeps_dtype():
    tinynn.manual_seed(1)
    a = init.normal_(tinynn.zeros(5, dtype=tinynn.float64)).numpy().copy()
    tinynn.manual_seed(1)
    b = init.normal_(tinynn.zeros(5, dtype=tinynn.float64))
    assert b.dtype == tinynn.float64
    np.testing.assert_array_equal(a, b.numpy())


def test_module_on_device(device):
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    params = list(model.parameters())
    assert model.to(device) is model
    assert all(p.device == device for p in model.parameters())
    assert all(a is b for a, b in zip(model.parameters(), params))
    out = model(tinynn.randn(5, 3, device=device))
    assert out.device == device
    out.sum().backward()
    assert all(p.grad.device == device for p in model.parameters())
    cpu_model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    cpu_model.load_state_dict(model.state_dict())  # loads across devices
    assert all(p.device == "cpu" for p in cpu_model.parameters())
    model.load_state_dict(cpu_model.state_dict())
    assert all(p.device == device for p in model.parameters())
