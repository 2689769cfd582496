"""A stand-in for CuPy built on NumPy, so the GPU code path of tinynn runs where there is no GPU.

Install it as the GPU backend with :func:`make_backend` (``backend._gpu = make_backend()``);
the ``device`` fixture in ``conftest.py`` does that for the length of one test.

What matters is not speed but that bugs which would only show up on a real GPU show up
here too. So the fake copies CuPy's *refusals*, the things NumPy would let slip through
silently:

* ``FakeGPUArray`` is **not** an ``ndarray`` subclass (neither is ``cupy.ndarray``):
  ``isinstance(x, numpy.ndarray)`` is False, so code that treats "any ndarray" as
  "a CPU array" is caught. (A subclass would also be converted by ``numpy.asarray``
  without ever asking it.)
* implicit conversion to NumPy raises ``TypeError`` (``numpy.asarray(x)``,
  ``numpy.array(x)``, assigning ``x`` into a NumPy array, a NumPy array indexed by ``x``);
  only ``x.get()`` / ``fake.asnumpy(x)`` copy to the host;
* mixing a NumPy array (any ndim, even 0-d, as CuPy's kernels do) or a list with a fake
  array in an operation raises ``TypeError: Unsupported type``; Python and NumPy scalars
  are fine;
* ``fake.exp(numpy_array)`` and the other module functions refuse NumPy arrays too (only
  ``asarray``/``array`` copy host data to the "device", and always copy, so a host array
  and its device copy never share memory);
* results are always fake arrays, reductions included (``x.sum()`` is a 0-d array, not a
  NumPy scalar), as in CuPy;
* ``x.flags`` has only ``c_contiguous``, ``f_contiguous`` and ``owndata`` (no
  ``writeable``: CuPy arrays have no read-only flag);
* ``x[...] = numpy_array`` with a basic index raises, as CuPy's ``fill`` does;
* ``cupyx.scatter_add`` accepts only the dtypes CuPy's atomicAdd does (no int64), for
  every index (CuPy checks only when an integer array is in the index: stricter here);
* ufuncs take only the keywords CuPy's do (``out``, ``dtype``, ``casting``: no ``where=``,
  ``order=``...), and NumPy's ufunc methods (``numpy.add.at(x, ...)``, ``numpy.maximum.reduce(x)``)
  are not dispatched to device arrays (CuPy's ``__array_ufunc__`` handles calls only; use
  ``xp.add.at`` or ``cupyx.scatter_add``);
* ``x.item()`` takes no index (CuPy's has none);
* one device only: ``cuda.Device(1)`` raises as CUDA does for a missing device.

tests/test_fake_cupy.py compares these refusals with CuPy's documentation, case by case.

Recording the CuPy API tinynn uses: with ``TINYNN_RECORD_CUPY_API=/abs/path.json`` in the
environment, every backend made by :func:`make_backend` hands tinynn recording views of
this module and of ``cupyx``, and device arrays log their attributes: each name taken
(``cupy.exp``, ``cupy.random.seed``, ``cupyx.scatter_add``, ``cupy.ndarray.astype``; NumPy
functions called on device arrays count as the CuPy function they dispatch to) and the
keyword names of each call. The names are merged into the JSON file at the end of the
session (``tests/conftest.py``) or of a subprocess (atexit). Regenerate the committed list
from a fresh file (names already in it are kept)::

    rm -f /tmp/cupy_api_used.json
    TINYNN_RECORD_CUPY_API=/tmp/cupy_api_used.json python -m pytest -p no:cacheprovider
    mv /tmp/cupy_api_used.json tests/cupy_api_used.json

``tests/test_cupy_api.py`` checks every recorded name against the real ``cupy``.

Allowed, as in CuPy: ``float(x)``, ``int(x)``, ``bool(x)`` and ``x.item()`` on one element;
NumPy functions called on fake arrays (``numpy.concatenate([x, y])``) dispatch to the
fake module, as ``cupy.ndarray.__array_function__`` does.
"""
import atexit
import json
import numbers
import os
import sys
import types

import numpy

