"""Identity, Flatten/Unflatten, channel dropout and AlphaDropout, Embedding and the lazy
layers, from PyTorch's documentation (its worked examples and stated rules)."""
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import tinynn
import tinynn.nn as nn
import tinynn.nn.functional as F
import tinynn.optim as optim
from opcheck import check_op


def npy(x):
    return x.detach().cpu().numpy()


# ---------------------------------------------------------------------------- Identity, Flatten, Unflatten

def test_identity_ignores_constructor_arguments():
    m = nn.Identity(54, unused_argument1=0.1, unused_argument2=False)
    x = tinynn.randn(128, 20)
    assert m(x) is x and m(x).shape == (128, 20)


def test_flatten_doc_examples():
    x = tinynn.randn(32, 1, 5, 5)
    assert nn.Flatten()(x).shape == (32, 25)
    assert nn.Flatten(0, 2)(x).shape == (160, 5)


def test_unflatten_doc_examples_and_repr():
    x = tinynn.randn(2, 50)
    assert nn.Unflatten(1, (2, 5, 5))(x).shape == (2, 2, 5, 5)
    assert nn.Unflatten(1, tinynn.Size([2, 5, 5]))(x).shape == (2, 2, 5, 5)
    assert nn.Unflatten(-1, [5, -1])(x).shape == (2, 5, 10)
    model = nn.Sequential(nn.Linear(50, 50), nn.Unflatten(1, (2, 5, 5)), nn.Conv2d(2, 2, 3))
    assert model(x).shape == (2, 2, 3, 3)
    assert repr(nn.Unflatten(1, (2, 5, 5))) == "Unflatten(dim=1, unflattened_size=(2, 5, 5))"
    assert list(nn.Unflatten(1, (2, 25)).state_dict()) == []


def test_unflatten_inverts_flatten_and_gradcheck(device):
    check_op(lambda x: nn.Unflatten(1, (3, 4))(x), [(2, 12, 2)], "normal", device)
    x = tinynn.randn(3, 4, 5)
    np.testing.assert_array_equal(nn.Unflatten(1, (4, 5))(nn.Flatten()(x)).numpy(), x.numpy())


def test_unflatten_errors():
    with pytest.raises(TypeError, match="unflattened_size must be tuple of ints"):
        nn.Unflatten(1, 5)
    with pytest.raises(TypeError, match="found element of type float at pos 1"):
        nn.Unflatten(1, (2, 2.5))
    with pytest.raises(RuntimeError, match="don't multiply up to the size of dim 1"):
        nn.Unflatten(1, (3, 3))(tinynn.randn(2, 10))


# ---------------------------------------------------------------------------- channel dropout

@pytest.mark.parametrize("module,shape", [(nn.Dropout1d, (8, 16, 5)), (nn.Dropout2d, (8, 16, 3, 4)),
                                          (nn.Dropout3d, (4, 16, 2, 3, 2))])
def test_channel_dropout_zeroes_whole_channels_and_scales_the_rest(device, module, shape):
    p = 0.4
    x = tinynn.tensor(np.random.default_rng(0).uniform(1, 2, shape).astype(np.float32),
                      device=device)
    y = npy(module(p)(x))
    ratio = y / npy(x)
    per_channel = ratio.reshape(shape[0], shape[1], -1)
    # every (n, c) channel is either all zero or all scaled by 1/(1-p)
    dropped = np.all(per_channel == 0, axis=2)
    kept = np.all(np.isclose(per_channel, 1 / (1 - p)), axis=2)
    assert np.all(dropped | kept)
    assert 0 < dropped.sum() < dropped.size
    assert y.dtype == np.float32


def test_channel_dropout_rate_is_p():
    y = F.dropout2d(tinynn.ones(200, 100, 2, 2), p=0.3).numpy()
    frac = np.mean(y[:, :, 0, 0] == 0)
    assert abs(frac - 0.3) < 0.02


