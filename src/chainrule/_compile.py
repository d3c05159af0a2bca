"""``chainrule.compile``: record a function's array program once, replay it without Tensors.

The first call of a compiled function (for a given set of guards) runs it eagerly with a
``Recorder`` attached to the thread as an observer (``grad_mode.observe``).  The recorder
writes one line of Python per array-level step the eager run performs:

* every op (``op_ran``): ``out = op.forward(*arrays, **params)``;
* every backward step (``node_ran``): the VJP rules the engine called, on arrays (``NF``),
  and the sums back to broadcast shapes; the sums of gradients that meet at a node, in the
  engine's order (checked bit for bit while recording); the seeds; the additions into
  ``.grad`` (``accumulating``);
* in-place updates of tensors that live outside the call (``wrote``: ``p -= lr * p.grad``
  under ``no_grad``), ``p.grad = None`` (``grad_set``), and whole calls announced by the
  library (``run_call``: ``optimizer.step()``, ``zero_grad()``), replayed as the same calls
  on the same objects.

Forwards and VJP rules are traced into the program where they can be (``_Trace``): called
once more with ``_Sym`` stand-ins for their arrays, their NumPy ufunc calls, arithmetic,
``np.where`` and indexing with constants become lines of their own (the rule's Python call
disappears; a Python number operand becomes a 0-d array constant of the result's dtype;
the sum back to a broadcast shape is decided while recording), and anything else stops
the trace (the function is then one line, as above).  A traced result must equal the
eager one bit for bit, and a function that sets its own ``np.errstate`` is not traced.

The lines are compiled into one Python function whose locals are the arrays.  Later calls
whose guards match run it: no Tensor, no graph node, no version counter per op; results
land in the same Tensor objects the eager run updates (parameters, ``.grad``, optimizer
state) and fresh Tensors are returned for the function's own results.  An elementwise
line writes into a temporary input of its shape and dtype that no later line reads and no
other array views (``out=``; never an array the caller or a Tensor can see: those are read
by the return or the update lines); a line whose result nothing reads is not run;
temporaries are deleted after their last read (tiny ones are left to the return).  No
buffer outlives a call (so concurrent calls from several threads stay independent).

Soundness first.  What a recording cannot reproduce -- a tensor's value read into Python
(``item()``, ``bool()``, ``float()``, ``tolist()``, ``numpy()``, printing, a 0-d or boolean
tensor index), hooks and ``retain_grad``, random numbers, in-place changes the recorder
cannot express (of an argument, in graph mode, ``x[i] = v``), higher-order or forward-mode
derivatives, op parameters computed from tensor values (the class-index target of
``cross_entropy``), tensors from outside the recorded program that it cannot name -- is a
*graph break*: the call finishes eagerly, the guards are marked not compilable (later calls
run eagerly), and a warning names the operation and the source line.  With
``fullgraph=True`` the break raises ``GraphBreakError`` instead.  ``explain()`` on a
compiled function lists its recordings and breaks.

Assumptions (as in any tracing compiler): the function's Python control flow depends only
on what is guarded -- the shapes, dtypes, strides and ``requires_grad`` of tensor and
array arguments and of the tensors it reads, the values of Python scalar arguments (and
the identity of other argument objects), grad mode -- and it reads the same tensor objects
on every call (parameters are updated in place, not replaced).  NumPy arrays that are not
arguments are read once, while recording.
"""
import builtins
import functools
import gc
import linecache
import os
import re
import sys
import warnings

import numpy as np

from ._grad_mode import GRAD_LOCK, STATE, observe, unobserve
from ._rules import NF
from ._tensor import Tensor, bump_version, wrap
from .ops._core import OPS

__all__ = ["compile", "GraphBreakError", "cache_size_limit"]

#: recordings kept per compiled function before it stops recording (PyTorch's
#: ``torch._dynamo.config.cache_size_limit`` is 8 too)
cache_size_limit = 8

_PKG = os.path.dirname(os.path.abspath(__file__)) + os.sep
_ndarray = np.ndarray
_SCALARS = (bool, int, float, complex, str, bytes, type(None))
# ops whose parameters hold index arrays computed from shapes alone (diagonal positions)
_SHAPED = frozenset(("diagonal", "diag_embed", "trace"))


class GraphBreakError(RuntimeError):
    """Raised by a ``compile(fn, fullgraph=True)`` function when ``fn`` does something its
    recording could not replay (the message names the operation and the source line)."""


class _Break(Exception):
    """Internal: the recording stops (carries the reason)."""


def _user_line():
    """``file:line`` of the innermost frame outside chainrule (where the user's code did
    what broke the graph), with the line's text."""
    f = sys._getframe(1)
    while f is not None and f.f_code.co_filename.startswith(_PKG):
        f = f.f_back
    if f is None:
        return "<unknown>"
    text = linecache.getline(f.f_code.co_filename, f.f_lineno).strip()
    return f"{f.f_code.co_filename}:{f.f_lineno}" + (f" ({text})" if text else "")


# --- helpers the replayed programs call --------------------------------------------------

def _shares_input(out, ins):
    for a in ins:
        if a.__class__ is _ndarray and np.may_share_memory(out, a):
            return True
    return False


def _fwd(f, view, ins, params):
    """An op's forward as ``ops._core._run`` runs it: a NumPy scalar made an array, and a
    non-view op's result copied when it is memory of an input."""
    out = f(*ins, **params) if params else f(*ins)
    if out.__class__ is not _ndarray:
        out = np.asarray(out)
    if not view and out.base is not None and _shares_input(out, ins):
        out = out.copy()
    return out


def _acc(leaf, g, last):
    """Add the array ``g`` into ``leaf.grad`` as the engine's ``_accumulate`` does: an
    existing ``.grad`` is added into in place; a new one is ``g`` itself when ``g`` is a
    temporary nothing else refers to (``last``: no later line of the program reads it),
    else a copy."""
    d = leaf._data
    if g.dtype != d.dtype:
        g = g.astype(d.dtype)
        last = True
    if g.shape != d.shape:
        g = np.broadcast_to(g, d.shape)
    with GRAD_LOCK:
        old = leaf._grad
        if old is None:
            if last and g.base is None and g.flags.writeable and \
                    sys.getrefcount(g) <= _OWNED_REFS:
                leaf._grad = wrap(g)
            else:
                leaf._grad = wrap(np.array(g, copy=True))
        else:
            old._data += g
            bump_version(old)


def _refs_in_acc(g, last):
    return sys.getrefcount(g)


def _owned_refs():
    """References ``_acc`` sees to a temporary only the program's local holds: the local,
    ``_acc``'s argument and ``getrefcount``'s (measured, as the engine does)."""
    g = np.empty(1)
    return _refs_in_acc(g, True)


_OWNED_REFS = _owned_refs()


def _call(obj, name, args, kwargs):
    return getattr(obj, name)(*args, **kwargs)


# --- flattening arguments and results -----------------------------------------------------

def _flatten(obj, leaves):
    """The structure of ``obj`` (tuples, lists, dicts) as a hashable spec; leaves appended."""
    c = obj.__class__
    if c is tuple or c is list:
        return (c, tuple(_flatten(x, leaves) for x in obj))
    if c is dict:
        keys = tuple(obj)
        return (dict, keys, tuple(_flatten(obj[k], leaves) for k in keys))
    leaves.append(obj)
    return None


def _unflatten(spec, it):
    if spec is None:
        return next(it)
    if spec[0] is dict:
        return {k: _unflatten(s, it) for k, s in zip(spec[1], spec[2])}
    return spec[0](_unflatten(s, it) for s in spec[1])


