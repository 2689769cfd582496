"""Helpers shared by the op test files: input makers and one check every op passes.

``check_op(fn, shapes, domain, device)`` is the standard test of a differentiable op:
a float64 finite-difference gradcheck with a random upstream gradient, a float32 run that
must stay float32 (outputs and gradients), and a look at the graph afterwards: once
backward has run, no node may still hold an array (what backward needs is saved through
``save_for_backward`` and freed after use).
"""
import numpy as np

import tinynn
from tinynn import backend
from tinynn.autograd import gradcheck
from tinynn.engine import Node


def make_array(shape, domain, rng):
    """Values for one input: 'normal', 'positive' (0.5..2), 'nonzero' (|x| in 0.3..2) or
    'distinct' (well separated values, so max/min have no near-ties)."""
    if domain == "normal":
        return rng.standard_normal(shape)
    if domain == "positive":
        return rng.uniform(0.5, 2.0, shape)
    if domain == "nonzero":
        return rng.uniform(0.3, 2.0, shape) * rng.choice([-1.0, 1.0], shape)
    if domain == "distinct":
        size = int(np.prod(shape))
        return (rng.permutation(size) * 0.37 - size * 0.15 + rng.uniform(0, 0.05, size)).reshape(shape)
    raise ValueError(domain)


def make_inputs(shapes, domains, dtype, seed=0, device=None):
    """One leaf tensor per shape, requiring grad, with values from ``domains``."""
    rng = np.random.default_rng(seed)
    if isinstance(domains, str):
        domains = [domains] * len(shapes)
    return [tinynn.tensor(make_array(s, d, rng).astype(dtype), requires_grad=True, device=device)
            for s, d in zip(shapes, domains)]


def graph_nodes(root):
    """Every node reachable from ``root`` (a Node), root included."""
    seen, stack = {id(root): root}, [root]
    while stack:
        for edge in stack.pop()._edges:
            if isinstance(edge, Node) and id(edge) not in seen:
                seen[id(edge)] = edge
                stack.append(edge)
    return list(seen.values())


def holds_no_arrays(node):
    """True when a node kept no array after backward (its saved arrays were dropped)."""
    return node._freed and not any(backend.is_array(v) for v in vars(node).values())


def _outputs(result):
    result = result if isinstance(result, (tuple, list)) else (result,)
    return [r for r in result if isinstance(r, tinynn.Tensor) and r.dtype.kind == "f"]


def check_op(fn, shapes, domain, device=None):
    """gradcheck ``fn`` in float64; check float32 stays float32 and the graph is freed."""
    inputs = make_inputs(shapes, domain, np.float64, device=device)
    assert gradcheck(fn, inputs)

    inputs = make_inputs(shapes, domain, np.float32, device=device)
    outputs = _outputs(fn(*inputs))
    for out in outputs:
        assert out.dtype == tinynn.float32, f"output is {out.dtype}, not float32"
    rng = np.random.default_rng(1)
    loss = sum((o * tinynn.tensor(rng.standard_normal(o.shape).astype(np.float32),
                                  device=o.device)).sum() for o in outputs)
    if not loss.requires_grad:
        return
    roots = [o.grad_fn for o in outputs if o.grad_fn is not None]
    loss.backward()
    for i, x in enumerate(inputs):
        if x.grad is not None:
            assert x.grad.dtype == tinynn.float32, f"grad of input {i} is {x.grad.dtype}"
            assert x.grad.shape == x.shape, f"grad of input {i} has shape {x.grad.shape}"
            assert x.grad.device == x.device
    for root in roots:
        for node in graph_nodes(root):
            assert holds_no_arrays(node), f"{node} still holds arrays after backward: {vars(node)}"
