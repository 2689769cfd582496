"""Random sampling, checked against PyTorch's documentation.

Covers ``tinynn.normal`` (its four forms), ``rand``, ``randn``, ``randint``, ``randperm``,
``bernoulli``, ``multinomial`` and the in-place fillers ``normal_``, ``uniform_``,
``bernoulli_``, ``random_``, ``exponential_``, plus ``manual_seed`` reproducibility on
every backend. Statistical checks use large samples and tolerances of many standard errors,
so they are deterministic under the seeded fixture and would still pass for any seed.
"""
import numpy as np
import pytest

import tinynn


def host(t):
    """A tensor's values as a NumPy array (works for cuda tensors too)."""
    return np.array(t.detach().cpu().numpy())


# ---------------------------------------------------------------------------- normal

def test_normal_tensor_tensor_doc_example(device):
    # torch.normal(mean=torch.arange(1., 11.), std=torch.arange(1, 0, -0.1))
    mean = tinynn.arange(1., 11., device=device)
    std = tinynn.arange(1, 0, -0.1, device=device)
    out = tinynn.normal(mean=mean, std=std)
    assert out.shape == (10,)
    assert out.dtype == tinynn.float32
    assert out.device == mean.device
    assert not out.requires_grad


def test_normal_tensor_tensor_broadcasts_with_per_element_parameters(device):
    mean = tinynn.tensor([[-5.0], [5.0]], device=device)           # (2, 1)
    std = tinynn.full((1, 40000), 0.5, device=device)                # (1, 40000)
    out = tinynn.normal(mean, std)
    assert out.shape == (2, 40000)
    values = host(out)
    np.testing.assert_allclose(values.mean(axis=1), [-5.0, 5.0], atol=0.02)
    np.testing.assert_allclose(values.std(axis=1), [0.5, 0.5], atol=0.02)


def test_normal_with_zero_std_returns_the_means(device):
    mean = tinynn.tensor([1.0, -2.0, 3.5], device=device)
    out = tinynn.normal(mean, tinynn.zeros(3, device=device))
    np.testing.assert_array_equal(host(out), [1.0, -2.0, 3.5])


def test_normal_tensor_mean_float_std(device):
    mean = tinynn.full((50000,), 3.0, device=device)
    out = tinynn.normal(mean, 2.0)
    assert out.shape == mean.shape and out.dtype == tinynn.float32
    values = host(out)
    assert abs(values.mean() - 3.0) < 0.05
    assert abs(values.std() - 2.0) < 0.05
    # std defaults to 1.0
    default = host(tinynn.normal(mean))
    assert abs(default.std() - 1.0) < 0.03


def test_normal_float_mean_tensor_std_doc_example(device):
    # torch.normal(mean=0.5, std=torch.arange(1., 6.))
    std = tinynn.arange(1., 6., device=device)
    out = tinynn.normal(mean=0.5, std=std)
    assert out.shape == (5,)
    assert out.dtype == tinynn.float32
    assert out.device == std.device


def test_normal_float_mean_tensor_std_statistics_and_dtype(device):
    std = tinynn.full((50000,), 0.25, dtype=tinynn.float64, device=device)
    out = tinynn.normal(-1.0, std)
    assert out.dtype == tinynn.float64
    values = host(out)
    assert abs(values.mean() + 1.0) < 0.01
    assert abs(values.std() - 0.25) < 0.01


def test_normal_float_float_size_doc_example():
    # torch.normal(2, 3, size=(1, 4))
    out = tinynn.normal(2, 3, size=(1, 4))
    assert out.shape == (1, 4)
    assert out.dtype == tinynn.float32
    assert out.device.type == "cpu"


def test_normal_float_float_size_with_options(device):
    out = tinynn.normal(0.0, 0.01, size=(2, 1), dtype=tinynn.float64, device=device,
                        requires_grad=True)
    assert out.shape == (2, 1)
    assert out.dtype == tinynn.float64
    assert out.device == device
    assert out.requires_grad and out.is_leaf and out.grad_fn is None


