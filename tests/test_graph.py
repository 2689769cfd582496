"""Graphviz DOT export of the autograd graph."""
import tinynn
import tinynn.nn as nn


def test_dot_has_one_node_per_op_and_leaf_with_edges():
    model = nn.Linear(3, 2)
    x = tinynn.randn(4, 3)
    loss = model(x).relu().sum()
    dot = tinynn.to_dot(loss, params=dict(model.named_parameters()))
    assert dot.startswith("digraph autograd {") and dot.rstrip().endswith("}")
    for label in ("SumBackward", "ReLUBackward", "AddmmBackward0", "weight\\n[2, 3]", "bias\\n[2]"):
        assert label in dot
    assert dot.count("->") == 5  # weight, bias -> Linear -> ReLU -> Sum -> output
    assert "[4, 3]" not in dot   # x needs no gradient: not part of the graph


def test_dot_of_a_deep_chain_is_iterative():
    x = tinynn.ones(1, requires_grad=True)
    y = x
    for _ in range(3000):
        y = y * 1.0
    assert tinynn.to_dot(y).count("MulBackward0") == 3000