def _leaf_key(x, i, seen):
    """What a call's guards compare for one argument leaf."""
    c = x.__class__
    if c is Tensor or isinstance(x, Tensor):
        d = x._data
        a = seen.setdefault(id(d), i)
        return (c, d.shape, d.dtype, d.strides, x._rg, a, x._fw is not None and bool(x._fw))
    if c is _ndarray:
        a = seen.setdefault(id(x), i)
        return (c, x.shape, x.dtype, x.strides, a)
    if c in _SCALARS:
        return (c, x)
    if isinstance(x, np.generic):
        return (c, x.item())
    return (c, id(x))


# --- rules traced into the program ---------------------------------------------------------

class _Bail(Exception):
    """Internal: a rule does something the trace cannot write as program lines."""


def _bail(*args, **kwargs):
    raise _Bail


# exponents for which ``x ** p`` on an array is not ``np.power(x, p)`` (NumPy's fast paths)
_FAST_POWERS = (-1, 0, 0.5, 1, 2)


class _Sym:
    """An array while a rule is traced: its value (computed as the rule runs, as in the
    eager backward) and the program's expression for it.  Arithmetic and NumPy ufuncs on
    it write program lines; anything else (indexing, NumPy functions, reading values into
    Python, attributes other than the shape and dtype, which are guarded) stops the trace,
    and the rule is called as one step instead."""
    __slots__ = ("t", "a", "e")

    def __init__(self, t, a, e):
        self.t = t
        self.a = a
        self.e = e

    @property
    def shape(self):
        return self.a.shape

    @property
    def dtype(self):
        return self.a.dtype

    @property
    def ndim(self):
        return self.a.ndim

    @property
    def size(self):
        return self.a.size

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method != "__call__":
            raise _Bail
        out = kwargs.pop("out", None)
        if kwargs:
            raise _Bail
        if out is not None:
            if out.__class__ is tuple:
                if len(out) != 1:
                    raise _Bail
                out = out[0]
        elif len(inputs) > ufunc.nin:
            if len(inputs) != ufunc.nin + 1:
                raise _Bail
            out = inputs[-1]
            inputs = inputs[:-1]
        return self.t.ufunc(ufunc, inputs, out)

    def __pow__(self, p):
        if p.__class__ not in (int, float) or p in _FAST_POWERS:
            raise _Bail
        return self.t.ufunc(np.power, (self, p), None)

    def __getitem__(self, idx):
        return self.t.getitem(self, idx)

    def __array_function__(self, func, types, args, kwargs):
        if func is np.where and len(args) == 3 and not kwargs:
            return self.t.where(args)
        raise _Bail

    def astype(self, dtype, copy=True):
        if copy is False and np.dtype(dtype) == self.a.dtype:
            return self                 # (NumPy returns the array itself)
        raise _Bail

    __array__ = __getattr__ = __setitem__ = _bail
    __len__ = __iter__ = __bool__ = __float__ = __int__ = __index__ = __complex__ = _bail
    __rpow__ = __matmul__ = __rmatmul__ = __ipow__ = _bail
    __floordiv__ = __rfloordiv__ = __mod__ = __rmod__ = _bail
    __hash__ = None


def _sym_op(ufunc, swap=False):
    if swap:
        return lambda self, other: self.t.ufunc(ufunc, (other, self), None)
    return lambda self, other: self.t.ufunc(ufunc, (self, other), None)


for _n, _u in (("add", np.add), ("sub", np.subtract), ("mul", np.multiply),
               ("truediv", np.true_divide)):
    setattr(_Sym, f"__{_n}__", _sym_op(_u))
    setattr(_Sym, f"__r{_n}__", _sym_op(_u, True))
for _n, _u in (("eq", np.equal), ("ne", np.not_equal), ("lt", np.less),
               ("le", np.less_equal), ("gt", np.greater), ("ge", np.greater_equal),
               ("and", np.bitwise_and), ("or", np.bitwise_or)):
    setattr(_Sym, f"__{_n}__", _sym_op(_u))
for _n, _u in (("add", np.add), ("sub", np.subtract), ("mul", np.multiply),
               ("truediv", np.true_divide)):
    setattr(_Sym, f"__i{_n}__", lambda self, other, u=_u: self.t.ufunc(u, (self, other), self))
_Sym.__neg__ = lambda self: self.t.ufunc(np.negative, (self,), None)
_Sym.__abs__ = lambda self: self.t.ufunc(np.absolute, (self,), None)
_Sym.__invert__ = lambda self: self.t.ufunc(np.invert, (self,), None)
del _n, _u


def _same_bits(a, b):
    """Whether two results are the same array bit for bit (shape, dtype, values)."""
    a = np.asarray(a)
    b = np.asarray(b)
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.dtype.kind in "fc":
        return a.tobytes() == b.tobytes()
    return np.array_equal(a, b)


def _holds_sym(x):
    """Whether a container argument holds a traced array."""
    c = x.__class__
    if c is tuple or c is list:
        return any([y.__class__ is _Sym or _holds_sym(y) for y in x])
    if c is dict:
        return any([y.__class__ is _Sym or _holds_sym(y) for y in x.values()])
    return False


def _basic_index(idx):
    """Whether ``idx`` indexes with constants only (no arrays, no booleans)."""
    for i in (idx if idx.__class__ is tuple else (idx,)):
        c = i.__class__
        if c is slice:
            if not all([v is None or v.__class__ is int for v in (i.start, i.stop, i.step)]):
                return False
        elif c is not int and i is not None and i is not Ellipsis:
            return False
    return True


class _TraceNS:
    """The ``F`` a traced rule receives: ``NF``'s ufuncs write program lines, its other
    functions are traced in turn (or called as one step when their trace stops)."""

    def __init__(self, t):
        self._t = t

    def __getattr__(self, name):
        f = getattr(NF, name)
        t = self._t
        if isinstance(f, np.ufunc):
            def call(*args, out=None):
                if len(args) > f.nin and out is None:
                    out = args[-1]
                    args = args[:-1]
                return t.ufunc(f, args, out)
        else:
            def call(*args, **kwargs):
                return t.call(f, args, kwargs)
        setattr(self, name, call)
        return call


