"""PyTorch's legacy tensor types (``FloatTensor``, ``LongTensor`` ...): constructors and
``isinstance`` checks.

``FloatTensor([1, 2])`` makes a float32 tensor from data, ``FloatTensor(2, 3)`` (or a
``Size``) one of that shape (zeros: PyTorch leaves it uninitialised), ``FloatTensor()`` an
empty one.  ``isinstance(x, chainrule.FloatTensor)`` is true for float32 tensors, as in
PyTorch.  What is made is an ordinary ``chainrule.Tensor``.
"""
import numpy as np

from ._tensor import Size, Tensor, wrap
from ._creation import tensor
from ._dtypes import to_dtype

__all__ = ["FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor",
           "ShortTensor", "CharTensor", "ByteTensor", "BoolTensor"]


class _LegacyType(type):
    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj._data.dtype == cls._np

    def __call__(cls, *args, device=None):
        return _construct(cls, args)


def _construct(cls, args):
    np_dtype = cls._np
    if not args:
        return wrap(np.zeros((0,), np_dtype))
    if all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in args) or \
            (len(args) == 1 and isinstance(args[0], Size)):
        shape = tuple(args[0]) if isinstance(args[0], Size) else tuple(int(a) for a in args)
        if any(s < 0 for s in shape):
            raise RuntimeError(f"Trying to create tensor with negative dimension: "
                               f"{list(shape)} ({cls.__name__})")
        return wrap(np.zeros(shape, np_dtype))
    if len(args) > 1:
        raise TypeError(f"{cls.__name__}(): expected sizes (ints) or one sequence of data, "
                        f"got {len(args)} arguments of types "
                        f"{[type(a).__name__ for a in args]}")
    data = args[0]
    if isinstance(data, Tensor):
        if data._data.dtype != np_dtype:
            raise TypeError(f"expected {cls.__name__} (dtype {np.dtype(np_dtype).name}) "
                            f"(got a tensor of {data.dtype}; convert it with "
                            f".to(...) instead)")
        return data
    if isinstance(data, str):
        raise TypeError("new(): invalid data type 'str'")
    if not isinstance(data, (list, tuple, np.ndarray)) and not hasattr(data, "__len__"):
        raise TypeError(f"new(): data must be a sequence (got {type(data).__name__})")
    return tensor(data, dtype=to_dtype(np.dtype(np_dtype)))


def _make(name, np_dtype, example):
    doc = (f"Legacy constructor of {np.dtype(np_dtype).name} tensors (and the type that "
           f"``isinstance`` checks against).\n\n    >>> import chainrule as torch\n"
           f"{example}")
    return _LegacyType(name, (), {"_np": np.dtype(np_dtype), "__doc__": doc,
                                  "__module__": "chainrule"})


FloatTensor = _make("FloatTensor", np.float32,
                    "    >>> torch.FloatTensor([1, 2]), torch.FloatTensor(2, 1).shape\n"
                    "    (tensor([1., 2.]), torch.Size([2, 1]))\n"
                    "    >>> isinstance(torch.ones(2), torch.FloatTensor)\n    True\n")
DoubleTensor = _make("DoubleTensor", np.float64,
                     "    >>> torch.DoubleTensor([1.5]).dtype\n    torch.float64\n")
HalfTensor = _make("HalfTensor", np.float16,
                   "    >>> torch.HalfTensor([1.5]).dtype\n    torch.float16\n")
LongTensor = _make("LongTensor", np.int64,
                   "    >>> torch.LongTensor([1.7, 2])\n    tensor([1, 2])\n"
                   "    >>> isinstance(torch.arange(3), torch.LongTensor)\n    True\n")
IntTensor = _make("IntTensor", np.int32,
                  "    >>> torch.IntTensor(2).dtype\n    torch.int32\n")
ShortTensor = _make("ShortTensor", np.int16,
                    "    >>> torch.ShortTensor([1]).dtype\n    torch.int16\n")
CharTensor = _make("CharTensor", np.int8,
                   "    >>> torch.CharTensor([1]).dtype\n    torch.int8\n")
ByteTensor = _make("ByteTensor", np.uint8,
                   "    >>> torch.ByteTensor([1, 0])\n    tensor([1, 0], dtype=torch.uint8)\n")
BoolTensor = _make("BoolTensor", np.bool_,
                   "    >>> torch.BoolTensor([1, 0])\n    tensor([ True, False])\n")
