"""Write the type stubs of chainrule's dynamic surface from the running library.

Tensor's methods and operators are attached at import time, and the package namespace
re-exports op functions from modules a checker cannot see into, so both are described
by stubs that sit beside their modules (a checker reads ``X.pyi`` instead of ``X.py``):

* ``src/chainrule/_tensor.pyi``: ``Tensor`` (every public method, operator and property
  of the runtime class), ``Size``, ``is_tensor``;
* ``src/chainrule/__init__.pyi``: every public name of ``chainrule``;
* ``src/chainrule/nn/functional.pyi``, ``src/chainrule/linalg.pyi``: every public name of
  ``chainrule.nn.functional`` and ``chainrule.linalg``.

The names and parameters come from the runtime objects (``inspect.signature``); the types
come from the tables below: ``PARAM`` types a parameter by its name, ``RETURNS`` gives
the result where it is not a Tensor, ``HAND`` holds the few signatures that need
overloads.  A parameter name that no table knows stops the generator, so a new op makes
its author decide its types here.  ``tests/typing/test_stubs.py`` fails when a checked-in
stub differs from what this writes.

    python tools/make_stubs.py           # rewrite the stubs
    python tools/make_stubs.py --check   # exit 1 (and name them) if any is out of date
"""
import inspect
import pathlib
import sys
import types

ROOT = pathlib.Path(__file__).resolve().parents[1]
SRC = ROOT / "src"