def test_dropout_modules_are_identity_in_eval_mode_and_for_p0():
    for m, shape in ((nn.Dropout1d(), (4, 3, 5)), (nn.Dropout2d(), (4, 3, 5, 5)),
                     (nn.Dropout3d(), (4, 3, 2, 5, 5)), (nn.AlphaDropout(), (4, 3)),
                     (nn.Dropout(), (4, 3))):
        m.eval()
        x = tinynn.randn(*shape)
        assert m(x) is x
    x4 = tinynn.randn(4, 3, 5, 5)
    assert F.dropout2d(x4, 0.0) is x4
    assert F.dropout2d(x4, 0.5, training=False) is x4


def test_dropout_p_one_gives_zeros_not_nan():
    y = F.dropout2d(tinynn.randn(2, 3, 4, 4), p=1.0)
    assert np.all(y.numpy() == 0)
    assert np.all(F.alpha_dropout(tinynn.randn(3, 4), 1.0, True).numpy() == 0)


def test_channel_dropout_gradient_is_the_mask(device):
    x = tinynn.randn(6, 8, 3, 3, device=device, requires_grad=True)
    y = F.dropout2d(x, 0.5)
    y.sum().backward()
    mask = npy(y) / npy(x)
    np.testing.assert_allclose(npy(x.grad), mask, rtol=1e-6)
    assert x.grad.dtype == tinynn.float32


def test_dropout1d_unbatched_input_drops_rows():
    y = F.dropout1d(tinynn.ones(50, 7), 0.5).numpy()
    assert np.all((y == 0).all(axis=1) | (y == 2).all(axis=1))


def test_dropout2d_three_d_input_warns_and_drops_channels_of_n_c_l():
    with pytest.warns(UserWarning, match="Received a 3D input to dropout2d"):
        y = F.dropout2d(tinynn.ones(10, 20, 6), 0.5).numpy()
    assert np.all((y == 0).all(axis=2) | (y == 2).all(axis=2))
    with pytest.warns(UserWarning, match="Received a 2-D input to dropout2d, which is deprecated"):
        F.dropout2d(tinynn.ones(10, 20), 0.5)


def test_dropout2d_four_d_input_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.Dropout2d()(tinynn.randn(2, 3, 4, 4))


def test_dropout_errors():
    for module in (nn.Dropout1d, nn.Dropout2d, nn.AlphaDropout):
        with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, "
                                             "but got 1.5"):
            module(1.5)
    with pytest.raises(ValueError, match="but got -0.1"):
        F.dropout2d(tinynn.randn(2, 2, 2, 2), -0.1)
    with pytest.raises(RuntimeError, match="dropout1d: Expected 2D or 3D input, but received a "
                                           "4D input"):
        F.dropout1d(tinynn.randn(2, 3, 4, 5))
    assert repr(nn.Dropout2d(0.2)) == "Dropout2d(p=0.2, inplace=False)"


def test_dropout2d_inplace_on_a_non_leaf():
    x = tinynn.ones(4, 5, 2, 2, requires_grad=True)
    h = x * 1.0
    out = F.dropout2d(h, 0.5, inplace=True)
    assert out is h
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), npy(h))   # d(sum)/dx = mask = h / 1


def test_alpha_dropout_keeps_zero_mean_unit_variance():
    # "the output has the same mean and standard deviation as the input" (for N(0, 1) input)
    x = tinynn.randn(400000)
    y = F.alpha_dropout(x, 0.2, training=True).numpy()
    assert abs(y.mean()) < 0.01 and abs(y.std() - 1) < 0.01


def test_alpha_dropout_values_and_gradient(device):
    # From the SELU paper's formula: dropped units become alpha' = -scale*alpha, then
    # a * (.) + b with a = ((1 - p)(1 + p alpha'^2))^-1/2, b = -a alpha' p.
    p = 0.25
    alpha_prime = -1.0507009873554805 * 1.6732632423543772
    a = ((1 - p) * (1 + p * alpha_prime ** 2)) ** -0.5
    b = -a * alpha_prime * p
    x = tinynn.randn(1000, dtype=tinynn.float64, device=device, requires_grad=True)
    y = F.alpha_dropout(x, p, training=True)
    kept = np.isclose(npy(y), a * npy(x) + b)
    dropped = np.isclose(npy(y), a * alpha_prime + b)
    assert np.all(kept | dropped) and 0 < dropped.sum() < 1000
    y.sum().backward()
    np.testing.assert_allclose(npy(x.grad), np.where(kept, a, 0.0))
    assert F.alpha_dropout(x, p) is x          # training defaults to False


