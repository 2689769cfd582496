"""The speed paths of conv, batch norm and relu (issue #10) give the same results as the plain ones.

Conv2d's input gradient has three strategies (ops/conv.py: col2im of the columns' gradient;
'rows', the same with the kernel's columns folded into the GEMM, width stride 1 only; or a
convolution of the padded output gradient with the flipped kernel, stride 1 only); all must
agree with each other and pass gradcheck whatever "auto" would pick.
"""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings

import tinynn
from tinynn.autograd import gradcheck
from tinynn.ops import conv as conv_ops, conv_kernels
from tinynn.ops.batchnorm import batch_norm
from tinynn.ops.conv import conv2d

from opcheck import check_op
from test_conv import _conv_case, conv_configs, t64

STRATEGIES = ("col2im", "rows", "convolution")


@pytest.fixture
def strategy(request, monkeypatch):
    monkeypatch.setattr(conv_ops, "INPUT_GRAD_STRATEGY", request.param)
    return request.param


def _input_grad(x, w, b, kwargs, seed=3):
    """d(sum(out * r))/dx for a fixed random r, in float64."""
    xt, wt = t64(x), t64(w)
    out = conv2d(xt, wt, None if b is None else t64(b), **kwargs)
    r = np.random.default_rng(seed).standard_normal(tuple(out.shape))
    (out * tinynn.tensor(r)).sum().backward()
    return xt.grad.numpy(), wt.grad.numpy()


@given(cfg=conv_configs())
@settings(max_examples=40, deadline=None)
def test_strategies_agree(cfg):
    x, w, b, kwargs = _conv_case(cfg, seed=2)
    results = []
    for name in STRATEGIES:
        conv_ops.INPUT_GRAD_STRATEGY = name
        try:
            results.append(_input_grad(x, w, b, kwargs))
        finally:
            conv_ops.INPUT_GRAD_STRATEGY = "auto"
    for other in results[1:]:
        for expected, got in zip(results[0], other):
            np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("strategy", STRATEGIES, indirect=True)
@pytest.mark.parametrize("kwargs, shapes", [
    (dict(padding=1), ((2, 3, 6, 5), (4, 3, 3, 3))),                           # ResNet's 3x3
    (dict(padding="same"), ((2, 2, 5, 6), (3, 2, 4, 2))),                       # even, rectangular
    (dict(padding=(2, 1), dilation=(2, 1)), ((1, 2, 7, 6), (2, 2, 3, 2))),      # dilation
    (dict(padding=1, groups=2), ((2, 4, 5, 5), (6, 2, 3, 3))),                  # groups
    (dict(padding=0), ((2, 2, 6, 6), (3, 2, 3, 3))),                            # valid
    (dict(padding=3), ((1, 2, 4, 4), (2, 2, 3, 3))),                            # pad > k-1
    (dict(stride=2, padding=1), ((2, 3, 7, 6), (4, 3, 3, 3))),                  # strided
    (dict(stride=(1, 2), padding=(1, 0)), ((2, 2, 5, 6), (2, 2, 3, 2))),
    (dict(stride=(2, 1), dilation=(2, 2), padding=(1, 2)), ((2, 2, 8, 7), (3, 2, 2, 3))),
])
def test_gradcheck_and_float32_per_strategy(strategy, kwargs, shapes, device):
    check_op(lambda x, w: conv2d(x, w, **kwargs), shapes, "normal", device)


@pytest.mark.parametrize("strategy", STRATEGIES, indirect=True)
def test_unbatched_and_bias(strategy):
    rng = np.random.default_rng(4)
    x, w, b = (t64(rng.standard_normal(s)) for s in ((3, 5, 6), (4, 3, 3, 3), (4,)))
    assert gradcheck(lambda *t: conv2d(*t, padding=1), (x, w, b))


def test_auto_picks_convolution_for_resnet_layers_rows_else_and_col2im_when_strided():
    pick = conv_ops.input_grad_strategy
    same = ((28, 28), (28, 28))
    assert pick((1, 1), (1, 1, 1, 1), (1, 16, 16 * 9), (3, 3), *same) == "convolution"
    assert pick((2, 2), (1, 1, 1, 1), (1, 32, 16 * 9), (3, 3), (28, 28), (14, 14)) == "col2im"
    assert pick((1, 2), (1, 1, 1, 1), (1, 16, 16 * 9), (3, 3), (28, 28), (28, 14)) == "col2im"
    assert pick((2, 1), (1, 1, 1, 1), (1, 16, 16 * 9), (3, 3), (28, 28), (14, 28)) == "rows"
    assert pick((1, 1), (-2, -2, 1, 1), (1, 16, 16 * 9), (3, 3), *same) == "rows"  # pad > k-1
    # the lecture CNN's conv2, 10->20 5x5 'valid' on 12x12: 4.5x more columns -> rows
    assert pick((1, 1), (4, 4, 4, 4), (1, 20, 10 * 25), (5, 5), (12, 12), (8, 8)) == "rows"