# --- parameter types by name ------------------------------------------------------
_SHAPE = "_int | Sequence[_int]"
_KERNEL = "_int | tuple[_int, ...]"
PARAM = {
    # tensors
    "input": "Tensor", "self": "Tensor", "x": "Tensor", "A": "Tensor", "a": "Tensor",
    "b": "Tensor", "mat1": "Tensor", "mat2": "Tensor", "vec": "Tensor", "vec2": "Tensor",
    "index": "Tensor", "mask": "Tensor", "source": "Tensor", "src": "Tensor",
    "condition": "Tensor", "tensor": "Tensor", "gradient": "Tensor", "bias": "Tensor",
    "target": "Tensor", "running_mean": "Tensor", "running_var": "Tensor",
    "query": "Tensor", "key": "Tensor", "attn_mask": "Tensor",
    "other": "Tensor | _Number", "exponent": "Tensor | _Number", "end": "Tensor | _Number",
    "weight": "Tensor | _Number", "value": "Tensor | _Number", "min": "Tensor | _Number",
    "max": "Tensor | _Number", "repeats": "Tensor | _int",
    # integers and dimensions
    "dim": "_int", "dim0": "_int", "dim1": "_int", "dim2": "_int", "start_dim": "_int",
    "end_dim": "_int", "offset": "_int", "diagonal": "_int", "k": "_int", "chunks": "_int",
    "length": "_int", "start": "_int", "n": "_int", "m": "_int", "groups": "_int",
    "num_samples": "_int", "seed": "_int", "decimals": "_int", "num_classes": "_int",
    "dims": "_int | Sequence[_int]", "shifts": "_int | Sequence[_int]",
    "split_size": _SHAPE, "split_size_or_sections": _SHAPE, "sections": _SHAPE,
    "indices": _SHAPE, "indices_or_sections": _SHAPE, "tensor_indices_or_sections": _SHAPE,
    "size": _SHAPE, "shape": _SHAPE, "sizes": _SHAPE, "dims_args": _SHAPE,
    "output_size": _SHAPE, "kernel_size": _KERNEL, "stride": _KERNEL, "padding": _KERNEL,
    "dilation": _KERNEL, "output_padding": _KERNEL, "pad": "Sequence[_int]",
    # flags
    "keepdim": "_bool", "keepdims": "_bool", "descending": "_bool", "stable": "_bool",
    "largest": "_bool", "sorted": "_bool", "equal_nan": "_bool", "as_tuple": "_bool",
    "requires_grad": "_bool", "non_blocking": "_bool", "create_graph": "_bool",
    "retain_graph": "_bool", "replacement": "_bool", "ceil_mode": "_bool",
    "count_include_pad": "_bool", "return_indices": "_bool", "pin_memory": "_bool",
    "force": "_bool", "unbiased": "_bool", "copy": "_bool", "weights_only": "_bool",
    "mmap": "_bool", "training": "_bool", "inplace": "_bool", "is_causal": "_bool",
    "sci_mode": "_bool",
    # numbers
    "rtol": "_float", "atol": "_float", "eps": "_float", "nan": "_float",
    "posinf": "_float", "neginf": "_float", "mean": "_float", "std": "_float",
    "base": "_float", "alpha": "_Number", "beta": "_Number", "low": "_Number",
    "high": "_Number", "step": "_Number", "steps": "_int", "correction": "_Number",
    "fill_value": "_Number", "p": "_float | _str", "momentum": "_float",
    "negative_slope": "_float", "threshold": "_float", "label_smoothing": "_float",
    "dropout_p": "_float", "scale": "_float", "precision": "_int", "edgeitems": "_int",
    "linewidth": "_int", "ignore_index": "_int", "approximate": "_str",
    # other
    "dtype": "_dtype", "device": "_Device", "generator": "Generator",
    "memory_format": "object", "rounding_mode": "_str", "reduce": "_str",
    "reduction": "_str", "indexing": "_str", "equation": "_str", "mode": "_str",
    "profile": "_str", "data": "object", "obj": "object", "ndarray": "NDArray[Any]",
    "tensors": "Sequence[Tensor]", "operands": "Tensor", "hook": "Callable[[Tensor], Tensor | None]",
    "f": "Any", "map_location": "Any", "pos_weight": "Tensor", "normalized_shape": _SHAPE,
    "num_groups": "_int", "type1": "_dtype", "type2": "_dtype", "d": "_dtype",
    "spec": "_str", "memo": "dict[_int, object]", "proto": "_int", "idx": "Any",
    "func": "Any", "types": "Any", "args": "Any", "kwargs": "Any", "method": "_str",
    "ufunc": "Any", "wrt": "Any", "names": "Any", "tensor_contents": "Any",
    "enable_gqa": "_bool", "UPLO": "_str", "ord": "_float | _str", "B": "Tensor",
    "left": "_bool", "inputs": "Any", "axis": "_int", "size_average": "_bool",
    "divisor_override": "_int", "max_norm": "_float", "norm_type": "_float",
    "padding_idx": "_int", "scale_grad_by_freq": "_bool", "sparse": "_bool",
    "out": "Tensor",
}
# a name whose type differs in one function: (function, parameter) -> type
OVERRIDE = {
    ("compile", "fn"): "Any", ("compile", "fullgraph"): "bool",
    ("compile", "dynamic"): "bool | None", ("compile", "backend"): "Any",
    ("compile", "mode"): "Any", ("compile", "options"): "Any", ("compile", "disable"): "bool",
    ("movedim", "source"): _SHAPE, ("movedim", "destination"): _SHAPE,
    ("moveaxis", "source"): _SHAPE, ("moveaxis", "destination"): _SHAPE,
    ("take_along_dim", "indices"): "Tensor", ("arange", "start"): "_Number",
    ("linspace", "start"): "Tensor | _Number", ("logspace", "start"): "Tensor | _Number",
    ("narrow", "start"): "Tensor | _int", ("select", "index"): "_int",
    ("index_fill", "value"): "Tensor | _Number", ("randint", "size"): _SHAPE,
    ("randint_like", "high"): "_int", ("randint_like", "low"): "_int",
    ("randint", "low"): "_int", ("randint", "high"): "_int",
    ("normal", "mean"): "Tensor | _float", ("normal", "std"): "Tensor | _float",
    ("save", "obj"): "object", ("bernoulli", "p"): "_float",
    ("norm", "dim"): "_int | Sequence[_int]", ("unflatten", "sizes"): "Sequence[_int]",
    ("einsum", "operands"): "Tensor | Sequence[Tensor]",
    ("meshgrid", "tensors"): "Tensor | Sequence[Tensor]",
    ("permute", "dims"): _SHAPE, ("tile", "dims"): _SHAPE, ("flip", "dims"): _SHAPE,
    ("set_num_threads", "n"): "_int", ("eye", "n"): "_int", ("eye", "m"): "_int",
    ("tensordot", "dims"): "_int | Sequence[_int] | Sequence[Sequence[_int]]",
    ("full", "size"): "Sequence[_int]", ("new_full", "size"): "Sequence[_int]",
    ("new_tensor", "data"): "object", ("masked_fill", "value"): "Tensor | _Number",
    ("fill_", "value"): "Tensor | _Number", ("clamp", "min"): "Tensor | _Number",
    ("std", "unbiased"): "_bool", ("var", "unbiased"): "_bool",
    ("scaled_dot_product_attention", "value"): "Tensor",
}
for _loss in ("binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy",
              "l1_loss", "mse_loss", "nll_loss"):
    OVERRIDE[(_loss, "weight")] = "Tensor"
    OVERRIDE[(_loss, "reduce")] = "_bool"