__all__ = ["FakeGPUArray", "ndarray", "asarray", "array", "asnumpy", "get_array_module",
           "random", "cuda", "lib", "linalg", "cupyx", "make_backend", "FakeCupyModule",
           "RECORD_ENV", "recording", "save_recording"]

IMPLICIT_CONVERSION = ("Implicit conversion to a NumPy array is not allowed. "
                       "Please use `.get()` to construct a NumPy array explicitly.")

_ARRAY_PRIORITY = 100  # cupy.ndarray's: a Tensor (1000) gets the reflected operator


def _unsupported(value):
    return TypeError(f"Unsupported type {type(value)}")


def _is_host_array_like(value):
    """A NumPy array, or anything else NumPy would turn into one behind our back."""
    if isinstance(value, (FakeGPUArray, numpy.generic, type)):
        return False
    return isinstance(value, numpy.ndarray) or hasattr(value, "__array__") \
        or hasattr(value, "__array_interface__")


# ---------------------------------------------------------------------------- wrap / unwrap

def _wrap(value):
    """NumPy results as fake arrays (scalars become 0-d arrays, as CuPy returns)."""
    if isinstance(value, numpy.ndarray):
        return FakeGPUArray._from_numpy(value)
    if isinstance(value, numpy.generic):
        return FakeGPUArray._from_numpy(numpy.asarray(value))
    if type(value) is tuple:
        return tuple(_wrap(v) for v in value)
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # numpy.linalg's named results
        return type(value)(*(_wrap(v) for v in value))
    if type(value) is list:
        return [_wrap(v) for v in value]
    return value


def _unwrap(value):
    """Arguments of a device operation: fake arrays -> their data; host arrays refused."""
    if isinstance(value, FakeGPUArray):
        return value._array
    if _is_host_array_like(value):
        raise _unsupported(value)
    if type(value) in (list, tuple):
        return type(value)(_unwrap(v) for v in value)
    if isinstance(value, dict):
        return {k: _unwrap(v) for k, v in value.items()}
    return value


def _operand(value):
    """An operand of a ufunc: a fake array or a scalar, nothing else (CuPy's CScalar rule)."""
    if isinstance(value, FakeGPUArray):
        return value._array
    if isinstance(value, (numbers.Number, numpy.generic)):
        return value
    raise _unsupported(value)


def _unwrap_index(key):
    """An index may hold host arrays and lists: CuPy copies those to the device."""
    if isinstance(key, tuple):
        return tuple(_unwrap_index(k) for k in key)
    if isinstance(key, FakeGPUArray):
        return key._array
    if isinstance(key, list):
        return numpy.asarray([k._array if isinstance(k, FakeGPUArray) else k for k in key])
    if _is_host_array_like(key) and not isinstance(key, numpy.ndarray):
        raise _unsupported(key)
    return key


def _has_array_index(key):
    parts = key if isinstance(key, tuple) else (key,)
    return any(isinstance(k, (numpy.ndarray, list)) for k in parts)


def _as_view_key(key):
    """``x[0]`` as a 0-d view (CuPy) rather than NumPy's scalar copy: add a trailing ``...``."""
    parts = key if isinstance(key, tuple) else (key,)
    if any(k is Ellipsis for k in parts):
        return key
    return parts + (Ellipsis,)


# ---------------------------------------------------------------------------- the array

class _Flags:
    """CuPy's flags: no ``writeable`` (every CuPy array is writable)."""

    __slots__ = ("c_contiguous", "f_contiguous", "owndata")

    def __init__(self, flags):
        self.c_contiguous = bool(flags.c_contiguous)
        self.f_contiguous = bool(flags.f_contiguous)
        self.owndata = bool(flags.owndata)

    def __getitem__(self, name):
        return {"C_CONTIGUOUS": self.c_contiguous, "F_CONTIGUOUS": self.f_contiguous,
                "OWNDATA": self.owndata}[name]


