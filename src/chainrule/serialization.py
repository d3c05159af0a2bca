"""``chainrule.save`` / ``chainrule.load``: tensors and (nested) state dicts in NumPy's
``.npz`` format.

The archive holds one array per distinct tensor (``t0``, ``t1`` ...) and a JSON
description of the saved object in ``__chainrule__``.  Loading reads it with
``np.load(allow_pickle=False)`` and ``json``, so it never executes code from the file: a
file containing pickled objects is refused.

Saving to a path is atomic: the archive is written to a temporary file in the target's
folder, flushed and fsynced, then renamed over the target, so a crash or a kill during
``save`` leaves the previous file intact.  Loading raises ``FileNotFoundError`` for a
missing path and ``LoadError`` (one public class, a ``RuntimeError`` and an
``pickle.UnpicklingError``) for every file that is not an intact chainrule archive.
"""
import io
import json
import os
import pickle
import secrets
import stat
import zipfile
import zlib
from collections import OrderedDict

import numpy as np

from . import _dtypes
from ._backend import copy_array, cuda_backend, to_host
from ._tensor import Tensor, wrap
from .nn.parameter import Parameter
from ._device import device

__all__ = ["save", "load", "LoadError"]

_FORMAT = "chainrule-npz-1"
_STRUCT = "__chainrule__"
_MAX_DEPTH = 200          # nesting of lists/dicts in a saved object (save and load alike)


def _encode(obj, arrays, seen, depth=0):
    """JSON-able description of ``obj``; tensors go into ``arrays``."""
    if depth > _MAX_DEPTH:
        raise ValueError(f"chainrule.save: the object is nested more than {_MAX_DEPTH} "
                         f"lists/dicts deep; chainrule.load would refuse it. Flatten it "
                         f"(e.g. a dict of tensors) before saving.")
    if isinstance(obj, Tensor):
        key = seen.get(id(obj))
        if key is None:
            key = f"t{len(arrays)}"
            seen[id(obj)] = key
            arrays[key] = to_host(obj._data)    # a GPU tensor is saved from the host
        node = {"T": "tensor", "ref": key, "requires_grad": bool(obj.requires_grad),
                "parameter": isinstance(obj, Parameter)}
        if obj._data.__class__ is not np.ndarray:
            node["device"] = "cuda"         # loads back onto the GPU, as in PyTorch
        return node
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
                "items": [_encode(x, arrays, seen, depth + 1) for x in obj]}
    if isinstance(obj, dict):
        kind = "odict" if isinstance(obj, OrderedDict) else "dict"
        return {"T": kind, "items": [[_encode(k, arrays, seen, depth + 1),
                                      _encode(v, arrays, seen, depth + 1)]
                                     for k, v in obj.items()]}
    raise TypeError(f"chainrule.save: cannot save an object of type {type(obj).__name__}. "
                    f"Supported: tensors, numbers, strings, None, dtypes, NumPy arrays and "
                    f"lists/tuples/dicts of them (e.g. model.state_dict(), "
                    f"optimizer.state_dict()).")


