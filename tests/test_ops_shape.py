"""Shape ops beyond reshape/permute: split, chunk, unbind, repeat, repeat_interleave, tile,
flip, roll, narrow, movedim/moveaxis, swapaxes/swapdims, unflatten, squeeze over a tuple.

PyTorch's documentation is the specification: the worked examples of each page are checked
value for value, NumPy (np.split, np.tile, np.repeat, np.flip, np.roll, np.moveaxis) is the
reference in the property tests, every op is gradchecked in float64 (``OPS`` table) and
checked to keep float32 float32, and the errors carry PyTorch's exception type and wording.
Every tensor lives on the ``device`` fixture's device (cpu and the CuPy stand-in).
"""
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import tinynn
from tinynn.autograd import gradcheck
from opcheck import check_op, make_inputs

# Hypothesis runs many examples inside one test that holds the per-test `device` fixture.
PROPERTY = settings(max_examples=25, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


def values(t):
    """A tensor's values as a NumPy array, from any device."""
    return t.detach().cpu().numpy()


def arange(n, device, shape=None, dtype=None):
    t = tinynn.arange(n, device=device) if dtype is None else tinynn.arange(n, dtype=dtype, device=device)
    return t.reshape(shape) if shape is not None else t


def assert_pieces(pieces, expected):
    assert isinstance(pieces, tuple)
    assert len(pieces) == len(expected)
    for piece, want in zip(pieces, expected):
        np.testing.assert_array_equal(values(piece), np.array(want))


# ============================================================================ split

def test_split_doc_example_int(device):
    a = arange(10, device, (5, 2))
    assert_pieces(tinynn.split(a, 2), [[[0, 1], [2, 3]], [[4, 5], [6, 7]], [[8, 9]]])


def test_split_doc_example_sections(device):
    a = arange(10, device, (5, 2))
    assert_pieces(tinynn.split(a, [1, 4]), [[[0, 1]], [[2, 3], [4, 5], [6, 7], [8, 9]]])


def test_split_method_1d(device):
    x = tinynn.tensor([1, 2, 3, 4, 5, 6, 7, 8], device=device)
    assert_pieces(x.split(3), [[1, 2, 3], [4, 5, 6], [7, 8]])
    assert_pieces(x.split([2, 4, 2]), [[1, 2], [3, 4, 5, 6], [7, 8]])
    assert_pieces(x.split((2, 4, 2)), [[1, 2], [3, 4, 5, 6], [7, 8]])


def test_split_along_dim(device):
    a = arange(12, device, (3, 4))
    assert_pieces(tinynn.split(a, 2, dim=1), [[[0, 1], [4, 5], [8, 9]], [[2, 3], [6, 7], [10, 11]]])
    assert_pieces(a.split(3, -1), [[[0, 1, 2], [4, 5, 6], [8, 9, 10]], [[3], [7], [11]]])
    assert_pieces(a.split([1, 0, 3], dim=-1),
                  [[[0], [4], [8]], np.zeros((3, 0)), [[1, 2, 3], [5, 6, 7], [9, 10, 11]]])


def test_split_size_larger_than_dim_gives_one_piece(device):
    a = arange(6, device, (2, 3))
    pieces = a.split(5, dim=1)
    assert len(pieces) == 1
    np.testing.assert_array_equal(values(pieces[0]), values(a))


def test_split_sizes_must_sum_to_dim_size(device):
    x = tinynn.zeros(4, 8, 6, device=device)
    with pytest.raises(RuntimeError, match=re.escape(
            "split_with_sizes expects split_sizes to sum exactly to 8 (input tensor's size at "
            "dimension 1), but got split_sizes=[2, 1, 3]")):
        tinynn.split(x, [2, 1, 3], dim=1)


def test_split_errors(device):
    x = tinynn.zeros(4, 3, device=device)
    with pytest.raises(RuntimeError, match="split_size.*non-negative.*-1"):
        x.split(-1)
    with pytest.raises(RuntimeError, match="split_size can only be 0 if dimension size is 0"):
        x.split(0)
    with pytest.raises(IndexError, match="Dimension out of range"):
        x.split(2, dim=2)


def test_split_pieces_get_their_gradients(device):
    x = tinynn.tensor(np.arange(6.0), device=device, requires_grad=True)
    a, b, c = x.split([1, 2, 3])
    (a * 1 + b.sum() * 10 + (c * 100).sum()).backward()
    np.testing.assert_array_equal(values(x.grad), [1, 10, 10, 100, 100, 100])


def test_split_unused_piece_gets_zero_gradient(device):
    x = tinynn.tensor(np.arange(6.0), device=device, requires_grad=True)
    first, _ = x.split(3)
    (first * 2).sum().backward()
    np.testing.assert_array_equal(values(x.grad), [2, 2, 2, 0, 0, 0])


# ============================================================================ chunk

@pytest.mark.parametrize("n, expected", [
    (11, [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9], [10]]),
    (12, [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9], [10, 11]]),
    (13, [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9, 10, 11], [12]]),  # fewer than 6 chunks
])
def test_chunk_doc_examples(device, n, expected):
    assert_pieces(arange(n, device).chunk(6), expected)
    assert_pieces(tinynn.chunk(arange(n, device), 6), expected)