def test_dropout_float32_gradcheck(device):
    # A fixed seed makes the mask the same in each call of the gradcheck.
    def fn(x):
        tinynn.manual_seed(3)
        return F.dropout2d(x, 0.5)

    check_op(fn, [(3, 4, 2, 2)], "normal", device)

    def fn_alpha(x):
        tinynn.manual_seed(3)
        return F.alpha_dropout(x, 0.3, True)

    check_op(fn_alpha, [(3, 5)], "normal", device)


# ---------------------------------------------------------------------------- Embedding

def test_embedding_doc_example_and_init():
    embedding = nn.Embedding(10, 3)
    inp = tinynn.tensor([[1, 2, 4, 5], [4, 3, 2, 9]])
    out = embedding(inp)
    assert out.shape == (2, 4, 3) and out.dtype == tinynn.float32
    np.testing.assert_array_equal(npy(out), embedding.weight.numpy(force=True)[inp.numpy()])
    big = nn.Embedding(1000, 100).weight.numpy(force=True)    # N(0, 1)
    assert abs(big.mean()) < 0.01 and abs(big.std() - 1) < 0.01
    assert list(embedding.state_dict()) == ["weight"] and embedding.weight.shape == (10, 3)
    assert repr(embedding) == "Embedding(10, 3)"


def test_embedding_padding_idx_row_is_zero_and_gets_no_gradient():
    embedding = nn.Embedding(10, 3, padding_idx=0)
    assert repr(embedding) == "Embedding(10, 3, padding_idx=0)"
    inp = tinynn.tensor([[0, 2, 0, 5]])
    out = embedding(inp)
    np.testing.assert_array_equal(npy(out)[0, [0, 2]], 0)
    (out * tinynn.randn(1, 4, 3)).sum().backward()
    grad = embedding.weight.grad.numpy()
    np.testing.assert_array_equal(grad[0], 0)
    assert np.all(grad[2] != 0) and np.all(grad[5] != 0)
    # a changed pad vector is used in the lookup but still gets no gradient
    with tinynn.no_grad():
        embedding.weight[0] = tinynn.ones(3)
    np.testing.assert_array_equal(npy(embedding(tinynn.tensor([0]))), [[1, 1, 1]])


def test_embedding_negative_padding_idx_counts_from_the_end():
    assert nn.Embedding(10, 3, padding_idx=-1).padding_idx == 9
    w = tinynn.randn(4, 2, requires_grad=True)
    F.embedding(tinynn.tensor([3, 1]), w, padding_idx=-1).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [[0, 0], [1, 1], [0, 0], [0, 0]])


def test_embedding_repeated_indices_add_their_gradients(device):
    w = tinynn.randn(5, 2, device=device, requires_grad=True)
    g = np.arange(12, dtype=np.float32).reshape(2, 3, 2)
    out = F.embedding(tinynn.tensor([[1, 1, 3], [1, 0, 3]], device=device), w)
    out.backward(tinynn.tensor(g, device=device))
    expected = np.zeros((5, 2), np.float32)
    for idx, row in zip([1, 1, 3, 1, 0, 3], g.reshape(6, 2)):
        expected[idx] += row
    np.testing.assert_allclose(npy(w.grad), expected)
    assert w.grad.dtype == tinynn.float32 and w.grad.device == device


def test_embedding_gradcheck(device):
    idx = tinynn.tensor([[0, 2, 2], [4, 1, 0]], device=device)
    check_op(lambda w: F.embedding(idx, w), [(5, 3)], "normal", device)
    # No gradcheck with padding_idx or scale_grad_by_freq: both change the gradient on
    # purpose (see their own tests).


def test_embedding_scale_grad_by_freq():
    w = tinynn.randn(4, 2, requires_grad=True)
    F.embedding(tinynn.tensor([1, 1, 1, 2]), w, scale_grad_by_freq=True).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [[0, 0], [1, 1], [1, 1], [0, 0]])


