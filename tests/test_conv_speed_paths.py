"""The speed paths of conv, batch norm and relu (issue #10) give the same results as the plain ones.

Conv2d's input gradient has two strategies (ops/conv.py: col2im of the columns' gradient, or
a convolution of the padded output gradient with the flipped kernel, stride 1 only); both
must agree with each other and pass gradcheck whatever "auto" would pick.
"""
import numpy as np
import pytest
from hypothesis import given, settings

import tinynn
from tinynn.autograd import gradcheck
from tinynn.ops import conv as conv_ops
from tinynn.ops.conv import conv2d

from opcheck import check_op
from test_conv import _conv_case, conv_configs, t64

STRATEGIES = ("col2im", "convolution")


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
    for a, b_ in zip(*results):
        np.testing.assert_allclose(a, b_, rtol=1e-10, atol=1e-10)


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
])
def test_gradcheck_and_float32_per_strategy(strategy, kwargs, shapes, device):
    check_op(lambda x, w: conv2d(x, w, **kwargs), shapes, "normal", device)


@pytest.mark.parametrize("strategy", STRATEGIES, indirect=True)
def test_unbatched_and_bias(strategy):
    rng = np.random.default_rng(4)
    x, w, b = (t64(rng.standard_normal(s)) for s in ((3, 5, 6), (4, 3, 3, 3), (4,)))
    assert gradcheck(lambda *t: conv2d(*t, padding=1), (x, w, b))


def test_auto_picks_convolution_for_resnet_layers_and_col2im_when_strided():
    pick = conv_ops.input_grad_strategy
    assert pick((1, 1), (1, 1, 1, 1), (1, 16, 16 * 9), (3, 3)) == "convolution"
    assert pick((2, 2), (1, 1, 1, 1), (1, 32, 16 * 9), (3, 3)) == "col2im"
    assert pick((1, 1), (-2, -2, 1, 1), (1, 16, 16 * 9), (3, 3)) == "col2im"   # padding > k-1
