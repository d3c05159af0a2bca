"""Graph nodes: what PyTorch calls ``grad_fn``.

A ``Node`` is recorded when an op runs in grad mode on an input that requires grad.  It
holds the op (whose rules compute the input gradients), the nodes of its inputs
(``next_functions``), and the values its rules need: the saved inputs and/or the output
array, plus the version of each saved tensor so that a later in-place change is caught.

References only point from outputs to inputs (tensor -> node -> input nodes / saved
inputs), never back, so reference counting alone frees a graph.  Every op has its own
``Node`` subclass named like PyTorch's (``MulBackward0``) so ``type(y.grad_fn).__name__``
and ``repr`` read as in PyTorch.  An op's node is recorded as an ``OpNode`` and takes its
named class when a user is first handed it (``grad_fn``, ``next_functions``, see
``shown``): while only the engine sees them, all op nodes have one class, so the
interpreter's attribute caches in the engine loop stay specialised (one class per op made
every ``node._next`` there a generic lookup: ~10 % more instructions per MLP step).
"""
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

__all__ = ["Node", "AccumulateGrad", "RemovableHandle"]

FREED_MSG = (
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). Saved intermediate values of the graph are freed "
    "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
    "backward through the graph a second time or if you need to access saved tensors after "
    "calling backward.")


class RemovableHandle:
    """Returned by ``register_hook``; ``handle.remove()`` unregisters the hook."""
    __slots__ = ("_list", "_fn")

    def __init__(self, hooks: list[Callable[..., Any]], fn: Callable[..., Any]) -> None:
        self._list, self._fn = hooks, fn

    def remove(self) -> None:
        if self._fn in self._list:
            self._list.remove(self._fn)


class Node:
    """A recorded op in the graph (PyTorch's ``grad_fn``).

    Attributes:

    ``op``
        the rule-table entry (a slot of ``OpNode``; None for a leaf's accumulator)
    ``_next``
        the input nodes, ``None`` for inputs that need no gradient
    ``_uses``
        how many edges of recorded nodes lead into this one: an upper bound of its
        consumers in any backward, so the engine needs no dependency pass (see
        ``engine._walk``)
    ``_inputs``
        saved inputs (tensors or Python numbers), ``None`` when none are saved;
        ``_arrays`` the same with arrays, read by first-order backward
    ``_out``
        saved output array or ``None``
    ``_versions``
        ``(index, version, counter)`` of each saved tensor at save time: index -1 is the
        output, whose counter is kept; an input's counter is read through the input
    ``_params``
        non-tensor arguments such as ``dim``
    ``_shapes``
        input shapes when broadcasting must be undone

    >>> import chainrule as torch
    >>> x = torch.tensor([1., 2.], requires_grad=True)
    >>> y = (x * 3).sum()
    >>> y.grad_fn.name(), y.grad_fn.next_functions[0][0].name()
    ('SumBackward0', 'MulBackward0')
    """
    # slots, all set when a node is made: every backward step reads _params, _shapes,
    # _pre_hooks and _out_fw, and reading a slot is much cheaper than reading a class
    # default through the instance (which Python 3.11 cannot specialise)
    __slots__ = ("_next", "_uses", "_inputs", "_arrays", "_out", "_versions", "_freed",
                 "_params", "_shapes", "_pre_hooks", "_out_fw", "__dict__", "__weakref__")
    _trace = None           # where the op ran (set under detect_anomaly only)

    def name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        return f"<{self.name()} object at {hex(id(self))}>"

    @property
    def next_functions(self) -> tuple[tuple["Node | None", int], ...]:
        """((node, 0), ...) for each input, ``(None, 0)`` where no gradient flows."""
        return tuple((None if n is None else shown(n), 0) for n in self._next)

    @property
    def metadata(self) -> dict[str, Any]:
        return {}

    def register_hook(self, fn: Callable[..., Any]) -> RemovableHandle:
        raise NotImplementedError("Node.register_hook is not supported; use Tensor.register_hook")

    def register_prehook(self, fn: Callable[..., Any]) -> RemovableHandle:
        """Call ``fn(grad)`` with the gradient flowing into this node; it may return a
        replacement gradient."""
        if self._pre_hooks is None:
            self._pre_hooks = []
        self._pre_hooks.append(fn)
        return RemovableHandle(self._pre_hooks, fn)

    def _check_saved(self):
        """Raise PyTorch's errors if the saved values were freed or modified in place."""
        if self._freed:
            raise RuntimeError(FREED_MSG)
        if self._versions is None:
            return
        for idx, version, box in self._versions:
            if box is None:
                box = self._inputs[idx]._vc
            now = 0 if box is None else box[0]
            if now != version:
                arr = self._out if idx < 0 else self._inputs[idx]._data
                what = (f"output 0 of {self.name()}" if idx < 0
                        else f"input {idx} of {self.name()}")
                raise RuntimeError(
                    f"one of the variables needed for gradient computation has been modified by "
                    f"an inplace operation: [{_type_str(arr)}], which is {what}, is at version "
                    f"{now}; expected version {version} instead. Hint: compute on a copy "
                    f"(tensor.clone()) or use the out-of-place form of the op (x = x + 1 rather "
                    f"than x += 1).")

    def release(self):
        """Drop the saved values (done by backward unless ``retain_graph=True``)."""
        if self._inputs is not None or self._out is not None:
            self._inputs = None
            self._arrays = None
            self._out = None
            if self._out_fw is not None:
                self._out_fw = None
            self._freed = True

    # (calling a node and ``saved_tensors`` give Tensors: autograd/engine.py adds them;
    # declared here for type checkers)
    if TYPE_CHECKING:
        def __call__(self, *grads: Any) -> tuple[Any, ...]: ...

        @property
        def saved_tensors(self) -> tuple[Any, ...]: ...