def test_normal_float_float_size_statistics(device):
    values = host(tinynn.normal(2.0, 3.0, size=(100000,), device=device))
    assert abs(values.mean() - 2.0) < 0.05
    assert abs(values.std() - 3.0) < 0.05


def test_normal_numbers_without_size_is_an_error():
    with pytest.raises(TypeError):
        tinynn.normal(0.0, 1.0)


@pytest.mark.parametrize("call", [
    lambda d: tinynn.normal(tinynn.zeros(3, device=d), -1.0),
    lambda d: tinynn.normal(0.0, tinynn.tensor([1.0, -1.0], device=d)),
    lambda d: tinynn.normal(tinynn.zeros(2, device=d), tinynn.tensor([1.0, -0.5], device=d)),
    lambda d: tinynn.normal(0.0, -1.0, size=(2,), device=d),
    lambda d: tinynn.zeros(3, device=d).normal_(0.0, -1.0),
], ids=["tensor-float", "float-tensor", "tensor-tensor", "size", "normal_"])
def test_normal_negative_std_is_an_error(device, call):
    with pytest.raises(RuntimeError, match="std"):
        call(device)


def test_normal_of_a_mean_that_requires_grad_is_in_the_graph_with_zero_gradient(device):
    mean = tinynn.zeros(3, device=device, requires_grad=True)
    out = tinynn.normal(mean, 1.0)
    assert out.requires_grad
    out.sum().backward()
    np.testing.assert_array_equal(host(mean.grad), [0.0, 0.0, 0.0])


# ---------------------------------------------------------------------------- rand / randn

@pytest.mark.parametrize("shape_args", [(2, 3), ((2, 3),), ([2, 3],)])
def test_rand_shapes_dtype_and_range(device, shape_args):
    out = tinynn.rand(*shape_args, device=device)
    assert out.shape == (2, 3)
    assert out.dtype == tinynn.float32
    assert out.device == device
    values = host(out)
    assert values.min() >= 0.0 and values.max() < 1.0


def test_rand_statistics_and_dtype(device):
    out = tinynn.rand(100000, dtype=tinynn.float64, device=device)
    assert out.dtype == tinynn.float64
    values = host(out)
    assert values.min() >= 0.0 and values.max() < 1.0
    assert abs(values.mean() - 0.5) < 0.01
    assert abs(values.var() - 1.0 / 12.0) < 0.003


def test_rand_float16_stays_in_half_open_interval(device):
    # "Returns a tensor filled with random numbers from a uniform distribution on the
    # interval [0, 1)": 1.0 itself must never come out, whatever the dtype.
    values = host(tinynn.rand(200000, dtype=tinynn.float16, device=device))
    assert values.max() < 1.0


def test_randn_shapes_dtype_statistics(device):
    out = tinynn.randn(100000, device=device)
    assert out.shape == (100000,) and out.dtype == tinynn.float32 and out.device == device
    values = host(out)
    assert abs(values.mean()) < 0.02
    assert abs(values.std() - 1.0) < 0.02
    assert tinynn.randn((2, 3), device=device).shape == (2, 3)
    assert tinynn.randn(4, dtype=tinynn.float64, device=device).dtype == tinynn.float64


def test_rand_randn_requires_grad_makes_a_leaf(device):
    for fn in (tinynn.rand, tinynn.randn):
        out = fn(3, requires_grad=True, device=device)
        assert out.requires_grad and out.is_leaf


def test_rand_randn_accept_size_keyword(device):
    assert tinynn.rand(size=(2, 3), device=device).shape == (2, 3)
    assert tinynn.randn(size=(2, 3), device=device).shape == (2, 3)


# ---------------------------------------------------------------------------- randint

def test_randint_high_and_size(device):
    out = tinynn.randint(10, (3,), device=device)
    assert out.shape == (3,)
    assert out.dtype == tinynn.int64
    assert out.device == device
    values = host(out)
    assert values.min() >= 0 and values.max() < 10


def test_randint_low_high_size(device):
    out = tinynn.randint(2, 10, (3,), device=device)
    assert out.shape == (3,) and out.dtype == tinynn.int64
    values = host(tinynn.randint(2, 10, (20000,), device=device))
    assert values.min() >= 2 and values.max() <= 9
    assert set(values.tolist()) == set(range(2, 10))          # every value is reachable
    counts = np.bincount(values.astype(int) - 2, minlength=8) / values.size
    np.testing.assert_allclose(counts, 1 / 8, atol=0.015)


