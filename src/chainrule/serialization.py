"""``chainrule.save`` / ``chainrule.load``: tensors and (nested) state dicts in NumPy's
``.npz`` format.

The archive holds one array per distinct tensor (``t0``, ``t1`` ...) and a JSON
description of the saved object in ``__chainrule__``.  Loading reads it with
``np.load(allow_pickle=False)`` and ``json``, so it never executes code from the file: a
file containing pickled objects is refused.
"""
import io
import json
import os
import pickle
from collections import OrderedDict

import numpy as np

from . import _dtypes
from ._tensor import Tensor, wrap

__all__ = ["save", "load"]

_FORMAT = "chainrule-npz-1"
_STRUCT = "__chainrule__"


def _encode(obj, arrays, seen):
    """JSON-able description of ``obj``; tensors go into ``arrays``."""
    if isinstance(obj, Tensor):
        key = seen.get(id(obj))
        if key is None:
            key = f"t{len(arrays)}"
            seen[id(obj)] = key
            arrays[key] = obj._data
        from .nn.parameter import Parameter
        return {"T": "tensor", "ref": key, "requires_grad": bool(obj.requires_grad),
                "parameter": isinstance(obj, Parameter)}
    if obj is None:
        return {"T": "none"}
    if isinstance(obj, (bool, np.bool_)):
        return {"T": "bool", "v": bool(obj)}
    if isinstance(obj, (int, np.integer)):
        return {"T": "int", "v": int(obj)}
    if isinstance(obj, (float, np.floating)):
        return {"T": "float", "v": repr(float(obj))}
    if isinstance(obj, str):
        return {"T": "str", "v": obj}
    if isinstance(obj, _dtypes.dtype):
        return {"T": "dtype", "v": str(obj)}
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind not in "biuf":
            raise TypeError(f"chainrule.save: cannot save a NumPy array of dtype {obj.dtype} "
                            f"(numeric and bool arrays only)")
        key = f"t{len(arrays)}"
        arrays[key] = obj
        return {"T": "ndarray", "ref": key}
    if isinstance(obj, (list, tuple)):
        return {"T": "tuple" if isinstance(obj, tuple) else "list",
                "items": [_encode(x, arrays, seen) for x in obj]}
    if isinstance(obj, dict):
        kind = "odict" if isinstance(obj, OrderedDict) else "dict"
        return {"T": kind, "items": [[_encode(k, arrays, seen), _encode(v, arrays, seen)]
                                     for k, v in obj.items()]}
    raise TypeError(f"chainrule.save: cannot save an object of type {type(obj).__name__}. "
                    f"Supported: tensors, numbers, strings, None, dtypes, NumPy arrays and "
                    f"lists/tuples/dicts of them (e.g. model.state_dict(), "
                    f"optimizer.state_dict()).")


def save(obj, f):
    """Save tensors, numbers and (nested) dicts/lists of them, e.g. a model's or an
    optimiser's ``state_dict()``, to ``f`` (a path or a binary file object) as ``.npz``.
    Tensors shared between entries are stored once and stay shared after loading.

    >>> import chainrule as torch, io
    >>> buf = io.BytesIO()
    >>> torch.save({"w": torch.tensor([1.0, 2.0]), "epoch": 3}, buf)
    >>> _ = buf.seek(0)
    >>> torch.load(buf)
    {'w': tensor([1., 2.]), 'epoch': 3}
    """
    arrays = {}
    structure = {"format": _FORMAT, "object": _encode(obj, arrays, {})}
    blob = np.frombuffer(json.dumps(structure).encode("utf-8"), dtype=np.uint8)
    arrays[_STRUCT] = blob
    if isinstance(f, (str, os.PathLike)):
        with open(f, "wb") as fh:          # np.savez would append ".npz" to a path
            np.savez(fh, **arrays)
    else:
        np.savez(f, **arrays)


class _Refused(pickle.UnpicklingError):
    pass