class _DeviceHandle:
    """``x.device``: has ``.id``, like ``cupy.cuda.Device``."""

    def __init__(self, index):
        self.id = index

    def __eq__(self, other):
        return isinstance(other, _DeviceHandle) and other.id == self.id

    def __hash__(self):
        return hash(self.id)

    def __repr__(self):
        return f"<CUDA Device {self.id}>"


# Methods that copy host data to the device instead of refusing it (as CuPy's do).
_HOST_TOLERANT_METHODS = {"take", "put", "fill"}
# ndarray attributes CuPy does not have, or that would hand out host memory.
_BLOCKED_ATTRIBUTES = {"ctypes", "flat", "setflags", "itemset", "tofile", "dump",
                       "dumps", "byteswap", "newbyteorder", "getfield", "setfield"}


class _MemoryPointer:
    def __init__(self, ptr):
        self.ptr = ptr


class FakeGPUArray:
    """An array "on the GPU": NumPy data that refuses to be used as a NumPy array."""

    __slots__ = ("_array",)
    __array_priority__ = _ARRAY_PRIORITY
    __hash__ = None

    def __init__(self, shape, dtype=float, order="C"):
        # cupy.ndarray(shape, dtype) allocates; the contents are unspecified (zeros here).
        self._array = numpy.zeros(shape, dtype=dtype, order=order)

    @classmethod
    def _from_numpy(cls, array):
        self = cls.__new__(cls)
        self._array = array
        return self

    # ------------------------------------------------------------------ conversion

    def __array__(self, dtype=None, copy=None):
        raise TypeError(IMPLICIT_CONVERSION)

    def get(self, stream=None, order="C", out=None):
        """A NumPy copy in host memory (never a view of the device data)."""
        if out is not None:
            out[...] = self._array
            return out
        return numpy.array(self._array, order=order, copy=True)

    def set(self, array):
        """Copy a host array into this one."""
        self._array[...] = numpy.asarray(array)

    @property
    def device(self):
        return _DeviceHandle(0)

    @property
    def data(self):
        """CuPy's MemoryPointer: only ``.ptr``, the address of the first element."""
        return _MemoryPointer(self._array.__array_interface__["data"][0])

    def item(self):
        """One element as a Python scalar (CuPy's ``item`` takes no index)."""
        return self._array.item()

    def tolist(self):
        return self._array.tolist()

    def __float__(self):
        return float(self._array)

    def __int__(self):
        return int(self._array)

    def __complex__(self):
        return complex(self._array)

    def __bool__(self):
        return bool(self._array)

    def __len__(self):
        return len(self._array)

    def __iter__(self):
        if self._array.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(self._array.shape[0]))

    def __repr__(self):
        return repr(self._array)

    def __str__(self):
        return str(self._array)

    def __format__(self, spec):
        if self._array.ndim == 0:
            return format(self._array.item(), spec)
        return format(str(self), spec)

    def __copy__(self):
        return FakeGPUArray._from_numpy(self._array.copy())

    def __deepcopy__(self, memo):
        return FakeGPUArray._from_numpy(self._array.copy())

    def __reduce__(self):
        return (_rebuild, (self._array.copy(),))

    # ------------------------------------------------------------------ attributes

    @property
    def flags(self):
        return _Flags(self._array.flags)

    @property
    def base(self):
        base = self._array.base
        return FakeGPUArray._from_numpy(base) if isinstance(base, numpy.ndarray) else None

    shape = property(lambda self: self._array.shape)
    dtype = property(lambda self: self._array.dtype)
    ndim = property(lambda self: self._array.ndim)
    size = property(lambda self: self._array.size)
    itemsize = property(lambda self: self._array.itemsize)
    nbytes = property(lambda self: self._array.nbytes)
    strides = property(lambda self: self._array.strides)
    T = property(lambda self: FakeGPUArray._from_numpy(self._array.T))
    real = property(lambda self: FakeGPUArray._from_numpy(self._array.real))
    imag = property(lambda self: FakeGPUArray._from_numpy(self._array.imag))

    @shape.setter
    def shape(self, value):
        self._array.shape = value

    def __getattr__(self, name):
        # Only reached for names not defined above: NumPy's methods, wrapped.
        if name.startswith("__") or name == "_array" or name in _BLOCKED_ATTRIBUTES:
            raise AttributeError(f"'FakeGPUArray' object has no attribute '{name}'")
        attribute = getattr(self._array, name)
        if not callable(attribute):
            return _wrap(attribute)
        tolerant = name in _HOST_TOLERANT_METHODS

        def method(*args, **kwargs):
            if tolerant:
                args = tuple(_unwrap_index(a) for a in args)
            else:
                args, kwargs = _unwrap(args), _unwrap(kwargs)
            return _wrap(attribute(*args, **kwargs))
        method.__name__ = name
        return method

    # ------------------------------------------------------------------ indexing

    def __getitem__(self, key):
        return _wrap(self._array[_as_view_key(_unwrap_index(key))])

    def __setitem__(self, key, value):
        key = _unwrap_index(key)
        if isinstance(value, FakeGPUArray):
            value = value._array
        elif isinstance(value, numpy.ndarray):
            # CuPy copies host values only through advanced indexing; a basic index
            # goes to fill(), which takes scalars only.
            if value.ndim and not _has_array_index(key):
                raise ValueError("non-scalar numpy.ndarray cannot be used for fill")
        elif isinstance(value, list) and not _has_array_index(key):
            raise _unsupported(value)
        elif _is_host_array_like(value):
            raise _unsupported(value)
        self._array[key] = value

    # ------------------------------------------------------------------ NumPy protocols

    def __array_ufunc__(self, ufunc, method, *inputs, out=None, **kwargs):
        if method != "__call__":
            # CuPy's __array_ufunc__ handles calls only: numpy.add.at(x, ...) and
            # numpy.maximum.reduce(x) on a device array raise TypeError.
            return NotImplemented
        _check_ufunc_keywords(ufunc.__name__, kwargs)
        if _recording_on and sys._getframe(1).f_globals is not _HERE:
            _record("cupy." + ufunc.__name__, kwargs)
        arrays = [_operand(x) for x in inputs]
        if out is not None:
            for o in out:
                if not isinstance(o, FakeGPUArray):
                    raise _unsupported(o)
            kwargs["out"] = tuple(o._array for o in out)
        result = ufunc(*arrays, **kwargs)
        if out is not None:
            return out[0] if len(out) == 1 else out
        return _wrap(result)

    def __array_function__(self, func, types, args, kwargs):
        # As cupy.ndarray does: numpy.f(device arrays) runs the device's f (cupy.f, looked
        # up by f's module path; recorded under that name).
        if _recording_on and sys._getframe(1).f_globals is not _HERE:
            path = func.__module__.split(".")[1:] + [func.__name__]
            _record(".".join(["cupy", *path]), kwargs)
        return _call(func, args, kwargs)

    # ------------------------------------------------------------------ operators

    def _binary(self, other, ufunc, reflected=False):
        if not isinstance(other, FakeGPUArray) and \
                getattr(other, "__array_priority__", -1) > self.__array_priority__:
            return NotImplemented  # let a Tensor (priority 1000) run its own operator
        if other is None:
            return NotImplemented
        return ufunc(other, self) if reflected else ufunc(self, other)

    def _inplace(self, other, ufunc):
        ufunc(self, other, out=(self,))
        return self

    def __eq__(self, other):
        return self._binary(other, numpy.equal)

    def __ne__(self, other):
        return self._binary(other, numpy.not_equal)

    def __lt__(self, other):
        return self._binary(other, numpy.less)

    def __le__(self, other):
        return self._binary(other, numpy.less_equal)

    def __gt__(self, other):
        return self._binary(other, numpy.greater)

    def __ge__(self, other):
        return self._binary(other, numpy.greater_equal)

    def __neg__(self):
        return numpy.negative(self)

    def __pos__(self):
        return numpy.positive(self)

    def __abs__(self):
        return numpy.absolute(self)

    def __invert__(self):
        return numpy.invert(self)

    def __divmod__(self, other):
        return self._binary(other, numpy.divmod)