def test_randint_keywords_negative_range_and_dtype(device):
    values = host(tinynn.randint(low=-5, high=5, size=(5000,), device=device))
    assert values.min() == -5 and values.max() == 4
    out = tinynn.randint(0, 3, (2, 2), dtype=tinynn.float32, device=device)
    assert out.dtype == tinynn.float32 and out.shape == (2, 2)
    assert np.all(host(out) == np.round(host(out)))


def test_randint_empty_range_is_an_error(device):
    with pytest.raises(RuntimeError):
        tinynn.randint(5, 5, (3,), device=device)


# ---------------------------------------------------------------------------- randperm

def test_randperm_is_a_permutation(device):
    out = tinynn.randperm(50, device=device)
    assert out.shape == (50,) and out.dtype == tinynn.int64 and out.device == device
    values = host(out)
    assert sorted(values.tolist()) == list(range(50))
    draws = [host(tinynn.randperm(50, device=device)).tolist() for _ in range(3)]
    assert any(d != list(range(50)) for d in draws)               # it does shuffle
    assert draws[0] != draws[1] or draws[1] != draws[2]


def test_randperm_zero_and_dtype(device):
    assert tinynn.randperm(0, device=device).shape == (0,)
    out = tinynn.randperm(6, dtype=tinynn.float32, device=device)
    assert out.dtype == tinynn.float32
    assert sorted(host(out).tolist()) == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]


# ---------------------------------------------------------------------------- bernoulli

def test_bernoulli_doc_examples(device):
    ones = tinynn.ones(3, 3, device=device)
    np.testing.assert_array_equal(host(tinynn.bernoulli(ones)), np.ones((3, 3)))
    zeros = tinynn.zeros(3, 3, device=device)
    np.testing.assert_array_equal(host(tinynn.bernoulli(zeros)), np.zeros((3, 3)))
    a = tinynn.empty(3, 3, device=device).uniform_(0, 1)
    out = tinynn.bernoulli(a)
    assert out.shape == (3, 3)
    assert set(host(out).ravel().tolist()) <= {0.0, 1.0}


@pytest.mark.parametrize("dtype", [tinynn.float32, tinynn.float64])
def test_bernoulli_keeps_dtype_and_frequency(device, dtype):
    probs = tinynn.full((50000,), 0.3, dtype=dtype, device=device)
    out = tinynn.bernoulli(probs)
    assert out.dtype == dtype and out.shape == probs.shape and out.device == device
    values = host(out)
    assert set(np.unique(values).tolist()) == {0.0, 1.0}
    assert abs(values.mean() - 0.3) < 0.015


def test_bernoulli_per_element_probabilities(device):
    probs = tinynn.tensor([[0.0, 1.0, 0.9]], device=device) * tinynn.ones(20000, 1, device=device)
    values = host(tinynn.bernoulli(probs))
    assert values[:, 0].sum() == 0
    assert values[:, 1].min() == 1
    assert abs(values[:, 2].mean() - 0.9) < 0.015


def test_bernoulli_with_p_ignores_the_input_values(device):
    x = tinynn.zeros(50000, device=device)
    out = tinynn.bernoulli(x, p=0.25)
    assert out.dtype == tinynn.float32 and out.shape == x.shape
    assert abs(host(out).mean() - 0.25) < 0.015
    assert abs(host(tinynn.bernoulli(x, 0.75)).mean() - 0.75) < 0.015
    assert abs(host(x.bernoulli(p=0.5)).mean() - 0.5) < 0.015


@pytest.mark.parametrize("values", [[0.5, 1.5], [-0.1, 0.5]])
def test_bernoulli_probabilities_outside_unit_interval_error(device, values):
    with pytest.raises(RuntimeError):
        tinynn.bernoulli(tinynn.tensor(values, device=device))


