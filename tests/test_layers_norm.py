"""LayerNorm, GroupNorm, InstanceNorm1d/2d and their F forms, from PyTorch's documentation.

References are NumPy transcriptions of the documented formula
y = (x - E[x]) / sqrt(Var[x] + eps) * gamma + beta, with the biased variance
(torch.var(input, correction=0)) and the documented groupings: LayerNorm over the last
len(normalized_shape) dims, GroupNorm over each group of channels of one sample,
InstanceNorm over each (sample, channel).
"""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import tinynn
import tinynn.nn as nn
import tinynn.nn.functional as F
from opcheck import check_op, make_array


def standardise(x, axes, eps=1e-5):
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)          # ddof=0: the biased estimator
    return (x - mean) / np.sqrt(var + eps)


def ref_layer_norm(x, d, weight=None, bias=None, eps=1e-5):
    y = standardise(x, tuple(range(x.ndim - d, x.ndim)), eps)
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y


def per_channel(v, ndim):
    return v.reshape((1, -1) + (1,) * (ndim - 2))


def ref_group_norm(x, groups, weight=None, bias=None, eps=1e-5):
    n, c = x.shape[:2]
    g = x.reshape((n, groups, c // groups) + x.shape[2:])
    y = standardise(g, tuple(range(2, g.ndim)), eps).reshape(x.shape)
    if weight is not None:
        y = y * per_channel(weight, x.ndim)
    if bias is not None:
        y = y + per_channel(bias, x.ndim)
    return y


def ref_instance_norm(x, weight=None, bias=None, eps=1e-5):
    y = standardise(x, tuple(range(2, x.ndim)), eps)
    if weight is not None:
        y = y * per_channel(weight, x.ndim)
    if bias is not None:
        y = y + per_channel(bias, x.ndim)
    return y


def arr(shape, seed=0, low=None):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(shape) if low is None else rng.uniform(low, low + 1.0, shape)


def t(a, device=None, dtype=None, requires_grad=False):
    return tinynn.tensor(a, dtype=dtype, device=device, requires_grad=requires_grad)


# ---------------------------------------------------------------------------- values

@settings(max_examples=25, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=4),
       d=st.integers(1, 4), affine=st.booleans(), seed=st.integers(0, 100))
def test_layer_norm_matches_formula_over_last_dims(shape, d, affine, seed):
    d = min(d, len(shape))
    x = arr(shape, seed) * 3 + 1
    normalized = tuple(shape[len(shape) - d:])
    w = arr(normalized, seed + 1, low=0.5) if affine else None
    b = arr(normalized, seed + 2) if affine else None
    out = F.layer_norm(t(x), normalized, None if w is None else t(w), None if b is None else t(b))
    np.testing.assert_allclose(out.detach().numpy(), ref_layer_norm(x, d, w, b), rtol=1e-10, atol=1e-10)


def test_layer_norm_doc_example_normalises_input_mean_over_last_two_dims():
    # "if normalized_shape is (3, 5) ... computed over the last 2 dimensions (input.mean((-2, -1)))"
    x = arr((4, 3, 5), 3) * 2 + 7
    out = nn.LayerNorm((3, 5)).double()(t(x)).detach().numpy()
    np.testing.assert_allclose(out.mean(axis=(-2, -1)), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=(-2, -1)), x.var(axis=(-2, -1)) /
                               (x.var(axis=(-2, -1)) + 1e-5), rtol=1e-10)


@pytest.mark.parametrize("shape,groups", [((2, 6, 4), 3), ((3, 4, 2, 3), 2), ((2, 6), 3),
                                          ((2, 6, 5), 1), ((1, 4, 3, 3), 4)])
def test_group_norm_matches_formula_per_group(shape, groups):
    x = arr(shape, 1) * 2 - 1
    c = shape[1]
    w, b = arr(c, 2, low=0.5), arr(c, 3)
    out = F.group_norm(t(x), groups, t(w), t(b), eps=1e-3)
    np.testing.assert_allclose(out.detach().numpy(), ref_group_norm(x, groups, w, b, 1e-3), rtol=1e-10,
                               atol=1e-10)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 3), c=st.integers(1, 4), spatial=st.lists(st.integers(1, 4), min_size=1,
                                                                    max_size=2),
       seed=st.integers(0, 100))