def test_chunk_more_chunks_than_elements(device):
    assert_pieces(arange(3, device).chunk(5), [[0], [1], [2]])


def test_chunk_along_dim(device):
    a = arange(12, device, (2, 6))
    assert_pieces(tinynn.chunk(a, 3, dim=1), [[[0, 1], [6, 7]], [[2, 3], [8, 9]], [[4, 5], [10, 11]]])
    assert_pieces(a.chunk(2, -2), [[[0, 1, 2, 3, 4, 5]], [[6, 7, 8, 9, 10, 11]]])


def test_chunk_needs_positive_chunks(device):
    with pytest.raises(RuntimeError, match="chunk expects `chunks` to be greater than 0, got: 0"):
        arange(4, device).chunk(0)


# ============================================================================ unbind

def test_unbind_doc_example(device):
    x = tinynn.tensor([[1, 2, 3], [4, 5, 6], [7, 8, 9]], device=device)
    assert_pieces(tinynn.unbind(x), [[1, 2, 3], [4, 5, 6], [7, 8, 9]])
    assert_pieces(x.unbind(1), [[1, 4, 7], [2, 5, 8], [3, 6, 9]])
    assert_pieces(x.unbind(dim=-1), [[1, 4, 7], [2, 5, 8], [3, 6, 9]])


def test_unbind_1d_gives_0d_tensors(device):
    pieces = tinynn.tensor([1.5, 2.5], device=device).unbind()
    assert [p.shape for p in pieces] == [(), ()]
    assert [p.item() for p in pieces] == [1.5, 2.5]


def test_unbind_gradient(device):
    x = tinynn.tensor(np.arange(6.0).reshape(2, 3), device=device, requires_grad=True)
    a, b, c = x.unbind(1)
    (a.sum() + 2 * b.sum()).backward()  # c unused: zero gradient there
    np.testing.assert_array_equal(values(x.grad), [[1, 2, 0], [1, 2, 0]])


def test_unbind_0d_is_an_error(device):
    with pytest.raises(IndexError, match="Dimension specified as 0 but tensor has no dimensions"):
        tinynn.tensor(1.0, device=device).unbind()


# ============================================================================ repeat

def test_repeat_doc_example(device):
    x = tinynn.tensor([1, 2, 3], device=device)
    np.testing.assert_array_equal(values(x.repeat(4, 2)), [[1, 2, 3, 1, 2, 3]] * 4)
    assert x.repeat(4, 2, 1).size() == (4, 2, 3)
    assert x.repeat((4, 2, 1)).shape == (4, 2, 3)
    assert tinynn.repeat(x, [4, 2]).shape == (4, 6)


def test_repeat_2d(device):
    a = tinynn.tensor([[1, 3], [2, 4]], device=device)
    np.testing.assert_array_equal(values(a.repeat(3, 2)), np.tile([[1, 3], [2, 4]], (3, 2)))
    assert a.repeat(2, 1, 3).shape == (2, 2, 6)
    assert a.repeat(0, 1).shape == (0, 2)


def test_repeat_fewer_sizes_than_dims_is_an_error(device):
    with pytest.raises(RuntimeError, match="Number of dimensions of repeat dims can not be smaller "
                                           "than number of dimensions of tensor"):
        tinynn.zeros(2, 3, device=device).repeat(2)


def test_repeat_negative_is_an_error(device):
    with pytest.raises(RuntimeError, match="negative"):
        tinynn.zeros(2, 3, device=device).repeat(2, -1)