class _Trace:
    """Traces one rule call for the recorder ``rec``: the lines it writes go to
    ``rec.lines``; ``mine`` holds the locals the trace made with fresh ufunc results."""

    def __init__(self, rec):
        self.rec = rec
        self.F = _TraceNS(self)
        self.mine = set()
        self.err = None             # NumPy's error handling when the trace began

    def sym(self, a, e):
        return _Sym(self, a, e)

    def _local(self, a):
        rec = self.rec
        rec.n += 1
        e = f"s{rec.n}"
        rec._bind_expr(a, e)
        return e

    def ufunc(self, f, inputs, out):
        rec = self.rec
        if np.geterr() != self.err:
            # the function sets its own floating-point error handling (np.errstate): a
            # line of the program would warn or raise where the function does not
            raise _Bail
        reals = []
        for x in inputs:
            c = x.__class__
            if c is _Sym:
                if x.t is not self:
                    raise _Bail
                reals.append(x.a)
            elif c in (int, float) or (c is bool and f.nin == 2):
                reals.append(x)
            else:
                raise _Bail
        if out is not None:
            if out.__class__ is not _Sym or out.e not in self.mine or out.t is not self:
                raise _Bail         # (writes only into what the trace itself made)
            r = f(*reals, out.a)
            if r is not out.a:
                raise _Bail
        else:
            r = f(*reals)
        if f.nout != 1:
            raise _Bail
        args = rec._ufunc_args(f, inputs, reals, r)
        fn = rec._const(f, "F")
        if out is not None:
            kw = "out=" if f in _OUT_KEYWORD else ""
            rec.lines.append(f"{fn}({args}, {kw}{out.e})")
            return out
        if r.__class__ is not _ndarray:
            r = np.asarray(r)           # (0-d: the line asks for an array, out=...)
        e = self._local(r)
        cands = [x.e for x in inputs if x.__class__ is _Sym and x.e in rec.owned and
                 x.a.shape == r.shape and x.a.dtype == r.dtype]
        rec.lines.append(("ufunc", e, fn, args, cands, r.ndim == 0))
        self.mine.add(e)
        rec.owned.add(e)
        return _Sym(self, r, e)

    def where(self, args):
        """``np.where(cond, a, b)``: a fresh array."""
        rec = self.rec
        if np.geterr() != self.err:
            raise _Bail
        reals = []
        parts = []
        for x in args:
            if x.__class__ is _Sym:
                if x.t is not self:
                    raise _Bail
                reals.append(x.a)
                parts.append(x.e)
            elif x.__class__ in (int, float, bool):
                reals.append(x)
                parts.append(rec._const(x))
            else:
                raise _Bail
        r = np.where(*reals)
        e = self._local(r)
        rec.lines.append(("pure", e, f"{e} = _np.where({', '.join(parts)})"))
        self.mine.add(e)
        rec.owned.add(e)
        return _Sym(self, r, e)

    def getitem(self, x, idx):
        """``x[idx]`` with an index of constants (ints, slices, None, Ellipsis): a view, or
        a NumPy scalar for an index of ints, as the function's own indexing gives."""
        if not _basic_index(idx) or x.t is not self:
            raise _Bail
        r = x.a[idx]
        rec = self.rec
        rec.n += 1
        e = f"s{rec.n}"
        rec._bind_expr(r, e)
        rec.lines.append(("pure", e, f"{e} = {x.e}[{rec._const(idx)}]"))
        return _Sym(self, r, e)

    def call(self, f, args, kwargs):
        """A non-ufunc ``F`` function: traced if it can be, else one call of it."""
        rec = self.rec
        if any([_holds_sym(x) for x in args]) or any([_holds_sym(v) for v in kwargs.values()]):
            raise _Bail                 # (a list of traced arrays: cat, stack ...)
        reals = [x.a if x.__class__ is _Sym else x for x in args]
        kreals = {k: (v.a if v.__class__ is _Sym else v) for k, v in kwargs.items()}
        want = f(*reals, **kreals)
        mark = len(rec.lines)
        try:
            got = f(*args, **kwargs)
            if got.__class__ is _Sym and got.t is self and _same_bits(got.a, want):
                return got
        except Exception:
            pass
        del rec.lines[mark:]
        parts = []
        for x in args:
            if x.__class__ is _Sym:
                parts.append(x.e)
            elif x.__class__ is _ndarray or isinstance(x, (Tensor, np.generic)) or rec._live(x):
                raise _Bail
            else:
                parts.append(rec._const(x))
        for k, v in kwargs.items():
            if v.__class__ is _Sym:
                parts.append(f"{k}={v.e}")
            elif v.__class__ is _ndarray or isinstance(v, (Tensor, np.generic)) or rec._live(v):
                raise _Bail
            else:
                parts.append(f"{k}={rec._const(v)}")
        if want.__class__ is not _ndarray:
            raise _Bail
        for x in args:
            if x.__class__ is _Sym and want is x.a:
                return x
        e = self._local(want)
        rec.lines.append(f"{e} = {rec._const(f, 'N')}({', '.join(parts)})")
        return _Sym(self, want, e)      # (not fresh for sure: never written into)


# --- the recorder --------------------------------------------------------------------------