for _conv in ("conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "linear",
              "layer_norm", "group_norm", "batch_norm", "embedding"):
    OVERRIDE[(_conv, "weight")] = "Tensor"
# "other" is a tensor, not a number, where the op needs its shape or a matrix
for _fn in ("expand_as", "reshape_as", "view_as", "type_as", "dot", "inner", "matmul",
            "__matmul__", "__rmatmul__", "__imatmul__", "equal", "allclose", "isclose"):
    OVERRIDE[(_fn, "other")] = "Tensor"
# dims given as None or () by default take one int or several
_SEVERAL_DIMS = {"dim", "axis"}

# --- results that are not a Tensor ------------------------------------------------
_TUPLE = "tuple[Tensor, ...]"
_PAIR = "tuple[Tensor, Tensor]"
RETURNS = {
    "allclose": "_bool", "equal": "_bool", "is_complex": "_bool",
    "is_floating_point": "_bool", "is_contiguous": "_bool", "is_tensor": "TypeGuard[Tensor]",
    "is_grad_enabled": "_bool", "__bool__": "_bool", "__float__": "_float",
    "__int__": "_int", "__index__": "_int", "__complex__": "_complex", "__len__": "_int",
    "dim": "_int", "ndimension": "_int", "numel": "_int", "nelement": "_int",
    "element_size": "_int", "data_ptr": "_int", "get_device": "_int",
    "get_num_threads": "_int", "initial_seed": "_int", "seed": "_int",
    "__repr__": "_str", "__str__": "_str", "__format__": "_str",
    "__iter__": "Iterator[Tensor]", "item": "_Number", "tolist": "Any",
    "numpy": "NDArray[Any]", "__array__": "NDArray[Any]", "__getstate__": "object",
    "__reduce_ex__": "Any", "__array_function__": "Any", "__array_ufunc__": "Any",
    "backward": "None", "retain_grad": "None", "__setitem__": "None",
    "set_default_dtype": "None", "set_default_device": "None", "set_num_threads": "None",
    "set_printoptions": "None", "save": "None", "get_default_dtype": "_dtype",
    "get_default_device": "_device", "promote_types": "_dtype", "manual_seed": "Generator",
    "load": "Any", "register_hook": "RemovableHandle", "explain": "Any", "compile": "Any",
    "split": _TUPLE, "chunk": _TUPLE, "unbind": _TUPLE, "hsplit": _TUPLE,
    "vsplit": _TUPLE, "dsplit": _TUPLE, "tensor_split": _TUPLE, "meshgrid": _TUPLE,
    "var_mean": _PAIR, "std_mean": _PAIR, "sort": "_ValuesIndices",
    "topk": "_ValuesIndices", "eigh": _PAIR,
}
# augmented assignments return the tensor they update
_SELF_RETURNING = {"__iadd__", "__isub__", "__imul__", "__itruediv__", "__ifloordiv__",
                   "__imod__", "__ipow__", "__imatmul__"}

