"""The reverse-mode engine: ``backward`` and ``grad``.

1. Discover the graph below the outputs and sort it topologically (Kahn's algorithm on
   dependency counts -- no recursion, so a 100,000-op chain is fine).
2. Seed each output's node with its output gradient.
3. Walk the nodes in order.  At each node: pop its gradient (so memory follows the
   frontier), run pre-hooks, call each input's VJP rule, undo broadcasting, release the
   saved values (unless ``retain_graph``), and add the results into the input nodes'
   buffers.  Leaf nodes (``AccumulateGrad``) add into ``leaf.grad``.

Rules run on raw NumPy arrays (namespace ``NF``) unless a graph of the backward pass is
wanted (``create_graph=True``) or forward mode is active, in which case they run on
Tensors (namespace ``TF``) so their results are themselves differentiable.

Threads: grad mode is per thread (``STATE``), so the engine turning recording off while
it runs never affects another thread.  Several threads may run backward at once; adding
into a ``.grad`` is done under ``_GRAD_LOCK`` (PyTorch's AccumulateGrad holds a mutex
too), so concurrent backward passes into a shared leaf lose no contribution.
"""
import sys

import numpy as np

from .._backend import as_array, copy_array, is_device_array, to_host
from .._creation import tensor, zeros_like
from .._rules import NF, TF
from .._tensor import Tensor, bump_version, wrap
from .._specialise import specialise
from .._grad_mode import GRAD_LOCK as _GRAD_LOCK, SHARED, STATE, notify as _notify
from .._graph import FREED_MSG, Node

__all__ = ["backward", "grad"]

_empty = np.empty
_ndarray = np.ndarray
_copy = copy_array


def _check_output(i, t):
    if not t._rg:
        raise RuntimeError(
            f"element {i} of tensors does not require grad and does not have a grad_fn. "
            f"Set requires_grad=True on the inputs you want gradients for (e.g. "
            f"torch.tensor(..., requires_grad=True) or x.requires_grad_()) before computing it.")


def _seed(outputs, grad_outputs, create_graph):
    """The initial gradient for each output, validated like PyTorch."""
    seeds = []
    for i, t in enumerate(outputs):
        g = None if grad_outputs is None else grad_outputs[i]
        if g is None:
            if t._data.size != 1:
                raise RuntimeError(
                    f"grad can be implicitly created only for scalar outputs. Output {i} has "
                    f"shape {list(t._data.shape)}: pass gradient= (e.g. "
                    f"y.backward(torch.ones_like(y))) or reduce the output to a scalar first "
                    f"(y.sum().backward()).")
            d = t._data
            # (np.ones_like: a slower Python wrapper, used for device arrays only)
            g = np.ones(d.shape, d.dtype) if d.__class__ is _ndarray else np.ones_like(d)
            seeds.append(wrap(g) if create_graph else g)
            continue
        if not isinstance(g, Tensor):
            g = tensor(g, dtype=t.dtype)
        if g._data.shape != t._data.shape:
            raise RuntimeError(
                f"Mismatch in shape: grad_output[{i}] has a shape of torch.Size("
                f"{list(g._data.shape)}) and output[{i}] has a shape of torch.Size("
                f"{list(t._data.shape)}). The gradient passed to backward must have the "
                f"output's shape.")
        if g._data.dtype != t._data.dtype:
            g = g.to(t.dtype)
        seeds.append(g if create_graph else g._data)
    return seeds


def _topo_order(roots):
    """Nodes reachable from ``roots`` in an order where every node precedes its inputs."""
    deps = {}
    stack = list(roots)
    seen = set(roots)
    while stack:
        node = stack.pop()
        for nxt in node._next:
            if nxt is None:
                continue
            deps[nxt] = deps.get(nxt, 0) + 1
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    order = []
    ready = [r for r in dict.fromkeys(roots) if r not in deps]
    while ready:
        node = ready.pop()
        order.append(node)
        for nxt in node._next:
            if nxt is None:
                continue
            d = deps[nxt] - 1
            deps[nxt] = d
            if d == 0:
                ready.append(nxt)
    return order


def undo_broadcast(F, g, shape):
    """Sum a gradient back to an input's shape -- the one place broadcasting is undone."""
    return F.sum_to(g, shape)