def test_repeat_gradient_sums_copies(device):
    x = tinynn.tensor([1.0, 2.0], device=device, requires_grad=True)
    y = x.repeat(3, 2)  # (3, 4): every element appears 6 times
    (y * tinynn.arange(12.0, device=device).reshape(3, 4)).sum().backward()
    # element 0 sits at columns 0 and 2 of every row: 0+2+4+6+8+10 = 30; element 1: 36
    np.testing.assert_array_equal(values(x.grad), [30, 36])


# ============================================================================ repeat_interleave

def test_repeat_interleave_doc_examples(device):
    x = tinynn.tensor([1, 2, 3], device=device)
    np.testing.assert_array_equal(values(x.repeat_interleave(2)), [1, 1, 2, 2, 3, 3])
    y = tinynn.tensor([[1, 2], [3, 4]], device=device)
    np.testing.assert_array_equal(values(tinynn.repeat_interleave(y, 2)), [1, 1, 2, 2, 3, 3, 4, 4])
    np.testing.assert_array_equal(values(tinynn.repeat_interleave(y, 3, dim=1)),
                                  [[1, 1, 1, 2, 2, 2], [3, 3, 3, 4, 4, 4]])
    reps = tinynn.tensor([1, 2], device=device)
    np.testing.assert_array_equal(values(tinynn.repeat_interleave(y, reps, dim=0)), [[1, 2], [3, 4], [3, 4]])
    np.testing.assert_array_equal(values(tinynn.repeat_interleave(y, reps, dim=0, output_size=3)),
                                  [[1, 2], [3, 4], [3, 4]])


def test_repeat_interleave_repeats_only(device):
    # torch.repeat_interleave(repeats): index i appears repeats[i] times
    out = tinynn.repeat_interleave(tinynn.tensor([7, 4, 2], device=device))
    np.testing.assert_array_equal(values(out), [0] * 7 + [1] * 4 + [2] * 2)
    assert out.dtype == tinynn.int64


def test_repeat_interleave_negative_dim_and_zero_repeats(device):
    y = tinynn.tensor([[1, 2, 3], [4, 5, 6]], device=device)
    out = y.repeat_interleave(tinynn.tensor([0, 2, 1], device=device), dim=-1)
    np.testing.assert_array_equal(values(out), [[2, 2, 3], [5, 5, 6]])


def test_repeat_interleave_errors(device):
    y = tinynn.zeros(2, 3, device=device)
    with pytest.raises(RuntimeError, match="repeats must have the same size as input along dim"):
        y.repeat_interleave(tinynn.tensor([1, 2, 3], device=device), dim=0)
    with pytest.raises(RuntimeError, match="repeats can not be negative"):
        y.repeat_interleave(tinynn.tensor([1, -1], device=device), dim=0)
    with pytest.raises(RuntimeError, match="repeats can not be negative"):
        y.repeat_interleave(-2)
    with pytest.raises(RuntimeError, match="output_size"):
        y.repeat_interleave(tinynn.tensor([1, 2], device=device), dim=0, output_size=4)


def test_repeat_interleave_gradient(device):
    x = tinynn.tensor([1.0, 2.0, 3.0], device=device, requires_grad=True)
    y = x.repeat_interleave(tinynn.tensor([2, 0, 3], device=device))
    (y * tinynn.tensor([1.0, 10.0, 100.0, 1000.0, 10000.0], device=device)).sum().backward()
    np.testing.assert_array_equal(values(x.grad), [11, 0, 11100])


# ============================================================================ tile

def test_tile_doc_examples(device):
    x = tinynn.tensor([1, 2, 3], device=device)
    np.testing.assert_array_equal(values(x.tile((2,))), [1, 2, 3, 1, 2, 3])
    y = tinynn.tensor([[1, 2], [3, 4]], device=device)
    np.testing.assert_array_equal(values(tinynn.tile(y, (2, 2))),
                                  [[1, 2, 1, 2], [3, 4, 3, 4], [1, 2, 1, 2], [3, 4, 3, 4]])


def test_tile_pads_dims_or_input_with_ones(device):
    assert tinynn.zeros(8, 6, 4, 2, device=device).tile((2, 2)).shape == (8, 6, 8, 4)
    assert tinynn.zeros(4, 2, device=device).tile((3, 3, 2, 2)).shape == (3, 3, 8, 4)
    assert tinynn.zeros(4, 2, device=device).tile(2, 1).shape == (8, 2)  # varargs, like repeat
    assert tinynn.tile(tinynn.zeros(4, 2, device=device), dims=(2,)).shape == (4, 4)


# ============================================================================ flip