def test_bernoulli_p_outside_unit_interval_errors(device):
    with pytest.raises(RuntimeError):
        tinynn.bernoulli(tinynn.zeros(3, device=device), p=1.5)
    with pytest.raises(RuntimeError):
        tinynn.zeros(3, device=device).bernoulli_(-0.5)


# ---------------------------------------------------------------------------- multinomial

def test_multinomial_doc_example(device):
    weights = tinynn.tensor([0, 10, 3, 0], dtype=tinynn.float32, device=device)
    out = tinynn.multinomial(weights, 2)
    assert out.dtype == tinynn.int64 and out.shape == (2,) and out.device == device
    assert sorted(host(out).tolist()) == [1, 2]         # the only two non-zero categories
    with pytest.raises(RuntimeError):
        tinynn.multinomial(weights, 4)                   # not enough non-zero categories
    drawn = host(tinynn.multinomial(weights, 4, replacement=True))
    assert drawn.shape == (4,)
    assert set(drawn.tolist()) <= {1, 2}


def test_multinomial_without_replacement_never_repeats(device):
    weights = tinynn.rand(6, 10, device=device) + 0.01
    out = tinynn.multinomial(weights, 10)
    assert out.shape == (6, 10) and out.dtype == tinynn.int64
    for row in host(out).astype(int):
        assert sorted(row.tolist()) == list(range(10))
    partial = host(weights.multinomial(4)).astype(int)
    assert partial.shape == (6, 4)
    assert all(len(set(row.tolist())) == 4 for row in partial)


def test_multinomial_zero_weight_categories_never_drawn(device):
    weights = tinynn.tensor([0.0, 1.0, 0.0, 2.0, 0.0], device=device)
    drawn = host(tinynn.multinomial(weights, 20000, replacement=True))
    assert set(drawn.tolist()) == {1, 3}
    rows = weights * tinynn.ones(2000, 1, device=device)
    no_repl = host(tinynn.multinomial(rows, 2))
    assert set(no_repl.ravel().tolist()) == {1, 3}


def test_multinomial_frequencies_proportional_to_weights(device):
    weights = tinynn.tensor([1.0, 2.0, 3.0, 4.0], device=device)    # need not sum to one
    expected = np.array([0.1, 0.2, 0.3, 0.4])
    drawn = host(tinynn.multinomial(weights, 40000, replacement=True)).astype(int)
    np.testing.assert_allclose(np.bincount(drawn, minlength=4) / drawn.size, expected, atol=0.012)
    # Without replacement the FIRST draw of each row follows the weights too.
    rows = weights * tinynn.ones(20000, 1, device=device)
    first = host(tinynn.multinomial(rows, 2))[:, 0].astype(int)
    np.testing.assert_allclose(np.bincount(first, minlength=4) / first.size, expected, atol=0.015)


@pytest.mark.parametrize("weights,num_samples,replacement", [
    ([1.0, 1.0, 1.0], 4, False),            # more samples than categories
    ([1.0, -1.0, 2.0], 1, True),            # negative weight
    ([1.0, -1.0, 2.0], 1, False),
    ([0.0, 0.0, 0.0], 1, True),             # zero sum
    ([1.0, float("inf")], 1, True),         # not finite
])
def test_multinomial_invalid_arguments(device, weights, num_samples, replacement):
    with pytest.raises(RuntimeError):
        tinynn.multinomial(tinynn.tensor(weights, device=device), num_samples, replacement)


def test_multinomial_rejects_3d_input(device):
    with pytest.raises(RuntimeError):
        tinynn.multinomial(tinynn.ones(2, 2, 2, device=device), 1)


# ---------------------------------------------------------------------------- in-place fillers

def test_normal_inplace(device):
    x = tinynn.zeros(100000, dtype=tinynn.float64, device=device)
    out = x.normal_(5.0, 0.5)
    assert out is x and x.dtype == tinynn.float64 and x.device == device
    values = host(x)
    assert abs(values.mean() - 5.0) < 0.01
    assert abs(values.std() - 0.5) < 0.01


