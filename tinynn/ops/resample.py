"""Resampling along axes: ``interpolate`` (nearest, linear, area) and ``pad``.

The one idea: every mode here is *separable*. Along one spatial axis, output position j
reads a few input positions ("taps") of the same axis, each with a weight:

    out[..., j, ...] = sum over taps t of  w_t[j] * x[..., i_t[j], ...]

    nearest       1 tap:  i[j] = min(floor(j * scale), in - 1), weight 1
    linear        2 taps: the two neighbours of the source coordinate, weights 1-l and l
    area          up to ceil(in/out)+1 taps: the window [floor(j*in/out), ceil((j+1)*in/out))
                  with weights 1/len (taps past the window's end carry weight 0)
    pad reflect/replicate/circular
                  1 tap:  the input position each padded position copies

A 2-D (bilinear, area) resampling is the 1-D one along H, then along W; the tap tables
are small (a few entries per output row or column) and computed once per call on the host.

Forward is a gather per tap (``take`` along the axis). Its gradient is the transposed
gather: a scatter-add of ``grad * w_t`` back to the positions ``i_t``. Several output
positions may read the same input position (upsampling: every one of ``k`` neighbours),
so a plain ``gx[..., i] += g`` would lose all but one of them; instead the output
positions are split into groups in which no input position repeats (the r-th reader of
each input position goes into group r) and each group is one vectorised ``+=``. The
number of groups is the largest number of readers of one input position (2 for a 2x
upsampling), like the kernel offsets of col2im, never a loop over pixels, never ``add.at``.
When every group splits into a few regular runs (integer scale factors, padding), the
runs become pairs of strided slices, used by forward (one strided copy per run instead of
``take``) and backward alike: nearest 2x upsampling's backward is two strided adds.

Constant padding is a Function of its own: forward writes x into a filled array, backward
slices the gradient back out.
"""
import math

import numpy

from .. import backend
from ..autograd import Function
from ..backend import get_array_module

__all__ = ["Resample", "ConstantPad", "interpolate", "pad"]


# ---------------------------------------------------------------------------- tap tables

def _runs(outputs, inputs, limit=8):
    """Cover the pairs (outputs[k], inputs[k]) with at most ``limit`` pairs of slices
    (both sides arithmetic progressions), or return None when more would be needed.

    Regular resamplings (a 2x upsampling, a reflection pad) split into a handful of
    strided slices, and a strided copy or add is several times faster than fancy indexing.
    """
    runs, k, n = [], 0, len(outputs)
    while k < n:
        end = k + 1
        if end < n:
            step_o, step_i = outputs[end] - outputs[k], inputs[end] - inputs[k]
            while end < n and outputs[end] - outputs[end - 1] == step_o and \
                    inputs[end] - inputs[end - 1] == step_i:
                end += 1
        else:
            step_o = step_i = 1
        runs.append((_slice(outputs[k], end - k, int(step_o)), _slice(inputs[k], end - k,
                                                                      int(step_i))))
        if len(runs) > limit:
            return None
        k = end
    return runs


def _slice(start, count, step):
    """The slice of ``count`` positions from ``start`` by ``step`` (which may be negative)."""
    start, last = int(start), int(start) + (count - 1) * step
    stop = last + step
    return slice(start, None if stop < 0 else stop, step)


def _reader_groups(index):
    """Split output positions j into groups in which ``index[j]`` never repeats.

    Returns [(outputs, inputs), ...]: the r-th group holds, for every input position read
    at least r+1 times, its r-th reader. Host (NumPy) arrays of small size.
    """
    order = numpy.argsort(index, kind="stable")
    ordered = index[order]
    starts = numpy.r_[True, ordered[1:] != ordered[:-1]]
    first = numpy.maximum.accumulate(numpy.where(starts, numpy.arange(len(index)), 0))
    rank = numpy.empty(len(index), dtype=numpy.int64)
    rank[order] = numpy.arange(len(index)) - first
    groups = []
    for r in range(int(rank.max()) + 1 if len(index) else 0):
        outputs = numpy.nonzero(rank == r)[0]
        groups.append((outputs, index[outputs]))
    return groups