def test_flip_doc_example(device):
    x = arange(8, device, (2, 2, 2))
    np.testing.assert_array_equal(values(tinynn.flip(x, [0, 1])), [[[6, 7], [4, 5]], [[2, 3], [0, 1]]])
    np.testing.assert_array_equal(values(x.flip(0, 1)), [[[6, 7], [4, 5]], [[2, 3], [0, 1]]])
    np.testing.assert_array_equal(values(x.flip((-1,))), np.flip(np.arange(8).reshape(2, 2, 2), -1))
    np.testing.assert_array_equal(values(tinynn.flip(x, dims=(0, 1))), values(x.flip(0, 1)))


def test_flip_returns_a_copy(device):
    x = tinynn.tensor([1.0, 2.0, 3.0], device=device)
    y = x.flip(0)
    x[0] = 10.0
    np.testing.assert_array_equal(values(y), [3, 2, 1])


def test_flip_errors(device):
    x = tinynn.zeros(2, 3, device=device)
    with pytest.raises(RuntimeError, match="dim 0 appears multiple times in the list of dims"):
        x.flip([0, -2])
    with pytest.raises(IndexError, match="Dimension out of range"):
        x.flip(2)


# ============================================================================ roll

def test_roll_doc_examples(device):
    x = tinynn.tensor([1, 2, 3, 4, 5, 6, 7, 8], device=device).view(4, 2)
    np.testing.assert_array_equal(values(tinynn.roll(x, 1)), [[8, 1], [2, 3], [4, 5], [6, 7]])
    np.testing.assert_array_equal(values(tinynn.roll(x, 1, 0)), [[7, 8], [1, 2], [3, 4], [5, 6]])
    np.testing.assert_array_equal(values(tinynn.roll(x, -1, 0)), [[3, 4], [5, 6], [7, 8], [1, 2]])
    np.testing.assert_array_equal(values(tinynn.roll(x, shifts=(2, 1), dims=(0, 1))),
                                  [[6, 5], [8, 7], [2, 1], [4, 3]])
    np.testing.assert_array_equal(values(x.roll(5, dims=-2)), values(x.roll(1, 0)))  # shift mod size


def test_roll_shifts_and_dims_must_align(device):
    x = tinynn.zeros(2, 3, device=device)
    with pytest.raises(RuntimeError, match="shifts and dimensions must align"):
        x.roll((1, 2), (0,))
    with pytest.raises(RuntimeError, match="shifts and dimensions must align"):
        x.roll((1, 2))


# ============================================================================ narrow