def _add_operators():
    names = {"add": numpy.add, "sub": numpy.subtract, "mul": numpy.multiply,
             "truediv": numpy.true_divide, "floordiv": numpy.floor_divide, "mod": numpy.remainder,
             "pow": numpy.power, "matmul": numpy.matmul, "and": numpy.bitwise_and,
             "or": numpy.bitwise_or, "xor": numpy.bitwise_xor, "lshift": numpy.left_shift,
             "rshift": numpy.right_shift}
    for name, ufunc in names.items():
        setattr(FakeGPUArray, f"__{name}__",
                lambda self, other, u=ufunc: self._binary(other, u))
        setattr(FakeGPUArray, f"__r{name}__",
                lambda self, other, u=ufunc: self._binary(other, u, reflected=True))
        setattr(FakeGPUArray, f"__i{name}__",
                lambda self, other, u=ufunc: self._inplace(other, u))


_add_operators()
ndarray = FakeGPUArray


def _rebuild(array):
    return FakeGPUArray._from_numpy(array)


# ---------------------------------------------------------------------------- functions

def _call(func, args, kwargs):
    """Run a NumPy function on device arrays: unwrap (refusing host arrays), wrap the result."""
    return _wrap(func(*_unwrap(tuple(args)), **_unwrap(dict(kwargs))))