# signatures written by hand (overloads, properties, methods with no usable signature)
_MAXMIN = """\
    @overload
    def {n}(self) -> Tensor: ...
    @overload
    def {n}(self, dim: _int, keepdim: _bool = ...) -> _ValuesIndices: ...
    @overload
    def {n}(self, other: Tensor) -> Tensor: ...
"""
HAND_METHODS = {
    "size": """\
    @overload
    def size(self) -> Size: ...
    @overload
    def size(self, dim: _int) -> _int: ...
""",
    "stride": """\
    @overload
    def stride(self) -> tuple[_int, ...]: ...
    @overload
    def stride(self, dim: _int) -> _int: ...
""",
    "type": """\
    @overload
    def type(self) -> _str: ...
    @overload
    def type(self, dtype: _dtype | _str, non_blocking: _bool = ...) -> Tensor: ...
""",
    "to": """\
    @overload
    def to(self, dtype: _dtype, non_blocking: _bool = ..., copy: _bool = ...) -> Tensor: ...
    @overload
    def to(self, device: _Device | None = ..., dtype: _dtype | None = ...,
           non_blocking: _bool = ..., copy: _bool = ...) -> Tensor: ...
    @overload
    def to(self, other: Tensor, non_blocking: _bool = ..., copy: _bool = ...) -> Tensor: ...
""",
    "nonzero": """\
    @overload
    def nonzero(self, *, as_tuple: Literal[False] = ...) -> Tensor: ...
    @overload
    def nonzero(self, *, as_tuple: Literal[True]) -> tuple[Tensor, ...]: ...
""",
    "max": _MAXMIN.format(n="max"), "min": _MAXMIN.format(n="min"),
    "median": """\
    @overload
    def median(self) -> Tensor: ...
    @overload
    def median(self, dim: _int, keepdim: _bool = ...) -> _ValuesIndices: ...
""",
    "__init__": """\
    def __init__(self, data: Any = ..., *args: Any, **kwargs: Any) -> None: ...
""",
    "__eq__": """\
    def __eq__(self, other: object) -> Tensor: ...  # type: ignore[override]
""",
    "__ne__": """\
    def __ne__(self, other: object) -> Tensor: ...  # type: ignore[override]
""",
    "__hash__": """\
    def __hash__(self) -> _int: ...
""",
    "__getitem__": """\
    def __getitem__(self, idx: _Index) -> Tensor: ...
""",
    "__setitem__": """\
    def __setitem__(self, idx: _Index, value: Tensor | _Number) -> None: ...
""",
    "bernoulli_": """\
    def bernoulli_(self, p: _float | Tensor = ..., *, generator: Generator | None = ...) -> Tensor: ...
""",
    "normal_": """\
    def normal_(self, mean: _float = ..., std: _float = ..., *,
                generator: Generator | None = ...) -> Tensor: ...
""",
    "uniform_": """\
    def uniform_(self, a: _float = ..., b: _float = ..., *,
                 generator: Generator | None = ...) -> Tensor: ...
""",
    "__reduce_ex__": """\
    def __reduce_ex__(self, proto: SupportsIndex) -> Any: ...
""",
    "__deepcopy__": """\
    def __deepcopy__(self, memo: dict[_int, object] | None) -> Tensor: ...
""",
}

def _as_function(text):
    """A Tensor method's hand-written stub as the package function (self -> input)."""
    return "\n".join(line[4:] for line in text.splitlines()).replace(
        "(self", "(input: Tensor") + "\n"


HAND_FUNCTIONS = {name: _as_function(HAND_METHODS[name]) for name in ("max", "min", "median")}
PROPERTIES = {
    "T": "Tensor", "H": "Tensor", "mT": "Tensor", "data": "Tensor", "device": "_device",
    "dtype": "_dtype", "grad": "Tensor | None", "grad_fn": "Node | None", "is_cpu": "_bool",
    "is_cuda": "_bool", "is_leaf": "_bool", "itemsize": "_int", "nbytes": "_int",
    "ndim": "_int", "requires_grad": "_bool", "retains_grad": "_bool", "shape": "Size",
}
_NOT_STUBBED = {"__slots__", "__module__", "__doc__", "__dict__", "__weakref__",
                "__array_priority__"}

HEADER = '''\
# Generated by tools/make_stubs.py from the runtime objects; do not edit by hand.
# Run `python tools/make_stubs.py` after changing a public signature.
'''

TENSOR_PRELUDE = '''\
from builtins import bool as _bool, complex as _complex, float as _float, int as _int
from builtins import str as _str
from collections.abc import Callable, Iterator, Sequence
from types import EllipsisType
from typing import Any, Literal, NamedTuple, SupportsIndex, TypeGuard, overload

from numpy.typing import NDArray

from ._creation import Generator
from ._device import device as _device
from ._dtypes import dtype as _dtype
from ._graph import Node, RemovableHandle

_Number = _int | _float | _bool
_Device = _device | _str | _int
_Index = (_int | slice | EllipsisType | None | Tensor | Sequence[Any]
          | tuple[_int | slice | EllipsisType | None | Tensor | Sequence[Any], ...])


class _ValuesIndices(NamedTuple):
    values: Tensor
    indices: Tensor


class Size(tuple[_int, ...]):
    def numel(self) -> _int: ...


def is_tensor(obj: object) -> TypeGuard[Tensor]: ...
def wrap(data: Any, requires_grad: _bool = ...) -> Tensor: ...


class Tensor:
'''