def test_narrow_doc_examples(device):
    x = tinynn.tensor([[1, 2, 3], [4, 5, 6], [7, 8, 9]], device=device)
    np.testing.assert_array_equal(values(tinynn.narrow(x, 0, 0, 2)), [[1, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(values(tinynn.narrow(x, 1, 1, 2)), [[2, 3], [5, 6], [8, 9]])
    np.testing.assert_array_equal(values(tinynn.narrow(x, -1, tinynn.tensor(-1), 1)), [[3], [6], [9]])
    np.testing.assert_array_equal(values(x.narrow(0, -2, 2)), [[4, 5, 6], [7, 8, 9]])
    assert x.narrow(1, 3, 0).shape == (3, 0)


def test_narrow_errors(device):
    x = tinynn.zeros(3, 3, device=device)
    with pytest.raises(IndexError, match=re.escape("start out of range (expected to be in range of "
                                                   "[-3, 3], but got 4)")):
        x.narrow(0, 4, 1)
    with pytest.raises(RuntimeError, match=re.escape("start (1) + length (3) exceeds dimension size (3).")):
        x.narrow(0, 1, 3)
    with pytest.raises(RuntimeError, match="narrow\\(\\): length must be non-negative"):
        x.narrow(0, 0, -1)
    with pytest.raises(RuntimeError, match="narrow\\(\\) cannot be applied to a 0-dim tensor"):
        tinynn.tensor(1.0, device=device).narrow(0, 0, 1)


def test_narrow_gradient(device):
    x = tinynn.tensor(np.arange(5.0), device=device, requires_grad=True)
    (x.narrow(0, -3, 2) * tinynn.tensor([2.0, 3.0], device=device)).sum().backward()
    np.testing.assert_array_equal(values(x.grad), [0, 0, 2, 3, 0])


# ============================================================================ movedim / moveaxis

def test_movedim_doc_examples(device):
    t = tinynn.randn(3, 2, 1, device=device)
    ref = values(t)
    assert tinynn.movedim(t, 1, 0).shape == (2, 3, 1)
    np.testing.assert_array_equal(values(tinynn.movedim(t, 1, 0)), np.moveaxis(ref, 1, 0))
    assert tinynn.movedim(t, (1, 2), (0, 1)).shape == (2, 1, 3)
    np.testing.assert_array_equal(values(tinynn.movedim(t, (1, 2), (0, 1))), np.moveaxis(ref, (1, 2), (0, 1)))
    np.testing.assert_array_equal(values(tinynn.moveaxis(t, (1, 2), (0, 1))), np.moveaxis(ref, (1, 2), (0, 1)))
    np.testing.assert_array_equal(values(t.movedim(-1, 0)), np.moveaxis(ref, -1, 0))
    np.testing.assert_array_equal(values(t.moveaxis([0, 1], [-1, -2])), np.moveaxis(ref, [0, 1], [-1, -2]))


def test_movedim_errors(device):
    t = tinynn.zeros(3, 2, 1, device=device)
    with pytest.raises(RuntimeError, match="movedim: Invalid source or destination dims"):
        t.movedim((0, 1), (2,))
    with pytest.raises(RuntimeError, match="movedim: repeated dim in `source`"):
        t.movedim((0, 0), (1, 2))
    with pytest.raises(RuntimeError, match="movedim: repeated dim in `destination`"):
        t.movedim((0, 1), (2, -1))
    with pytest.raises(IndexError, match="Dimension out of range"):
        t.movedim(3, 0)


# ============================================================================ swapaxes / swapdims

def test_swapdims_doc_examples(device):
    x = tinynn.tensor([[[0, 1], [2, 3]], [[4, 5], [6, 7]]], device=device)
    expected01 = [[[0, 1], [4, 5]], [[2, 3], [6, 7]]]
    expected02 = [[[0, 4], [2, 6]], [[1, 5], [3, 7]]]
    np.testing.assert_array_equal(values(tinynn.swapdims(x, 0, 1)), expected01)
    np.testing.assert_array_equal(values(tinynn.swapdims(x, 0, 2)), expected02)
    np.testing.assert_array_equal(values(tinynn.swapaxes(x, 0, 1)), expected01)
    np.testing.assert_array_equal(values(tinynn.swapaxes(x, axis0=0, axis1=2)), expected02)
    np.testing.assert_array_equal(values(x.swapaxes(-3, -1)), expected02)
    np.testing.assert_array_equal(values(x.swapdims(dim0=1, dim1=0)), expected01)


# ============================================================================ unflatten

def test_unflatten_doc_examples(device):
    assert tinynn.unflatten(tinynn.randn(3, 4, 1, device=device), 1, (2, 2)).shape == (3, 2, 2, 1)
    assert tinynn.unflatten(tinynn.randn(3, 4, 1, device=device), 1, (-1, 2)).shape == (3, 2, 2, 1)
    assert tinynn.unflatten(tinynn.randn(5, 12, 3, device=device), -2, (2, 2, 3, 1, 1)).shape == \
        (5, 2, 2, 3, 1, 1, 3)
    x = arange(24, device, (2, 12))
    np.testing.assert_array_equal(values(x.unflatten(1, [3, -1])), np.arange(24).reshape(2, 3, 4))
    np.testing.assert_array_equal(values(x.unflatten(-1, (12,))), np.arange(24).reshape(2, 12))


def test_unflatten_errors(device):
    x = tinynn.zeros(3, 4, device=device)
    with pytest.raises(RuntimeError, match=re.escape("unflatten: Provided sizes [2, 3] don't multiply "
                                                     "up to the size of dim 1 (4) in the input tensor")):
        x.unflatten(1, (2, 3))
    with pytest.raises(RuntimeError, match="only one dimension can be inferred"):
        x.unflatten(1, (-1, -1))
    with pytest.raises(RuntimeError, match="unflatten: sizes must be non-empty"):
        x.unflatten(1, ())
    with pytest.raises(IndexError, match="Dimension out of range"):
        x.unflatten(2, (2, 2))


# ============================================================================ squeeze over a tuple

def test_squeeze_tuple_of_dims(device):
    x = tinynn.zeros(2, 1, 2, 1, 1, device=device)
    assert x.squeeze((1, 3)).shape == (2, 2, 1)
    assert tinynn.squeeze(x, (1, -1)).shape == (2, 2, 1)
    assert x.squeeze((0, 1)).shape == (2, 2, 1, 1)  # a dim that is not 1 is left alone
    assert x.squeeze(dim=(1, 3, 4)).shape == (2, 2)


def test_squeeze_tuple_gradient(device):
    x = tinynn.tensor(np.arange(4.0).reshape(2, 1, 2, 1), device=device, requires_grad=True)
    (x.squeeze((1, 3)) * tinynn.tensor([[1.0, 2.0], [3.0, 4.0]], device=device)).sum().backward()
    assert x.grad.shape == (2, 1, 2, 1)
    np.testing.assert_array_equal(values(x.grad).ravel(), [1, 2, 3, 4])


# ============================================================================ gradcheck table

def _weighted_cat(pieces):
    """One tensor from a tuple of pieces, each scaled differently, so that a piece whose
    gradient went to the wrong place shows up in the check."""
    return tinynn.cat([p.reshape(-1) * (i + 1) for i, p in enumerate(pieces)])


# (id, fn, input shapes, domain)
OPS = [
    ("split_int", lambda a: _weighted_cat(a.split(2)), [(5, 3)], "normal"),
    ("split_int_dim", lambda a: _weighted_cat(tinynn.split(a, 2, dim=-1)), [(2, 3, 5)], "normal"),
    ("split_sections", lambda a: _weighted_cat(a.split([1, 3, 0, 1], 1)), [(3, 5)], "normal"),
    ("split_one_piece_used", lambda a: a.split(2)[1] * 3, [(5, 2)], "normal"),
    ("chunk", lambda a: _weighted_cat(a.chunk(3)), [(7, 2)], "normal"),
    ("chunk_dim", lambda a: _weighted_cat(tinynn.chunk(a, 2, dim=1)), [(2, 5)], "normal"),
    ("unbind", lambda a: _weighted_cat(a.unbind()), [(3, 4)], "normal"),
    ("unbind_dim", lambda a: _weighted_cat(tinynn.unbind(a, -1)), [(2, 3, 4)], "normal"),
    ("repeat", lambda a: a.repeat(2, 3), [(2, 3)], "normal"),
    ("repeat_leading", lambda a: tinynn.repeat(a, (2, 1, 3)), [(3, 2)], "normal"),
    ("repeat_zero", lambda a: a.repeat(0, 2) * 1, [(2, 3)], "normal"),
    ("repeat_interleave_int", lambda a: a.repeat_interleave(3), [(2, 3)], "normal"),
    ("repeat_interleave_dim", lambda a: tinynn.repeat_interleave(a, 2, dim=1), [(2, 3)], "normal"),
    ("repeat_interleave_tensor", lambda a: a.repeat_interleave(
        tinynn.tensor([2, 0, 3], device=a.device), dim=0), [(3, 2)], "normal"),
    ("tile", lambda a: a.tile((2, 2)), [(2, 3)], "normal"),
    ("tile_fewer_dims", lambda a: tinynn.tile(a, (3,)), [(2, 2)], "normal"),
    ("tile_more_dims", lambda a: a.tile((2, 1, 2)), [(2, 3)], "normal"),
    ("flip", lambda a: a.flip(0), [(3, 4)], "normal"),
    ("flip_dims", lambda a: tinynn.flip(a, (0, -1)), [(2, 3, 4)], "normal"),
    ("roll_flat", lambda a: a.roll(2), [(3, 4)], "normal"),
    ("roll_dim", lambda a: tinynn.roll(a, -1, 1), [(3, 4)], "normal"),
    ("roll_dims", lambda a: a.roll((1, 5), (0, -1)), [(3, 4)], "normal"),
    ("narrow", lambda a: a.narrow(1, 1, 2), [(3, 4)], "normal"),
    ("narrow_negative", lambda a: tinynn.narrow(a, 0, -2, 2), [(3, 4)], "normal"),
    ("movedim", lambda a: a.movedim(0, -1), [(2, 3, 4)], "normal"),
    ("movedim_tuple", lambda a: tinynn.movedim(a, (1, 2), (0, 1)), [(2, 3, 4)], "normal"),
    ("moveaxis", lambda a: tinynn.moveaxis(a, -1, 0), [(2, 3, 4)], "normal"),
    ("swapaxes", lambda a: a.swapaxes(0, 2), [(2, 3, 4)], "normal"),
    ("swapdims", lambda a: tinynn.swapdims(a, -1, 1), [(2, 3, 4)], "normal"),
    ("unflatten", lambda a: a.unflatten(1, (2, -1)), [(3, 4)], "normal"),
    ("unflatten_neg", lambda a: tinynn.unflatten(a, -1, (2, 2, 1)), [(3, 4)], "normal"),
    ("squeeze_tuple", lambda a: a.squeeze((1, 3)), [(2, 1, 3, 1)], "normal"),
]


@pytest.mark.parametrize("name, fn, shapes, domain", OPS, ids=[entry[0] for entry in OPS])
def test_gradcheck(name, fn, shapes, domain, device):
    check_op(fn, shapes, domain, device)


# ============================================================================ properties

def shape_and_dim(min_dims=1, max_dims=3, max_side=5):
    """A shape and a (possibly negative) dim of it."""
    return st.lists(st.integers(1, max_side), min_size=min_dims, max_size=max_dims).flatmap(
        lambda shape: st.tuples(st.just(tuple(shape)), st.integers(-len(shape), len(shape) - 1)))


@PROPERTY
@given(shape_dim=shape_and_dim(), split_size=st.integers(1, 6))
def test_property_split_int(device, shape_dim, split_size):
    shape, dim = shape_dim
    x = make_inputs([shape], "normal", np.float64, device=device)[0]
    pieces = x.split(split_size, dim)
    n = shape[dim]
    assert len(pieces) == -(-n // split_size)
    assert all(p.shape[dim] == split_size for p in pieces[:-1])
    assert 1 <= pieces[-1].shape[dim] <= split_size
    np.testing.assert_array_equal(values(tinynn.cat(pieces, dim)), values(x))
    assert gradcheck(lambda t: t.split(split_size, dim), [x])


@PROPERTY
@given(shape_dim=shape_and_dim(), data=st.data())
def test_property_split_sections(device, shape_dim, data):
    shape, dim = shape_dim
    n = shape[dim]
    cuts = sorted(data.draw(st.lists(st.integers(0, n), max_size=3)))
    sizes = [b - a for a, b in zip([0] + cuts, cuts + [n])]
    x = make_inputs([shape], "normal", np.float64, device=device)[0]
    pieces = tinynn.split(x, sizes, dim=dim)
    expected = np.split(values(x), cuts, axis=dim)
    assert len(pieces) == len(expected)
    for piece, want in zip(pieces, expected):
        np.testing.assert_array_equal(values(piece), want)


@PROPERTY
@given(shape_dim=shape_and_dim(max_side=9), chunks=st.integers(1, 10))
def test_property_chunk_counts(device, shape_dim, chunks):
    """chunk uses pieces of ceil(n / chunks): possibly fewer than `chunks` of them."""
    shape, dim = shape_dim
    x = make_inputs([shape], "normal", np.float64, device=device)[0]
    pieces = x.chunk(chunks, dim)
    n = shape[dim]
    size = -(-n // chunks)
    assert len(pieces) == -(-n // size) <= chunks
    assert [p.shape[dim] for p in pieces[:-1]] == [size] * (len(pieces) - 1)
    np.testing.assert_array_equal(values(tinynn.cat(pieces, dim)), values(x))


@PROPERTY
@given(shape_dim=shape_and_dim())
def test_property_unbind_stack_roundtrip(device, shape_dim):
    shape, dim = shape_dim
    x = make_inputs([shape], "normal", np.float64, device=device)[0]
    pieces = x.unbind(dim)
    assert len(pieces) == shape[dim]
    ref = values(x)
    for i, p in enumerate(pieces):
        np.testing.assert_array_equal(values(p), np.take(ref, i, axis=dim))
    np.testing.assert_array_equal(values(tinynn.stack(pieces, dim)), ref)


@PROPERTY
@given(shape=st.lists(st.integers(1, 3), min_size=0, max_size=3),
       reps=st.lists(st.integers(0, 3), min_size=0, max_size=4))
def test_property_repeat_and_tile_match_numpy_tile(device, shape, reps):
    x = make_inputs([tuple(shape)], "normal", np.float64, device=device)[0]
    np.testing.assert_array_equal(values(x.tile(tuple(reps))), np.tile(values(x), reps))
    if len(reps) >= len(shape):
        np.testing.assert_array_equal(values(x.repeat(*reps) if reps else x.repeat(())),
                                      np.tile(values(x), reps))


@PROPERTY
@given(shape_dim=shape_and_dim(max_side=4), data=st.data())
def test_property_repeat_interleave_matches_numpy_repeat(device, shape_dim, data):
    shape, dim = shape_dim
    x = make_inputs([shape], "normal", np.float64, device=device)[0]
    if data.draw(st.booleans()):
        reps = data.draw(st.integers(0, 3))
        repeats = reps
    else:
        reps = data.draw(st.lists(st.integers(0, 3), min_size=shape[dim], max_size=shape[dim]))
        repeats = tinynn.tensor(reps, device=device)
    flat = data.draw(st.booleans()) and isinstance(repeats, int)
    out = x.repeat_interleave(repeats) if flat else x.repeat_interleave(repeats, dim=dim)
    expected = np.repeat(values(x), reps) if flat else np.repeat(values(x), reps, axis=dim)
    np.testing.assert_array_equal(values(out), expected)


@PROPERTY
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3), data=st.data())
def test_property_flip_roll_match_numpy(device, shape, data):
    ndim = len(shape)
    dims = data.draw(st.lists(st.integers(-ndim, ndim - 1), min_size=1, max_size=ndim,
                              unique_by=lambda d: d % ndim))
    shifts = data.draw(st.lists(st.integers(-7, 7), min_size=len(dims), max_size=len(dims)))
    x = make_inputs([tuple(shape)], "normal", np.float64, device=device)[0]
    ref = values(x)
    np.testing.assert_array_equal(values(x.flip(dims)), np.flip(ref, dims))
    np.testing.assert_array_equal(values(x.roll(shifts, dims)), np.roll(ref, shifts, dims))
    np.testing.assert_array_equal(values(x.roll(shifts[0])), np.roll(ref, shifts[0]))
    assert gradcheck(lambda t: t.roll(shifts, dims).flip(dims), [x])


@PROPERTY
@given(shape=st.lists(st.integers(1, 3), min_size=1, max_size=4), data=st.data())
def test_property_movedim_matches_numpy(device, shape, data):
    ndim = len(shape)
    count = data.draw(st.integers(1, ndim))
    unique = dict(unique_by=lambda d: d % ndim)
    source = data.draw(st.lists(st.integers(-ndim, ndim - 1), min_size=count, max_size=count, **unique))
    destination = data.draw(st.lists(st.integers(-ndim, ndim - 1), min_size=count, max_size=count, **unique))
    x = make_inputs([tuple(shape)], "normal", np.float64, device=device)[0]
    out = x.movedim(tuple(source), tuple(destination))
    np.testing.assert_array_equal(values(out), np.moveaxis(values(x), source, destination))
    assert gradcheck(lambda t: t.movedim(tuple(source), tuple(destination)), [x])


@PROPERTY
@given(shape_dim=shape_and_dim(), data=st.data())
def test_property_narrow_matches_slicing(device, shape_dim, data):
    shape, dim = shape_dim
    n = shape[dim]
    start = data.draw(st.integers(-n, n))
    begin = start + n if start < 0 else start
    length = data.draw(st.integers(0, n - begin))
    x = make_inputs([shape], "normal", np.float64, device=device)[0]
    index = [slice(None)] * len(shape)
    index[dim] = slice(begin, begin + length)
    np.testing.assert_array_equal(values(x.narrow(dim, start, length)), values(x)[tuple(index)])


@PROPERTY
@given(shape_dim=shape_and_dim(max_side=12), data=st.data())
def test_property_unflatten_flatten_roundtrip(device, shape_dim, data):
    shape, dim = shape_dim
    n = shape[dim]
    first = data.draw(st.sampled_from([d for d in range(1, n + 1) if n % d == 0]))
    sizes = [first, n // first]
    if data.draw(st.booleans()):
        sizes[data.draw(st.integers(0, 1))] = -1
    x = make_inputs([shape], "normal", np.float64, device=device)[0]
    out = x.unflatten(dim, sizes)
    axis = dim % len(shape)
    assert out.shape == shape[:axis] + (first, n // first) + shape[axis + 1:]
    np.testing.assert_array_equal(values(out.flatten(axis, axis + 1)), values(x))


# ============================================================================ no hidden copies of the graph

def test_float32_pieces_and_gradients_stay_float32(device):
    x = tinynn.randn(4, 6, device=device, requires_grad=True)
    outs = [*x.split(4, 1), *x.chunk(3), *x.unbind(1), x.repeat(2, 1), x.repeat_interleave(2, 0),
            x.tile((2,)), x.flip(0), x.roll(1, 1), x.narrow(1, 2, 3), x.movedim(0, 1), x.swapaxes(0, 1),
            x.unflatten(1, (2, 3))]
    assert all(o.dtype == tinynn.float32 for o in outs)
    sum(o.sum() for o in outs).backward()
    assert x.grad.dtype == tinynn.float32 and x.grad.device == x.device