# CuPy's ufuncs take these keywords only ("add(x1, x2, /[, out, casting, dtype])" in
# https://docs.cupy.dev/en/stable/reference/ufunc.html); anything else is
# "TypeError: Wrong arguments {...}". matmul is a generalized ufunc in CuPy, with its own
# signature (axes, axis, keepdims, ...), checked against CuPy by tests/test_cupy_api.py.
UFUNC_KEYWORDS = frozenset({"out", "dtype", "casting"})
_GENERALIZED_UFUNCS = frozenset({"matmul"})


def _check_ufunc_keywords(name, kwargs):
    extra = {k: v for k, v in kwargs.items() if k not in UFUNC_KEYWORDS}
    if extra and name not in _GENERALIZED_UFUNCS:
        raise TypeError(f"Wrong arguments {extra}")


class _FakeUfunc:
    """``fake.add`` etc.: a NumPy ufunc that takes device arrays and scalars only."""

    def __init__(self, ufunc):
        self._ufunc = ufunc
        self.__name__ = ufunc.__name__

    def __call__(self, *inputs, **kwargs):
        _check_ufunc_keywords(self.__name__, kwargs)
        if not any(isinstance(x, FakeGPUArray) for x in inputs):
            # All scalars (cupy.add(1, 2) gives a 0-d device array) or a host array (refused).
            arrays = [_operand(x) for x in inputs]
            if "out" in kwargs:
                return self._ufunc(*[FakeGPUArray._from_numpy(numpy.asarray(a)) for a in arrays],
                                   **kwargs)
            return _wrap(self._ufunc(*arrays, **kwargs))
        return self._ufunc(*inputs, **kwargs)  # dispatches to FakeGPUArray.__array_ufunc__

    def __getattr__(self, name):  # reduce, accumulate, outer, at, nin, ...
        attribute = getattr(self._ufunc, name)
        if not callable(attribute):
            return attribute

        def method(*args, **kwargs):
            if not any(isinstance(a, FakeGPUArray) for a in args):
                raise _unsupported(args[0] if args else None)
            if name == "at":  # ufunc.at(a, indices, b=None): in place, repeats applied each time
                target, index, *rest = args
                if not isinstance(target, FakeGPUArray):
                    raise _unsupported(target)
                attribute(target._array, _unwrap_index(index), *[_operand(v) for v in rest])
                return None
            out = kwargs.get("out")
            result = attribute(*_unwrap(args), **_unwrap(kwargs))
            return out if isinstance(out, FakeGPUArray) else _wrap(result)
        method.__name__ = name
        return method

    def __repr__(self):
        return f"<fake ufunc '{self.__name__}'>"


def _fake_function(func):
    def function(*args, **kwargs):
        return _call(func, args, kwargs)
    function.__name__ = getattr(func, "__name__", "function")
    function.__doc__ = getattr(func, "__doc__", None)
    return function