class _Recorder:
    """The observer that writes the program while the function runs eagerly."""

    def __init__(self, fullgraph, leaves):
        self.fullgraph = fullgraph
        self.broken = None              # (reason, source line) once the recording stopped
        self.lines = []
        # (__name__: NumPy's floating-point warnings from the program are filtered as
        # chainrule's own, as in eager runs)
        self.ns = {"__name__": __name__, "_fwd": _fwd, "_acc": _acc, "_call": _call, "NF": NF,
                   "_np": np, "_wrap": wrap, "_bump": bump_version}
        self.names = {}                 # id(object) -> its name in ns
        self.expr = {}                  # id(array) -> expression reading it in the program
        self.keep = []                  # everything whose id is a key (ids stay unique)
        self.n = 0
        self.paused = 0                 # > 0 inside an announced call
        self.expect = {}                # id(tensor) -> bumps the recorder has accounted for
        self.contrib = {}               # graph node -> [(array, expr)] gradients sent to it
        self.guards = []                # (callable, expected value) checked before a replay
        self.guarded = set()
        self.args = {}                  # id(tensor argument) -> its name (T<i>)
        self.constants = set()          # ids of arrays made by factories during the call
        self.rows = {}                  # id(NumPy scalar) -> expression (func's NumPy out)
        self.tensors = {}               # id(former .grad tensor) -> its local
        self.ran = set()                # graph nodes the recorded backward ran
        self.owned = set()              # locals holding fresh arrays made by forwards
        pre = [o for o in gc.get_objects() if issubclass(type(o), Tensor)]
        self.pre = {id(o): o for o in pre}      # tensors that existed before the call
        self.grad0 = {id(o): o._grad for o in pre}
        self.stable = {}                # id(tensor) -> name, for objects named in the program
        self.optims = set()
        self.header = []
        for i, x in enumerate(leaves):
            if isinstance(x, Tensor):
                name = f"T{i}"
                self.args[id(x)] = name
                self.stable[id(x)] = name
                self._bind_expr(x._data, f"A{i}")
                self.header.append(f"    T{i} = L[{i}]; A{i} = T{i}._data")
            elif x.__class__ is _ndarray:
                self._bind_expr(x, f"A{i}")
                self.header.append(f"    A{i} = L[{i}]")

    # -- names and expressions
    def _bind_expr(self, arr, e):
        self.expr[id(arr)] = e
        self.keep.append(arr)

    def _const(self, obj, prefix="C"):
        k = id(obj)
        name = self.names.get(k)
        if name is None:
            name = f"{prefix}{len(self.names)}"
            self.names[k] = name
            self.ns[name] = obj
            self.keep.append(obj)
        return name

    def _new(self, arr):
        """A fresh local for the array ``arr`` made by the line about to be written."""
        self.n += 1
        e = f"s{self.n}"
        self._bind_expr(arr, e)
        return e

    def fail(self, reason):
        raise _Break(reason)

    def _stable(self, t):
        """The program's name for a tensor object that outlives the call: an argument or a
        tensor that existed before the call (guarded by shape, dtype and requires_grad)."""
        k = id(t)
        name = self.stable.get(k)
        if name is not None:
            return name
        if self.pre.get(k) is not t:
            self.fail("a tensor made during the call outside the recorded operations "
                      "is updated or named (the recording cannot make it again)")
        name = self._const(t, "E")
        self.stable[k] = name
        d = t._data
        self._guard(lambda t=t: (t._data.shape, t._data.dtype, t._data.strides, t._rg),
                    (d.shape, d.dtype, d.strides, t._rg), ("E", k))
        return name

    def _guard(self, f, value, key):
        if key not in self.guarded:
            self.guarded.add(key)
            self.guards.append((f, value))

    def _grad_leaf(self, t):
        """The tensor whose ``.grad`` ``t`` is, among the tensors that existed before the
        call and the arguments (None if none)."""
        for leaf in self.pre.values():
            if leaf._grad is t:
                return leaf
        return None

    def _grad_guard(self, leaf):
        """Guard whether ``leaf.grad`` was None when the call began."""
        k = id(leaf)
        if k in self.args.keys():
            self.fail("the .grad of an argument is read or written")
        g0 = self.grad0.get(k)
        self._stable(leaf)
        self._guard(lambda leaf=leaf: leaf._grad is None, g0 is None, ("G", k))
        if g0 is not None:
            self._guard(lambda leaf=leaf: (leaf._grad._data.shape, leaf._grad._data.dtype),
                        (g0._data.shape, g0._data.dtype), ("GS", k))

    def read(self, t):
        """Expression for the array of the op input ``t`` (a Tensor)."""
        d = t._data
        e = self.expr.get(id(d))
        if e is not None:
            return e
        leaf = self._grad_leaf(t)
        if leaf is not None:
            self._grad_guard(leaf)
            e = f"{self.stable[id(leaf)]}._grad._data"
            self.keep.append(t)
            return e                        # (not cached: .grad may be a new tensor later)
        if self.pre.get(id(t)) is t:
            e = f"{self._stable(t)}._data"
            self.expr[id(d)] = e
            return e
        if id(d) in self.constants:
            e = self._const(d)
            self.expr[id(d)] = e
            return e
        self.fail("an op reads a tensor whose values come from outside the recorded "
                  "operations (made from data the recording cannot follow)")

    def read_array(self, a, shaped=False):
        e = self.expr.get(id(a))
        if e is None:
            if shaped:
                return self._const(a)
            self.fail("an op's parameters hold an array the recording cannot follow "
                      "(computed from tensor values outside the recorded operations)")
        return e

    def _live(self, x):
        """Whether a parameter structure holds an array or a value the program computes
        (then it is built on every replay; otherwise it is one constant)."""
        c = x.__class__
        if c is _ndarray or ((c is dict or c is tuple or c is list) and id(x) in self.expr):
            return True
        if c is tuple or c is list:
            return any([self._live(y) for y in x])
        if c is dict:
            return any([self._live(y) for y in x.values()])
        return False

    def value(self, x, shaped=False):
        """Expression for an op argument or parameter that is no Tensor (``shaped``: an
        unknown array in it depends on shapes only, a constant)."""
        c = x.__class__
        if c is dict or c is tuple or c is list:
            e = self.expr.get(id(x))
            if e is not None:
                return e
        if c is _ndarray:
            return self.read_array(x, shaped)
        if c is tuple or c is list:
            if self._live(x):
                inner = ", ".join(self.value(y, shaped) for y in x)
                return f"({inner},)" if c is tuple else f"[{inner}]"
            return self._const(x)
        if c is dict:
            if self._live(x):
                return "{" + ", ".join(f"{k!r}: {self.value(v, shaped)}"
                                       for k, v in x.items()) + "}"
            return self._const(x)
        if isinstance(x, Tensor):
            return self.read(x)
        return self._const(x)

    def _ufunc_args(self, f, inputs, reals, r):
        """The argument list of a ufunc line.  A Python number operand becomes a 0-d array
        constant of the result's dtype when the others have that dtype (floating or
        complex) and it gives the same bits: NumPy converts the number to that dtype
        anyway, and a 0-d array skips the conversion on every call."""
        dt = r.dtype
        syms = [x for x in inputs if x.__class__ is _Sym]
        swap = len(syms) < len(inputs) and dt.kind in "fc" and all(
            [x.a.dtype == dt for x in syms])
        if swap:
            alt = [np.array(x, dt) if x.__class__ is not _Sym else a
                   for x, a in zip(inputs, reals)]
            with np.errstate(all="ignore"):
                swap = _same_bits(f(*alt), r)
        parts = []
        for x in inputs:
            if x.__class__ is _Sym:
                parts.append(x.e)
            elif swap:
                key = ("0d", dt.str, x.__class__, repr(x))
                name = self.names.get(key)
                if name is None:
                    c = np.array(x, dt)
                    c.flags.writeable = False
                    name = self._const(c)
                    self.names[key] = name
                parts.append(name)
            else:
                parts.append(self._const(x))
        return ", ".join(parts)

    def _traced(self, t, fn, args, params, want, shape=None, kind=None):
        """Trace ``fn(*args, **params)`` (a forward or a VJP rule; ``args`` holds ``_Sym``s
        for arrays) into ufunc lines; ``shape``: sum the result to it as the engine does.
        The traced result must equal ``want`` bit for bit (``kind`` "fresh": and be an
        array a traced ufunc line made; "view": and not be one).  Returns its expression,
        or None (no lines written) when the function does something else."""
        mark = len(self.lines)
        t.err = np.geterr()
        try:
            r = fn(*args, **params) if params else fn(*args)
            if r.__class__ is not _Sym or r.t is not t:
                raise _Bail
            if shape is not None and r.a.shape != shape:
                r = t.call(NF.sum_to, (r, shape), {})
            if kind is not None and (r.e in t.mine) != (kind == "fresh"):
                raise _Bail
            if not _same_bits(r.a, want):
                raise _Bail
        except Exception:
            del self.lines[mark:]
            return None
        self._bind_expr(want, r.e)
        return r.e

    # -- observer hooks (each stops the recording by raising _Break inside ``_guarded``)
    def op_ran(self, op, args, params, out):
        if self.paused or self.broken:
            return
        with self._guarded(f"op {op.name}"):
            if OPS.get(op.name) is not op:
                self.fail(f"a custom operation ({op.name}) ran")
            ins = []
            for a in args:
                if isinstance(a, Tensor):
                    if a._fw:
                        self.fail("forward-mode tangents (make_dual) reach an op")
                    ins.append(self.read(a))
                else:
                    ins.append(self.value(a))
            d = out._data
            if id(d) not in self.expr and not (params and self._live(params)):
                # the forward traced into ufunc lines (a fresh array) or indexing (a view)
                t = _Trace(self)
                targs = []
                for a, x in zip(args, ins):
                    if isinstance(a, Tensor):
                        targs.append(t.sym(a._data, x))
                    elif a.__class__ in _SCALARS:
                        targs.append(a)
                    else:
                        targs = None
                        break
                if targs is not None and \
                        self._traced(t, op.forward, targs, params, d,
                                     kind="view" if op.is_view else "fresh") is not None:
                    return
            f = self._const(op.forward, "F")
            pe = ("**" + self.value(params, op.name in _SHAPED)) if params else ""
            call_args = ", ".join(ins + ([pe] if pe else []))
            fresh = d.base is None and d.flags.writeable and id(d) not in self.expr
            e = self._new(d)
            if isinstance(op.forward, np.ufunc) and not params:
                # an input that is a temporary of the result's shape and dtype may take
                # the result (decided in build, where it is known whether it is read later)
                cands = [x for x, a in zip(ins, args) if x in self.owned and
                         a._data.shape == d.shape and a._data.dtype == d.dtype]
                self.lines.append(("ufunc", e, f, call_args, cands, d.ndim == 0))
            elif (kind := self._plain(op, args, params)) == "plain":
                self.lines.append(f"{e} = {f}({call_args})")
            elif kind == "scalar":
                self.lines.append(f"{e} = _np.asarray({f}({call_args}))")
            else:
                pd = pe[2:] if pe else "None"
                self.lines.append(f"{e} = _fwd({f}, {op.is_view}, ({', '.join(ins)},), {pd})")
            if fresh:
                self.owned.add(e)

    def _plain(self, op, args, params):
        """Whether the forward's own result is the op's result (an array, and no memory of
        an input unless the op is a view): run once more on the same arrays to see."""
        data = [a._data if isinstance(a, Tensor) else a for a in args]
        raw = op.forward(*data, **params) if params else op.forward(*data)
        if raw.__class__ is not _ndarray:
            return "scalar" if isinstance(raw, np.generic) else "general"
        if op.is_view or raw.base is None or not _shares_input(raw, data):
            return "plain"
        return "general"

    def backward_begins(self, roots, seeds, tensor_mode, grad_outputs):
        if self.paused or self.broken:
            return
        with self._guarded("backward"):
            if tensor_mode:
                self.fail("backward with create_graph=True or inside forward-mode AD "
                          "(higher-order derivatives)")
            for node, s in zip(roots, seeds):
                e = self.expr.get(id(s))
                if e is None:
                    if grad_outputs is not None:
                        self.fail("backward with a gradient the recording cannot follow")
                    e = self._new(s)
                    one = np.ones(s.shape, s.dtype)
                    one.flags.writeable = False
                    self.lines.append(f"{e} = {self._const(one)}.copy()")
                self.contrib.setdefault(node, []).append((s, e))

    def _gradient(self, node, g):
        """Expression for the gradient ``g`` a node received: a known array, or the sum of
        what was sent to the node, in the order that gives ``g`` bit for bit."""
        e = self.expr.get(id(g))
        if e is not None:
            return e
        parts = self.contrib.get(node, [])
        if len(parts) < 2:
            self.fail("a gradient the recording cannot follow reaches a node")
        n = len(parts)
        for k in [n - 1] + list(range(1, n - 1)):
            left = parts[:k]
            right = parts[k:]
            total = _fold([p[0] for p in left])
            if len(right) > 1:
                total = total + _fold([p[0] for p in right])
            else:
                total = total + right[0][0]
            if total.shape == g.shape and total.dtype == g.dtype and \
                    np.array_equal(total, g, equal_nan=total.dtype.kind in "fc"):
                return self._add_line(self._fold_lines(left), self._fold_lines(right), g)[1]
        self.fail("gradients met at a node in an order the recording cannot reproduce")

    def _add_line(self, a, b, r=None):
        """A line adding the ``(array, expression)`` pairs ``a`` and ``b`` (as ``+``
        does), its result bound to ``r`` (default: the sum); returns its pair."""
        (x, ex), (y, ey) = a, b
        if r is None:
            r = x + y
        e = self._new(r)
        rr = np.asarray(r)
        cands = [n for n, v in ((ex, x), (ey, y)) if n in self.owned and
                 v.shape == rr.shape and v.dtype == rr.dtype]
        self.lines.append(("ufunc", e, self._const(np.add, "F"), f"{ex}, {ey}", cands,
                           rr.ndim == 0))
        self.owned.add(e)
        return r, e

    def _fold_lines(self, parts):
        """``parts`` (pairs of an array and its expression) summed left to right."""
        total = parts[0]
        for p in parts[1:]:
            total = self._add_line(total, p)
        return total

    def node_ran(self, node, g, grads):
        if self.paused or self.broken:
            return
        op = node.op
        with self._guarded(f"the backward of {getattr(op, 'name', '?')}"):
            if isinstance(g, Tensor):
                self.fail("backward with create_graph=True (higher-order derivatives)")
            if op is None or OPS.get(op.name) is not op:
                self.fail("a custom autograd Function's backward ran")
            if node._pre_hooks:
                self.fail("a hook on a graph node ran")
            ge = self._gradient(node, g)
            self.ran.add(node)
            arrays = node._arrays
            nexts = node._next
            ins = ["None"] * len(nexts) if arrays is None else \
                [("None" if a is None else self.value(a)) for a in arrays]
            oe = "None" if node._out is None else self.read_array(node._out)
            params = node._params
            pe = (", **" + self.value(params, op.name in _SHAPED)) if params else ""
            head = f"NF, {ge}, {oe}" + "".join(", " + x for x in ins) + pe
            shapes = node._shapes
            every = None
            saved = (None,) * len(nexts) if arrays is None else arrays
            traceable = (g.__class__ is _ndarray or isinstance(g, np.generic)) and \
                (node._out is None or node._out.__class__ is _ndarray) and \
                not (params and self._live(params)) and \
                all([a is None or a.__class__ is _ndarray or a.__class__ in _SCALARS
                     for a in saved])
            if op.vjp_all is not None:
                every = f"v{self.n + 1}"
                self.n += 1
                self.lines.append(f"{every} = {self._const(op.vjp_all, 'V')}({head})")
            for i, nxt in enumerate(nexts):
                gi = grads[i]
                if nxt is None or gi is None:
                    continue
                if gi is g and every is None:
                    # the rule hands the gradient on unchanged (add, sub's first input; a
                    # rule's code path depends on shapes and dtypes only, which are guarded)
                    self.contrib.setdefault(nxt, []).append((gi, ge))
                    continue
                if every is not None:
                    call = f"{every}[{i}]"
                else:
                    if traceable:
                        # the rule traced into ufunc lines, summed to the input's shape
                        t = _Trace(self)
                        targs = [t.F, t.sym(np.asarray(g), ge),
                                 None if node._out is None else t.sym(node._out, oe)]
                        for a, x in zip(saved, ins):
                            targs.append(t.sym(a, x) if a.__class__ is _ndarray else a)
                        e = self._traced(t, op.vjps[i], targs, params, gi,
                                         None if shapes is None else shapes[i])
                        if e is not None:
                            self.contrib.setdefault(nxt, []).append((gi, e))
                            continue
                    call = f"{self._const(op.vjps[i], 'V')}({head})"
                e = self._new(gi)
                self.lines.append(f"{e} = {call}")
                if shapes is not None and shapes[i] is not None:
                    sh = self._const(shapes[i])
                    self.lines.append(f"if {e}.shape != {sh}: {e} = NF.sum_to({e}, {sh})")
                self.contrib.setdefault(nxt, []).append((gi, e))

    def accumulating(self, node, g):
        if self.paused or self.broken:
            return
        with self._guarded("adding into .grad"):
            leaf = node.variable
            if isinstance(g, Tensor):
                self.fail("backward with create_graph=True (higher-order derivatives)")
            if leaf._hooks:
                self.fail("a hook on a leaf tensor ran")
            if leaf._grad is not None and leaf._grad._rg:
                self.fail("adding into a .grad that requires grad")
            ge = self._gradient(node, g)
            if id(leaf) in self.args:
                self.fail("backward adds into the .grad of an argument (its .grad is "
                          "visible to the caller); pass parameters through a closure or "
                          "use autograd.grad")
            self._grad_guard(leaf)
            name = self.stable[id(leaf)]
            self.lines.append(("acc", name, ge))
            if leaf._grad is not None:
                self.expect[id(leaf._grad)] = self.expect.get(id(leaf._grad), 0) + 1

    def backward_ends(self, captured):
        if self.paused or self.broken:
            return
        with self._guarded("autograd.grad"):
            for node, g in captured.items():
                if isinstance(g, Tensor):
                    self.fail("autograd.grad with create_graph=True")
                self._gradient(node, g)

    def value_read(self, t, what):
        if self.paused or self.broken:
            return
        with self._guarded(what):
            self.fail(f"a tensor's value is read into Python by {what}")

    def hooked(self, t, what):
        if self.paused or self.broken:
            return
        with self._guarded(what):
            self.fail(f"{what} (hooks and retain_grad run Python during backward)")

    def random(self, gen):
        if self.paused or self.broken:
            return
        with self._guarded("random numbers"):
            self.fail("random numbers are drawn (a recording would repeat the same ones)")

    def derived(self, result, fn, args):
        """``result`` (an array or a dict of op parameters) was computed by ``fn(*args)``
        from tensor data: the program computes it again."""
        if self.paused or self.broken:
            return
        with self._guarded(getattr(fn, "__name__", "a computation on tensor data")):
            ins = ", ".join(self.value(a) for a in args)
            self.n += 1
            e = f"d{self.n}"
            self._bind_expr(result, e)
            self.lines.append(f"{e} = {self._const(fn, 'D')}({ins})")

    def module_called(self, m):
        """A module runs: its ``training`` flag decides what its forward does (dropout,
        batch norm), so it is guarded; forward hooks would run Python the replay skips."""
        if self.paused or self.broken:
            return
        with self._guarded(f"{type(m).__name__} forward"):
            d = m.__dict__
            if d.get("_forward_pre_hooks") or d.get("_forward_hooks"):
                self.fail(f"a forward hook of a {type(m).__name__} module ran")
            self._guard(lambda m=m: m.training, m.training, ("M", id(m)))
            self.keep.append(m)

    def made(self, t):
        if not self.paused:
            self.constants.add(id(t._data))
            self.keep.append(t._data)

    def copied(self, src, arr):
        if self.paused or self.broken:
            return
        with self._guarded("torch.tensor(data)"):
            e = self.expr.get(id(src))
            if e is None:
                return              # a NumPy array that is no argument: a constant
            n = self._new(arr)
            self.lines.append(f"{n} = _np.array({e}, dtype={self._const(arr.dtype)}, "
                              f"copy=True)")

    def index_made(self, t, arr):
        if self.paused or self.broken:
            return
        with self._guarded("indexing with a tensor"):
            e = self.read(t)
            n = self._new(arr)
            self.lines.append(f"{n} = {e}.astype(_np.intp)")

    def numpy_out(self, a, r):
        if self.paused or self.broken:
            return
        with self._guarded("a NumPy result"):
            e = self.read_array(a)
            if r.__class__ is _ndarray:
                n = self._new(r)
                self.lines.append(f"{n} = {e}.copy()")
            else:
                self.rows[id(r)] = f"{e}[()]"
                self.keep.append(r)

    def _target(self, t):
        """Expression for the array an in-place write goes into."""
        k = id(t)
        if k in self.args or (t._base is not None and id(t._base) in self.args):
            self.fail("an argument is changed in place (the caller would see it); "
                      "change a copy, or return the new value")
        if t._base is not None:
            self.fail("a view is changed in place")
        leaf = self._grad_leaf(t)
        if leaf is not None:
            self._grad_guard(leaf)
            x = f"{self.stable[id(leaf)]}._grad"
            return f"{x}._data", x
        if self.pre.get(k) is t:
            x = self._stable(t)
            return f"{x}._data", x
        e = self.expr.get(id(t._data))
        if e is not None and e.startswith("s"):
            return e, None
        self.fail("a tensor made outside the recorded operations is changed in place")

    def wrote(self, t, how, operand):
        if self.paused or self.broken:
            return
        with self._guarded("an in-place change"):
            dst, obj = self._target(t)
            if isinstance(operand, Tensor):
                src = self.read(operand)
            else:
                src = self._const(operand)
            if how == "fill":
                self.lines.append(f"{dst}.fill({src})")
            elif how == "copy":
                self.lines.append(f"{dst}[...] = {src}")
            else:
                self.lines.append(f"{self._const(how, 'U')}({dst}, {src}, out={dst})")
            if obj is not None:
                self.lines.append(f"_bump({obj})")
            self.expect[id(t)] = self.expect.get(id(t), 0) + 1

    def bumped(self, t):
        if self.paused or self.broken:
            return
        k = id(t)
        c = self.expect.get(k, 0)
        if c:
            if c == 1:
                del self.expect[k]
            else:
                self.expect[k] = c - 1
            return
        with self._guarded("an in-place change"):
            self.fail("a tensor is changed in place in a way the recording cannot replay "
                      "(in graph mode, through a view, by indexing or by a random fill)")

    def grad_set(self, t, value):
        if self.paused or self.broken:
            return
        with self._guarded("setting .grad"):
            if value is not None:
                self.fail("a tensor's .grad is set to a tensor")
            if id(t) in self.args:
                self.fail("the .grad of an argument is set")
            self._grad_guard(t)
            self._let_go(t)
            self.lines.append(f"{self.stable[id(t)]}._grad = None")

    def _let_go(self, leaf):
        """``leaf.grad`` is about to be dropped: keep the tensor in a local, so that the
        function can still return it or read it."""
        old = leaf._grad
        if old is not None:
            self.n += 1
            e = f"g{self.n}"
            self.lines.append(f"{e} = {self.stable[id(leaf)]}._grad")
            self.tensors[id(old)] = e
            self.keep.append(old)
            self.expr[id(old._data)] = f"{e}._data"
            self.keep.append(old._data)

    def run_call(self, fn, args, kwargs):
        """An announced call (``optimizer.step()``, ``zero_grad()``): recorded as the same
        call on the same object, run now with the recording paused."""
        if self.paused or self.broken:
            return fn(*args, **kwargs)
        with self._guarded(f"{fn.__qualname__}()"):
            obj = args[0]
            for x in list(args[1:]) + list(kwargs.values()):
                if x.__class__ not in _SCALARS:
                    self.fail(f"{fn.__qualname__} is given {type(x).__name__} "
                              f"(a closure or tensor argument cannot be replayed)")
            params = _params_of(obj)
            if params is None:
                self.fail(f"{fn.__qualname__} on an object the recording does not know")
            for p in params:
                self._grad_guard(p)
                if fn.__name__ == "zero_grad":
                    self._let_go(p)
            if hasattr(obj, "state") and hasattr(obj, "param_groups") and \
                    id(obj) not in self.optims:
                self.optims.add(id(obj))
                state = obj.state
                self._guard(lambda o=obj: tuple(bool(o.state.get(p)) for g in o.param_groups
                                                for p in g["params"]),
                            tuple(bool(state.get(p)) for p in params), ("O", id(obj)))
            name = self._const(obj, "O")
            self.lines.append(f"_call({name}, {fn.__name__!r}, {self._const(args[1:])}, "
                              f"{self._const(kwargs)})")
        self.paused += 1
        try:
            return fn(*args, **kwargs)
        finally:
            self.paused -= 1

    # -- stopping
    def _guarded(self, what):
        return _Guard(self, what)

    def output(self, t):
        """Expression for one leaf of the function's result."""
        if isinstance(t, Tensor):
            k = id(t)
            if k in self.args:
                return self.args[k]
            if k in self.tensors:
                return self.tensors[k]
            if self.pre.get(k) is t:
                return self._stable(t)
            leaf = self._grad_leaf(t)
            if leaf is not None:
                self._grad_guard(leaf)
                return f"{self.stable[id(leaf)]}._grad"
            e = self.expr.get(id(t._data))
            if e is None or not e.startswith(("s", "A")):
                self.fail("the function returns a tensor the recording cannot make")
            node = t._node
            if t._rg and node is not None and (node not in self.ran or node._inputs is not None
                                               or node._out is not None):
                self.fail("the function returns a tensor that requires grad with its graph "
                          "(call backward inside the compiled function, or return "
                          "loss.detach())")
            return f"_wrap({e})"
        if t.__class__ is _ndarray:
            return self.read_array(t)
        if isinstance(t, np.generic):
            e = self.rows.get(id(t))
            if e is None:
                self.fail("the function returns a NumPy scalar the recording cannot make")
            return e
        if t.__class__ in _SCALARS:
            return repr(t) if t.__class__ in (bool, int, str, type(None)) else self._const(t)
        return self._const(t)

    def _buffers(self, lines, ret, last, viewed_names):
        """Which buffer each ufunc line writes its result into (``{line: local}``): an
        input no later line reads, or the array of an earlier temporary that is dead by
        then, of the result's shape, dtype and strides, so that the result is the array a
        new one would be, in memory the call already has.  Only arrays a ufunc or
        ``np.where`` line made, that only such lines (and indexing lines, whose views
        exclude them) read, that nothing views, are taken: no array the caller, a Tensor
        or a function called as one step can hold.  Nothing outlives the call."""
        arr_of = {}             # local -> the array it held while recording
        for a in self.keep:
            e = self.expr.get(id(a))
            if e is not None and e not in arr_of and a.__class__ is _ndarray:
                arr_of[e] = a
        made = set()            # locals whose line made a fresh array
        unsafe = set()          # locals some other kind of line reads
        for x in lines + [ret]:
            if x.__class__ is str or x[0] not in ("ufunc", "pure"):
                unsafe.update(_LOCAL.findall(x if x.__class__ is str else _plain_text(x)))
            elif x[0] == "ufunc" or x[1] in self.owned:
                made.add(x[1])
        free = {}               # (shape, dtype, strides) -> dead locals holding such arrays
        outs = {}

        def layout(a):
            return a.shape, a.dtype, a.strides
        for i, x in enumerate(lines):
            if x.__class__ is str:
                names = _LOCAL.findall(x)
            else:               # (a result nothing reads: its line is not run)
                names = [m for m in _LOCAL.findall(_plain_text(x)) if m != x[1]]
                r = arr_of.get(x[1])
                if x[0] == "ufunc" and last.get(x[1]) != i and r is not None:
                    want = layout(r)
                    out = None
                    if not x[5]:    # (0-d: writing into an input is slow in NumPy)
                        out = next((c for c in x[4] if last.get(c) == i and
                                    c not in viewed_names and c in arr_of and
                                    layout(arr_of[c]) == want), None)
                    if out is None and free.get(want):
                        out = free[want].pop()
                    if out is not None:
                        outs[i] = out
            for m in dict.fromkeys(names):
                if last.get(m) == i and m in made and m not in unsafe and \
                        m not in viewed_names and m in arr_of and outs.get(i) != m:
                    free.setdefault(layout(arr_of[m]), []).append(m)
        return outs

    def build(self, name, out_leaves):
        rets = ", ".join(self.output(x) for x in out_leaves)
        ret = f"return ({rets}{',' if out_leaves else ''})"
        lines = self.lines
        # the last line that reads each local (the return counts as the last line)
        last = {}
        for i, x in enumerate(lines + [ret]):
            text = x if x.__class__ is str else _plain_text(x)
            for m in _LOCAL.findall(text):
                last[m] = i
        viewed = set()          # arrays some recorded array is a view of
        for a in self.keep:
            if a.__class__ is _ndarray:
                b = a.base
                while b is not None:
                    viewed.add(id(b))
                    b = getattr(b, "base", None)
        viewed_names = {e for k, e in self.expr.items() if k in viewed}
        # locals that only ever hold tiny arrays of their own are not deleted after their
        # last read (a ``del`` costs more than the memory it frees)
        tiny = {}
        for a in self.keep:
            e = self.expr.get(id(a))
            if e is not None and e[0] == "s":
                ok = (a.__class__ is _ndarray and a.base is None and a.nbytes <= 64) or \
                    isinstance(a, np.generic)
                tiny[e] = tiny.get(e, True) and ok
        outs = self._buffers(lines, ret, last, viewed_names)
        # a buffer taken from a dead temporary: that local is deleted after the taking line
        taken = {out: i for i, out in outs.items() if out is not None}
        body = list(self.header)
        for i, x in enumerate(lines):
            if x.__class__ is not str and x[0] != "acc" and last.get(x[1]) == i:
                # a ufunc or an indexing whose result no later line reads: not run
                x = _plain_text(x)
                dead = [m for m in dict.fromkeys(_LOCAL.findall(x)) if last.get(m) == i and
                        not tiny.get(m) and m != lines[i][1] and m not in taken]
                if dead:
                    body.append("    del " + ", ".join(dead))
                continue
            out = outs.get(i)
            if x.__class__ is not str:
                if x[0] == "ufunc":
                    _, e, f, call_args, cands, zero_d = x
                    # (out given positionally: the keyword costs more on small arrays)
                    # (np.maximum and np.minimum take it as a keyword only)
                    kw = "out=" if self.ns[f] in _OUT_KEYWORD else ""
                    x = f"{e} = {f}({call_args}, {kw}{out})" if out else _plain_text(x)
                elif x[0] == "pure":
                    x = x[2]
                else:                   # accumulation: a temporary no later line reads
                    _, leaf, ge = x     # may become .grad itself, as in the engine
                    x = f"_acc({leaf}, {ge}, {last.get(ge) == i})"
            body.append("    " + x)
            dead = [m for m in dict.fromkeys(_LOCAL.findall(x))
                    if (last.get(m) == i and m not in taken or taken.get(m) == i) and
                    not tiny.get(m)]
            if dead:            # temporaries no later line reads are not kept
                body.append("    del " + ", ".join(dead))
        body.append("    " + ret)
        src = f"def {name}(L):\n" + "\n".join(body) + "\n"
        code = builtins.compile(src, f"<chainrule.compile {name}>", "exec")
        ns = dict(self.ns)
        exec(code, ns)
        return ns[name], src