# (acquire/release called directly: half the instructions of a ``with`` block on 3.11)
_lock, _unlock = _GRAD_LOCK.acquire, _GRAD_LOCK.release


def apply_node(node, g, tensor_mode):
    """The input gradients of ``node`` for its output gradient ``g``: the one function
    that calls VJP rules, and the one place broadcasting is undone.  Arrays and ``NF``,
    or Tensors and ``TF`` in tensor mode; a sequence with an entry per input, ``None``
    where no gradient flows.  Raises PyTorch's errors when the saved values were freed or
    changed in place since they were saved."""
    if node._freed:
        node._check_saved()
    versions = node._versions
    if versions is not None:
        for i, version, box in versions:
            if box is None:
                box = node._inputs[i]._vc
            if (0 if box is None else box[0]) != version:
                node._check_saved()         # raises PyTorch's in-place error
    op = node.op
    params = node._params
    nexts = node._next
    n = len(nexts)
    out = node._out
    if tensor_mode:
        F = TF
        inputs = node._inputs
        if out is not None:
            out = wrap(out)                 # the output, re-attached to this node
            out._node = node
            out._rg = True
            out._fw = node._out_fw
    else:
        F = NF
        inputs = node._arrays               # the saved inputs' arrays, unwrapped at record time
    if inputs is None:
        inputs = (None,) * n
    if op.vjp_all is not None:
        every = op.vjp_all(F, g, out, *inputs, **params) if params else \
            op.vjp_all(F, g, out, *inputs)
        grads = [None if nxt is None else gi for nxt, gi in zip(nexts, every)]
        every = None
    else:
        vjps = op.vjps
        # (one and two inputs written out: no list and loop for the common nodes)
        if n == 1:
            grads = (None if nexts[0] is None else
                     vjps[0](F, g, out, *inputs, **params) if params else
                     vjps[0](F, g, out, *inputs),)
        elif n == 2:
            grads = (None if nexts[0] is None else
                     vjps[0](F, g, out, *inputs, **params) if params else
                     vjps[0](F, g, out, *inputs),
                     None if nexts[1] is None else
                     vjps[1](F, g, out, *inputs, **params) if params else
                     vjps[1](F, g, out, *inputs))
        else:
            # (a loop, not a comprehension: a comprehension would make ``g`` and the other
            # names it reads cells, slower to reach everywhere in the walk it is inlined in)
            grads = []
            i = 0
            for nxt in nexts:
                grads.append(None if nxt is None else
                             vjps[i](F, g, out, *inputs, **params) if params else
                             vjps[i](F, g, out, *inputs))
                i += 1
    shapes = node._shapes
    if shapes is not None:
        grads = list(grads)
        i = 0
        for gi in grads:
            if gi is not None and shapes[i] is not None and gi.shape != shapes[i]:
                grads[i] = F.sum_to(gi, shapes[i])
            i += 1
    return grads


def _dependencies(roots):
    """For every node below ``roots``: how many edges lead into it (no recursion)."""
    deps = {}
    rootset = set(roots)
    stack = list(rootset)
    get = deps.get
    while stack:
        for nxt in stack.pop()._next:
            if nxt is None:
                continue
            d = get(nxt)
            if d is None:
                deps[nxt] = 1
                if nxt not in rootset:
                    stack.append(nxt)
            else:
                deps[nxt] = d + 1
    return deps


# (the walk's two small searches, as functions: a comprehension inside ``_walk`` would
# make the names it reads cells, slower to reach everywhere in the walk)
def _not_in(nodes, counts):
    """The nodes of ``nodes`` that no count waits for: those ready to run."""
    return [r for r in nodes if r not in counts]


def _leads_on(nexts, needed):
    """Whether one of the input nodes ``nexts`` leads to a target."""
    return any(nx in needed for nx in nexts if nx is not None)