@pytest.mark.parametrize("band_bytes", [1, 200])   # one output row per band, or a few
@pytest.mark.parametrize("kwargs, shapes", [
    (dict(padding=1), ((2, 3, 6, 5), (4, 3, 3, 3))),
    (dict(padding=(2, 1), dilation=(2, 1), groups=2), ((2, 4, 7, 6), (2, 2, 3, 2))),
    (dict(stride=2, padding=1), ((2, 3, 7, 6), (4, 3, 3, 3))),           # columns kept
    (dict(stride=(1, 2)), ((1, 2, 5, 6), (3, 2, 2, 2))),
])
def test_banded_gemms_match_one_band_and_gradcheck(band_bytes, kwargs, shapes, monkeypatch):
    """Forward, the weight gradient and the input gradient run band by band over output
    rows (ops/conv_kernels.row_chunks); the bands must add up to the one-band result."""
    x, w, b = _random_case(shapes, seed=9)
    one, banded = _results_with(monkeypatch, conv_kernels, "BAND_BYTES", (1 << 40, band_bytes),
                                x, w, b, kwargs)
    for expected, got in zip(one, banded):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    assert gradcheck(lambda *t: conv2d(*t, **kwargs), (t64(x), t64(w), t64(b)))


def _random_case(shapes, seed):
    """float64 input, weight (shapes) and bias for a convolution."""
    rng = np.random.default_rng(seed)
    x, w = (rng.standard_normal(s) for s in shapes)
    return x, w, rng.standard_normal(shapes[1][0])


def _results_with(monkeypatch, module, name, values, x, w, b, kwargs):
    """(input grad, weight grad, output) of conv2d with ``module.name`` set to each value."""
    results = []
    for value in values:
        monkeypatch.setattr(module, name, value)
        results.append(_input_grad(x, w, b, kwargs) + (conv2d(t64(x), t64(w), t64(b), **kwargs)
                                                       .detach().numpy(),))
    return results


@pytest.mark.parametrize("kwargs, shapes", [
    (dict(padding=1), ((2, 3, 7, 5), (4, 3, 3, 3))),
    (dict(stride=2, padding=(1, 2), groups=2), ((3, 4, 9, 6), (6, 2, 3, 2))),
])
def test_wide_products_in_one_gemm_match_banded_ones(kwargs, shapes, monkeypatch):
    """Products with BAND_ROWS_BELOW rows or more skip banding (one GEMM over all the
    columns); forward and both gradients equal the banded ones."""
    x, w, b = _random_case(shapes, seed=11)
    monkeypatch.setattr(conv_kernels, "BAND_BYTES", 64)          # one output row per band
    banded, one = _results_with(monkeypatch, conv_ops, "BAND_ROWS_BELOW", (1 << 20, 1),
                                x, w, b, kwargs)                 # always banded, never
    for expected, got in zip(banded, one):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    assert gradcheck(lambda *t: conv2d(*t, **kwargs), (t64(x), t64(w), t64(b)))


@pytest.mark.parametrize("kwargs, shapes", [
    (dict(padding=1), ((2, 3, 6, 5), (4, 3, 3, 3))),
    (dict(padding=(1, 0), dilation=(1, 2), groups=3), ((2, 3, 5, 7), (6, 1, 2, 3))),
])
def test_kept_and_recopied_columns_agree(kwargs, shapes, monkeypatch):
    """Stride-1 columns above KEEP_COLUMNS_BYTES are not kept: backward copies them again
    from the saved padded input. Both ways give the same gradients."""
    rng = np.random.default_rng(10)
    x, w = (rng.standard_normal(s) for s in shapes)
    results, saved = [], []
    for limit in (1 << 40, 0):
        monkeypatch.setattr(conv_ops, "KEEP_COLUMNS_BYTES", limit)
        monkeypatch.setattr(conv_kernels, "BAND_BYTES", 100)
        results.append(_input_grad(x, w, None, kwargs))
        out = conv2d(t64(x), t64(w), **kwargs)
        saved.append(out.grad_fn.saved_arrays[0].shape)
        assert gradcheck(lambda *t: conv2d(*t, **kwargs), (t64(x), t64(w)))
    for kept, recopied in zip(*results):
        np.testing.assert_allclose(recopied, kept, rtol=1e-12, atol=1e-12)
    c, (kh, kw) = shapes[0][1], shapes[1][2:]
    assert saved[0][0] == c * kh * kw                  # the columns (C*KH*KW, OH, OW*N)
    assert len(saved[1]) == 4 and saved[1][1] == c     # the padded input (N, C, H, W)


