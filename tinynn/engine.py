"""The recorded graph and the backward engine.

Every differentiable op that runs while gradients are needed leaves a ``Node`` behind: the
output tensor's ``grad_fn``. A node knows the nodes (or leaf tensors) its inputs came from
(its edges) and the arrays its backward needs, which it keeps only until backward has used
them. ``backward`` visits the nodes in reverse topological order, sums the gradients that
reach each node from every path, and hands each node's input gradients down its edges.
A leaf is served (its hooks, its ``.grad``, its post-accumulate hooks) as soon as the last
node with an edge to it has run, so a hook can start work (DistributedDataParallel starts
an allreduce) while the rest of the graph is still going backward.
"""
import weakref

from .backend import is_writeable
from .grad_mode import no_grad

__all__ = ["Node", "run_backward", "register_post_accumulate_grad_hook", "queue_callback"]

FREED_GRAPH = ("Trying to backward through the graph a second time (or directly access saved "
               "tensors after they have already been freed). Saved intermediate values of the "
               "graph are freed when you call .backward(). Specify retain_graph=True if you "
               "need to backward through the graph a second time.")


class Node:
    """One recorded operation (``Function`` adds how it is run).

    ``needs_input_grad[i]`` says whether input ``i`` wants a gradient; ``_edges[i]`` is the
    node that made input ``i``, the leaf tensor itself, or None.
    """

    backward_name = None   # PyTorch's name for the node, when it is not "<ClassName>Backward0"
    needs_input_grad = ()
    _edges = ()
    _saved = ()
    _freed = False
    _retained = None       # weakref to a tensor that called retain_grad()
    _hooks = None          # hooks on the gradient of this node's output

    def save_for_backward(self, *arrays):
        """Keep these arrays for backward; they are dropped as soon as backward has run."""
        self._saved = arrays

    @property
    def saved_arrays(self):
        if self._freed:
            raise RuntimeError(FREED_GRAPH)
        return self._saved

    def backward(self, grad):
        raise NotImplementedError

    def _free(self):
        self._saved = None
        self._freed = True

    @property
    def name(self):
        return self.backward_name or type(self).__name__ + "Backward0"

    def __repr__(self):
        return f"<{self.name}>"


def topological_order(roots):
    """Nodes reachable from ``roots``, each after every node that consumes its output.

    Iterative depth-first search: deep graphs (ResNet-50, long chains) never touch
    Python's recursion limit.
    """
    post_order, seen = [], set()
    for root in roots:
        if id(root) in seen:
            continue
        seen.add(id(root))
        stack = [(root, iter(root._edges))]
        while stack:
            node, edges = stack[-1]
            for edge in edges:
                if isinstance(edge, Node) and id(edge) not in seen:
                    seen.add(id(edge))
                    stack.append((edge, iter(edge._edges)))
                    break
            else:
                stack.pop()
                post_order.append(node)
    post_order.reverse()
    return post_order


_post_accumulate_hooks = {}   # id(leaf tensor) -> [hook(tensor), ...]
_callbacks = None             # callbacks queued during the backward pass now running


def register_post_accumulate_grad_hook(tensor, hook):
    """Call ``hook(tensor)`` every time backward has accumulated a gradient into the leaf
    ``tensor``'s ``.grad`` (``torch.Tensor.register_post_accumulate_grad_hook``).
    Returns a handle whose ``remove()`` takes the hook away again."""
    if tensor._grad_fn is not None:
        raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
    if not tensor.requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    if id(tensor) not in _post_accumulate_hooks:
        _post_accumulate_hooks[id(tensor)] = []
        weakref.finalize(tensor, _post_accumulate_hooks.pop, id(tensor), None)  # before id reuse
    hooks = _post_accumulate_hooks[id(tensor)]
    hooks.append(hook)
    return _HookHandle(hooks, hook)


class _HookHandle:
    def __init__(self, hooks, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self):
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


def queue_callback(callback):
    """Run ``callback()`` once the backward pass now running has served every leaf
    (PyTorch's ``Variable._execution_engine.queue_callback``); call it from a hook."""
    if _callbacks is None:
        raise RuntimeError("queue_callback can only be called during the backward pass")
    _callbacks.append(callback)


def run_backward(roots, seeds, retain_graph=False, inputs=None, accumulate=True):
    """Propagate ``seeds`` (arrays, one per root tensor) back through the graph.

    With ``inputs=None`` every leaf's ``.grad`` accumulates its gradient. With ``inputs``
    (tensors, leaves or not) their gradients are returned in that order (None where no path
    leads to one), and only they accumulate into ``.grad`` when ``accumulate`` is set.
    Callbacks queued by hooks (``queue_callback``) run at the end.
    """
    global _callbacks
    outer, _callbacks = _callbacks, []
    try:
        found = _propagate(roots, seeds, retain_graph, inputs, accumulate)
        while _callbacks:
            _callbacks.pop(0)()
    finally:
        _callbacks = outer
    return found