def run_backward(outputs, grad_outputs, retain_graph, create_graph, inputs=None,
                 accumulate=True, allow_unused=False):
    """Shared by ``backward`` (accumulate into leaves) and ``grad`` (return gradients):
    check the arguments, seed the outputs, and walk."""
    if inputs is None and grad_outputs is None and len(outputs) == 1 and not create_graph \
            and not STATE.fw_level and not SHARED.observed:
        # the common ``loss.backward()``: one scalar output seeded with 1 (the general
        # argument handling below does the same with checks this case does not need)
        t = outputs[0]
        d = t._data
        if t._rg and d.size == 1:
            node = t._node or t._grad_accumulator()
            seed = _empty(d.shape, d.dtype) if d.__class__ is _ndarray else np.empty_like(d)
            seed.fill(1)
            prev = STATE.enabled
            STATE.enabled = False
            try:
                _walk_plain((node,), {node: seed}, False, bool(retain_graph), accumulate,
                            False)
            finally:
                STATE.enabled = prev
            return None
    if retain_graph is None:
        retain_graph = create_graph
    for i, t in enumerate(outputs):
        _check_output(i, t)
    seeds = _seed(outputs, grad_outputs, create_graph)
    tensor_mode = bool(create_graph or STATE.fw_level)
    if tensor_mode and not isinstance(seeds[0], Tensor):
        seeds = [wrap(s) for s in seeds]
    elif not tensor_mode:
        seeds = [s._data if isinstance(s, Tensor) else s for s in seeds]

    root_nodes = [t._node or t._grad_accumulator() for t in outputs]

    # which nodes' incoming gradient is captured (autograd.grad / backward(inputs=...)),
    # and which nodes lead to one of them (the others need not run)
    targets = needed = captured = None
    if inputs is not None:
        targets = {}
        for t in inputs:
            if not isinstance(t, Tensor):
                raise TypeError("inputs must be Tensors")
            if not t._rg:
                raise RuntimeError("One of the differentiated Tensors does not require grad")
            targets.setdefault(t._node or t._grad_accumulator(), []).append(t)
        needed = set()
        for node in reversed(_topo_order(root_nodes)):
            if node in targets or any(n in needed for n in node._next if n is not None):
                needed.add(node)
        captured = {}

    if SHARED.observed:
        _notify("backward_begins", root_nodes, seeds, tensor_mode, grad_outputs)
    buffers = {}
    for node, s in zip(root_nodes, seeds):
        buffers[node] = s if node not in buffers else buffers[node] + s

    prev = STATE.enabled
    STATE.enabled = bool(create_graph)
    try:
        _walk(root_nodes, buffers, tensor_mode, retain_graph, accumulate, create_graph,
              targets, needed, captured, STATE.observers if SHARED.observed else ())
    finally:
        STATE.enabled = prev

    if targets is None:
        return None
    if SHARED.observed:
        _notify("backward_ends", captured)
    result = []
    for i, t in enumerate(inputs):
        node = t._node or t._grad_accumulator()
        g = captured.get(node)
        if g is None:
            if not allow_unused and not accumulate:
                raise RuntimeError(
                    f"The differentiated Tensor at index {i} appears to not have been used in "
                    f"the graph. Set allow_unused=True if this is the desired behavior (its "
                    f"gradient is then None), or check that the output depends on it.")
            result.append(None)
            continue
        if not isinstance(g, Tensor):
            g = wrap(as_array(g))           # (a NumPy scalar from a 0-d rule: an array)
        result.append(g)
    return result