def _device_index(positions, device):
    return backend.to_device(numpy.ascontiguousarray(positions, dtype=numpy.int64), device)


def _step(axis, in_size, taps, ndim, dtype, device):
    """One axis's plan: (axis, in_size, out_size, [(index, weight, groups, sliced), ...]).

    ``taps`` are host pairs (index (out,), weight (out,) or None); the weights are reshaped
    to broadcast along ``axis`` of an ``ndim``-dim array and cast to ``dtype``. ``groups``
    are the reader groups, as pairs of slices when each splits into a few regular runs
    (``sliced``), else as index arrays on ``device``.
    """
    out_size = len(taps[0][0])
    shape = [1] * ndim
    shape[axis] = out_size
    plan = []
    for index, weight in taps:
        if weight is not None:
            weight = backend.to_device(weight.astype(dtype).reshape(shape), device)
        groups = _reader_groups(index)
        runs = [_runs(o, i) for o, i in groups]
        if all(r is not None for r in runs):
            plan.append((None, weight, tuple(pair for r in runs for pair in r), True))
        else:
            groups = tuple((_device_index(o, device), _device_index(i, device))
                           for o, i in groups)
            plan.append((_device_index(index, device), weight, groups, False))
    return axis, in_size, out_size, plan


def _along(axis, index):
    """An index tuple selecting ``index`` (array or slice) along ``axis``."""
    return (slice(None),) * axis + (index,)


class Resample(Function):
    """Separable resampling of x: for each step, along its axis, a weighted sum of taps.

    ``steps``: a tuple of (axis, in_size, out_size, taps) from ``_step``; each tap is
    (index, weight or None, reader groups, whether the groups are slices). The steps
    (small index tables) are what backward needs, so they are saved for backward and
    dropped after it.
    """

    backward_name = None

    def forward(self, x, *, steps, name="ResampleBackward0"):
        self.backward_name = name
        xp = get_array_module(x)
        out = x
        for axis, _, out_size, taps in steps:
            total = None
            for index, weight, groups, sliced in taps:
                if sliced:                  # the groups partition the outputs: copy run by run
                    shape = list(out.shape)
                    shape[axis] = out_size
                    picked = xp.empty(shape, dtype=out.dtype)
                    for outputs, inputs in groups:
                        picked[_along(axis, outputs)] = out[_along(axis, inputs)]
                else:
                    picked = xp.take(out, index, axis=axis)
                if weight is not None:
                    picked *= weight
                if total is None:
                    total = picked
                else:
                    total += picked
            out = total
        self.save_for_backward(steps)
        return out.copy() if out is x else out   # never hand out the input's own array

    def backward(self, grad):
        xp = get_array_module(grad)
        steps, = self.saved_arrays
        for axis, in_size, _, taps in reversed(steps):
            shape = list(grad.shape)
            shape[axis] = in_size
            gx = xp.zeros(shape, dtype=grad.dtype)
            for _, weight, groups, _ in taps:
                contribution = grad * weight if weight is not None else grad
                for outputs, inputs in groups:
                    # no input position repeats within a group: a plain += is exact
                    gx[_along(axis, inputs)] += contribution[_along(axis, outputs)]
            grad = gx
        return grad


class ConstantPad(Function):
    """Pad with a constant (or crop, for negative pads): ``out[inner] = x[kept]``.

    ``inner`` and ``kept`` are tuples of slices, one per dim; backward is ``grad[inner]``
    written into zeros of x's shape at ``kept``.
    """

    backward_name = "ConstantPadNdBackward0"

    def forward(self, x, *, out_shape, inner, kept, value):
        xp = get_array_module(x)
        self.in_shape, self.inner, self.kept = x.shape, inner, kept
        out = xp.full(out_shape, value, dtype=x.dtype)
        out[inner] = x[kept]
        return out

    def backward(self, grad):
        xp = get_array_module(grad)
        gx = xp.zeros(self.in_shape, dtype=grad.dtype)
        gx[self.kept] = grad[self.inner]
        return gx


# ---------------------------------------------------------------------------- interpolate