def _refuse(f, why):
    name = f if isinstance(f, (str, os.PathLike)) else "the file object"
    raise _Refused(f"chainrule.load: {name} is not a chainrule archive ({why}). chainrule only "
                   f"reads .npz files written by chainrule.save and never unpickles data, so "
                   f"files made by pickle or torch.save cannot be loaded; re-save them with "
                   f"chainrule.save.")


def load(f, map_location=None, *, weights_only=True, mmap=None, **kwargs):
    """Load an object saved by ``chainrule.save`` from a path or binary file object.
    Only plain arrays and JSON are read (``np.load(allow_pickle=False)``); pickled content
    raises ``pickle.UnpicklingError``.

    >>> import chainrule as torch, io
    >>> buf = io.BytesIO(); torch.save([torch.ones(2, dtype=torch.int64), 2.5, None], buf)
    >>> _ = buf.seek(0); torch.load(buf)
    [tensor([1, 1]), 2.5, None]
    """
    if map_location is not None and str(map_location) != "cpu" and not callable(map_location) \
            and not isinstance(map_location, dict):
        from ._tensor import device
        device(map_location)
    try:
        npz = np.load(f, allow_pickle=False)
    except ValueError as e:                 # pickled data, or not an npz file at all
        _refuse(f, str(e))
    except (OSError, EOFError) as e:
        _refuse(f, f"unreadable: {e}")
    if not hasattr(npz, "files"):
        _refuse(f, "a bare .npy array, not an .npz archive")
    with npz:
        if _STRUCT not in npz.files:
            _refuse(f, f"no {_STRUCT} entry")
        try:
            arrays = {k: npz[k] for k in npz.files}
        except ValueError as e:             # object arrays need pickle: refused
            _refuse(f, str(e))
    try:
        structure = json.loads(arrays.pop(_STRUCT).tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        _refuse(f, f"damaged structure description: {e}")
    if not isinstance(structure, dict) or structure.get("format") != _FORMAT:
        _refuse(f, "unknown format")
    return _decode(structure["object"], arrays, {}, f)


def _decode(node, arrays, made, f):
    if not isinstance(node, dict) or "T" not in node:
        _refuse(f, "malformed structure description")
    kind = node["T"]
    if kind == "tensor":
        ref = node["ref"]
        if ref in made:
            return made[ref]
        if ref not in arrays:
            _refuse(f, f"missing array {ref!r}")
        data = arrays[ref]
        _dtypes.from_np(data.dtype)          # only chainrule's dtypes
        data = np.array(data, copy=True)
        if node.get("parameter"):
            from .nn.parameter import Parameter
            t = Parameter(wrap(data), bool(node.get("requires_grad", True)))
        else:
            t = wrap(data)
            if node.get("requires_grad"):
                t.requires_grad_(True)
        made[ref] = t
        return t
    if kind == "ndarray":
        return np.array(arrays[node["ref"]], copy=True)
    if kind == "none":
        return None
    if kind in ("bool", "int", "str"):
        v = node["v"]
        expected = {"bool": bool, "int": int, "str": str}[kind]
        if type(v) is not expected:
            _refuse(f, f"bad {kind} value")
        return v
    if kind == "float":
        return float(node["v"])
    if kind == "dtype":
        return _dtypes.to_dtype(node["v"])
    if kind in ("list", "tuple"):
        items = [_decode(x, arrays, made, f) for x in node["items"]]
        return tuple(items) if kind == "tuple" else items
    if kind in ("dict", "odict"):
        d = OrderedDict() if kind == "odict" else {}
        for k, v in node["items"]:
            d[_decode(k, arrays, made, f)] = _decode(v, arrays, made, f)
        return d
    _refuse(f, f"unknown entry type {kind!r}")


def _bytes_roundtrip(obj):
    """save then load through memory (used by tests and ``copy`` helpers)."""
    buf = io.BytesIO()
    save(obj, buf)
    buf.seek(0)
    return load(buf)