_LOCAL = re.compile(r"\b[sdvg]\d+\b")
# ufuncs that take ``out`` as a keyword only (a third positional argument is deprecated)
_OUT_KEYWORD = (np.maximum, np.minimum)


def _plain_text(x):
    if x[0] == "ufunc":         # (a 0-d result as an array, not a NumPy scalar: out=...)
        return f"{x[1]} = {x[2]}({x[3]}{', out=...' if x[5] else ''})"
    if x[0] == "pure":
        return x[2]
    return f"_acc({x[1]}, {x[2]})"


def _params_of(obj):
    """The tensors an announced call updates (an optimizer's or a module's parameters)."""
    groups = getattr(obj, "param_groups", None)
    if groups is not None:
        return [p for g in groups for p in g["params"]]
    params = getattr(obj, "parameters", None)
    if params is not None:
        return list(params())
    return None


def _fold(arrays):
    total = arrays[0]
    for a in arrays[1:]:
        total = total + a
    return total


class _Guard:
    """``with recorder._guarded(what):`` turns ``_Break`` into a stopped recording."""
    __slots__ = ("rec", "what")

    def __init__(self, rec, what):
        self.rec = rec
        self.what = what

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if kind is not _Break:
            return False
        rec = self.rec
        where = _user_line()
        rec.broken = (str(exc), where, self.what)
        if rec.fullgraph:
            raise GraphBreakError(f"chainrule.compile(fullgraph=True): {exc}, at {where}. "
                                  f"Remove the {self.what} from the compiled function, or "
                                  f"compile without fullgraph=True to run such calls "
                                  f"eagerly.") from None
        return True