_LINEAR_MODES = {"linear": 3, "bilinear": 4, "trilinear": 5}


def _nearest_taps(in_size, out_size, scale, exact):
    """PyTorch's nearest index, computed in float32 as PyTorch does:
    floor(j * scale) ('nearest') or floor((j + 0.5) * scale) ('nearest-exact'),
    clamped to in - 1; scale = 1/scale_factor when one was given, else in/out."""
    scale = numpy.float32(1.0 / scale) if scale else numpy.float32(in_size) / numpy.float32(out_size)
    j = numpy.arange(out_size, dtype=numpy.float32)
    if exact:
        j = j + numpy.float32(0.5)
    index = numpy.minimum(numpy.floor(j * scale).astype(numpy.int64), in_size - 1)
    return [(index, None)]


def _linear_taps(in_size, out_size, scale, align_corners):
    """The two neighbours of each output position's source coordinate and their weights.

    align_corners=True:  src = j * (in - 1) / (out - 1)  (corners map onto corners)
    align_corners=False: src = (j + 0.5) * scale - 0.5, clamped at 0 (pixel centres),
                         scale = 1/scale_factor when one was given, else in/out
    """
    j = numpy.arange(out_size, dtype=numpy.float64)
    if align_corners:
        ratio = (in_size - 1) / (out_size - 1) if out_size > 1 else 0.0
        src = j * ratio
    else:
        ratio = 1.0 / scale if scale else in_size / out_size
        src = numpy.maximum((j + 0.5) * ratio - 0.5, 0.0)
    i0 = numpy.minimum(numpy.floor(src).astype(numpy.int64), in_size - 1)
    i1 = numpy.minimum(i0 + 1, in_size - 1)
    lam = src - i0
    if not lam.any():          # every sample falls on an input position: one tap
        return [(i0, None)]
    return [(i0, 1.0 - lam), (i1, lam)]