def _type_str(arr):
    names = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
             "int64": "LongTensor", "int32": "IntTensor", "int16": "ShortTensor",
             "int8": "CharTensor", "uint8": "ByteTensor", "bool": "BoolTensor"}
    shape = ", ".join(str(s) for s in arr.shape)
    return f"torch.{names.get(arr.dtype.name, 'Tensor')} [{shape}]"


class OpNode(Node):
    """The class every node is recorded with: an op's node (``op`` is the rule-table
    entry) or a leaf's accumulator (``op`` None, ``variable`` the leaf).  It takes its
    named class (``MulBackward0``, ``AccumulateGrad``) when a user is handed it
    (``shown``)."""
    __slots__ = ("op", "variable")

    def name(self):
        op = self.op
        return "AccumulateGrad" if op is None else op.node_cls.__name__


class AccumulateGrad(OpNode):
    """The node of a leaf that requires grad: adds incoming gradients into ``leaf.grad``
    (made by ``accumulator``; recorded as an ``OpNode`` with ``op`` None)."""
    __slots__ = ()

    def __init__(self, variable):
        _init_accumulator(self, variable)


def _init_accumulator(node, variable):
    node.op = None
    node.variable = variable
    node._next = ()
    node._uses = 0
    node._inputs = None
    node._arrays = None
    node._out = None
    node._freed = False
    node._versions = None
    node._params = node._shapes = node._pre_hooks = node._out_fw = None


def accumulator(variable):
    """A new accumulator node for the leaf ``variable`` (an ``OpNode`` until shown)."""
    node = object.__new__(OpNode)
    _init_accumulator(node, variable)
    return node


def shown(node):
    """``node`` as users see it: an ``OpNode`` takes its named class (same layout, so
    only the type changes) the first time it is handed out."""
    if node.__class__ is OpNode:
        node.__class__ = AccumulateGrad if node.op is None else node.op.node_cls
    return node


def make_node_class(backward_name, op):
    """The ``OpNode`` subclass users see for one op, named like PyTorch's
    (``MulBackward0``); nodes are recorded as plain ``OpNode`` (see the module doc)."""
    return type(backward_name, (OpNode,),
                {"__slots__": (), "__module__": "chainrule.autograd.graph"})