def test_embedding_from_pretrained_doc_example():
    weight = tinynn.tensor([[1, 2.3, 3], [4, 5.1, 6.3]])
    embedding = nn.Embedding.from_pretrained(weight)
    np.testing.assert_allclose(npy(embedding(tinynn.tensor([1]))), [[4.0, 5.1, 6.3]], rtol=1e-6)
    assert embedding.weight.requires_grad is False
    assert list(embedding.parameters())[0] is embedding.weight
    assert nn.Embedding.from_pretrained(weight, freeze=False).weight.requires_grad is True
    # padding row keeps its pretrained values, but gets no gradient
    e = nn.Embedding.from_pretrained(weight, freeze=False, padding_idx=0)
    np.testing.assert_allclose(e.weight.numpy(force=True)[0], [1, 2.3, 3], rtol=1e-6)
    e(tinynn.tensor([0, 1])).sum().backward()
    np.testing.assert_array_equal(e.weight.grad.numpy(), [[0, 0, 0], [1, 1, 1]])
    with pytest.raises(AssertionError, match="Embeddings parameter is expected to be 2-dimensional"):
        nn.Embedding.from_pretrained(tinynn.ones(3))


def test_embedding_max_norm_renormalises_looked_up_rows():
    w = np.array([[3.0, 4.0], [0.3, 0.4], [6.0, 8.0], [1.0, 0.0]], dtype=np.float32)
    e = nn.Embedding.from_pretrained(tinynn.tensor(w), max_norm=2.0)
    out = e(tinynn.tensor([0, 1]))
    # row 0 (norm 5) is rescaled to norm 2 (factor 2 / (5 + 1e-7)); row 1 (norm 0.5) stays;
    # row 2 (norm 10) is not looked up and stays too.
    np.testing.assert_allclose(npy(out), [[1.2, 1.6], [0.3, 0.4]], rtol=1e-6)
    np.testing.assert_allclose(e.weight.numpy(), [[1.2, 1.6], [0.3, 0.4], [6, 8], [1, 0]],
                               rtol=1e-6)
    e1 = nn.Embedding.from_pretrained(tinynn.tensor(w), max_norm=1.0, norm_type=1.0)
    np.testing.assert_allclose(npy(e1(tinynn.tensor([2]))), [[6 / 14, 8 / 14]], rtol=1e-6)


@settings(max_examples=25, deadline=None)
@given(shape=st.lists(st.integers(0, 4), min_size=0, max_size=3), num=st.integers(1, 6),
       dim=st.integers(1, 4), seed=st.integers(0, 50))
def test_embedding_output_shape_and_values(shape, num, dim, seed):
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, num, shape)
    w = rng.standard_normal((num, dim))
    out = F.embedding(tinynn.tensor(idx), tinynn.tensor(w))
    assert out.shape == tuple(shape) + (dim,)
    np.testing.assert_array_equal(out.numpy(), w[idx])


def test_embedding_errors():
    w = tinynn.randn(5, 2)
    with pytest.raises(IndexError, match="index out of range in self"):
        F.embedding(tinynn.tensor([5]), w)
    with pytest.raises(IndexError, match="index out of range in self"):
        F.embedding(tinynn.tensor([-1]), w)
    with pytest.raises(RuntimeError, match="Expected tensor for argument #1 'indices' to have one "
                                           "of the following scalar types: Long, Int"):
        F.embedding(tinynn.tensor([1.0]), w)
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        nn.Embedding(10, 3, padding_idx=10)
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        nn.Embedding(10, 3, padding_idx=-11)
    with pytest.raises(RuntimeError, match="'weight' must be 2-D"):
        F.embedding(tinynn.tensor([1]), tinynn.randn(5))


def test_embedding_trains_with_sgd():
    tinynn.manual_seed(0)
    e = nn.Embedding(4, 2)
    opt = optim.SGD(e.parameters(), lr=0.5)
    target = tinynn.tensor([[1.0, -1.0], [0.5, 0.5]])
    for _ in range(50):
        opt.zero_grad()
        loss = ((e(tinynn.tensor([0, 3])) - target) ** 2).sum()
        loss.backward()
        opt.step()
    assert loss.item() < 1e-4


# ---------------------------------------------------------------------------- lazy layers

