"""ConvTranspose2d / ConvTranspose1d, from PyTorch's documentation.

Output sizes from the documented formula, the adjoint identity <conv2d(x, w), y> =
<x, conv_transpose2d(y, w)> over drawn configurations, values against a NumPy scatter
written from the definition, gradchecks on both backends, PyTorch's errors, the docs'
examples, and a DCGAN-style generator that trains.
"""
import math

import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st

import tinynn
import tinynn.nn as nn
import tinynn.nn.functional as F
from opcheck import check_op

SETTINGS = settings(max_examples=60, deadline=None)


def out_len(size, k, s=1, p=0, op=0, d=1):
    """The docs' formula: (H_in - 1)*stride - 2*padding + dilation*(k - 1) + output_padding + 1."""
    return (size - 1) * s - 2 * p + d * (k - 1) + op + 1


def scatter_reference(y, w, b=None, stride=(1, 1), padding=(0, 0), output_padding=(0, 0),
                      dilation=(1, 1), groups=1):
    """The definition: each input pixel adds weight[ci] * its value at rows h*s + i*d - p."""
    n, c_in, h, wd = y.shape
    _, c_out_g, kh, kw = w.shape
    oh = out_len(h, kh, stride[0], padding[0], output_padding[0], dilation[0])
    ow = out_len(wd, kw, stride[1], padding[1], output_padding[1], dilation[1])
    out = np.zeros((n, c_out_g * groups, oh, ow))
    c_in_g = c_in // groups
    for ci in range(c_in):
        first = (ci // c_in_g) * c_out_g        # the output channels of ci's group
        for a in range(h):
            for e in range(wd):
                for i in range(kh):
                    for j in range(kw):
                        r = a * stride[0] + i * dilation[0] - padding[0]
                        c = e * stride[1] + j * dilation[1] - padding[1]
                        if 0 <= r < oh and 0 <= c < ow:
                            out[:, first:first + c_out_g, r, c] += (y[:, ci, a, e, None]
                                                                    * w[ci, :, i, j])
    if b is not None:
        out += b[None, :, None, None]
    return out


def t64(a, grad=False, device=None):
    return tinynn.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad, device=device)


@st.composite
def configs(draw, op_below_stride=True):
    """Rectangular kernels, strides, paddings, dilations, groups and output paddings."""
    groups = draw(st.integers(1, 3))
    cfg = dict(groups=groups, c_in=groups * draw(st.integers(1, 2)),
               c_out=groups * draw(st.integers(1, 2)), n=draw(st.integers(1, 2)),
               size=(draw(st.integers(1, 5)), draw(st.integers(1, 5))),
               kernel=(draw(st.integers(1, 4)), draw(st.integers(1, 4))),
               stride=(draw(st.integers(1, 3)), draw(st.integers(1, 3))),
               padding=(draw(st.integers(0, 3)), draw(st.integers(0, 3))),
               dilation=(draw(st.integers(1, 3)), draw(st.integers(1, 3))),
               bias=draw(st.booleans()), unbatched=draw(st.booleans()))
    limit = [s if op_below_stride else max(s, d) for s, d in zip(cfg["stride"], cfg["dilation"])]
    cfg["output_padding"] = (draw(st.integers(0, limit[0] - 1)), draw(st.integers(0, limit[1] - 1)))
    cfg["out"] = tuple(out_len(*a) for a in zip(cfg["size"], cfg["kernel"], cfg["stride"],
                                                cfg["padding"], cfg["output_padding"],
                                                cfg["dilation"]))
    assume(min(cfg["out"]) >= 1)
    return cfg


def params(cfg):
    return dict(stride=cfg["stride"], padding=cfg["padding"], output_padding=cfg["output_padding"],
                groups=cfg["groups"], dilation=cfg["dilation"])