def test_instance_norm_matches_formula_per_sample_and_channel(n, c, spatial, seed):
    if np.prod(spatial) == 1:
        spatial = spatial + [2]
    x = arr([n, c] + spatial, seed) * 2 + 3
    w, b = arr(c, seed + 1, low=0.5), arr(c, seed + 2)
    out = F.instance_norm(t(x), weight=t(w), bias=t(b))
    np.testing.assert_allclose(out.detach().numpy(), ref_instance_norm(x, w, b), rtol=1e-10, atol=1e-10)


def test_group_norm_documented_equivalences():
    # "Separate 6 channels into 6 groups (equivalent with InstanceNorm)" and
    # "Put all 6 channels into a single group (equivalent with LayerNorm)".
    x = t(arr((2, 6, 4, 4), 5))
    np.testing.assert_allclose(F.group_norm(x, 6).detach().numpy(), F.instance_norm(x).detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(F.group_norm(x, 1).detach().numpy(),
                               F.layer_norm(x, (6, 4, 4)).detach().numpy(), atol=1e-12)


def test_norm_layers_use_input_statistics_in_eval_mode_too():
    x = t(arr((3, 4, 5, 5), 2).astype(np.float32))
    for layer in (nn.LayerNorm([5, 5]), nn.GroupNorm(2, 4), nn.InstanceNorm2d(4)):
        train_out = layer(x).detach().numpy()
        layer.eval()
        np.testing.assert_array_equal(layer(x).detach().numpy(), train_out)


# ---------------------------------------------------------------------------- gradients

@pytest.mark.parametrize("affine", ["both", "weight", "bias", "none"])
def test_layer_norm_gradcheck(device, affine):
    def fn(x, w, b):
        return F.layer_norm(x, (3, 4), w if affine in ("both", "weight") else None,
                            b if affine in ("both", "bias") else None)
    check_op(fn, [(2, 5, 3, 4), (3, 4), (3, 4)], "normal", device)


@pytest.mark.parametrize("shape,groups", [((2, 6, 3), 3), ((2, 4, 2, 3), 2), ((3, 4), 2)])
def test_group_norm_gradcheck(device, shape, groups):
    c = shape[1]
    check_op(lambda x, w, b: F.group_norm(x, groups, w, b), [shape, (c,), (c,)], "normal", device)
    check_op(lambda x: F.group_norm(x, groups), [shape], "normal", device)


@pytest.mark.parametrize("shape", [(2, 3, 5), (2, 3, 3, 4)])
def test_instance_norm_gradcheck(device, shape):
    c = shape[1]
    check_op(lambda x, w, b: F.instance_norm(x, weight=w, bias=b), [shape, (c,), (c,)], "normal",
             device)
    check_op(lambda x: F.instance_norm(x), [shape], "normal", device)


def test_instance_norm_gradcheck_with_running_stats_in_eval(device):
    rm = t(np.array([0.1, -0.2, 0.3]), device)
    rv = t(np.array([0.5, 1.5, 2.0]), device)
    check_op(lambda x, w, b: F.instance_norm(x, rm, rv, w, b, use_input_stats=False),
             [(2, 3, 2, 2), (3,), (3,)], "normal", device)


def test_modules_gradcheck_through_parameters(device):
    for layer, shape in ((nn.LayerNorm(4), (3, 4)), (nn.GroupNorm(2, 4), (2, 4, 3)),
                         (nn.InstanceNorm2d(2, affine=True), (2, 2, 3, 3))):
        layer = layer.double().to(device)
        with tinynn.no_grad():
            layer.weight.array[...] = layer.weight.array + 0.5   # away from the default 1
        x = tinynn.tensor(make_array(shape, "normal", np.random.default_rng(0)), device=device,
                          requires_grad=True)
        assert tinynn.autograd.gradcheck(lambda x, w, b: layer(x), [x, layer.weight, layer.bias])


def test_grad_fn_names_follow_pytorch():
    x = tinynn.randn(2, 4, 3, requires_grad=True)
    assert F.layer_norm(x, (3,)).grad_fn.name == "NativeLayerNormBackward0"
    assert F.group_norm(x, 2).grad_fn.name == "NativeGroupNormBackward0"


def test_float32_end_to_end(device):
    x = tinynn.randn(2, 4, 3, 3, device=device, requires_grad=True)
    for layer in (nn.LayerNorm([3, 3]), nn.GroupNorm(2, 4), nn.InstanceNorm2d(4, affine=True)):
        layer.to(device)
        out = layer(x)
        assert out.dtype == tinynn.float32 and out.device == x.device
        out.sum().backward()
        assert x.grad.dtype == tinynn.float32
        assert all(p.grad.dtype == tinynn.float32 for p in layer.parameters())
        x.grad = None


# ---------------------------------------------------------------------------- modules

def test_layer_norm_parameters_state_dict_and_repr():
    m = nn.LayerNorm(10)
    assert list(m.state_dict()) == ["weight", "bias"]
    assert m.weight.shape == (10,) and m.normalized_shape == (10,)
    np.testing.assert_array_equal(m.weight.detach().numpy(), 1)
    np.testing.assert_array_equal(m.bias.detach().numpy(), 0)
    assert repr(m) == "LayerNorm((10,), eps=1e-05, elementwise_affine=True)"
    m = nn.LayerNorm([5, 10, 10])
    assert m.weight.shape == (5, 10, 10) and m.bias.shape == (5, 10, 10)
    assert list(nn.LayerNorm(4, bias=False).state_dict()) == ["weight"]
    assert nn.LayerNorm(4, bias=False).bias is None
    m = nn.LayerNorm(4, elementwise_affine=False)
    assert m.weight is None and m.bias is None and list(m.parameters()) == []


def test_layer_norm_nlp_and_image_doc_examples():
    # NLP: embedding = torch.randn(batch, sentence_length, embedding_dim); LayerNorm(embedding_dim)
    emb = tinynn.randn(20, 5, 10)
    assert nn.LayerNorm(10)(emb).shape == (20, 5, 10)
    # Image: N, C, H, W = 20, 5, 10, 10; LayerNorm([C, H, W])
    img = tinynn.randn(20, 5, 10, 10)
    out = nn.LayerNorm([5, 10, 10])(img)
    assert out.shape == (20, 5, 10, 10)
    np.testing.assert_allclose(out.detach().numpy().mean(axis=(1, 2, 3)), 0, atol=1e-5)


def test_group_norm_parameters_state_dict_and_repr():
    m = nn.GroupNorm(3, 6)
    assert list(m.state_dict()) == ["weight", "bias"]
    assert m.weight.shape == (6,) and m.bias.shape == (6,)
    assert repr(m) == "GroupNorm(3, 6, eps=1e-05, affine=True)"
    assert list(nn.GroupNorm(3, 6, affine=False).parameters()) == []
    assert nn.GroupNorm(3, 6)(tinynn.randn(20, 6, 10, 10)).shape == (20, 6, 10, 10)


def test_instance_norm_parameters_buffers_and_repr():
    m = nn.InstanceNorm2d(100)
    assert list(m.state_dict()) == [] and list(m.parameters()) == []
    assert repr(m) == ("InstanceNorm2d(100, eps=1e-05, momentum=0.1, affine=False, "
                       "track_running_stats=False)")
    m = nn.InstanceNorm2d(100, affine=True, track_running_stats=True)
    assert list(m.state_dict()) == ["weight", "bias", "running_mean", "running_var",
                                    "num_batches_tracked"]
    assert m(tinynn.randn(20, 100, 35, 45)).shape == (20, 100, 35, 45)
    assert nn.InstanceNorm1d(3)(tinynn.randn(2, 3, 7)).shape == (2, 3, 7)


def test_instance_norm_running_stats_update_and_eval():
    # Tracking: the running estimates move by momentum towards the batch average of the
    # instances' mean and (unbiased) variance; eval mode then normalises with them.
    x = arr((4, 3, 5, 6), 9) * 2 + 1
    m = nn.InstanceNorm2d(3, momentum=0.3, track_running_stats=True).double()
    m(t(x))
    inst_mean = x.mean(axis=(2, 3))
    inst_var = x.var(axis=(2, 3), ddof=1)
    np.testing.assert_allclose(m.running_mean.detach().numpy(), 0.3 * inst_mean.mean(0), rtol=1e-12)
    np.testing.assert_allclose(m.running_var.detach().numpy(), 0.7 + 0.3 * inst_var.mean(0), rtol=1e-12)
    m.eval()
    x2 = arr((2, 3, 5, 6), 10)
    expected = (x2 - per_channel(m.running_mean.detach().numpy(), 4)) / np.sqrt(
        per_channel(m.running_var.detach().numpy(), 4) + 1e-5)
    np.testing.assert_allclose(m(t(x2)).detach().numpy(), expected, rtol=1e-10)
    # Without tracking, eval mode keeps using the instance statistics.
    plain = nn.InstanceNorm2d(3).double().eval()
    np.testing.assert_allclose(plain(t(x2)).detach().numpy(), ref_instance_norm(x2), rtol=1e-10)


def test_instance_norm_unbatched_input():
    x = arr((3, 4, 5), 4)
    m = nn.InstanceNorm2d(3, affine=True).double()
    np.testing.assert_allclose(m(t(x)).detach().numpy(), m(t(x[None])).detach().numpy()[0], atol=1e-12)
    m1 = nn.InstanceNorm1d(4).double()
    np.testing.assert_allclose(m1(t(x[0])).detach().numpy(), ref_instance_norm(x[:1])[0], atol=1e-12)


def test_modules_move_to_device(device):
    for layer in (nn.LayerNorm(3), nn.GroupNorm(1, 3), nn.InstanceNorm2d(3, affine=True,
                                                                          track_running_stats=True)):
        layer.to(device)
        for value in layer.state_dict().values():
            assert value.device == device
    layer = nn.LayerNorm(3, device=device)
    assert layer.weight.device == device


# ---------------------------------------------------------------------------- errors

def test_layer_norm_shape_errors():
    with pytest.raises(RuntimeError, match=r"Given normalized_shape=\[3\], expected input with "
                                           r"shape \[\*, 3\], but got input of size\[2, 4\]"):
        F.layer_norm(tinynn.randn(2, 4), (3,))
    with pytest.raises(RuntimeError, match="weight to be of same shape as normalized_shape"):
        F.layer_norm(tinynn.randn(2, 4), (4,), weight=tinynn.ones(3))
    with pytest.raises(RuntimeError, match="at least 1-dimensional"):
        F.layer_norm(tinynn.randn(2, 4), ())
    with pytest.raises(RuntimeError):
        nn.LayerNorm(5)(tinynn.randn(5, 4))


def test_group_norm_errors():
    with pytest.raises(ValueError, match="num_channels must be divisible by num_groups"):
        nn.GroupNorm(4, 6)
    with pytest.raises(RuntimeError, match=r"divisible by num_groups, but got input of shape "
                                           r"\[2, 5, 3\] and num_groups=2"):
        F.group_norm(tinynn.randn(2, 5, 3), 2)
    with pytest.raises(RuntimeError, match="Expected at least 2 dimensions"):
        F.group_norm(tinynn.randn(4), 1)
    with pytest.raises(RuntimeError, match="number of channels"):
        F.group_norm(tinynn.randn(2, 4, 3), 2, weight=tinynn.ones(3))
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        F.group_norm(tinynn.randn(3, 4), 4)


def test_instance_norm_errors_and_warnings():
    with pytest.raises(ValueError, match=r"expected 3D or 4D input \(got 2D input\)"):
        nn.InstanceNorm2d(3)(tinynn.randn(2, 3))
    with pytest.raises(ValueError, match=r"expected input's size at dim=1 to match num_features "
                                         r"\(3\), but got: 4\."):
        nn.InstanceNorm2d(3, affine=True)(tinynn.randn(2, 4, 3, 3))
    with pytest.warns(UserWarning, match="does not match num_features"):
        out = nn.InstanceNorm2d(3)(tinynn.randn(2, 4, 3, 3))
    assert out.shape == (2, 4, 3, 3)
    with pytest.raises(ValueError, match="Expected more than 1 spatial element when training"):
        F.instance_norm(tinynn.randn(2, 3, 1, 1))
    with pytest.raises(RuntimeError, match="running_mean and running_var"):
        F.instance_norm(tinynn.randn(2, 3, 4), use_input_stats=False)


def test_integer_input_is_rejected():
    with pytest.raises(RuntimeError, match="floating-point"):
        F.layer_norm(tinynn.tensor([[1, 2, 3]]), (3,))


def test_no_warnings_in_the_common_path():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.InstanceNorm2d(3)(tinynn.randn(2, 3, 4, 4))
        nn.LayerNorm(4)(tinynn.randn(2, 4))