def _walk(roots, buffers, tensor_mode, retain_graph, accumulate, create_graph,
          targets=None, needed=None, captured=None, observers=()):
    """The backward walk: run every node below ``roots`` once all its consumers have run
    (Kahn's order, computed as it goes), starting from the gradients in ``buffers``.

    At a node: take its gradient, run its pre-hooks, capture it if the node is a target
    (``autograd.grad``'s inputs, ``backward(inputs=)``), add it into ``.grad`` at a leaf,
    else compute the input gradients (``apply_node``, wrapped by observers such as
    anomaly detection) and send them on.  ``needed``: the nodes that lead to a target
    (others are skipped); ``None`` runs everything.  ``observers``: this thread's
    (``grad_mode.observe``), whose ``run_node`` hooks wrap each step.

    Counting consumers: with one root, each node's ``_uses`` (kept by ``apply``) counts
    its recorded consumers, and only nodes with several are tracked in ``left``.
    ``_uses`` can over-count (a consumer outside this graph: a branch that does not lead
    to the output, a graph kept from an earlier step), never under-count, so the walk
    can stall but never runs a node early; on a stall the rest is finished with exact
    counts from a dependency pass (``_dependencies``).  Several roots use exact counts
    from the start.  A node hands the gradient of its first input node that becomes
    ready (the only one, in a chain) straight to it and runs it next, without the
    ``ready`` list and the buffer dict."""
    if len(roots) == 1:
        exact = False
        left = {}                   # nodes with several consumers: how many still to run
        ready = [roots[0]]
    else:
        exact = True
        roots = list(dict.fromkeys(roots))
        left = _dependencies(roots)
        ready = _not_in(roots, left)
    pop = buffers.pop
    get = buffers.get
    while True:
        while ready:
            node = ready.pop()
            g = pop(node, None)
            while True:
                nexts = node._next
                n = len(nexts)
                # the input node to run next (``follow``): the first one whose last
                # consumer this is; others that become ready wait in ``ready``.  (A chain
                # link -- one input node, used once -- is taken without the loop.)
                if not (n == 1 and (follow := nexts[0]) is not None and follow._uses == 1 and
                        (needed is None or follow in needed)):
                    follow = None
                    for nxt in nexts:
                        if nxt is not None and (needed is None or nxt in needed):
                            u = nxt._uses
                            if u != 1:
                                d = left.get(nxt, u) - 1
                                if d:
                                    left[nxt] = d
                                    continue
                                del left[nxt]
                            if follow is None:
                                follow = nxt
                            else:
                                ready.append(nxt)
                gnext = None                # the gradient for ``follow``
                if g is not None and node._pre_hooks:
                    g = _run_hooks(node._pre_hooks, g, tensor_mode)
                if g is not None and targets is not None and node in targets:
                    captured[node] = g
                    if not accumulate:
                        # autograd.grad stops at its inputs unless they lead to others
                        if not _leads_on(nexts, needed):
                            g = None
                    elif node.op is None:
                        _accumulate(node, g, create_graph)
                        g = None
                    else:               # backward(inputs=[y]), y a non-leaf: into y.grad
                        for t in targets[node]:
                            _accumulate_nonleaf(t, g, create_graph)
                if g is not None:
                    op = node.op
                    if op is None:                  # a leaf's accumulator
                        if accumulate and targets is None:
                            _accumulate(node, g, create_graph)
                    else:
                        if observers:
                            grads = _observed_run(observers, node, g, tensor_mode)
                        else:
                            grads = apply_node(node, g, tensor_mode)
                        if not retain_graph:
                            node.release()
                        if follow is not None and n == 1:     # a chain link
                            gnext = grads[0]
                        else:
                            i = 0
                            for nxt in nexts:
                                gi = grads[i]
                                i += 1
                                if gi is None or nxt is None:
                                    continue
                                if nxt is follow:           # (twice for x * x)
                                    gnext = gi if gnext is None else gnext + gi
                                elif needed is None or nxt in needed:
                                    old = get(nxt)
                                    buffers[nxt] = gi if old is None else old + gi
                        grads = gi = old = None     # no stale references (_OWNED_REFS)
                g = None
                if follow is None:
                    break
                node = follow
                if buffers:
                    old = pop(node, None)       # (a seed given to an output inside the graph)
                    if old is not None:
                        gnext = old if gnext is None else old + gnext
                        old = None
                g = gnext
                gnext = None
        if not exact and buffers:
            # stalled: a node still waits for a consumer that is not in this graph (see
            # above); finish with exact counts over what is left
            exact = True
            frontier = list(buffers)
            left = _dependencies(frontier)
            ready = _not_in(frontier, left)
            continue
        return


def _call_node(self, *grads):
    """Apply this node's VJP to an output gradient (for inspection and teaching).

    >>> import chainrule as torch
    >>> x = torch.tensor([1.0, 2.0], requires_grad=True)
    >>> (x * 3).grad_fn(torch.ones(2))
    (tensor([3., 3.]), None)
    """
    g = grads[0]
    res = apply_node(self, g._data if isinstance(g, Tensor) else np.asarray(g), False)
    return tuple(None if r is None else wrap(r) for r in res)