def arrays(cfg, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.standard_normal((cfg["n"], cfg["c_in"]) + cfg["size"])
    w = rng.standard_normal((cfg["c_in"], cfg["c_out"] // cfg["groups"]) + cfg["kernel"])
    b = rng.standard_normal(cfg["c_out"]) if cfg["bias"] else None
    return y, w, b


# ---------------------------------------------------------------------------- sizes

@given(cfg=configs(op_below_stride=False))
@SETTINGS
def test_output_size_is_the_documented_formula(cfg):
    y, w, b = arrays(cfg)
    out = F.conv_transpose2d(t64(y), t64(w), None if b is None else t64(b), **params(cfg))
    assert out.shape == (cfg["n"], cfg["c_out"]) + cfg["out"]


@pytest.mark.parametrize("size, k, s, p, op, d, expected", [
    (50, 3, 2, 0, 0, 1, 101),      # the docs' ConvTranspose2d(16, 33, 3, stride=2) on H = 50
    (100, 3, 2, 0, 0, 1, 201),
    (1, 7, 1, 0, 0, 1, 7),         # DCGAN: 1x1 noise -> 7x7
    (7, 4, 2, 1, 0, 1, 14),        # 7 -> 14 -> 28
    (14, 4, 2, 1, 0, 1, 28),
    (6, 3, 2, 1, 1, 1, 12),        # undoing Conv2d(3, stride=2, padding=1) on 12 -> 6
    (5, 3, 1, 2, 0, 1, 3),         # padding larger than dilation*(k-1)/2 shrinks
    (4, 3, 1, 0, 1, 2, 9),         # output_padding 1 >= stride 1 is allowed: below dilation 2
])
def test_output_sizes_worked_by_hand(size, k, s, p, op, d, expected):
    assert out_len(size, k, s, p, op, d) == expected
    out = F.conv_transpose2d(tinynn.zeros(1, 2, size, 3), tinynn.zeros(2, 1, k, 1), stride=(s, 1),
                             padding=(p, 0), output_padding=(op, 0), dilation=(d, 1))
    assert out.shape == (1, 1, expected, 3)


# ---------------------------------------------------------------------------- adjoint and values

@given(cfg=configs())
@SETTINGS
def test_adjoint_identity_and_gradients_are_conv2ds(cfg):
    """<conv2d(x, w), y> = <x, conv_transpose2d(y, w)>; the input gradient of the transposed
    convolution is conv2d itself and the weight gradients agree."""
    y, w, _ = arrays(cfg)
    x = np.random.default_rng(1).standard_normal((cfg["n"], cfg["c_out"]) + cfg["out"])
    if cfg["unbatched"]:
        x, y = x[:1], y[:1]
    conv_kw = dict(stride=cfg["stride"], padding=cfg["padding"], dilation=cfg["dilation"],
                   groups=cfg["groups"])
    tx, ty, tw = t64(x, True), t64(y, True), t64(w, True)
    conv = F.conv2d(tx, tw, **conv_kw)
    assert conv.shape == y.shape
    transposed = F.conv_transpose2d(ty, t64(w), **params(cfg))
    assert transposed.shape == x.shape
    lhs = float((conv.detach().numpy() * y).sum())
    rhs = float((x * transposed.detach().numpy()).sum())
    assert math.isclose(lhs, rhs, rel_tol=1e-10, abs_tol=1e-10)

    transposed.backward(t64(x))                     # d<T(y), x>/dy = conv2d(x)
    np.testing.assert_allclose(ty.grad.numpy(), conv.detach().numpy(), atol=1e-10)
    tw2 = t64(w, True)
    F.conv_transpose2d(t64(y), tw2, **params(cfg)).backward(t64(x))
    conv.backward(t64(y))                           # d<conv(x), y>/dw
    np.testing.assert_allclose(tw2.grad.numpy(), tw.grad.numpy(), atol=1e-10)
    np.testing.assert_allclose(tx.grad.numpy(), transposed.detach().numpy(), atol=1e-10)


@given(cfg=configs(op_below_stride=False))
@SETTINGS
def test_values_match_the_scatter_definition(cfg):
    y, w, b = arrays(cfg)
    if cfg["unbatched"]:
        y = y[:1]
    ref = scatter_reference(y, w, b, cfg["stride"], cfg["padding"], cfg["output_padding"],
                            cfg["dilation"], cfg["groups"])
    inp = t64(y[0]) if cfg["unbatched"] else t64(y)
    out = F.conv_transpose2d(inp, t64(w), None if b is None else t64(b), **params(cfg))
    np.testing.assert_allclose(out.numpy(), ref[0] if cfg["unbatched"] else ref, atol=1e-12)


def test_a_small_case_by_hand():
    # stride 2 spreads the 2x2 kernel of each pixel into its own 2x2 block: no overlap.
    y = t64([[[[1.0, 2.0], [3.0, 4.0]]]])
    w = t64([[[[1.0, 10.0], [100.0, 1000.0]]]])
    out = F.conv_transpose2d(y, w, stride=2).numpy()[0, 0]
    expected = np.array([[1, 10, 2, 20], [100, 1000, 200, 2000],
                         [3, 30, 4, 40], [300, 3000, 400, 4000]], dtype=float)
    np.testing.assert_array_equal(out, expected)
    # stride 1: overlapping copies add up (centre: 1*1000 + 2*100 + 3*10 + 4*1); padding crops.
    full = F.conv_transpose2d(y, w).numpy()[0, 0]
    np.testing.assert_array_equal(full, [[1, 12, 20], [103, 1234, 2040], [300, 3400, 4000]])
    np.testing.assert_array_equal(F.conv_transpose2d(y, w, padding=1).numpy()[0, 0], [[1234]])


def test_output_padding_rows_hold_only_the_bias():
    y, w = t64(np.ones((1, 1, 2, 2))), t64(np.ones((1, 1, 1, 1)))
    out = F.conv_transpose2d(y, w, t64([0.5]), stride=3, output_padding=2).numpy()[0, 0]
    assert out.shape == (6, 6)
    expected = np.full((6, 6), 0.5)
    expected[::3, ::3] = 1.5
    np.testing.assert_array_equal(out, expected)


# ---------------------------------------------------------------------------- gradchecks, dtypes

GRAD_CASES = [
    dict(x=(2, 4, 3, 2), w=(4, 3, 2, 3),
         kw=dict(stride=(2, 1), padding=(1, 0), output_padding=(1, 0))),
    dict(x=(1, 4, 2, 3), w=(4, 1, 3, 2),
         kw=dict(stride=2, padding=(0, 1), groups=2, dilation=(1, 2))),
    dict(x=(4, 3, 3), w=(4, 2, 2, 2), kw=dict(stride=3, output_padding=(2, 1))),      # unbatched
    dict(x=(2, 2, 3, 3), w=(2, 2, 3, 3), kw=dict(padding=2, dilation=2, output_padding=1)),
]


@pytest.mark.parametrize("case", GRAD_CASES)
@pytest.mark.parametrize("bias", [True, False])
def test_gradcheck_and_float32(case, bias, device):
    c_out = case["w"][1] * case["kw"].get("groups", 1)
    shapes = [case["x"], case["w"]] + ([(c_out,)] if bias else [])
    check_op(lambda x, w, *b: F.conv_transpose2d(x, w, *b, **case["kw"]), shapes, "normal", device)


def test_module_float32_on_device_and_input_layouts(device):
    layer = nn.ConvTranspose2d(3, 4, (2, 3), stride=2, padding=1, output_padding=1).to(device)
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 5)).astype(np.float32)
    out = layer(tinynn.tensor(x, device=device))
    assert out.dtype == tinynn.float32 and out.device == device
    # a batch-last view of the same values (as a conv's output is laid out) gives the same result
    batch_last = tinynn.tensor(np.ascontiguousarray(x.transpose(1, 2, 3, 0)), device=device)
    out2 = layer(batch_last.permute(3, 0, 1, 2))
    np.testing.assert_allclose(out2.detach().cpu().numpy(), out.detach().cpu().numpy(), rtol=1e-5,
                               atol=1e-6)
    out.sum().backward()
    assert layer.weight.grad.dtype == tinynn.float32 and layer.bias.grad.dtype == tinynn.float32


@pytest.mark.parametrize("padding", [0, 1])
def test_output_supports_view_like_a_conv_output(padding):
    out = F.conv_transpose2d(tinynn.randn(2, 3, 5, 5), tinynn.randn(3, 4, 4, 4), stride=2,
                             padding=padding)
    flat = out.view(2, -1)
    np.testing.assert_array_equal(flat.numpy(), out.numpy().reshape(2, -1))


def test_grad_fn_is_pytorchs_convolution_backward():
    y = F.conv_transpose2d(tinynn.randn(1, 2, 3, 3, requires_grad=True), tinynn.randn(2, 1, 2, 2))
    assert y.grad_fn.name == "ConvolutionBackward0"


# ---------------------------------------------------------------------------- the module

def test_module_parameters_initialisation_and_repr():
    layer = nn.ConvTranspose2d(16, 33, (3, 5), stride=(2, 1), padding=(4, 2), groups=1)
    assert layer.weight.shape == (16, 33, 3, 5) and layer.bias.shape == (33,)
    assert layer.transposed and layer.output_padding == (0, 0)
    assert repr(layer) == ("ConvTranspose2d(16, 33, kernel_size=(3, 5), stride=(2, 1), "
                           "padding=(4, 2))")
    grouped = nn.ConvTranspose2d(4, 6, 3, stride=2, output_padding=1, groups=2, bias=False,
                                 dilation=2)
    assert grouped.weight.shape == (4, 3, 3, 3) and grouped.bias is None
    assert repr(grouped) == ("ConvTranspose2d(4, 6, kernel_size=(3, 3), stride=(2, 2), "
                             "dilation=(2, 2), output_padding=(1, 1), groups=2, bias=False)")
    assert list(nn.ConvTranspose2d(2, 3, 2).state_dict()) == ["weight", "bias"]


def test_default_initialisation_uses_weight_dim_1_as_fan_in():
    # The docs: U(-sqrt(k), sqrt(k)), k = groups / (C_out * kH * kW), i.e. fan_in is
    # weight.shape[1] * kH * kW.
    layer = nn.ConvTranspose2d(64, 8, 3, groups=2)
    bound = math.sqrt(2 / (8 * 3 * 3))
    for p in (layer.weight, layer.bias):
        values = p.detach().numpy()
        assert np.abs(values).max() <= bound
    assert np.abs(layer.weight.detach().numpy()).max() > 0.95 * bound   # 2304 draws fill it


def test_docs_example_and_output_size():
    upsample_input = tinynn.randn(2, 16, 50, 100)         # the docs' batch is 20
    assert nn.ConvTranspose2d(16, 33, 3, stride=2)(upsample_input).shape == (2, 33, 101, 201)
    m = nn.ConvTranspose2d(16, 33, (3, 5), stride=(2, 1), padding=(4, 2))
    assert m(upsample_input).shape == (2, 33, 93, 100)
    # "exact output size can be also specified as an argument"
    x = tinynn.randn(1, 16, 12, 12)
    downsample = nn.Conv2d(16, 16, 3, stride=2, padding=1)
    upsample = nn.ConvTranspose2d(16, 16, 3, stride=2, padding=1)
    h = downsample(x)
    assert h.shape == (1, 16, 6, 6)
    assert upsample(h, output_size=x.size()).shape == (1, 16, 12, 12)
    assert upsample(h).shape == (1, 16, 11, 11)
    assert upsample(h, output_size=[11, 12]).shape == (1, 16, 11, 12)
    assert upsample(h[0], output_size=(16, 12, 12)).shape == (16, 12, 12)   # unbatched


def test_output_size_outside_the_valid_range_is_a_value_error():
    up = nn.ConvTranspose2d(1, 1, 3, stride=2, padding=1)
    h = tinynn.zeros(1, 1, 6, 6)
    with pytest.raises(ValueError, match=r"requested an output size of \[13, 12\], but valid sizes "
                                         r"range from \[11, 11\] to \[12, 12\]"):
        up(h, output_size=[13, 12])
    with pytest.raises(ValueError, match="output_size must have 2 or 4 elements"):
        up(h, output_size=[12])


def test_unbatched_input():
    layer = nn.ConvTranspose2d(2, 3, 2, stride=2)
    x = tinynn.randn(2, 3, 4)
    out = layer(x)
    assert out.shape == (3, 6, 8)
    np.testing.assert_allclose(out.detach().numpy(), layer(x.unsqueeze(0))[0].detach().numpy(),
                               rtol=1e-6)


# ---------------------------------------------------------------------------- errors

def test_output_padding_must_be_smaller_than_stride_or_dilation():
    message = ("output padding must be smaller than either stride or dilation, but got "
               "output_padding_height: 2 output_padding_width: 2 stride_height: 2 stride_width: 2 "
               "dilation_height: 1 dilation_width: 1")
    with pytest.raises(RuntimeError, match=message):
        F.conv_transpose2d(tinynn.zeros(1, 1, 3, 3), tinynn.zeros(1, 1, 3, 3), stride=2,
                           output_padding=2)
    with pytest.raises(RuntimeError, match="output padding must be smaller"):
        nn.ConvTranspose2d(1, 1, 3, stride=1, output_padding=1)
    nn.ConvTranspose2d(1, 1, 3, stride=1, output_padding=1, dilation=2)      # below the dilation


def test_shape_and_type_errors_name_the_shapes():
    x, w = tinynn.zeros(20, 15, 5, 5), tinynn.zeros(16, 33, 3, 3)
    with pytest.raises(RuntimeError, match=r"Given transposed=1, weight of size \[16, 33, 3, 3\], "
                                           r"expected input\[20, 15, 5, 5\] to have 16 channels, "
                                           r"but got 15 channels instead"):
        F.conv_transpose2d(x, w)
    with pytest.raises(RuntimeError, match=r"expected bias to be 1-dimensional with 33 elements, "
                                           r"but got bias of size \[16\] instead"):
        F.conv_transpose2d(tinynn.zeros(1, 16, 5, 5), w, tinynn.zeros(16))
    with pytest.raises(RuntimeError, match=r"Expected 3D \(unbatched\) or 4D \(batched\) input to "
                                           r"conv_transpose2d, but got input of size: \[16, 5\]"):
        F.conv_transpose2d(tinynn.zeros(16, 5), w)
    with pytest.raises(RuntimeError, match=r"expected weight to be divisible by 3 at dimension 0"):
        F.conv_transpose2d(tinynn.zeros(1, 16, 5, 5), w, groups=3)
    with pytest.raises(RuntimeError, match="Input type .*float64.* and weight type .*float32"):
        F.conv_transpose2d(tinynn.zeros(1, 16, 5, 5, dtype=tinynn.float64), w)
    with pytest.raises(RuntimeError, match=r"Calculated output size per channel: \(-1 x -1\). "
                                           r"Output size is too small"):
        F.conv_transpose2d(tinynn.zeros(1, 16, 1, 1), w, padding=2)
    layer = nn.ConvTranspose2d(4, 2, 3)
    with pytest.raises(RuntimeError, match=r"ConvTranspose2d\(4, 2, kernel_size=\(3, 3\).*"
                                           r"to have 4 channels, but got 3"):
        layer(tinynn.zeros(1, 3, 5, 5))


def test_bad_hyper_parameters():
    with pytest.raises(RuntimeError, match="negative padding is not supported"):
        F.conv_transpose2d(tinynn.zeros(1, 1, 3, 3), tinynn.zeros(1, 1, 3, 3), padding=-1)
    with pytest.raises(RuntimeError, match="non-positive stride is not supported"):
        F.conv_transpose2d(tinynn.zeros(1, 1, 3, 3), tinynn.zeros(1, 1, 3, 3), stride=0)
    with pytest.raises(RuntimeError, match="negative output_padding is not supported"):
        F.conv_transpose2d(tinynn.zeros(1, 1, 3, 3), tinynn.zeros(1, 1, 3, 3), output_padding=-1)
    with pytest.raises(RuntimeError, match="dilation should be greater than zero"):
        nn.ConvTranspose2d(1, 1, 3, dilation=0)
    with pytest.raises(ValueError, match='Only "zeros" padding mode is supported for '
                                         'ConvTranspose2d'):
        nn.ConvTranspose2d(1, 1, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        nn.ConvTranspose2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="out_channels must be divisible by groups"):
        nn.ConvTranspose2d(4, 3, 3, groups=2)
    with pytest.raises(ValueError, match="groups must be a positive integer"):
        nn.ConvTranspose2d(4, 4, 3, groups=0)
    with pytest.raises(TypeError):
        nn.ConvTranspose2d(4, 4, 3, padding="same")


# ---------------------------------------------------------------------------- ConvTranspose1d

def test_conv_transpose1d_is_conv_transpose2d_on_a_unit_height(device):
    rng = np.random.default_rng(0)
    y, w, b = rng.standard_normal((2, 4, 5)), rng.standard_normal((4, 3, 3)), rng.standard_normal(6)
    kw = dict(stride=2, padding=1, output_padding=1, groups=2, dilation=2)
    out = F.conv_transpose1d(*(t64(a, device=device) for a in (y, w, b)), **kw)
    assert out.shape == (2, 6, out_len(5, 3, 2, 1, 1, 2))
    ref = scatter_reference(y[:, :, None], w[:, :, None], b, (1, 2), (0, 1), (0, 1), (1, 2), 2)
    np.testing.assert_allclose(out.cpu().numpy(), ref[:, :, 0], atol=1e-12)
    check_op(lambda a, c, d: F.conv_transpose1d(a, c, d, **kw), [(2, 4, 5), (4, 3, 3), (6,)],
             "normal", device)


def test_conv_transpose1d_module():
    m = nn.ConvTranspose1d(16, 33, 3, stride=2)
    assert m.weight.shape == (16, 33, 3) and m.kernel_size == (3,) and m.stride == (2,)
    assert repr(m) == "ConvTranspose1d(16, 33, kernel_size=(3,), stride=(2,))"
    x = tinynn.randn(20, 16, 50)
    assert m(x).shape == (20, 33, 101)
    assert m(x, output_size=[102]).shape == (20, 33, 102)
    assert m(x[0]).shape == (33, 101)
    with pytest.raises(ValueError, match="valid sizes range from"):
        m(x, output_size=[103])
    with pytest.raises(RuntimeError, match="output padding must be smaller"):
        nn.ConvTranspose1d(1, 1, 3, stride=2, output_padding=2)
    with pytest.raises(RuntimeError, match=r"Given transposed=1, weight of size \[16, 33, 3\], "
                                           r"expected input\[2, 15, 5\] to have 16 channels"):
        m(tinynn.zeros(2, 15, 5))
    with pytest.raises(RuntimeError, match=r"Expected 2D \(unbatched\) or 3D \(batched\) input "
                                           r"to conv_transpose1d, but got input of size: "
                                           r"\[1, 16, 5, 5\]"):
        m(tinynn.zeros(1, 16, 5, 5))
    with pytest.raises(RuntimeError, match=r"Given input size per channel: \(1\). Calculated "
                                           r"output size per channel: \(-3\)"):
        F.conv_transpose1d(tinynn.zeros(1, 16, 1), m.weight.detach(), padding=3)
    bound = math.sqrt(1 / (33 * 3))
    assert np.abs(m.weight.detach().numpy()).max() <= bound


# ---------------------------------------------------------------------------- a DCGAN generator

class _LeakyReLU(nn.Module):
    """nn.LeakyReLU(0.2), written out where that layer does not exist yet."""

    def forward(self, x):
        return x * (x > 0) + 0.2 * x * (x <= 0)


def leaky_relu():
    return nn.LeakyReLU(0.2) if hasattr(nn, "LeakyReLU") else _LeakyReLU()


def generator(nz=100, ngf=16):
    """DCGAN's generator for 28x28 digits: (N, nz, 1, 1) -> 7x7 -> 14x14 -> (N, 1, 28, 28)."""
    return nn.Sequential(
        nn.ConvTranspose2d(nz, ngf * 2, 7, 1, 0, bias=False), nn.BatchNorm2d(ngf * 2), leaky_relu(),
        nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf), leaky_relu(),
        nn.ConvTranspose2d(ngf, 1, 4, 2, 1, bias=False), nn.Tanh())


def test_dcgan_generator_runs_forward_and_backward():
    net = generator()
    noise = tinynn.randn(8, 100, 1, 1)
    fake = net(noise)
    assert fake.shape == (8, 1, 28, 28) and fake.dtype == tinynn.float32
    assert float(fake.abs().max()) <= 1.0
    fake.mean().backward()
    for name, p in net.named_parameters():
        assert p.grad is not None and p.grad.shape == p.shape, name
        assert np.isfinite(p.grad.numpy()).all(), name


def test_dcgan_generator_learns_a_fixed_target():
    tinynn.manual_seed(0)
    net = generator(nz=8, ngf=4)
    optimizer = tinynn.optim.Adam(net.parameters(), lr=0.01, betas=(0.5, 0.999))
    noise = tinynn.randn(4, 8, 1, 1)
    target = tinynn.zeros(4, 1, 28, 28)
    target[:, :, 8:20, 12:16] = 0.8                   # a bar: "a one"
    losses = []
    for _ in range(30):
        optimizer.zero_grad()
        loss = ((net(noise) - target) ** 2).mean()
        loss.backward()
        optimizer.step()
        losses.append(float(loss))
    assert all(np.isfinite(losses)) and losses[-1] < 0.5 * losses[0]