PACKAGE_PRELUDE = '''\
from builtins import bool as _bool, float as _float, int as _int, str as _str
from collections.abc import Callable, Sequence
from typing import Any, Literal, TypeGuard, overload

from numpy.typing import NDArray

from . import autograd as autograd, func as func, linalg as linalg, nn as nn
from . import optim as optim, return_types as return_types, utils as utils
from . import backends as backends, cuda as cuda, distributions as distributions
from . import ops as ops, serialization as serialization, viz as viz
from ._creation import Generator as Generator
from ._device import device as device, device as _device
from ._dtypes import dtype as dtype, dtype as _dtype
from ._legacy import _LegacyType
from ._tensor import Size as Size, Tensor as Tensor, _Device, _Number, _ValuesIndices
from .autograd import (enable_grad as enable_grad, inference_mode as inference_mode,
                       no_grad as no_grad, set_grad_enabled as set_grad_enabled)

__version__: _str
'''

FUNCTIONAL_PRELUDE = '''\
from builtins import bool as _bool, float as _float, int as _int, str as _str
from collections.abc import Sequence

from .._dtypes import dtype as _dtype
from .._tensor import Tensor, _Number
'''


class StubError(Exception):
    pass


def _annotation(func, pname, default):
    t = OVERRIDE.get((func, pname)) or PARAM.get(pname)
    if t is None:
        raise StubError(f"make_stubs: {func}(): no type for parameter {pname!r}; add it "
                        f"to PARAM (or OVERRIDE) in tools/make_stubs.py")
    if (pname in _SEVERAL_DIMS and (func, pname) not in OVERRIDE
            and (default is None or isinstance(default, tuple))):
        t = "_int | Sequence[_int]"
    if default is None and "None" not in t and t not in ("Any", "object"):
        t += " | None"
    return t


def _params(func, sig, method):
    out, star = [], False
    items = list(sig.parameters.values())
    if method:
        out.append("self")
        items = items[1:]
    for p in items:
        if p.name.startswith("_"):
            continue
        if p.kind is p.VAR_KEYWORD:
            out.append(f"**{p.name}: Any")
            continue
        t = _annotation(func, p.name, p.default)
        if p.kind is p.VAR_POSITIONAL:
            out.append(f"*{p.name}: {t}")
            star = True
            continue
        if p.kind is p.KEYWORD_ONLY and not star:
            out.append("*")
            star = True
        out.append(f"{p.name}: {t}" + ("" if p.default is p.empty else " = ..."))
    return ", ".join(out)


def _def(name, sig, method, ret, indent):
    line = f"{indent}def {name}({_params(name, sig, method)}) -> {ret}: ..."
    return line + "\n"


def _result(name):
    if name in RETURNS:
        return RETURNS[name]
    return "Tensor"


