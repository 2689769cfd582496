"""1-D convolution and pooling: the 2-D ops over an image of unit height.

A signal (N, C, L) is the image (N, C, 1, L): ``unsqueeze(-2)`` is a view, no copy, and
so is dropping that height again from the result. A 1-D kernel (F, C/groups, K) is the
(F, C/groups, 1, K) kernel, and stride s, padding p, dilation d act on the width only:
(1, s), (0, p), (1, d). So ``conv1d``, ``conv_transpose1d`` and the 1-D pools run the 2-D
Functions (im2col + one GEMM, window views) unchanged; only the argument checks and their
messages are 1-D. Unbatched input (C, L) works too.

Max pooling's indices are flat positions ``h*W + w`` in each plane; with H = 1 they are
the positions along L, as PyTorch's ``max_pool1d`` returns them.
"""
from .conv import Conv2d
from .conv_kernels import pool_output_size, same_padding
from .conv_transpose import (ConvTranspose2d, check_conv_dtypes, check_conv_transpose_shapes,
                             check_groups, conv_transpose2d_params)
from .pooling import (AvgPool2d, MaxPool2d, adaptive_avg_pool2d, adaptive_max_pool2d)
from ..tensor import Tensor

__all__ = ["single", "conv1d", "conv1d_padding", "conv_transpose1d", "max_pool1d",
           "avg_pool1d", "pool1d_params", "adaptive_avg_pool1d", "adaptive_max_pool1d"]


def single(value, name="kernel_size"):
    """The int of an int or a one-element tuple/list (PyTorch's ``_single``)."""
    if isinstance(value, (tuple, list)):
        if len(value) != 1:
            raise ValueError(f"{name} must be an int or a tuple of one int, got {value!r}")
        value = value[0]
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise TypeError(f"{name} must be an int or a tuple of one int, got {value!r}")
    return int(value)


def _image(t):
    """(N, C, L) -> (N, C, 1, L), (C, L) -> (C, 1, L): a view, differentiable."""
    return t.unsqueeze(-2)


def _signal(t):
    """The inverse of ``_image``: drop the unit height (a view)."""
    return t.squeeze(-2)


def _check_input(input, name, what="input"):
    if input.ndim not in (2, 3):
        raise RuntimeError(f"{name}: Expected 2D (unbatched) or 3D (batched) {what}, but got "
                           f"input of size: {list(input.shape)}")


# ---------------------------------------------------------------------------- convolution

def conv1d_padding(padding, kernel, stride, dilation, name="conv1d"):
    """(left, right) padding for an int, a 1-tuple, 'valid' or 'same' (the odd extra cell after)."""
    if isinstance(padding, str):
        if padding == "valid":
            return 0, 0
        if padding != "same":
            raise RuntimeError(f"{name}: Invalid padding string: {padding!r}, should be one of "
                               f"{{'valid', 'same'}}")
        if stride != 1:
            raise RuntimeError(f"{name}: padding='same' is not supported for strided convolutions "
                               f"(stride={stride})")
        return same_padding(kernel, dilation)
    p = single(padding, "padding")
    if p < 0:
        raise RuntimeError(f"{name}: negative padding is not supported (padding={p})")
    return p, p


def _check_conv1d_shapes(input, weight, bias, groups, padding, dilation, name):
    _check_input(input, name, "input to conv1d")
    if weight.ndim != 3:
        raise RuntimeError(f"{name}: expected a 3D weight (out_channels, in_channels/groups, kW), "
                           f"got weight of size {list(weight.shape)}")
    f, cg, k = weight.shape
    if f % groups:
        raise RuntimeError(f"{name}: Given groups={groups}, expected weight to be divisible by "
                           f"{groups} at dimension 0, but got weight of size {list(weight.shape)} "
                           f"instead")
    if input.shape[-2] != cg * groups:
        raise RuntimeError(f"{name}: Given groups={groups}, weight of size {list(weight.shape)}, "
                           f"expected input{list(input.shape)} to have {cg * groups} channels, "
                           f"but got {input.shape[-2]} channels instead")
    if bias is not None and tuple(bias.shape) != (f,):
        raise RuntimeError(f"{name}: Given weight of size {list(weight.shape)}, expected bias to "
                           f"be 1-dimensional with {f} elements, but got bias of size "
                           f"{list(bias.shape)} instead")
    check_conv_dtypes(input, weight, bias, name)
    padded_length, span = input.shape[-1] + sum(padding), dilation * (k - 1) + 1
    if padded_length < span:
        raise RuntimeError(f"{name}: Calculated padded input size per channel: ({padded_length}). "
                           f"Kernel size: ({span}). Kernel size can't be greater than actual "
                           f"input size (input {list(input.shape)}, weight {list(weight.shape)})")