# blocks of one column; of 5, 12 and 4 columns (below) with a remainder; no blocks
@pytest.mark.parametrize("tiny_product", [7, 150, 1 << 40])
@pytest.mark.parametrize("keep", [True, False])                # kept or re-copied (banded) columns
@pytest.mark.parametrize("kwargs, shapes", [
    (dict(padding=1), ((2, 1, 6, 7), (3, 1, 3, 3))),                       # a first layer
    (dict(padding=(1, 0), dilation=(1, 2), groups=3), ((2, 3, 6, 8), (6, 1, 2, 3))),
    (dict(stride=2), ((3, 2, 7, 7), (2, 2, 3, 3))),
])
def test_tiny_weight_gradients_summed_over_blocks_match_one_product(tiny_product, keep, kwargs,
                                                                    shapes, monkeypatch):
    """A tiny weight gradient (a first layer's) is summed over blocks of columns on a CPU
    (conv.columns_times_grad), with a remainder block when they do not divide P; the sum
    equals the single product, and the gradient passes gradcheck."""
    x, w, b = _random_case(shapes, seed=12)
    monkeypatch.setattr(conv_ops, "KEEP_COLUMNS_BYTES", 1 << 40 if keep else 0)
    monkeypatch.setattr(conv_kernels, "BAND_BYTES", 1 << 40 if keep else 150)
    monkeypatch.setattr(conv_ops, "TINY_PRODUCT", tiny_product)
    one, blocked = _results_with(monkeypatch, conv_ops, "TINY_WEIGHT_GRAD",   # never, or as set
                                 (0, conv_ops.TINY_WEIGHT_GRAD), x, w, b, kwargs)
    for expected, got in zip(one, blocked):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    assert gradcheck(lambda *t: conv2d(*t, **kwargs), (t64(x), t64(w), t64(b)))


def test_tiny_weight_gradient_blocks_and_remainder(monkeypatch):
    """columns_times_grad's blocks: P = 3 blocks of 5 plus a remainder of 2, float32 kept,
    one product (no blocks) off the CPU or for a result above TINY_WEIGHT_GRAD."""
    rng = np.random.default_rng(13)
    cols = rng.standard_normal((2, 4, 17)).astype(np.float32)
    g = rng.standard_normal((2, 3, 17)).astype(np.float32)
    expected = cols.astype(np.float64) @ g.astype(np.float64).transpose(0, 2, 1)
    monkeypatch.setattr(conv_ops, "TINY_PRODUCT", 4 * 3 * 5)     # blocks of 5 columns
    got = conv_ops.columns_times_grad(cols, g)
    assert got.shape == (2, 4, 3) and got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    calls = []

    class Recording(np.ndarray):
        def __matmul__(self, other):
            calls.append(self.shape)
            return np.asarray(self) @ other

    monkeypatch.setattr(conv_ops, "TINY_PRODUCT", 1)            # blocks of one column, if allowed
    for cpu, rows in ((False, 4), (True, 30), (True, 4)):       # 30 x 20 > TINY_WEIGHT_GRAD
        c = rng.standard_normal((1, rows, 64)).view(Recording)
        conv_ops.columns_times_grad(c, rng.standard_normal((1, 20 if rows == 30 else 3, 64)),
                                    on_cpu=cpu)
    # one product over all 64 columns each, then 64 blocks of one column
    assert calls == [(1, 4, 64), (1, 30, 64), (1, 64, 4, 1)]


def test_row_chunks_cover_every_row_once():
    half = conv_kernels.BAND_BYTES // 2
    assert conv_kernels.row_chunks(7, half) == [(0, 2), (2, 4), (4, 6), (6, 7)]
    assert conv_kernels.row_chunks(5, 10 * conv_kernels.BAND_BYTES) == [(0, 1), (1, 2), (2, 3),
                                                                        (3, 4), (4, 5)]
    assert conv_kernels.row_chunks(5, 10 ** 9, on_cpu=False) == [(0, 5)]
    assert conv_kernels.row_chunks(3, 1) == [(0, 3)]


# ---------------------------------------------------------------------------- batch norm

def _batch_last(a):
    """The same values as ``a`` (N, C, H, W), laid out in memory as (C, H, W, N)."""
    return np.ascontiguousarray(a.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)


def _bn_inputs(x, layout, affine):
    xt = tinynn.Tensor(layout(x), requires_grad=True)
    wb = [t64(np.linspace(0.5, 2, 4)), t64(np.linspace(-1, 1, 4))] if affine else []
    return [xt] + wb