def only_holder(g, incoming, input_grads):
    """True when the gradient array ``g`` that a backward returned is a fresh array that
    nothing else holds, so a leaf's ``.grad`` may take it over instead of copying it: not
    the node's incoming gradient passed through, not handed to two inputs, not a view of
    another array (a saved one, a broadcast), not read-only."""
    if g is incoming or g.base is not None or not is_writeable(g):
        return False
    return sum(other is g for other in input_grads) == 1


def _propagate(roots, seeds, retain_graph, inputs, accumulate):
    inputs = list(inputs) if inputs is not None else None
    slot_of_node, slot_of_leaf = {}, {}
    for i, t in enumerate(inputs or ()):
        (slot_of_node if t._grad_fn is not None else slot_of_leaf)[id(t._grad_fn or t)] = i
    found = [None] * len(inputs or ())

    def collect(slot, grad):
        found[slot] = grad if found[slot] is None else found[slot] + grad

    # A leaf reached by several paths gets the sum of them, and its hooks see that sum once
    # (as PyTorch's AccumulateGrad node does): a leaf is served once every node with an edge
    # to it has run (``consumers`` counts the edges still to run); roots at the end.
    leaf_grads = {}   # id(leaf) -> (leaf, summed gradient, whether the engine alone holds it)

    def serve(leaf, grad, owned):
        owned = owned and not leaf._hooks    # a hook may keep the array it was shown
        grad = leaf._run_hooks(grad)
        if inputs is None:
            leaf._accumulate_grad(grad, owned=owned)
            for hook in list(_post_accumulate_hooks.get(id(leaf), ())):
                hook(leaf)
        else:
            collect(slot_of_leaf[id(leaf)], grad)

    def serve_leaves_fed_by(node):
        for leaf in leaf_edges.get(id(node), ()):
            key = id(leaf)
            consumers[key] -= 1
            if consumers[key] == 0 and key in leaf_grads:
                serve(*leaf_grads.pop(key))

    def deliver_to_leaf(leaf, grad, owned=False):
        if inputs is not None and id(leaf) not in slot_of_leaf:
            return   # with ``inputs``, every other leaf is ignored
        key = id(leaf)
        # A sum of two paths is a fresh array that nothing else holds.
        leaf_grads[key] = (leaf, grad, owned) if key not in leaf_grads else \
            (leaf, leaf_grads[key][1] + grad, True)

    pending, root_nodes = {}, []   # pending: the summed gradient of each node's output
    for tensor, seed in zip(roots, seeds):
        node = tensor._grad_fn
        if node is None:
            deliver_to_leaf(tensor, seed)
            continue
        pending[id(node)] = seed if id(node) not in pending else pending[id(node)] + seed
        root_nodes.append(node)

    order, consumers, leaf_edges = topological_order(root_nodes), {}, {}
    for node in order:
        leaves = [edge for edge in node._edges if edge is not None and not isinstance(edge, Node)]
        if leaves:
            leaf_edges[id(node)] = leaves
            for leaf in leaves:
                consumers[id(leaf)] = consumers.get(id(leaf), 0) + 1

    with no_grad():
        for node in order:
            if node._freed:
                raise RuntimeError(FREED_GRAPH)
            grad = pending.pop(id(node), None)
            if grad is None:  # this node's output did not influence the result
                serve_leaves_fed_by(node)
                continue
            for hook in node._hooks or ():
                grad = hook(grad)
            if id(node) in slot_of_node:
                collect(slot_of_node[id(node)], grad)
            if inputs is None and node._retained is not None and node._retained() is not None:
                node._retained()._accumulate_grad(grad)
            input_grads = node.backward(grad)
            if not isinstance(input_grads, tuple):
                input_grads = (input_grads,)
            for edge, needed, g in zip(node._edges, node.needs_input_grad, input_grads):
                if not needed or g is None or edge is None:
                    continue
                if isinstance(edge, Node):
                    key = id(edge)
                    # A node reached by several paths gets the sum (never added in place:
                    # the first array may be shared with another input).
                    pending[key] = g if key not in pending else pending[key] + g
                else:
                    deliver_to_leaf(edge, g, owned=only_holder(g, grad, input_grads))
            if not retain_graph:
                node._free()
            serve_leaves_fed_by(node)

    for leaf, grad, owned in list(leaf_grads.values()):   # leaves that were roots themselves
        serve(leaf, grad, owned)

    if inputs is not None and accumulate:
        for t, g in zip(inputs, found):
            if g is not None:
                t._accumulate_grad(g)
                for hook in list(_post_accumulate_hooks.get(id(t), ())):
                    hook(t)
    return found