def _positive(value, what, name, message):
    if value < 1:
        raise RuntimeError(f"{name}: {message} ({what}={value})")
    return value


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, _name="conv1d"):
    """1-D convolution over (N, C, L) or (C, L) input, as ``torch.nn.functional.conv1d``.

    weight (F, C/groups, K), bias (F,) or None; stride, dilation: int; padding: int, 'valid'
    or 'same' (stride 1 only; an odd total pads one more on the right). Returns (N, F, OL)
    (or (F, OL)), OL = floor((L + 2*padding - dilation*(K-1) - 1) / stride) + 1.
    """
    stride = _positive(single(stride, "stride"), "stride", _name,
                       "non-positive stride is not supported")
    dilation = _positive(single(dilation, "dilation"), "dilation", _name,
                         "dilation should be greater than zero")
    groups = check_groups(groups, _name)
    left, right = conv1d_padding(padding, weight.shape[-1], stride, dilation, _name)
    _check_conv1d_shapes(input, weight, bias, groups, (left, right), dilation, _name)
    out = Conv2d.apply(_image(input), weight.unsqueeze(2), bias, stride=(1, stride),
                       padding=(0, 0, left, right), dilation=(1, dilation), groups=groups)
    return _signal(out)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1, _name="conv_transpose1d"):
    """Transposed 1-D convolution, as ``torch.nn.functional.conv_transpose1d``.

    input (N, C_in, L) or (C_in, L); weight (C_in, C_out/groups, K); bias (C_out,) or None.
    Returns (N, C_out, OL), OL = (L - 1)*stride - 2*padding + dilation*(K - 1) +
    output_padding + 1; output_padding must be smaller than the stride or the dilation.
    """
    s, p = single(stride, "stride"), single(padding, "padding")
    op, d = single(output_padding, "output_padding"), single(dilation, "dilation")
    # The 2-D checks on a unit height (the messages name that height and the width).
    stride, padding, output_padding, dilation = conv_transpose2d_params(
        (1, s), (0, p), (0, op), (1, d), groups, _name)
    check_conv_transpose_shapes(input, weight, bias, groups, ((s,), (p,), (op,), (d,)), _name,
                                dims=1)
    out = ConvTranspose2d.apply(_image(input), weight.unsqueeze(2), bias, stride=stride,
                                padding=padding, output_padding=output_padding,
                                dilation=dilation, groups=groups)
    return _signal(out)


# ---------------------------------------------------------------------------- pooling

def pool1d_params(kernel_size, stride, padding, dilation=1, name="max_pool1d"):
    """Validated ints (kernel, stride, padding, dilation); stride None (or ()) means kernel_size.

    PyTorch's checks and RuntimeErrors: positive kernel, stride and dilation, and
    0 <= padding <= kernel_size // 2 (a rule that ignores dilation).
    """
    kernel = single(kernel_size, "kernel_size")
    stride = kernel if stride is None or stride == () or stride == [] else single(stride, "stride")
    padding, dilation = single(padding, "padding"), single(dilation, "dilation")
    if kernel < 1:
        raise RuntimeError(f"{name}: kernel_size must be greater than zero, but got {kernel}")
    if stride < 1:
        raise RuntimeError(f"{name}: stride must be greater than zero, but got {stride}")
    if padding < 0:
        raise RuntimeError(f"{name}: padding must be non-negative, but got {padding}")
    if padding > kernel // 2:
        raise RuntimeError(f"{name}: padding should be at most half of kernel size, but got "
                           f"padding={padding} and kernel_size={kernel}")
    if dilation < 1:
        raise RuntimeError(f"{name}: dilation must be greater than zero, but got {dilation}")
    return kernel, stride, padding, dilation


