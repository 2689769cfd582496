"""The CuPy API tinynn uses exists in the real CuPy, with the keywords tinynn passes.

``tests/cupy_api_used.json`` lists every name tinynn took from the array module, from
``cupyx`` and from device arrays (``cupy.ndarray.<name>``) while the whole suite ran on the
stand-in (tests/fake_cupy.py; its docstring says how to regenerate the list), each with the
keyword names passed to it. Here each name is looked up on the real ``cupy`` -- which imports
without a GPU (``pip install -e ".[gpu]"``; CI installs it) -- and each keyword is checked
against the real function's signature where CuPy exposes one. Without ``cupy`` these tests
are skipped, saying why.

``test_the_list_covers_the_source`` keeps the list from going stale: every ``xp.<name>``,
``cupy.<name>`` and ``cupyx.<name>`` written in tinynn's source must be recorded, or be
in ALLOWED_UNRECORDED with the reason no test reaches it on the stand-in.
"""
import importlib
import inspect
import json
import pathlib
import re
import warnings

import pytest

HERE = pathlib.Path(__file__).resolve().parent
TINYNN = HERE.parent / "tinynn"
LIST = HERE / "cupy_api_used.json"
RECORDED = json.loads(LIST.read_text(encoding="utf-8")) if LIST.exists() else {}

# Named in tinynn's source, reached by no test on the stand-in; still checked to exist.
ALLOWED_UNRECORDED = {
    "cupy.__name__": "tinynn/distributed/backend.py imports <array module>.cuda.nccl by name, "
                     "only where NCCL exists (never on the stand-in)",
    "cupy.cuda.nccl": "NCCL for GPU collectives (tinynn/distributed/backend.py); the stand-in "
                      "has none, so its tests take the host-copy path",
    "cupy.get_array_module": "named in backend.get_array_module's docstring only",
}

# https://docs.cupy.dev/en/stable/reference/ufunc.html: "add(x1, x2, /[, out, casting, dtype])";
# any other keyword is "TypeError: Wrong arguments" (tests/test_fake_cupy.py checks this
# against the installed CuPy too).
UFUNC_KEYWORDS = frozenset({"out", "casting", "dtype"})

try:
    import cupy
    import cupyx
    CUPY_MISSING = ""
except Exception as exc:  # ImportError, or a CUDA library that fails to load
    cupy = cupyx = None
    CUPY_MISSING = f"{type(exc).__name__}: {exc}"
needs_cupy = pytest.mark.skipif(
    cupy is None, reason=f"cupy is not importable here ({CUPY_MISSING}); install the gpu extra "
    "(pip install -e '.[gpu]', cupy-cuda12x; '.[gpu-cuda13]' for CUDA 13) to check the API "
    "tinynn uses against it (no GPU needed)")


def resolve(name):
    """The object that a dotted name like ``cupy.random.seed`` names in the real CuPy."""
    root, *path = name.split(".")
    obj = {"cupy": cupy, "cupyx": cupyx}[root]
    for i, part in enumerate(path):
        try:
            obj = getattr(obj, part)
        except AttributeError:  # a submodule not imported by its package
            with warnings.catch_warnings():  # cupy.cuda.nccl warns when libnccl is missing
                warnings.simplefilter("ignore")
                obj = importlib.import_module(".".join([root, *path[:i + 1]]))
    return obj


_KEYWORD_KINDS = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


def _docstring_parameters(obj):
    """Parameter names from a Cython docstring's first line, e.g.
    ``_ndarray_base.astype(self, dtype, order='K', casting=None, subok=None, copy=True)``;
    None when there is no such line or it ends in ``**kwargs``."""
    first = (getattr(obj, "__doc__", None) or "").strip().splitlines()[:1]
    match = re.match(r"^[\w.]+\((.*)\)\s*(->.*)?$", first[0]) if first else None
    if match is None:
        return None
    names, depth, part, parts = set(), 0, "", []
    for char in match.group(1) + ",":  # split at top-level commas only
        depth += char in "([{" and 1 or char in ")]}" and -1 or 0
        if char == "," and depth == 0:
            parts.append(part.strip())
            part = ""
        else:
            part += char
    for part in parts:
        if part.startswith("**"):
            return None
        if not part or part in ("self", "*", "/") or part.startswith("*"):
            continue
        names.add(part.split("=")[0].split()[-1])  # drop Cython types: "Py_ssize_t axis1"
    return names


def _popped_keywords(obj):
    """For ``def f(*args, **kwargs)`` written in Python: the keywords it pops (einsum's dtype,
    optimize, casting); None when the source is not available."""
    try:
        source = inspect.getsource(inspect.unwrap(obj))
    except (TypeError, OSError):
        return None
    names = set(re.findall(r"kwargs\.(?:pop|get)\(\s*['\"](\w+)['\"]", source))
    return names or None