def _bn(training):
    """batch_norm(x, [weight, bias]) with batch statistics, or eval mode with fixed running ones."""
    if training:
        return lambda x, *wb: batch_norm(x, None, None, *wb, training=True)
    return lambda x, *wb: batch_norm(x, tinynn.tensor(np.zeros(4)), tinynn.tensor(np.full(4, 1.5)),
                                     *wb, training=False)


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_layouts_agree_and_gradcheck(training, affine):
    """Batch-last input takes the BLAS row-sum path, C-contiguous input NumPy's reductions."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((3, 4, 5, 2)) * 2 + 1
    r = tinynn.tensor(rng.standard_normal(x.shape))
    results = []
    for layout in (np.ascontiguousarray, _batch_last):
        inputs = _bn_inputs(x, layout, affine)
        out = _bn(training)(*inputs)
        (out * r).sum().backward()
        results.append([out.detach().numpy()] + [t.grad.numpy() for t in inputs])
        assert gradcheck(_bn(training), _bn_inputs(x, layout, affine))
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_batch_norm_running_statistics_layouts_agree():
    rng = np.random.default_rng(8)
    x = rng.standard_normal((3, 4, 5, 2)) * 2 + 1
    stats = []
    for layout in (np.ascontiguousarray, _batch_last):
        rm, rv = tinynn.tensor(np.zeros(4)), tinynn.tensor(np.ones(4))
        batch_norm(tinynn.Tensor(layout(x)), rm, rv, training=True, momentum=0.3)
        stats.append((rm.numpy(), rv.numpy()))
    np.testing.assert_allclose(stats[0], stats[1], rtol=1e-12)
    mean = x.mean(axis=(0, 2, 3))
    np.testing.assert_allclose(stats[1][0], 0.3 * mean, rtol=1e-12)
    np.testing.assert_allclose(stats[1][1], 0.7 + 0.3 * x.var(axis=(0, 2, 3), ddof=1), rtol=1e-12)


def test_batch_norm_float32_and_layout_kept():
    array = _batch_last(np.random.default_rng(6).standard_normal((4, 3, 5, 5)).astype(np.float32))
    x = tinynn.Tensor(array, requires_grad=True)   # Tensor keeps the layout (tensor() copies)
    w, b = tinynn.ones(3, requires_grad=True), tinynn.zeros(3, requires_grad=True)
    out = batch_norm(x, None, None, w, b, training=True)
    assert out.dtype == tinynn.float32
    assert out.array.transpose(1, 2, 3, 0).flags.c_contiguous     # still batch-last
    out.sum().backward()
    for t in (x, w, b):
        assert t.grad.dtype == tinynn.float32
    assert x.grad.array.transpose(1, 2, 3, 0).flags.c_contiguous


def test_batch_norm_output_changed_in_place_leaves_gradients_alone():
    """ResNet adds the shortcut into batch norm's output in place: backward must not see it."""
    rng = np.random.default_rng(7)
    x = _batch_last(rng.standard_normal((4, 4, 5, 5)))
    r = tinynn.tensor(rng.standard_normal(x.shape))
    grads = []
    for change in (False, True):
        inputs = _bn_inputs(x, _batch_last, affine=True)
        out = _bn(True)(*inputs)
        if change:
            out += tinynn.tensor(np.full(x.shape, 3.0))
        (out * r).sum().backward()
        grads.append([t.grad.numpy() for t in inputs])
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-12)


# ---------------------------------------------------------------------------- sigmoid

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_single_formula_matches_reference_without_warnings(dtype, device):
    x = np.array([-1000.0, -100.0, -88.0, -20.0, -1e-3, 0.0, 1e-3, 5.0, 40.0, 1000.0,
                  np.inf, -np.inf, np.nan], dtype=dtype)
    with np.errstate(over="ignore"):
        expected = (1 / (1 + np.exp(-x.astype(np.float64)))).astype(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # exp(-x) overflowing must not warn
        out = tinynn.sigmoid(tinynn.tensor(x, device=device))
    assert out.dtype == dtype
    # below the smallest normal number (x < -87 in float32) the result may flush to 0
    np.testing.assert_allclose(out.cpu().numpy(), expected, rtol=4 * np.finfo(dtype).eps,
                               atol=np.finfo(dtype).tiny)
    scalar = tinynn.tensor(0.5, dtype=dtype, requires_grad=True)
    tinynn.sigmoid(scalar).backward()
    s = 1 / (1 + np.exp(-0.5))
    assert scalar.grad.item() == pytest.approx(s * (1 - s), rel=1e-6)


def test_sigmoid_gradcheck_and_float32(device):
    check_op(tinynn.sigmoid, [(3, 4)], "normal", device)