@pytest.mark.parametrize("dtype", [tinynn.float32, tinynn.float64])
def test_uniform_inplace_range(device, dtype):
    x = tinynn.zeros(100000, dtype=dtype, device=device)
    out = x.uniform_(-2.0, 3.0)
    assert out is x and x.dtype == dtype
    values = host(x)
    assert values.min() >= -2.0 and values.max() < 3.0
    assert abs(values.mean() - 0.5) < 0.03
    default = host(tinynn.zeros(10000, device=device).uniform_())
    assert default.min() >= 0.0 and default.max() < 1.0


def test_uniform_inplace_from_greater_than_to_is_an_error(device):
    with pytest.raises(RuntimeError):
        tinynn.zeros(3, device=device).uniform_(2.0, 1.0)


@pytest.mark.parametrize("dtype", [tinynn.float32, tinynn.int64])
def test_bernoulli_inplace(device, dtype):
    x = tinynn.zeros(50000, dtype=dtype, device=device)
    out = x.bernoulli_(0.2)
    assert out is x and x.dtype == dtype
    values = host(x)
    assert set(np.unique(values).tolist()) == {0, 1}
    assert abs(values.mean() - 0.2) < 0.015


def test_bernoulli_inplace_with_tensor_p(device):
    x = tinynn.zeros(4, dtype=tinynn.float64, device=device)
    x.bernoulli_(tinynn.tensor([0.0, 1.0, 0.0, 1.0], device=device))
    np.testing.assert_array_equal(host(x), [0.0, 1.0, 0.0, 1.0])
    assert x.dtype == tinynn.float64


@pytest.mark.parametrize("dtype", [tinynn.float32, tinynn.int64, tinynn.int32])
def test_random_inplace_to(device, dtype):
    x = tinynn.zeros(20000, dtype=dtype, device=device)
    out = x.random_(7)
    assert out is x and x.dtype == dtype
    values = host(x)
    assert np.all(values == np.round(values))
    assert set(values.astype(int).tolist()) == set(range(7))    # discrete uniform on [0, 6]


def test_random_inplace_from_to(device):
    x = tinynn.zeros(20000, dtype=tinynn.int64, device=device)
    x.random_(-3, 4)
    values = host(x).astype(int)
    assert set(values.tolist()) == set(range(-3, 4))
    counts = np.bincount(values + 3, minlength=7) / values.size
    np.testing.assert_allclose(counts, 1 / 7, atol=0.015)


def test_random_inplace_without_bounds_on_float_is_integer_valued(device):
    # "for floating point types, if unspecified, range will be [0, 2^mantissa]"
    x = tinynn.zeros(1000, device=device).random_()
    values = host(x)
    assert np.all(values == np.round(values))
    assert values.min() >= 0 and values.max() <= 2 ** 24
    assert values.max() > 2 ** 20                                 # the range is used


def test_random_inplace_empty_range_is_an_error(device):
    with pytest.raises(RuntimeError):
        tinynn.zeros(3, device=device).random_(5, 5)


@pytest.mark.parametrize("dtype", [tinynn.float32, tinynn.float64])
def test_exponential_inplace(device, dtype):
    x = tinynn.zeros(100000, dtype=dtype, device=device)
    out = x.exponential_(2.0)
    assert out is x and x.dtype == dtype
    values = host(x)
    assert values.min() >= 0.0
    assert abs(values.mean() - 0.5) < 0.01                       # 1 / lambda
    assert abs(np.median(values) - np.log(2) / 2) < 0.01


def test_exponential_inplace_negative_rate_is_an_error(device):
    with pytest.raises(RuntimeError):
        tinynn.zeros(3, device=device).exponential_(-1.0)


FILLERS = {
    "normal_": lambda t: t.normal_(),
    "uniform_": lambda t: t.uniform_(0.0, 1.0),
    "bernoulli_": lambda t: t.bernoulli_(0.5),
    "random_": lambda t: t.random_(10),
    "exponential_": lambda t: t.exponential_(),
}


@pytest.mark.parametrize("name", sorted(FILLERS))
def test_inplace_fill_on_leaf_requiring_grad_is_an_error(device, name):
    w = tinynn.zeros(4, device=device, requires_grad=True)
    with pytest.raises(RuntimeError):
        FILLERS[name](w)
    np.testing.assert_array_equal(host(w), np.zeros(4))          # untouched