def accepted_keywords(obj):
    """The keyword names the real ``obj`` accepts, or None where CuPy does not say."""
    if isinstance(obj, cupy.ufunc):
        return UFUNC_KEYWORDS
    try:
        parameters = inspect.signature(obj).parameters.values()
    except (TypeError, ValueError):  # a Cython function: its docstring carries the signature
        return _docstring_parameters(obj)
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        named = _docstring_parameters(obj) or set()
        popped = _popped_keywords(obj)
        return None if popped is None else named | popped | {p.name for p in parameters
                                                              if p.kind in _KEYWORD_KINDS}
    return {p.name for p in parameters if p.kind in _KEYWORD_KINDS}


# ---------------------------------------------------------------------------- the list itself

def test_the_list_is_sorted_names_to_sorted_keywords():
    assert LIST.exists(), f"{LIST} is missing: regenerate it (see tests/fake_cupy.py)"
    assert list(RECORDED) == sorted(RECORDED), "regenerate it (see tests/fake_cupy.py)"
    for name, keywords in RECORDED.items():
        assert name.split(".")[0] in ("cupy", "cupyx"), name
        assert keywords == sorted(set(keywords)), name
    assert len(RECORDED) > 50 and "cupyx.scatter_add" in RECORDED


SOURCE_NAME = re.compile(r"\b(?:xp|cupy)\.(\w+(?:\.\w+)*)|\b_?cupyx\.(\w+)")


def source_names():
    """{"cupy.exp": ["tinynn/ops/pointwise.py", ...]} for every name written in tinynn/."""
    names = {}
    for path in sorted(TINYNN.rglob("*.py")):
        for match in SOURCE_NAME.finditer(path.read_text(encoding="utf-8")):
            name = f"cupy.{match.group(1)}" if match.group(1) else f"cupyx.{match.group(2)}"
            files = names.setdefault(name, [])
            if str(path.relative_to(TINYNN.parent)) not in files:
                files.append(str(path.relative_to(TINYNN.parent)))
    return names


def test_the_list_covers_the_source():
    missing = {name: files[0] for name, files in source_names().items()
               if name not in RECORDED and name not in ALLOWED_UNRECORDED}
    assert not missing, (
        f"tinynn's source uses {missing}, which no test reached on the "
        "stand-in: run it on the device fixture in a test, regenerate tests/cupy_api_used.json "
        "(see tests/fake_cupy.py), or add it to ALLOWED_UNRECORDED with the reason")


def test_allowed_unrecorded_names_are_still_in_the_source():
    written = source_names()
    assert not [name for name in ALLOWED_UNRECORDED if name not in written or name in RECORDED]


# ---------------------------------------------------------------------------- against CuPy

@needs_cupy
@pytest.mark.parametrize("name", sorted(set(RECORDED) | set(ALLOWED_UNRECORDED)))
def test_name_exists_in_cupy(name):
    try:
        resolve(name)
    except (AttributeError, ImportError) as exc:
        pytest.fail(f"tinynn uses {name}, which CuPy {cupy.__version__} does not have ({exc})")


@needs_cupy
@pytest.mark.parametrize("name", sorted(name for name, keywords in RECORDED.items() if keywords))
def test_keywords_accepted_by_cupy(name):
    accepted = accepted_keywords(resolve(name))
    if accepted is None:
        pytest.skip(f"CuPy {cupy.__version__} exposes no signature for {name}")
    unknown = sorted(set(RECORDED[name]) - accepted)
    assert not unknown, (f"tinynn passes {unknown} to {name}, which CuPy {cupy.__version__} "
                         f"does not accept (it takes {sorted(accepted)})")


@needs_cupy
def test_signatures_are_found_for_most_keyword_calls():
    # Guards the checker itself: a CuPy release that hides its signatures must not turn
    # every keyword check into a skip unnoticed.
    with_keywords = [name for name, keywords in RECORDED.items() if keywords]
    unknown = [name for name in with_keywords if accepted_keywords(resolve(name)) is None]
    assert len(unknown) <= len(with_keywords) // 10, unknown


def test_docstring_signature_parser():
    class Cython:
        """_ndarray_base.swapaxes(self, Py_ssize_t axis1, Py_ssize_t axis2, *, out=None) -> X"""
    assert _docstring_parameters(Cython) == {"axis1", "axis2", "out"}
    Cython.__doc__ = "ufunc.reduce(self, array, axis=0, dtype=None, out=None, keepdims=False)"
    assert _docstring_parameters(Cython) == {"array", "axis", "dtype", "out", "keepdims"}
    Cython.__doc__ = "f(a, **kwargs)"
    assert _docstring_parameters(Cython) is None
