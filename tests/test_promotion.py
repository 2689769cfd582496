"""Type promotion follows PyTorch, not NumPy (DESIGN.md section 3, PITFALLS.md)."""
import numpy as np
import pytest

import tinynn


def t(dtype, ndim=1):
    """A tensor of ``dtype``: dimensioned (ndim=1) or 0-d (ndim=0)."""
    return tinynn.tensor(np.ones((2,) * ndim, dtype=dtype))


f16, f32, f64 = tinynn.float16, tinynn.float32, tinynn.float64
i32, i64, u8, b = tinynn.int32, tinynn.int64, tinynn.uint8, tinynn.bool

# (left, right, expected) -- the examples of PyTorch's "Type promotion" documentation and
# the rules it states: Python scalars and 0-d tensors only count when of a higher category.
CASES = [
    (lambda: t(i32) + 5, i32),
    (lambda: t(i32) + t(i64, 0), i32),
    (lambda: t(i64) + t(i32), i64),
    (lambda: t(b) + t(i64), i64),
    (lambda: t(b) + t(u8), u8),
    (lambda: t(f32) + t(f64), f64),
    (lambda: t(b) + t(i32), i32),
    (lambda: t(i64) + t(f32), f32),
    (lambda: t(i64) / t(i64), f32),          # true division of integers
    (lambda: t(i64) * 0.5, f32),             # a Python float is the default dtype
    (lambda: 0.5 * t(i64), f32),
    (lambda: t(i64) + 1, i64),
    (lambda: t(i64) + 1.5, f32),
    (lambda: t(i64) / 2, f32),
    (lambda: 2 / t(i64), f32),
    (lambda: t(i64) - 1.0, f32),
    (lambda: 1.0 - t(i64), f32),
    (lambda: t(f32) + t(f64, 0), f32),       # a 0-d float64 does not widen float32
    (lambda: t(f64, 0) * t(f32), f32),
    (lambda: t(f32) + 1.0, f32),
    (lambda: t(f64) + 1.0, f64),
    (lambda: t(f16) * 2.5, f16),
    (lambda: t(i64) + t(f64, 0), f64),       # ... but a 0-d float beats an int tensor
    (lambda: t(i64) * t(f32, 0), f32),
    (lambda: t(b) * 1.5, f32),
    (lambda: t(b) + 1, i64),
    (lambda: t(u8) + 1, u8),
    (lambda: t(f32, 0) + t(f64, 0), f64),    # only 0-d operands: they decide
    (lambda: t(i64, 0) + 2.5, f32),
    (lambda: t(i64) ** 2, i64),
    (lambda: t(i64) ** 0.5, f32),
    (lambda: 2.0 ** t(i64), f32),
    (lambda: t(i64).exp(), f32),
    (lambda: t(i64).sqrt(), f32),
    (lambda: t(i64).sigmoid(), f32),
    (lambda: tinynn.maximum(t(i64), t(f32)), f32),
    (lambda: tinynn.cat([t(i64), t(f32)]), f32),
    (lambda: tinynn.stack([t(f32), t(f64)]), f64),
    (lambda: tinynn.where(t(b), t(i64), 0.5), f32),
    (lambda: tinynn.where(t(b), t(f32), t(f64)), f64),
    (lambda: t(b).sum(), i64),
    (lambda: t(i32).sum(), i64),
    (lambda: t(f32).sum(), f32),
    (lambda: t(i64).mean(dtype=f64), f64),
    (lambda: t(f32) * np.float64(2.0), f32),  # NumPy scalars behave like Python numbers
]


@pytest.mark.parametrize("case", range(len(CASES)))
def test_result_dtype(case):
    make, expected = CASES[case]
    assert make().dtype == expected


def test_promoted_values_are_right():
    assert (tinynn.tensor([1, 2, 3]) / tinynn.tensor([2, 2, 2])).tolist() == [0.5, 1.0, 1.5]
    assert (tinynn.tensor([3]) * 0.5).tolist() == [1.5]
    assert (tinynn.tensor([3]) + 1).tolist() == [4]
    assert (tinynn.tensor([True, False]) + tinynn.tensor([1, 1])).tolist() == [2, 1]


def test_gradients_keep_each_leaf_dtype_after_promotion():
    x = tinynn.tensor([1.0, 2.0], requires_grad=True)                      # float32
    s = tinynn.tensor(3.0, dtype=tinynn.float64, requires_grad=True)       # 0-d float64
    y = x * s
    assert y.dtype == tinynn.float32
    y.sum().backward()
    assert x.grad.dtype == tinynn.float32 and s.grad.dtype == tinynn.float64
    assert x.grad.tolist() == [3.0, 3.0] and s.grad.item() == 3.0

    x.grad = None
    w = tinynn.tensor([1.0, 1.0], dtype=tinynn.float64, requires_grad=True)
    z = x * w                                                             # dimensioned float64
    assert z.dtype == tinynn.float64
    z.sum().backward()
    assert x.grad.dtype == tinynn.float32 and w.grad.dtype == tinynn.float64
    assert w.grad.tolist() == [1.0, 2.0]


def test_float32_pipeline_never_upcasts():
    """A whole small training step in float32 with Python-float constants everywhere."""
    x = tinynn.randn(4, 3)
    w = tinynn.randn(3, 2, requires_grad=True)
    y = ((x @ w).sigmoid() * 2.0 - 1 / 3) ** 2 / 4 + 0.1
    loss = y.mean() * 0.5 + y.max() - (y.sum(0) / 7).min() + (y.exp() + 1).log().mean()
    assert loss.dtype == tinynn.float32
    loss.backward()
    assert w.grad.dtype == tinynn.float32
    with tinynn.no_grad():
        w -= 0.1 * w.grad
    assert w.dtype == tinynn.float32


def test_inplace_keeps_the_destination_dtype():
    f = tinynn.tensor([1.0, 2.0])
    f += tinynn.tensor([1.0, 1.0], dtype=tinynn.float64)
    assert f.dtype == tinynn.float32
    i = tinynn.tensor([1, 2])
    i *= 3
    assert i.dtype == tinynn.int64 and i.tolist() == [3, 6]