def save(obj, f):
    """Save tensors, numbers and (nested) dicts/lists of them, e.g. a model's or an
    optimiser's ``state_dict()``, to ``f`` (a path or a binary file object) as ``.npz``.
    Tensors shared between entries are stored once and stay shared after loading.

    Saving to a path is atomic: the archive goes to a temporary file in the same folder,
    is flushed to disk, then renamed over ``f``; if the process dies during ``save``, the
    previous file at ``f`` is left as it was.

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
        _write_atomically(os.fspath(f), lambda fh: np.savez(fh, **arrays))
    else:
        np.savez(f, **arrays)


def _write_atomically(path, write):
    """Run ``write(file)`` on a temporary file beside ``path``, fsync it, rename it over
    ``path`` (which keeps its permission bits), then fsync the folder."""
    target = os.path.realpath(path)           # through a symlink, as open(path, "wb") does
    if os.path.isdir(target):
        raise IsADirectoryError(f"chainrule.save: {path!r} is a directory; give a file name")
    folder = os.path.dirname(target)
    tmp = os.path.join(folder, f".{os.path.basename(target)}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                 0o666)                       # the umask applies, as for open(path, "wb")
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.chmod(tmp, stat.S_IMODE(os.stat(target).st_mode))
        except FileNotFoundError:
            pass
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:                                      # make the rename itself durable (POSIX)
        dfd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


class LoadError(RuntimeError, pickle.UnpicklingError):
    """Raised by ``chainrule.load`` for a file that is not an intact chainrule archive:
    truncated or damaged, written by another program (``torch.save``, pickle, plain
    ``np.savez``) or holding a malformed description.  The message says what was wrong
    and what to do.  It is a ``RuntimeError`` (as PyTorch's load raises for a damaged
    archive) and a ``pickle.UnpicklingError`` (as it raises for refused pickled data).

    >>> import chainrule as torch, io
    >>> from chainrule.serialization import LoadError
    >>> try:
    ...     torch.load(io.BytesIO(b"not an archive"))
    ... except LoadError as e:
    ...     print(str(e)[:52])
    chainrule.load: the file object is not a chainrule a
    """


def _refuse(f, why, hint=None):
    name = repr(os.fspath(f)) if isinstance(f, (str, os.PathLike)) else "the file object"
    raise LoadError(
        f"chainrule.load: {name} is not a chainrule archive or is damaged ({why}). "
        + (hint or "chainrule reads only the .npz archives that chainrule.save writes and "
           "never unpickles data; if the file was damaged, restore it from a backup, or "
           "re-create it with chainrule.save."))


_TORCH_HINT = ("It looks like a file written by torch.save (PyTorch's pickle-based "
               "format), which chainrule does not read. Load it in PyTorch and convert: "
               "np.savez or a dict of tensor.numpy() arrays, then chainrule.tensor(...) and "
               "chainrule.save.")
_PICKLE_HINT = ("It holds pickled Python objects; chainrule never unpickles data (that "
                "could run code from the file). Re-save the object with chainrule.save.")


def load(f, map_location=None, *, weights_only=True, mmap=None, **kwargs):
    """Load an object saved by ``chainrule.save`` from a path or binary file object.
    Only plain arrays and JSON are read (``np.load(allow_pickle=False)``), so loading
    never runs code from the file.  A missing path raises ``FileNotFoundError``; any file
    that is not an intact chainrule archive raises ``chainrule.serialization.LoadError``.

    >>> import chainrule as torch, io
    >>> buf = io.BytesIO(); torch.save([torch.ones(2, dtype=torch.int64), 2.5, None], buf)
    >>> _ = buf.seek(0); torch.load(buf)
    [tensor([1, 1]), 2.5, None]
    """
    target = None
    if map_location is not None and not callable(map_location) \
            and not isinstance(map_location, dict):
        target = device(map_location)           # malformed device strings raise here
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as fh:             # FileNotFoundError etc. as PyTorch raises
            arrays = _read_members(fh, f)
    else:
        arrays = _read_members(f, f)
    blob = arrays.pop(_STRUCT)
    if blob.dtype != np.uint8 or blob.ndim != 1:
        _refuse(f, f"its {_STRUCT} entry is a {blob.dtype} array of shape {blob.shape}, "
                   f"expected a 1-D uint8 array of JSON text")
    try:
        structure = json.loads(blob.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        _refuse(f, f"damaged structure description: {e}")
    except RecursionError:
        _refuse(f, "its structure description is nested too deeply")
    if not isinstance(structure, dict) or structure.get("format") != _FORMAT:
        _refuse(f, "unknown format (expected a description with format "
                   f"{_FORMAT!r})")
    if "object" not in structure:
        _refuse(f, "the structure description has no 'object'")
    backend = None
    if target is not None and target.type == "cuda" and arrays:
        backend = cuda_backend()
    if target is not None and target.type != "cpu" and arrays and backend is None:
        raise RuntimeError(f"Attempting to deserialize object on a {target.type.upper()} device "
                           f"but torch.cuda.is_available() is False. If you are running on a "
                           f"CPU-only machine, please use torch.load with "
                           f"map_location=torch.device('cpu') to map your storages to the "
                           f"CPU.\nchainrule's GPU backend needs CuPy and a CUDA GPU; without "
                           f"them tensors load on the CPU.")
    return _Decoder(arrays, f, None if target is None else target.type).decode(
        structure["object"], 0)


def _read_members(fh, f):
    """The archive's arrays by name, read without pickle; every damage is a LoadError."""
    try:
        head = fh.read(4)
        if hasattr(fh, "seek"):
            fh.seek(-len(head), io.SEEK_CUR)
    except OSError as e:
        _refuse(f, f"unreadable: {e}")
    if not head.startswith(b"PK"):
        if head[:1] == b"\x80":
            _refuse(f, "pickled data, not an .npz archive", _PICKLE_HINT)
        if head == b"\x93NUM":
            _refuse(f, "a bare .npy array, not an .npz archive")
        _refuse(f, "not a zip/.npz archive" if head else "the file is empty")
    try:
        with zipfile.ZipFile(fh) as zf:
            names = zf.namelist()
            if len(set(names)) != len(names):
                dup = sorted({n for n in names if names.count(n) > 1})
                _refuse(f, f"duplicate members {dup}: the archive was tampered with or "
                           f"written twice")
            if any(n.endswith("data.pkl") for n in names):
                _refuse(f, "a PyTorch checkpoint", _TORCH_HINT)
            odd = [n for n in names if not n.endswith(".npy")]
            if odd:
                _refuse(f, f"members that are not .npy arrays: {odd[:5]}")
            if _STRUCT + ".npy" not in names:
                _refuse(f, f"no {_STRUCT} entry (plain np.savez archives carry no "
                           f"description of the saved object)")
            arrays = {}
            for n in names:
                with zf.open(n) as member:
                    arrays[n[:-4]] = np.lib.format.read_array(member, allow_pickle=False)
            return arrays
    except LoadError:
        raise
    except ValueError as e:                   # object arrays (would need pickle), bad headers
        if "pickle" in str(e).lower():
            _refuse(f, f"an array holds Python objects ({e})", _PICKLE_HINT)
        _refuse(f, f"a damaged array: {e}")
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, KeyError,
            NotImplementedError) as e:
        _refuse(f, f"a damaged or truncated archive: {type(e).__name__}: {e}")


