"""dtype objects and PyTorch's type-promotion rules.

A chainrule dtype wraps a NumPy dtype.  Its ``repr`` is PyTorch's
(``torch.float32``) so that printed tensors match what learners see in the
book when they swap ``import torch`` for ``import chainrule as torch``.
"""
import numpy as np

__all__ = ["dtype", "float16", "float32", "float64", "int8", "int16", "int32", "int64",
           "uint8", "bool", "half", "float", "double", "short", "int", "long",
           "get_default_dtype", "set_default_dtype", "promote_types"]


class dtype:
    """A tensor element type (``chainrule.float32``, ``chainrule.int64``, ...).

    >>> import chainrule as torch
    >>> torch.tensor([1.0]).dtype
    torch.float32
    """
    __slots__ = ("name", "np", "is_floating_point", "is_signed", "itemsize", "_kind")

    def __init__(self, name, np_dtype, kind):
        self.name = name
        self.np = np.dtype(np_dtype)
        self.is_floating_point = kind == 2
        self.is_signed = kind != 0 and self.np.kind != "u"
        self.itemsize = self.np.itemsize
        self._kind = kind          # 0 bool, 1 integer, 2 floating

    def __repr__(self):
        return "torch." + self.name

    def __reduce__(self):
        return (_by_name, (self.name,))

    @property
    def is_complex(self):
        return False


def _by_name(name):
    return _NAMES[name]


float16 = half = dtype("float16", np.float16, 2)
float32 = dtype("float32", np.float32, 2)
float64 = double = dtype("float64", np.float64, 2)
uint8 = dtype("uint8", np.uint8, 1)
int8 = dtype("int8", np.int8, 1)
int16 = short = dtype("int16", np.int16, 1)
int32 = dtype("int32", np.int32, 1)
int64 = long = dtype("int64", np.int64, 1)
bool = dtype("bool", np.bool_, 0)   # noqa: A001  (PyTorch's name)
float = float32                     # noqa: A001  torch.float is float32
int = int32                         # noqa: A001  torch.int is int32

_ALL = (float16, float32, float64, uint8, int8, int16, int32, int64, bool)
_NAMES = {d.name: d for d in _ALL}
#: NumPy dtype -> chainrule dtype
_FROM_NP = {d.np: d for d in _ALL}


class _Defaults:
    __slots__ = ("float",)


DEFAULTS = _Defaults()
DEFAULTS.float = float32


def get_default_dtype():
    """The dtype Python floats become (``float32`` unless changed).

    >>> import chainrule as torch
    >>> torch.get_default_dtype()
    torch.float32
    """
    return DEFAULTS.float


def set_default_dtype(d):
    """Set the dtype that Python floats and float factories produce.

    Only ``float32`` and ``float64`` (and ``float16``) are accepted, as in PyTorch.

    >>> import chainrule as torch
    >>> torch.set_default_dtype(torch.float64); torch.tensor(1.).dtype
    torch.float64
    >>> torch.set_default_dtype(torch.float32)
    """
    d = to_dtype(d)
    if not d.is_floating_point:
        raise TypeError(f"set_default_dtype: only floating-point types are supported as the "
                        f"default type, got {d}. Pass chainrule.float32 or chainrule.float64.")
    DEFAULTS.float = d


def to_dtype(d):
    """Normalise a chainrule dtype, NumPy dtype, Python type or name to a chainrule dtype."""
    if d.__class__ is dtype:
        return d
    if d is None:
        return None
    if d is builtins_float:
        return DEFAULTS.float
    if d is builtins_int:
        return int64
    if d is builtins_bool:
        return bool
    if isinstance(d, str) and d.replace("torch.", "") in _NAMES:
        return _NAMES[d.replace("torch.", "")]
    try:
        return _FROM_NP[np.dtype(d)]
    except (TypeError, KeyError):
        raise TypeError(f"dtype: expected a chainrule dtype such as chainrule.float32, "
                        f"got {d!r}") from None


import builtins as _b  # noqa: E402
builtins_float, builtins_int, builtins_bool = _b.float, _b.int, _b.bool


def from_np(np_dtype):
    """The chainrule dtype of a NumPy dtype (unsupported ones raise TypeError)."""
    try:
        return _FROM_NP[np_dtype]
    except KeyError:
        raise TypeError(f"can't convert np.ndarray of type {np_dtype}. The only supported types "
                        f"are: float64, float32, float16, int64, int32, int16, int8, uint8, "
                        f"and bool.") from None


def promote_types(a, b):
    """PyTorch's ``promote_types`` for two dtypes.

    >>> import chainrule as torch
    >>> torch.promote_types(torch.int64, torch.float32)
    torch.float32
    """
    a, b = to_dtype(a), to_dtype(b)
    if a is b:
        return a
    if a._kind != b._kind:
        return a if a._kind > b._kind else b
    return _FROM_NP[np.promote_types(a.np, b.np)]


# --- result dtype of an op on tensors and Python scalars -------------------------------
# PyTorch orders operands by "category" (bool < integer < floating).  Within the highest
# category present, dimensioned tensors decide the dtype, then 0-d tensors, then Python
# scalars, which only contribute their category (an int scalar never widens int32, a float
# scalar makes an integer tensor the default float dtype).

_PY_KIND = {_b.bool: 0, _b.int: 1, _b.float: 2}


def result_np_dtype(operands):
    """NumPy dtype PyTorch would give an op on ``operands`` (ndarrays or Python scalars)."""
    dim_d = zero_d = None
    scalar_kind = -1
    for x in operands:
        k = _PY_KIND.get(x.__class__)
        if k is not None:
            scalar_kind = max(scalar_kind, k)
            continue
        d = x.dtype
        if x.ndim:
            dim_d = d if dim_d is None else _np_promote(dim_d, d)
        else:
            zero_d = d if zero_d is None else _np_promote(zero_d, d)
    best = dim_d
    if zero_d is not None:
        if best is None or _np_kind(zero_d) > _np_kind(best):
            best = zero_d
    if best is None:
        return {0: np.dtype(np.bool_), 1: np.dtype(np.int64)}.get(scalar_kind, DEFAULTS.float.np)
    if scalar_kind > _np_kind(best):
        return DEFAULTS.float.np if scalar_kind == 2 else np.dtype(np.int64)
    return best


def _np_kind(d):
    k = d.kind
    return 2 if k == "f" else (0 if k == "b" else 1)


def _np_promote(a, b):
    if a == b:
        return a
    ka, kb = _np_kind(a), _np_kind(b)
    if ka != kb:
        return a if ka > kb else b
    return np.promote_types(a, b)