def _area_taps(in_size, out_size):
    """Adaptive average pooling along one axis: output j averages the input window
    [floor(j * in / out), ceil((j + 1) * in / out))."""
    j = numpy.arange(out_size)
    start = (j * in_size) // out_size
    end = -((-(j + 1) * in_size) // out_size)
    length = end - start
    taps = []
    for t in range(int(length.max())):
        inside = t < length
        taps.append((numpy.minimum(start + t, end - 1), inside / length))
    return taps


def _spatial_sizes(input, size, scale_factor, recompute_scale_factor, mode):
    """PyTorch's rules for turning ``size`` or ``scale_factor`` into output sizes; returns
    (output sizes, scale factors to use in the index maths or None per axis)."""
    dims = input.ndim - 2
    spatial = list(input.shape[2:])
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        if isinstance(size, (list, tuple)):
            if len(size) != dims:
                raise ValueError(f"Input and output must have the same number of spatial "
                                 f"dimensions, but got input with spatial dimensions of "
                                 f"{spatial} and output size of {size}. Please provide input "
                                 f"tensor in (N, C, d1, d2, ...,dK) format and output size in "
                                 f"(o1, o2, ...,oK) format.")
            out_sizes = [int(s) for s in size]
        else:
            out_sizes = [int(size)] * dims
        scales = [None] * dims
    elif scale_factor is not None:
        if isinstance(scale_factor, (list, tuple)):
            if len(scale_factor) != dims:
                raise ValueError(f"Input and scale_factor must have the same number of spatial "
                                 f"dimensions, but got input with spatial dimensions of "
                                 f"{spatial} and scale_factor of shape {scale_factor}. Please "
                                 f"provide input tensor in (N, C, d1, d2, ...,dK) format and "
                                 f"scale_factor in (s1, s2, ...,sK) format.")
            scales = [float(s) for s in scale_factor]
        else:
            scales = [float(scale_factor)] * dims
        out_sizes = [math.floor(float(n) * s) for n, s in zip(spatial, scales)]
    else:
        raise ValueError("either size or scale_factor should be defined")
    if recompute_scale_factor and size is not None:
        raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    if recompute_scale_factor or mode == "area":
        scales = [None] * dims   # the index maths uses in/out
    if min(spatial, default=1) <= 0 or min(out_sizes, default=1) <= 0:
        raise RuntimeError(f"Input and output sizes should be greater than 0, but got input "
                           f"{tuple(spatial)} output {tuple(out_sizes)}")
    return out_sizes, scales


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize (N, C, L), (N, C, H, W) or (N, C, D, H, W) input, as
    ``torch.nn.functional.interpolate``.

    mode: 'nearest' (index floor(j * in/out), or floor(j / scale_factor) when a scale
    factor is given), 'nearest-exact', 'linear' (3-D), 'bilinear' (4-D), 'trilinear' (5-D),
    'area' (adaptive average pooling). align_corners (linear modes only): True maps the
    corner pixels' centres onto each other; False (the default) samples at
    (j + 0.5) * in/out - 0.5, clamped at 0. 'bicubic' and antialias=True are not
    implemented (NotImplementedError). Output sizes: ``size``, or floor(in * scale_factor).
    """
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating "
                             "modes: linear | bilinear | bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    out_sizes, scales = _spatial_sizes(input, size, scale_factor, recompute_scale_factor, mode)
    if antialias and not (mode in ("bilinear", "bicubic") and input.ndim == 4):
        raise ValueError("Anti-alias option is restricted to bilinear and bicubic modes and "
                         "requires a 4-D tensor as input")
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not implemented in tinynn")
    _check_mode_rank(input.ndim, mode)
    if mode not in ("nearest", "nearest-exact") and input.dtype.kind != "f":
        raise RuntimeError(f"interpolate: mode '{mode}' needs a floating-point input, got "
                           f"{input.dtype}")
    steps = []
    for k, (in_size, out_size, scale) in enumerate(zip(input.shape[2:], out_sizes, scales)):
        if mode in ("nearest", "nearest-exact"):
            taps = _nearest_taps(in_size, out_size, scale, mode == "nearest-exact")
        elif mode == "area":
            taps = _area_taps(in_size, out_size)
        else:
            taps = _linear_taps(in_size, out_size, scale, align_corners)
        if out_size == in_size and len(taps) == 1 and _is_identity(taps[0]):
            continue   # nothing to do along this axis
        steps.append(_step(k + 2, in_size, taps, input.ndim, input.dtype, input.device))
    names = {"nearest": "UpsampleNearest", "nearest-exact": "UpsampleNearestExact",
             "area": "AdaptiveAvgPool", "linear": "UpsampleLinear",
             "bilinear": "UpsampleBilinear", "trilinear": "UpsampleTrilinear"}
    name = f"{names[mode]}{input.ndim - 2}DBackward0" if mode != "area" else \
        f"AdaptiveAvgPool{input.ndim - 2}DBackward0"
    return Resample.apply(input, steps=tuple(steps), name=name)


def _is_identity(tap):
    index, weight = tap
    return weight is None and numpy.array_equal(index, numpy.arange(len(index)))


def _check_mode_rank(ndim, mode):
    if mode in _LINEAR_MODES and ndim in (3, 4, 5) and ndim != _LINEAR_MODES[mode]:
        needed = _LINEAR_MODES[mode]
        raise NotImplementedError(f"Got {ndim}D input, but {mode} mode needs {needed}D input")
    if mode == "bicubic":
        if ndim != 4:
            raise NotImplementedError(f"Got {ndim}D input, but bicubic mode needs 4D input")
        raise NotImplementedError("interpolate: mode 'bicubic' is not implemented in tinynn "
                                  "(use 'bilinear')")
    if mode == "area" and ndim == 5:
        raise NotImplementedError("interpolate: mode 'area' of 5-D input is not implemented in "
                                  "tinynn")
    known = ("nearest", "nearest-exact", "area") + tuple(_LINEAR_MODES)
    if ndim not in (3, 4, 5) or mode not in known:
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported "
                                  f"(got {ndim}D) for the modes: nearest | linear | bilinear | "
                                  f"bicubic | trilinear | area | nearest-exact (got {mode})")


# ---------------------------------------------------------------------------- pad

_PAD_MODES = ("constant", "reflect", "replicate", "circular")


def _source_positions(in_size, before, after, mode):
    """For each position of the padded axis (which starts ``before`` places before the
    input; negative pads crop), the input position it copies."""
    p = numpy.arange(-before, in_size + after)
    if mode == "reflect":
        p = numpy.abs(p)                                  # mirror at the first element
        return numpy.where(p > in_size - 1, 2 * (in_size - 1) - p, p)   # and at the last
    if mode == "replicate":
        return numpy.clip(p, 0, in_size - 1)
    return p % in_size                                    # circular


def pad(input, pad, mode="constant", value=None):
    """Pad (or, with negative amounts, crop) the last ``len(pad) // 2`` dims, as
    ``torch.nn.functional.pad``. ``pad`` lists the last dim first:
    (left, right), (left, right, top, bottom), (left, right, top, bottom, front, back).

    mode: 'constant' (fill with ``value``, default 0; any number of dims), 'reflect'
    (mirror without repeating the edge: pads must be smaller than the dim), 'replicate'
    (repeat the edge), 'circular' (wrap around: pads at most the dim). The non-constant
    modes pad the last 1, 2 or 3 dims of a 2-3, 3-4 or 4-5 dim input.
    """
    pad = [int(p) for p in pad]
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) > 2 * input.ndim:
        raise RuntimeError(f"Padding length should be less than or equal to two times the "
                           f"input dimension but got padding length {len(pad)} and input of "
                           f"dimension {input.ndim}")
    if mode not in _PAD_MODES:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    shape = tuple(input.shape)
    pairs = [(input.ndim - 1 - k, pad[2 * k], pad[2 * k + 1]) for k in range(len(pad) // 2)]
    for axis, before, after in pairs:
        if shape[axis] + before + after < 0:
            raise RuntimeError(f"The input size {shape[axis]}, plus negative padding {before} "
                               f"and {after} resulted in a negative output size, which is "
                               f"invalid. Check dimension {axis} of your input.")
    if mode == "constant":
        return _constant_pad(input, pairs, 0 if value is None else value)
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    if (len(pad), input.ndim) not in ((2, 2), (2, 3), (4, 3), (4, 4), (6, 4), (6, 5)):
        raise NotImplementedError("Only 2D, 3D, 4D, 5D padding with non-constant padding are "
                                  "supported for now")
    steps = []
    for axis, before, after in pairs:
        n = shape[axis]
        if mode == "reflect" and (before >= n or after >= n):
            raise RuntimeError(f"Argument #4: Padding size should be less than the "
                               f"corresponding input dimension, but got: padding ({before}, "
                               f"{after}) at dimension {axis} of input {list(shape)}")
        if mode == "circular" and (before > n or after > n):
            raise RuntimeError(f"Padding value causes wrapping around more than once "
                               f"(padding ({before}, {after}) at dimension {axis} of input "
                               f"{list(shape)}).")
        if mode == "replicate" and n == 0 and before + after > 0:
            raise RuntimeError(f"replicate padding of an empty dimension {axis} of input "
                               f"{list(shape)}")
        if before == after == 0:
            continue
        index = _source_positions(n, before, after, mode)
        steps.append(_step(axis, n, [(index, None)], input.ndim, input.dtype, input.device))
    names = {"reflect": "ReflectionPad", "replicate": "ReplicationPad", "circular": "CircularPad"}
    return Resample.apply(input, steps=tuple(steps),
                          name=f"{names[mode]}{len(pad) // 2}DBackward0")


def _constant_pad(input, pairs, value):
    out_shape, inner, kept = list(input.shape), [slice(None)] * input.ndim, \
        [slice(None)] * input.ndim
    for axis, before, after in pairs:
        n = out_shape[axis]
        out_shape[axis] = n + before + after
        # negative pads crop the input; positive pads leave room in the output
        kept[axis] = slice(max(-before, 0), n - max(-after, 0))
        kept_size = max(n - max(-before, 0) - max(-after, 0), 0)
        inner[axis] = slice(max(before, 0), max(before, 0) + kept_size)
    return ConstantPad.apply(input, out_shape=tuple(out_shape), inner=tuple(inner),
                             kept=tuple(kept), value=value)