def _saved_tensors(self):
    """The tensors this node keeps for its backward (inputs and/or output)."""
    if self._freed:
        raise RuntimeError(FREED_MSG)
    out = [x for x in (self._inputs or ()) if isinstance(x, Tensor)]
    if self._out is not None:
        out.append(wrap(self._out))
    return tuple(out)


# what a node does with Tensors lives here, above Tensor and Node
Node.__call__ = _call_node
Node.saved_tensors = property(_saved_tensors)


def _observed_run(observers, node, g, tensor_mode):
    """``apply_node`` wrapped by the ``run_node`` hooks of this thread's observers."""
    def run():
        return apply_node(node, g, tensor_mode)
    for ob in observers:
        hook = getattr(ob, "run_node", None)
        if hook is not None:
            run = (lambda h, r: lambda: h(node, r))(hook, run)
    grads = run()
    for ob in observers:
        ran = getattr(ob, "node_ran", None)
        if ran is not None:
            ran(node, g, grads)
    return grads


# the walk as it runs: written once (``_walk``); a plain ``loss.backward()`` (arrays, no
# targets, no observers) runs a copy specialised for it, with ``apply_node`` inlined in
# array mode (see ``chainrule._specialise``)
_walk_plain = specialise(
    _walk, "_walk_plain", tensor_mode=False, targets=None, needed=None, captured=None,
    observers=(), inline={"apply_node": (apply_node, dict(tensor_mode=False),
                                         {"clear": ("out", "inputs"), "bound": ("nexts", "n", "op")})})


def _run_hooks(hooks, g, tensor_mode):
    gt = g if isinstance(g, Tensor) else wrap(g)
    retain = []
    for h in list(hooks):
        if getattr(h, "retain", False):
            retain.append(h)        # retain_grad stores the gradient after user hooks
            continue
        r = h(gt)
        if r is not None:
            if not isinstance(r, Tensor) or r._data.shape != gt._data.shape:
                raise RuntimeError(f"hook {getattr(h, '__name__', h)!r} has changed the size of "
                                   f"value: it must return None or a Tensor of shape "
                                   f"{list(gt._data.shape)}")
            if r._data.dtype != gt._data.dtype:
                raise RuntimeError(f"hook {getattr(h, '__name__', h)!r} has changed the type of "
                                   f"value (was {gt.dtype}, got {r.dtype}); return a gradient "
                                   f"of the same dtype, e.g. g.to(g.dtype)")
            gt = r
    for h in retain:
        h(gt)
    return gt if tensor_mode else gt._data


def _accumulate(node, g, create_graph):
    """Add ``g`` into the leaf's ``.grad`` (PyTorch's AccumulateGrad)."""
    if SHARED.observed:
        _notify("accumulating", node, g)
    leaf = node.variable
    if leaf._hooks:
        g = _run_hooks(leaf._hooks, g, isinstance(g, Tensor))
    if isinstance(g, Tensor):
        if g._data.dtype != leaf._data.dtype:
            g = g.to(leaf.dtype)
        if g._data.__class__ is not leaf._data.__class__ and g.device != leaf.device:
            g = g.to(leaf.device)       # a CPU scalar tensor's gradient from a device op
        if not create_graph:
            g = g.detach()
        _lock()
        try:
            if leaf._grad is None:
                leaf._grad = g if create_graph else wrap(_copy(g._data))
            else:
                leaf._grad = leaf._grad + g if create_graph or leaf._grad._rg else \
                    _inplace_add(leaf._grad, g._data)
        finally:
            _unlock()
        return
    if g.dtype != leaf._data.dtype:
        g = g.astype(leaf._data.dtype)
    if leaf._data.__class__ is _ndarray and is_device_array(g):
        g = to_host(g)                  # a CPU scalar tensor's gradient from a device op
    if g.shape != leaf._data.shape:
        g = np.broadcast_to(g, leaf._data.shape)
    _lock()                 # (another thread's backward may be adding into the same leaf)
    try:
        if leaf._grad is None:
            # adopt g as .grad without a copy when nothing else can see its memory: it owns
            # its data (not a view), is writeable, and only this call chain refers to it
            # (a device array has no writeable flag: its memory is always writeable)
            if g.base is None and (g.flags.writeable if g.__class__ is _ndarray else
                                   is_device_array(g)) and _refcount(g) <= _OWNED_REFS:
                leaf._grad = wrap(g)
            else:
                leaf._grad = wrap(_copy(g))
        else:
            leaf._grad = _inplace_add(leaf._grad, g)
    finally:
        _unlock()


