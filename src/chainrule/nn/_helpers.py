"""``nn.functional.one_hot``."""
import numpy as np

from .._backend import like_device
from .._tensor import Tensor, wrap

__all__ = ["one_hot"]


def one_hot(tensor, num_classes=-1):
    """Class indices (int64) to one-hot int64 vectors along a new last dim of length
    ``num_classes`` (``-1``: one more than the largest index).

    >>> import chainrule as torch
    >>> torch.nn.functional.one_hot(torch.tensor([0, 2, 1]))
    tensor([[1, 0, 0],
            [0, 0, 1],
            [0, 1, 0]])
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"one_hot(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(tensor).__name__}")
    a = tensor._data
    if a.dtype != np.int64:
        raise RuntimeError(f"one_hot is only applicable to index tensor of type LongTensor. "
                           f"(found {tensor.dtype}; convert the indices with .long())")
    num_classes = int(num_classes)
    if num_classes == -1:
        if a.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor. "
                               "(pass num_classes)")
        if a.min() < 0:
            raise RuntimeError("Class values must be non-negative. (one_hot found "
                               f"{int(a.min())})")
        num_classes = int(a.max()) + 1
    elif a.size:
        if a.min() < 0:
            raise RuntimeError("Class values must be non-negative. (one_hot found "
                               f"{int(a.min())})")
        if a.max() >= num_classes:
            raise RuntimeError(f"Class values must be smaller than num_classes. (one_hot "
                               f"found {int(a.max())} with num_classes={num_classes})")
    elif num_classes < 0:
        raise RuntimeError("Class values must be smaller than num_classes.")
    return wrap((a[..., None] == like_device(a, np.arange(num_classes))).astype(np.int64))