def tensor_stub():
    import chainrule
    T = chainrule.Tensor
    body = []
    # what Tensor and its bases define (not what every object has)
    for name in sorted({n for k in T.__mro__[:-1] for n in vars(k)}):
        if name in _NOT_STUBBED or (name.startswith("_") and not name.startswith("__")):
            continue
        attr = inspect.getattr_static(T, name)
        if isinstance(attr, property):
            if name not in PROPERTIES:
                raise StubError(f"make_stubs: Tensor.{name} is a property with no type; "
                                f"add it to PROPERTIES in tools/make_stubs.py")
            body.append(f"    @property\n    def {name}(self) -> {PROPERTIES[name]}: ...\n")
            if attr.fset is not None:
                body.append(f"    @{name}.setter\n    def {name}(self, value: "
                            f"{PROPERTIES[name]}) -> None: ...\n")
            continue
        if name in HAND_METHODS:
            body.append(HAND_METHODS[name])
            continue
        if not callable(attr):
            raise StubError(f"make_stubs: Tensor.{name} is neither a method nor a property")
        sig = inspect.signature(attr)
        ps = list(sig.parameters.values())
        # in-place methods are (self, *args, **kwargs) wrappers: take the parameters of
        # the out-of-place method (add_ -> add, __iadd__ -> __add__)
        if [p.kind for p in ps[1:]] == [inspect.Parameter.VAR_POSITIONAL,
                                         inspect.Parameter.VAR_KEYWORD]:
            base = "__" + name[3:] if name.startswith("__i") else name[:-1]
            src = inspect.getattr_static(T, base, None)
            if not callable(src):
                raise StubError(f"make_stubs: Tensor.{name} takes *args/**kwargs and no "
                                f"out-of-place {base!r} gives its parameters; add it to "
                                f"HAND_METHODS in tools/make_stubs.py")
            sig = inspect.signature(src)
        if name.startswith("__") and name not in ("__repr__", "__str__"):
            # an operator takes its operands only (alpha=, rounding_mode= are the
            # named methods' business)
            sig = sig.replace(parameters=[p for p in sig.parameters.values()
                                          if p.kind is not p.KEYWORD_ONLY])
        ret = "Tensor" if name in _SELF_RETURNING else _result(name)
        body.append(_def(name, sig, True, ret, "    "))
    return HEADER + TENSOR_PRELUDE + "".join(body)


def _namespace_stub(module, prelude, declared):
    """The functions and values of ``module`` that the prelude does not declare."""
    lines, imports = [], []
    names = getattr(module, "__all__", None) or [n for n in dir(module)
                                                 if not n.startswith("_")]
    for name in sorted(names):
        if name in declared:
            continue
        obj = getattr(module, name)
        if isinstance(obj, types.ModuleType):
            continue          # submodules: the prelude imports the public ones
        if name in HAND_FUNCTIONS and isinstance(obj, types.FunctionType):
            lines.append(HAND_FUNCTIONS[name])
        elif isinstance(obj, types.FunctionType):
            lines.append(_def(name, inspect.signature(obj), False, _result(name), ""))
        elif type(obj).__name__ == "dtype":
            lines.append(f"{name}: _dtype\n")
        elif type(obj).__name__ == "Generator":
            lines.append(f"{name}: Generator\n")
        elif type(obj).__name__ == "_LegacyType":
            lines.append(f"{name}: _LegacyType\n")
        elif isinstance(obj, type):
            # a class defined elsewhere (an exception, say): imported from where it lives
            imports.append(f"from {obj.__module__} import {obj.__qualname__} as {name}\n")
        else:
            raise StubError(f"make_stubs: {module.__name__}.{name} ({type(obj).__name__})"
                            f" has no rule; declare it in the prelude of tools/make_stubs.py")
    return HEADER + prelude + "".join(imports) + "\n" + "".join(lines)


def _declared(prelude):
    import re
    names = set(re.findall(r"\bas (\w+)\b", prelude))
    names |= set(re.findall(r"^(\w+):", prelude, re.M))
    return names


def package_stub():
    import chainrule
    for lazy in ("nn", "func", "optim", "utils", "distributions", "cuda", "backends",
                 "viz", "load", "save", "explain", "compile"):
        getattr(chainrule, lazy)
    return _namespace_stub(chainrule, PACKAGE_PRELUDE, _declared(PACKAGE_PRELUDE))


def linalg_stub():
    import chainrule.linalg as L
    return _namespace_stub(L, FUNCTIONAL_PRELUDE.replace("..", "."), set())


def functional_stub():
    import chainrule.nn.functional as F
    return _namespace_stub(F, FUNCTIONAL_PRELUDE, set())


STUBS = {"src/chainrule/_tensor.pyi": tensor_stub,
         "src/chainrule/__init__.pyi": package_stub,
         "src/chainrule/nn/functional.pyi": functional_stub,
         "src/chainrule/linalg.pyi": linalg_stub}


def main(argv):
    sys.path.insert(0, str(SRC))
    stale = []
    for rel, make in STUBS.items():
        text = make()
        path = ROOT / rel
        if "--check" in argv:
            if not path.exists() or path.read_text() != text:
                stale.append(rel)
        else:
            path.write_text(text)
    if stale:
        print("out of date (run python tools/make_stubs.py): " + ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