class _Decoder:
    """Turns the JSON description back into objects; every malformed part is refused."""

    def __init__(self, arrays, f, place=None):
        # place: the device type map_location names ('cpu', 'cuda'), or None: each tensor
        # where it was saved
        self.arrays, self.f, self.made, self.place = arrays, f, {}, place

    def refuse(self, why):
        _refuse(self.f, why)

    def field(self, node, key, types):
        if key not in node:
            self.refuse(f"a {node.get('T')!r} entry without its {key!r} field")
        v = node[key]
        if not isinstance(v, types):
            self.refuse(f"a {node.get('T')!r} entry whose {key!r} is a {type(v).__name__}")
        return v

    def array(self, node):
        ref = self.field(node, "ref", str)
        if ref not in self.arrays:
            self.refuse(f"missing array {ref!r}")
        data = self.arrays[ref]
        try:
            _dtypes.from_np(data.dtype)      # only chainrule's dtypes
        except TypeError:
            self.refuse(f"array {ref!r} has dtype {data.dtype}, which chainrule does not "
                        f"support")
        return ref, data

    def decode(self, node, depth):
        if depth > _MAX_DEPTH:
            self.refuse(f"the saved object is nested more than {_MAX_DEPTH} levels deep")
        if not isinstance(node, dict) or not isinstance(node.get("T"), str):
            self.refuse("malformed structure description")
        kind = node["T"]
        if kind == "tensor":
            ref, data = self.array(node)
            if ref in self.made:
                return self.made[ref]
            saved = node.get("device", "cpu")
            if saved not in ("cpu", "cuda"):
                self.refuse(f"a tensor entry whose 'device' is {saved!r}")
            if (self.place or saved) == "cuda":
                backend = cuda_backend()
                if backend is None:
                    raise RuntimeError(
                        "Attempting to deserialize object on a CUDA device but "
                        "torch.cuda.is_available() is False. If you are running on a "
                        "CPU-only machine, please use torch.load with "
                        "map_location=torch.device('cpu') to map your storages to the CPU.")
                data = backend.from_host(data)      # (a copy)
            else:
                data = copy_array(data)
            rg = node.get("requires_grad", False)
            if not isinstance(rg, bool):
                self.refuse("a tensor entry whose 'requires_grad' is not true/false")
            if rg and data.dtype.kind not in "f":
                self.refuse(f"a tensor of dtype {data.dtype} marked requires_grad")
            if node.get("parameter"):
                t = Parameter(wrap(data), bool(node.get("requires_grad", True)))
            else:
                t = wrap(data)
                if rg:
                    t.requires_grad_(True)
            self.made[ref] = t
            return t
        if kind == "ndarray":
            return np.array(self.array(node)[1], copy=True)
        if kind == "none":
            return None
        if kind in ("bool", "int", "str"):
            v = node.get("v")
            if type(v) is not {"bool": bool, "int": int, "str": str}[kind]:
                self.refuse(f"{'an' if kind == 'int' else 'a'} {kind} entry with value {v!r}")
            return v
        if kind == "float":
            v = self.field(node, "v", str)
            try:
                return float(v)
            except ValueError:
                self.refuse(f"a float entry with value {v!r}")
        if kind == "dtype":
            v = self.field(node, "v", str)
            try:
                return _dtypes.to_dtype(v)
            except (TypeError, ValueError, KeyError, AttributeError):
                self.refuse(f"unknown dtype {v!r}")
        if kind in ("list", "tuple"):
            items = [self.decode(x, depth + 1) for x in self.field(node, "items", list)]
            return tuple(items) if kind == "tuple" else items
        if kind in ("dict", "odict"):
            d = OrderedDict() if kind == "odict" else {}
            for pair in self.field(node, "items", list):
                if not isinstance(pair, list) or len(pair) != 2:
                    self.refuse("a dict entry that is not a [key, value] pair")
                key = self.decode(pair[0], depth + 1)
                value = self.decode(pair[1], depth + 1)
                try:
                    d[key] = value
                except TypeError:
                    self.refuse(f"an unhashable dict key of type {type(key).__name__}")
            return d
        self.refuse(f"unknown entry type {kind!r}")


def _bytes_roundtrip(obj):
    """save then load through memory (used by tests and ``copy`` helpers)."""
    buf = io.BytesIO()
    save(obj, buf)
    buf.seek(0)
    return load(buf)