_refcount = sys.getrefcount


def _refs_seen_by_callee(g):
    return _refcount(g)


def _owned_refs():
    """References to a gradient held by the engine itself when ``_accumulate`` looks at it
    -- the engine loop's local, ``_accumulate``'s argument, ``getrefcount``'s argument: 3
    on CPython 3.11 -- measured with the same call shape, so that an interpreter counting
    references differently (borrowed references on the stack) lowers the bound instead of
    letting ``.grad`` adopt an array someone else holds."""
    g = np.empty(1)
    return _refs_seen_by_callee(g)


_OWNED_REFS = _owned_refs()


def _accumulate_nonleaf(t, g, create_graph):
    """``backward(inputs=[t])`` for a non-leaf ``t``: add ``g`` into ``t.grad``."""
    if t._retains:
        return                      # retain_grad's hook has already stored it
    if not isinstance(g, Tensor):
        g = wrap(_copy(g))
    elif not create_graph:
        g = wrap(_copy(g._data))
    with _GRAD_LOCK:
        t._grad = g if t._grad is None else t._grad + g


def _inplace_add(grad, g):
    grad._data += g
    bump_version(grad)
    return grad


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate the gradients of ``tensors`` w.r.t. graph leaves into their ``.grad``.

    >>> import chainrule as torch
    >>> x = torch.tensor([1.0, 2.0], requires_grad=True)
    >>> torch.autograd.backward([(x * x).sum()]); x.grad
    tensor([2., 4.])
    """
    if isinstance(tensors, Tensor):
        tensors = (tensors,)
    tensors = tuple(tensors)
    if grad_tensors is not None:
        if isinstance(grad_tensors, Tensor):
            grad_tensors = (grad_tensors,)
        grad_tensors = tuple(grad_tensors)
        if len(grad_tensors) != len(tensors):
            raise RuntimeError(f"backward: got {len(grad_tensors)} gradients for "
                               f"{len(tensors)} tensors; pass one gradient per tensor")
    if inputs is not None:
        if isinstance(inputs, Tensor):
            inputs = (inputs,)
        inputs = tuple(inputs)
        if not inputs:
            raise RuntimeError("'inputs' argument to backward() cannot be empty.")
    run_backward(tensors, grad_tensors, retain_graph, create_graph, inputs=inputs,
                 accumulate=True)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """Gradients of ``outputs`` w.r.t. ``inputs``, returned (not accumulated into ``.grad``).

    >>> import chainrule as torch
    >>> x = torch.tensor(3.0, requires_grad=True)
    >>> (dx,) = torch.autograd.grad(x ** 3, x, create_graph=True)
    >>> dx, torch.autograd.grad(dx, x)[0]
    (tensor(27., grad_fn=<MulBackward0>), tensor(18.))
    """
    single_out = isinstance(outputs, Tensor)
    outputs = (outputs,) if single_out else tuple(outputs)
    single_in = isinstance(inputs, Tensor)
    inputs = (inputs,) if single_in else tuple(inputs)
    if grad_outputs is not None:
        grad_outputs = (grad_outputs,) if isinstance(grad_outputs, Tensor) else tuple(grad_outputs)
        if len(grad_outputs) != len(outputs):
            raise RuntimeError(f"grad requires one grad_output per output: got "
                               f"{len(grad_outputs)} grad_outputs and {len(outputs)} outputs")
    if allow_unused is None:
        allow_unused = materialize_grads
    res = run_backward(outputs, grad_outputs, retain_graph, create_graph, inputs=inputs,
                       accumulate=False, allow_unused=allow_unused)
    if materialize_grads:
        res = [(zeros_like(t) if g is None else g) for g, t in zip(res, inputs)]
    return tuple(res)