def test_lazy_linear_infers_in_features_and_becomes_linear():
    m = nn.LazyLinear(10)
    assert repr(m) == "LazyLinear(in_features=0, out_features=10, bias=True)"
    assert isinstance(m.weight, nn.UninitializedParameter) and m.has_uninitialized_params()
    out = m(tinynn.randn(4, 7))
    assert out.shape == (4, 10)
    assert type(m) is nn.Linear and m.in_features == 7
    assert m.weight.shape == (10, 7) and m.bias.shape == (10,)
    assert type(m.weight) is nn.Parameter
    bound = 1 / math.sqrt(7)      # Linear's default init: U(-1/sqrt(in), 1/sqrt(in))
    assert np.abs(m.weight.numpy(force=True)).max() <= bound
    assert np.abs(m.bias.numpy(force=True)).max() <= bound
    assert list(m.state_dict()) == ["weight", "bias"]
    assert repr(m) == "Linear(in_features=7, out_features=10, bias=True)"


def test_lazy_conv2d_infers_in_channels_batched_and_unbatched():
    m = nn.LazyConv2d(6, 3, padding=1)
    assert repr(m).startswith("LazyConv2d(0, 6, kernel_size=(3, 3)")
    assert m(tinynn.randn(2, 5, 8, 8)).shape == (2, 6, 8, 8)
    assert type(m) is nn.Conv2d and m.in_channels == 5 and m.weight.shape == (6, 5, 3, 3)
    bound = 1 / math.sqrt(5 * 9)
    assert np.abs(m.weight.numpy(force=True)).max() <= bound
    u = nn.LazyConv2d(4, 3, groups=2, bias=False)
    assert u(tinynn.randn(6, 5, 5)).shape == (4, 3, 3)
    assert u.in_channels == 6 and u.weight.shape == (4, 3, 3, 3) and u.bias is None
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        nn.LazyConv2d(4, 3, groups=2)(tinynn.randn(1, 3, 5, 5))


def test_uninitialized_parameters_have_no_shape_until_a_dry_run():
    model = nn.Sequential(nn.LazyLinear(8), nn.ReLU(), nn.LazyLinear(2))
    with pytest.raises(ValueError, match="dry run"):
        sum(p.numel() for p in model.parameters())
    with pytest.raises(ValueError, match="uninitialized parameter"):
        model[0].weight.shape
    assert repr(model[0].weight) == "<UninitializedParameter>"
    model(tinynn.zeros(1, 5))                                   # the documented dry run
    assert sum(p.numel() for p in model.parameters()) == 5 * 8 + 8 + 8 * 2 + 2


def test_lazy_modules_follow_to_before_the_dry_run(device):
    model = nn.Sequential(nn.LazyConv2d(3, 3), nn.Flatten(), nn.LazyLinear(2)).double().to(device)
    out = model(tinynn.zeros(2, 1, 5, 5, dtype=tinynn.float64, device=device))
    assert out.dtype == tinynn.float64 and out.device == device
    for p in model.parameters():
        assert p.dtype == tinynn.float64 and p.device == device


def test_optimizer_built_before_the_dry_run_still_trains():
    # As in PyTorch, materialising keeps the Parameter objects the optimizer holds.
    tinynn.manual_seed(1)
    model = nn.Sequential(nn.LazyLinear(4), nn.Tanh(), nn.LazyLinear(1))
    opt = optim.SGD(model.parameters(), lr=0.1)
    x, y = tinynn.randn(16, 3), tinynn.randn(16, 1)
    losses = []
    for _ in range(30):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]
    assert opt.param_groups[0]["params"][0] is model[0].weight


def test_lazy_state_dict_round_trip():
    trained = nn.Sequential(nn.LazyConv2d(2, 3), nn.Flatten(), nn.LazyLinear(3))
    x = tinynn.randn(2, 1, 6, 6)
    expected = npy(trained(x))
    fresh = nn.Sequential(nn.LazyConv2d(2, 3), nn.Flatten(), nn.LazyLinear(3))
    fresh.load_state_dict(trained.state_dict())
    assert fresh[2].in_features == 32 and fresh[0].in_channels == 1
    np.testing.assert_allclose(npy(fresh(x)), expected, rtol=1e-6)
    assert type(fresh[2]) is nn.Linear