class _Namespace(types.SimpleNamespace):
    """A module-like object: explicit entries first, then NumPy's module of the same place."""

    def __init__(self, numpy_module=None, **entries):
        super().__init__(**entries)
        object.__setattr__(self, "_numpy_module", numpy_module)

    def __getattr__(self, name):
        module = object.__getattribute__(self, "_numpy_module")
        if module is None or name.startswith("__"):
            raise AttributeError(name)
        value = getattr(module, name)
        if isinstance(value, numpy.ufunc):
            value = _FakeUfunc(value)
        elif isinstance(value, types.ModuleType):
            value = _Namespace(value)
        elif isinstance(value, type):
            pass  # dtypes and scalar types are shared with NumPy (cupy.float32 is numpy.float32)
        elif callable(value):
            value = _fake_function(value)
        setattr(self, name, value)  # cache
        return value


# Host -> device: these copy (a device array never shares memory with a host one).

def asarray(a, dtype=None, order=None, *, copy=None, blocking=False):
    if isinstance(a, FakeGPUArray):
        if copy:
            return array(a, dtype=dtype)
        return a if dtype is None or numpy.dtype(dtype) == a.dtype else a.astype(dtype)
    if hasattr(a, "__cuda_array_interface__"):
        raise _unsupported(a)
    if copy is False:  # host data must be copied to the device
        raise ValueError("Unable to avoid copy while creating an array as requested.")
    return FakeGPUArray._from_numpy(numpy.array(a, dtype=dtype, order=order or "K", copy=True))


def array(obj, dtype=None, copy=True, order="K", subok=False, ndmin=0, blocking=False):
    if isinstance(obj, FakeGPUArray):
        data = obj._array
    else:
        data = obj
    return FakeGPUArray._from_numpy(numpy.array(data, dtype=dtype, copy=True, order=order,
                                                ndmin=ndmin))


def ascontiguousarray(a, dtype=None):
    if not isinstance(a, FakeGPUArray):
        raise _unsupported(a)
    return FakeGPUArray._from_numpy(numpy.ascontiguousarray(a._array, dtype=dtype))


def asnumpy(a, stream=None, order="C", out=None, blocking=True):
    """Device -> host copy (host arrays pass through, as in CuPy)."""
    if isinstance(a, FakeGPUArray):
        return a.get(order=order, out=out)
    return numpy.asarray(a, order=order)


def get_array_module(*args):
    return module if any(isinstance(a, FakeGPUArray) for a in args) else numpy


# ---------------------------------------------------------------------------- random

class _Random:
    """``cupy.random``: its own stream, seeded by ``seed`` (results are device arrays)."""

    def __init__(self):
        self._state = numpy.random.RandomState(0)

    def seed(self, seed=None):
        self._state = numpy.random.RandomState(seed)

    def random_sample(self, size=None, dtype=float):
        return FakeGPUArray._from_numpy(numpy.asarray(self._state.random_sample(size), dtype=dtype))

    random = random_sample

    def standard_normal(self, size=None, dtype=float):
        return FakeGPUArray._from_numpy(numpy.asarray(self._state.standard_normal(size), dtype=dtype))

    def uniform(self, low=0.0, high=1.0, size=None, dtype=float):
        return FakeGPUArray._from_numpy(numpy.asarray(self._state.uniform(low, high, size), dtype=dtype))

    def normal(self, loc=0.0, scale=1.0, size=None, dtype=float):
        return FakeGPUArray._from_numpy(numpy.asarray(self._state.normal(loc, scale, size), dtype=dtype))

    def rand(self, *size, dtype=float):
        return self.random_sample(size, dtype)

    def randn(self, *size, dtype=float):
        return self.standard_normal(size, dtype)


# ---------------------------------------------------------------------------- cuda

class CUDARuntimeError(RuntimeError):
    pass