def _check_pool_input(input, kernel, stride, padding, dilation, ceil_mode, name):
    if input.ndim not in (2, 3) or 0 in input.shape[-2:]:
        raise RuntimeError(f"{name}: Expected 2D or 3D input tensor with non-zero C and L, but "
                           f"got input of size {list(input.shape)}")
    length = pool_output_size(input.shape[-1], kernel, stride, padding, dilation, ceil_mode)
    if length < 1:
        raise RuntimeError(f"{name}: Invalid computed output size: {length} (input "
                           f"{list(input.shape)}, kernel_size={kernel}, stride={stride}, "
                           f"padding={padding}, dilation={dilation})")


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False, _name="max_pool1d"):
    """Max pooling over (N, C, L) or (C, L), as ``torch.nn.functional.max_pool1d``.

    Padding counts as -inf. With ``return_indices`` returns ``(output, indices)``, the
    indices (int64) being positions along L.
    """
    kernel, stride, padding, dilation = pool1d_params(kernel_size, stride, padding, dilation, _name)
    _check_pool_input(input, kernel, stride, padding, dilation, ceil_mode, _name)
    params = dict(kernel_size=(1, kernel), stride=(1, stride), padding=(0, padding),
                  dilation=(1, dilation), ceil_mode=bool(ceil_mode))
    if not return_indices:
        return _signal(MaxPool2d.apply(_image(input), **params))
    indices = []
    out = MaxPool2d.apply(_image(input), indices=indices, **params)
    return _signal(out), _signal(Tensor(indices[0]))


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               _name="avg_pool1d"):
    """Average pooling over (N, C, L) or (C, L), as ``torch.nn.functional.avg_pool1d``.

    Zero padding; the divisor is the window's length, counting padded cells if
    ``count_include_pad`` (but not the part of a ceil-mode window past the padded end).
    """
    kernel, stride, padding, _ = pool1d_params(kernel_size, stride, padding, 1, _name)
    _check_pool_input(input, kernel, stride, padding, 1, ceil_mode, _name)
    out = AvgPool2d.apply(_image(input), kernel_size=(1, kernel), stride=(1, stride),
                          padding=(0, padding), ceil_mode=bool(ceil_mode),
                          count_include_pad=bool(count_include_pad), divisor_override=None)
    return _signal(out)


def _adaptive_size(input, output_size, name):
    if input.ndim not in (2, 3) or 0 in input.shape[-2:]:
        raise RuntimeError(f"{name}: Expected 2D or 3D input tensor with non-zero C and L, but "
                           f"got input of size {list(input.shape)}")
    size = single(output_size, "output_size")
    if size < 1:
        raise RuntimeError(f"{name}: output_size must be positive, got {output_size!r}")
    return size


def adaptive_avg_pool1d(input, output_size, _name="adaptive_avg_pool1d"):
    """Adaptive average pooling over (N, C, L) or (C, L).

    Output position i averages the bin [floor(i*L/O), ceil((i+1)*L/O)).
    """
    size = _adaptive_size(input, output_size, _name)
    return _signal(adaptive_avg_pool2d(_image(input), (1, size), _name=_name))


def adaptive_max_pool1d(input, output_size, return_indices=False, _name="adaptive_max_pool1d"):
    """Adaptive max pooling over (N, C, L) or (C, L); indices (int64) are positions along L."""
    size = _adaptive_size(input, output_size, _name)
    result = adaptive_max_pool2d(_image(input), (1, size), return_indices, _name=_name)
    if not return_indices:
        return _signal(result)
    out, indices = result
    return _signal(out), _signal(indices)