# --- the compiled function --------------------------------------------------------------

_ONE = object()


class _Entry:
    __slots__ = ("run", "guards", "source", "broken", "spec", "hits", "shape")

    def __init__(self, run, guards, source, broken, spec):
        self.run = run
        self.guards = guards
        self.source = source
        self.broken = broken
        self.spec = spec
        self.hits = 0
        # how a replay's tuple of result leaves becomes the result: None (a flat tuple of
        # leaves: the tuple itself), _ONE (one leaf), list (a flat list), else the
        # structure to rebuild
        if spec is None:
            self.shape = _ONE
        elif (spec[0] is tuple or spec[0] is list) and not any(spec[1]):
            self.shape = None if spec[0] is tuple else list
        else:
            self.shape = spec


class CompiledFunction:
    """What ``chainrule.compile(fn)`` returns: call it like ``fn``."""

    def __init__(self, fn, fullgraph):
        self._fn = fn
        self.fullgraph = fullgraph
        self._cache = {}                # key -> [entries]
        self._count = 0
        self._warned = set()
        self._limit_warned = False
        functools.update_wrapper(self, fn)

    def __get__(self, obj, objtype=None):
        if obj is None:
            return self
        return functools.partial(self, obj)

    def __call__(self, *args, **kwargs):
        st = STATE
        if st.observers or st.fw_level:
            # inside a recording (nested compiled calls record into the outer one), under
            # viz.record or anomaly detection, or with forward-mode levels open: eagerly
            return self._fn(*args, **kwargs)
        x = args[0] if len(args) == 1 and not kwargs else None
        c = x.__class__
        if c is _ndarray:           # (one array argument: its key written out, as _leaf_key)
            key = (1, st.enabled, ((c, x.shape, x.dtype, x.strides, 0),))
            leaves = args
        elif c is Tensor:
            d = x._data
            key = (1, st.enabled, ((c, d.shape, d.dtype, d.strides, x._rg, 0,
                                    x._fw is not None and bool(x._fw)),))
            leaves = args
        else:
            key = None
        if key is None:
            key, leaves = self._key(st, args, kwargs)
        try:
            entries = self._cache.get(key)
        except TypeError:           # an unhashable scalar: run eagerly
            return self._fn(*args, **kwargs)
        if entries is not None:
            for e in entries:
                if not e.guards or all([f() == v for f, v in e.guards]):
                    if e.broken is not None:
                        return self._fn(*args, **kwargs)
                    e.hits += 1
                    out = e.run(leaves)
                    shape = e.shape
                    if shape is None:
                        return out
                    if shape is _ONE:
                        return out[0]
                    return list(out) if shape is list else _unflatten(shape, iter(out))
        return self._miss(key, leaves, args, kwargs)

    @staticmethod
    def _key(st, args, kwargs):
        """The cache key of a call (the structure of its arguments, grad mode, what the
        guards compare for each argument leaf) and its argument leaves."""
        spec = len(args)            # (flat positional arguments: no pytree to walk)
        if kwargs:
            spec = None
        else:
            for a in args:
                c = a.__class__
                if c is tuple or c is list or c is dict:
                    spec = None
                    break
        if spec is None:
            leaves = []
            spec = _flatten((args, kwargs), leaves)
        else:
            leaves = args
        seen = {}
        return (spec, st.enabled,
                tuple([_leaf_key(x, i, seen) for i, x in enumerate(leaves)])), leaves

    def _miss(self, key, leaves, args, kwargs):
        """A call no recording matches: record it, or run eagerly past the cache limit."""
        if self._count >= cache_size_limit:
            if not self._limit_warned:
                self._limit_warned = True
                warnings.warn(
                    f"chainrule.compile: {self._name()} has been recorded "
                    f"{cache_size_limit} times (chainrule._compile.cache_size_limit) and "
                    f"is not recorded again: calls with new guards run eagerly. The last "
                    f"recording was for a new {_what_changed(key, self._cache)}; keep "
                    f"shapes, dtypes and Python scalar arguments the same between calls, "
                    f"or raise the limit.", UserWarning, stacklevel=3)
            return self._fn(*args, **kwargs)
        return self._record(key, leaves, args, kwargs)

    def _name(self):
        return getattr(self._fn, "__qualname__", repr(self._fn))

    def _record(self, key, leaves, args, kwargs):
        rec = _Recorder(self.fullgraph, leaves)
        observe(rec)
        try:
            out = self._fn(*args, **kwargs)
        finally:
            unobserve(rec)
        run = source = spec = None
        if rec.broken is None:
            out_leaves = []
            spec = _flatten(out, out_leaves)
            with _Guard(rec, "result"):
                run, source = rec.build(f"_replay_{self._count}", out_leaves)
        entry = _Entry(run, rec.guards, source, rec.broken, spec)
        self._cache.setdefault(key, []).append(entry)
        self._count += 1
        if rec.broken is not None:
            reason, where, _ = rec.broken
            if (reason, where) not in self._warned:
                self._warned.add((reason, where))
                warnings.warn(f"chainrule.compile: graph break in {self._name()}: {reason}, "
                              f"at {where}. Calls with these guards run eagerly; see "
                              f".explain() for every recording.", UserWarning, stacklevel=4)
        rec.keep = rec.pre = rec.grad0 = None
        return out

    def explain(self):
        """A report of this function's recordings: for each, whether it replays or broke
        (with the reason and the source line), its number of steps and replays."""
        lines = [f"chainrule.compile of {self._name()}: {self._count} recording(s)"]
        i = 0
        for entries in self._cache.values():
            for e in entries:
                i += 1
                if e.broken is not None:
                    reason, where, _ = e.broken
                    lines.append(f"  {i}. graph break: {reason}, at {where}")
                else:
                    steps = e.source.count("\n") - 2
                    lines.append(f"  {i}. replays: {steps} lines, {e.hits} replay(s)")
        return "\n".join(lines)

    @property
    def breaks(self):
        """The graph breaks seen so far: ``(reason, source line)`` pairs."""
        return [e.broken[:2] for es in self._cache.values() for e in es if e.broken]