class _Runtime:
    CUDARuntimeError = CUDARuntimeError

    def __init__(self, count):
        self.count = count

    def getDeviceCount(self):
        return self.count

    def getDevice(self):
        return 0

    def getDeviceProperties(self, device):
        """A few of the fields of CUDA's cudaDeviceProp (``name`` is bytes, as in CuPy)."""
        _Device(device)._check()
        return {"name": b"fake_cupy (NumPy stand-in)", "totalGlobalMem": 16 << 30,
                "major": 8, "minor": 0, "multiProcessorCount": 1}


class _Device:
    """``cupy.cuda.Device(i)``: a context manager selecting the current device."""

    def __init__(self, device=None):
        self.id = 0 if device is None else int(device)

    def _check(self):
        if not 0 <= self.id < _runtime.count:
            raise CUDARuntimeError("cudaErrorInvalidDevice: invalid device ordinal")

    def use(self):
        self._check()

    def __enter__(self):
        self._check()
        return self

    def __exit__(self, *exc):
        return False

    def synchronize(self):
        self._check()

    def __eq__(self, other):
        return isinstance(other, (_Device, _DeviceHandle)) and other.id == self.id

    def __hash__(self):
        return hash(self.id)

    def __repr__(self):
        return f"<CUDA Device {self.id}>"


class _MemoryPool:
    """``cupy.get_default_memory_pool()``: nothing is pooled here (NumPy frees at once)."""

    def used_bytes(self):
        return 0

    def total_bytes(self):
        return 0

    def free_bytes(self):
        return 0

    def free_all_blocks(self, stream=None):
        pass


_runtime = _Runtime(count=1)
_memory_pool = _MemoryPool()
cuda = _Namespace(None, Device=_Device, runtime=_runtime, is_available=lambda: True)


# ---------------------------------------------------------------------------- lib, cupyx

def _as_strided(x, shape=None, strides=None):
    """CuPy's as_strided: a writable view (CuPy has no read-only arrays), no ``writeable``."""
    if not isinstance(x, FakeGPUArray):
        raise _unsupported(x)
    return FakeGPUArray._from_numpy(numpy.lib.stride_tricks.as_strided(x._array, shape, strides))


lib = _Namespace(None, stride_tricks=_Namespace(None, as_strided=_as_strided))

# atomicAdd exists for these only (CuPy raises TypeError for int64, int8, bool, ...).
_SCATTER_ADD_DTYPES = tuple(numpy.dtype(d) for d in
                            ("int32", "float16", "float32", "float64", "uint32", "uint64"))


def _scatter_add(a, slices, value):
    """``cupyx.scatter_add(a, slices, value)``: ``a[slices] += value``, repeats adding up."""
    if not isinstance(a, FakeGPUArray):
        raise _unsupported(a)
    if a.dtype not in _SCATTER_ADD_DTYPES:
        raise TypeError("scatter_add only supports int32, float16, float32, float64, uint32, "
                        "uint64, as data type")
    if isinstance(value, FakeGPUArray):
        value = value._array
    elif _is_host_array_like(value) and not isinstance(value, numpy.ndarray):
        raise _unsupported(value)
    numpy.add.at(a._array, _unwrap_index(slices), numpy.asarray(value).astype(a.dtype))


cupyx = _Namespace(None, scatter_add=_scatter_add)


# ---------------------------------------------------------------------------- the module

class FakeCupyModule(_Namespace):
    """The ``cupy`` stand-in: explicit CuPy entry points, NumPy's functions (wrapped) for the rest."""


random = _Random()
linalg = _Namespace(numpy.linalg)
module = FakeCupyModule(
    numpy,
    ndarray=FakeGPUArray, asarray=asarray, array=array, asnumpy=asnumpy,
    ascontiguousarray=ascontiguousarray, get_array_module=get_array_module,
    random=random, cuda=cuda, lib=lib, linalg=linalg, __name__="fake_cupy",
    get_default_memory_pool=lambda: _memory_pool,
)


def make_backend():
    """A fresh ``backend._CupyBackend`` over the fake module (RNG seeded with 0).

    With ``TINYNN_RECORD_CUPY_API`` set, tinynn gets recording views of the modules.
    """
    from tinynn import backend
    random.seed(0)
    if recording():
        _start_recording()
        return backend._CupyBackend(_Recorder(module, "cupy"), _Recorder(cupyx, "cupyx"))
    return backend._CupyBackend(module, cupyx)