@pytest.mark.parametrize("name", sorted(FILLERS))
def test_inplace_fill_on_leaf_allowed_under_no_grad(device, name):
    w = tinynn.zeros(2000, device=device, requires_grad=True)
    with tinynn.no_grad():
        out = FILLERS[name](w)
    assert out is w
    assert w.requires_grad and w.is_leaf and w.grad_fn is None
    assert w.dtype == tinynn.float32
    assert np.any(host(w) != 0)


def test_inplace_fill_on_non_leaf_is_recorded_with_zero_gradient(device):
    x = tinynn.ones(3, device=device, requires_grad=True)
    h = x * 2
    h.uniform_()
    h.sum().backward()
    np.testing.assert_array_equal(host(x.grad), [0.0, 0.0, 0.0])


def test_uniform_and_random_accept_to_keyword(device):
    x = tinynn.zeros(1000, device=device)
    values = host(x.uniform_(to=3.0))
    assert values.min() >= 0.0 and values.max() < 3.0 and values.max() > 1.0
    values = host(x.random_(to=5))
    assert set(values.astype(int).tolist()) == set(range(5))


# ---------------------------------------------------------------------------- reproducibility

DRAWS = {
    "normal-tensor-tensor": lambda d: tinynn.normal(tinynn.zeros(5, device=d), tinynn.ones(5, device=d)),
    "normal-tensor-float": lambda d: tinynn.normal(tinynn.zeros(5, device=d), 2.0),
    "normal-float-tensor": lambda d: tinynn.normal(1.0, tinynn.ones(5, device=d)),
    "normal-size": lambda d: tinynn.normal(0.0, 1.0, size=(5,), device=d),
    "rand": lambda d: tinynn.rand(5, device=d),
    "randn": lambda d: tinynn.randn(5, device=d),
    "randint": lambda d: tinynn.randint(0, 1000, (5,), device=d),
    "randperm": lambda d: tinynn.randperm(20, device=d),
    "bernoulli": lambda d: tinynn.bernoulli(tinynn.full((20,), 0.5, device=d)),
    "bernoulli-p": lambda d: tinynn.bernoulli(tinynn.zeros(20, device=d), p=0.5),
    "multinomial": lambda d: tinynn.multinomial(tinynn.ones(20, device=d), 10),
    "multinomial-replacement": lambda d: tinynn.multinomial(tinynn.ones(20, device=d), 10, True),
    "normal_": lambda d: tinynn.zeros(5, device=d).normal_(),
    "uniform_": lambda d: tinynn.zeros(5, device=d).uniform_(-1, 1),
    "bernoulli_": lambda d: tinynn.zeros(20, device=d).bernoulli_(0.5),
    "random_": lambda d: tinynn.zeros(5, device=d).random_(1000),
    "random_-from-to": lambda d: tinynn.zeros(5, device=d).random_(-500, 500),
    "exponential_": lambda d: tinynn.zeros(5, device=d).exponential_(),
}


@pytest.mark.parametrize("name", sorted(DRAWS))
def test_manual_seed_reproduces_draws(device, name):
    draw = DRAWS[name]
    tinynn.manual_seed(1234)
    first = host(draw(device))
    second_in_stream = host(draw(device))
    tinynn.manual_seed(1234)
    again = host(draw(device))
    np.testing.assert_array_equal(first, again)
    # the stream moves on between draws, and another seed gives other numbers
    assert not np.array_equal(first, second_in_stream)
    tinynn.manual_seed(99)
    assert not np.array_equal(first, host(draw(device)))


def test_generator_argument_is_reproducible():
    g1 = tinynn.Generator().manual_seed(7)
    g2 = tinynn.Generator().manual_seed(7)
    np.testing.assert_array_equal(host(tinynn.randn(5, generator=g1)),
                                  host(tinynn.randn(5, generator=g2)))
    np.testing.assert_array_equal(host(tinynn.normal(0.0, 1.0, size=(3,), generator=g1)),
                                  host(tinynn.normal(0.0, 1.0, size=(3,), generator=g2)))