def _what_changed(key, cache):
    """Words for how the call ``key`` differs from the recorded ones (the first argument
    leaf that differs from the last recording with the same structure)."""
    spec, mode, leaves = key
    for old in reversed(list(cache)):
        if old[0] != spec:
            continue
        if old[1] != mode:
            return "grad mode"
        for i, (a, b) in enumerate(zip(old[2], leaves)):
            if a != b:
                what = ("shape, dtype, strides or requires_grad" if len(a) > 2 else "value")
                return f"{what} of argument leaf {i} ({_short(a)} before, {_short(b)} now)"
        return "state of the tensors the function reads (parameters, .grad, optimizer state)"
    return "argument structure"


def _short(k):
    if len(k) > 2:
        return f"shape {tuple(k[1])} {k[2]}" + (f" requires_grad={k[4]}" if len(k) > 5 else "")
    return repr(k[1])


def compile(fn=None, *, fullgraph=False, dynamic=None, backend=None, mode=None,
            options=None, disable=False):
    """Compile ``fn``: the first call records every array operation it performs (forward,
    backward, ``optimizer.step()``), later calls with the same shapes, dtypes and Python
    scalar arguments replay the recording with no Tensor or graph node per op.  Usable as
    a decorator, with or without arguments, as ``torch.compile``.  What a recording cannot
    replay (``loss.item()``, ``if x > 0:``, hooks, random numbers ...) makes that call
    run eagerly with a warning, or raises ``GraphBreakError`` with ``fullgraph=True``;
    ``compiled.explain()`` lists the recordings.

    >>> import chainrule as torch
    >>> w = torch.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = torch.optim.SGD([w], lr=0.1)
    >>> @torch.compile
    ... def step(x):
    ...     opt.zero_grad()
    ...     loss = ((w * x).sum() - 1.0) ** 2
    ...     loss.backward()
    ...     opt.step()
    ...     return loss.detach()
    >>> [round(step(torch.tensor([1.0, 1.0])).item(), 4) for _ in range(3)]
    [4.0, 1.44, 0.5184]
    >>> w, step.breaks
    (tensor([ 1.7840, -1.2160], requires_grad=True), [])
    """
    if fn is None:
        return lambda f: compile(f, fullgraph=fullgraph, dynamic=dynamic, backend=backend,
                                 mode=mode, options=options, disable=disable)
    if not callable(fn):
        raise TypeError(f"chainrule.compile: expected a function to compile, got "
                        f"{type(fn).__name__}; use it as compile(fn) or @compile")
    if disable:
        return fn
    return CompiledFunction(fn, fullgraph)