# ---------------------------------------------------------------------------- recording

RECORD_ENV = "TINYNN_RECORD_CUPY_API"
_HERE = globals()        # frames of this module are the stand-in's own work: not recorded
_recording_on = False
_recorded = {}           # "cupy.exp" -> the keyword names passed to it


def recording():
    """True when the environment asks to record the CuPy API used (``TINYNN_RECORD_CUPY_API``)."""
    return bool(os.environ.get(RECORD_ENV))


def _record(name, kwargs=()):
    seen = _recorded.get(name)
    if seen is None:
        seen = _recorded[name] = set()
    seen.update(kwargs)


# What a recording view wraps in turn (and so follows into): modules and sub-namespaces.
_NAMESPACE_TYPES = (types.ModuleType, types.SimpleNamespace, _Random, _Runtime)


class _Recorder:
    """A view of a fake namespace or function that logs each name taken and each call's keywords.

    Classes (``ndarray``, ``cuda.Device``, dtypes) and plain values are handed out as they
    are, so ``isinstance(x, xp.ndarray)`` and ``xp.float32 is numpy.float32`` still hold.
    """

    __slots__ = ("_target", "_name", "_children")

    def __init__(self, target, name):
        self._target, self._name, self._children = target, name, {}

    def __getattr__(self, attr):
        value = getattr(self._target, attr)  # a missing name is not recorded
        name = f"{self._name}.{attr}"
        _record(name)
        if isinstance(value, type) or not (callable(value) or isinstance(value, _NAMESPACE_TYPES)):
            return value
        child = self._children.get(attr)
        if child is None or child._target is not value:
            child = self._children[attr] = _Recorder(value, name)
        return child

    def __call__(self, *args, **kwargs):
        _record(self._name, kwargs)
        return self._target(*args, **kwargs)

    def __repr__(self):
        return f"<recording {self._name}: {self._target!r}>"


def _recording_getattribute(self, name):
    """FakeGPUArray's attribute lookup while recording: ``cupy.ndarray.<name>`` and keywords."""
    try:
        value = object.__getattribute__(self, name)
    except AttributeError:
        value = FakeGPUArray.__getattr__(self, name)
    if name[0] == "_" or sys._getframe(1).f_globals is _HERE:
        return value
    qualified = "cupy.ndarray." + name
    _record(qualified)
    if not callable(value) or isinstance(value, FakeGPUArray):
        return value

    def method(*args, **kwargs):
        if kwargs:
            _record(qualified, kwargs)
        return value(*args, **kwargs)
    return method


def _start_recording():
    global _recording_on
    if not _recording_on:
        _recording_on = True
        FakeGPUArray.__getattribute__ = _recording_getattribute
        atexit.register(save_recording)  # subprocesses (tests/distributed) save on exit


def save_recording(path=None):
    """Merge the names recorded so far into the JSON file ``path`` (default: $TINYNN_RECORD_CUPY_API).

    The file maps each name to the sorted keyword names passed, one name a line, sorted;
    names already in the file are kept (several processes add to one file).
    """
    path = path or os.environ.get(RECORD_ENV)
    if not path or not _recorded:
        return
    try:
        import fcntl
    except ImportError:  # not POSIX: no other process to wait for
        fcntl = None
    with open(path, "a+", encoding="utf-8") as file:
        if fcntl is not None:
            fcntl.flock(file, fcntl.LOCK_EX)
        file.seek(0)
        text = file.read()
        merged = {name: set(kwargs) for name, kwargs in (json.loads(text) if text.strip() else {}).items()}
        for name, kwargs in _recorded.items():
            merged.setdefault(name, set()).update(kwargs)
        lines = [f"  {json.dumps(name)}: {json.dumps(sorted(merged[name]))}" for name in sorted(merged)]
        file.seek(0)
        file.truncate()
        file.write("{\n" + ",\n".join(lines) + "\n}\n")
    _recorded.clear()
