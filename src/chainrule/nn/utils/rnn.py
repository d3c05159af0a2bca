"""Variable-length sequences for the recurrent layers: ``PackedSequence``,
``pack_padded_sequence``, ``pad_packed_sequence``, ``pad_sequence`` and ``pack_sequence``
(PyTorch's ``torch.nn.utils.rnn``).

A packed batch keeps only the real time steps: ``data`` holds, time step after time step,
the rows of the sequences still running at that step (sorted longest first), and
``batch_sizes[t]`` says how many there are.  ``sorted_indices`` is the order the batch was
sorted into (``None`` when it came sorted) and ``unsorted_indices`` its inverse.  Packing
and padding are written with differentiable ops, so gradients flow through both.
"""
from collections import namedtuple
from collections.abc import Sequence

import numpy as np

from ..._backend import index_on, like_device
from ..._creation import full, tensor
from ..._tensor import Tensor, wrap
from ...ops.index import PACK_PADDED_SEQUENCE, index_select

__all__ = ["PackedSequence", "pack_padded_sequence", "pad_packed_sequence", "pad_sequence",
           "pack_sequence"]

_PackedSequenceBase = namedtuple("PackedSequence_",
                                 ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])


class PackedSequence(_PackedSequenceBase):
    """A packed batch of sequences (see the module docstring); made by
    ``pack_padded_sequence`` or ``pack_sequence``, taken and returned by ``nn.RNN``,
    ``nn.GRU`` and ``nn.LSTM``.

    >>> import chainrule as torch
    >>> from chainrule.nn.utils.rnn import pack_sequence
    >>> p = pack_sequence([torch.tensor([1., 2., 3.]), torch.tensor([4., 5.])])
    >>> p.data, p.batch_sizes
    (tensor([1., 4., 2., 5., 3.]), tensor([2, 2, 1]))
    """

    def __new__(cls, data: Tensor, batch_sizes: Tensor | None = None,
                sorted_indices: Tensor | None = None,
                unsorted_indices: Tensor | None = None) -> "PackedSequence":
        if unsorted_indices is None and sorted_indices is not None:
            unsorted_indices = _invert(sorted_indices)
        if batch_sizes is None:
            raise ValueError("PackedSequence: batch_sizes must be given (make packed batches "
                             "with pack_padded_sequence or pack_sequence)")
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    @property
    def is_cuda(self) -> bool:
        """False: the data is on the CPU."""
        return False

    def is_pinned(self) -> bool:
        """False (no pinned memory)."""
        return False


def _invert(perm):
    inv = np.empty_like(perm._data)
    inv[perm._data] = like_device(inv, np.arange(perm._data.size, dtype=perm._data.dtype))
    return wrap(inv)


def _lengths_array(lengths, op):
    if isinstance(lengths, Tensor):
        arr = lengths._data
    else:
        arr = np.asarray(lengths)
    if arr.ndim != 1:
        raise RuntimeError(f"{op}: 'lengths' must be a 1-D list or tensor of sequence "
                           f"lengths, got shape {list(arr.shape)}")
    return arr.astype(np.int64)


def pack_padded_sequence(input: Tensor, lengths: Tensor | Sequence[int],
                         batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded batch ``input`` (T, B, *) ((B, T, *) with ``batch_first``) of
    sequences of the given ``lengths``.  With ``enforce_sorted`` the lengths must be in
    decreasing order; otherwise the batch is sorted first (``sorted_indices``).

    >>> import chainrule as torch
    >>> from chainrule.nn.utils.rnn import pack_padded_sequence
    >>> x = torch.tensor([[1., 2., 3.], [4., 5., 0.]])
    >>> p = pack_padded_sequence(x, [3, 2], batch_first=True)
    >>> p.data, p.batch_sizes
    (tensor([1., 4., 2., 5., 3.]), tensor([2, 2, 1]))
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"pack_padded_sequence(): input must be a Tensor, not "
                        f"{type(input).__name__}")
    lens = _lengths_array(lengths, "pack_padded_sequence")
    batch_dim = 0 if batch_first else 1
    if input.dim() < 2:
        raise RuntimeError(f"pack_padded_sequence: input must have a time and a batch "
                           f"dimension, got a {input.dim()}-D tensor")
    if enforce_sorted:
        if lens.size > 1 and (np.diff(lens) > 0).any():
            raise RuntimeError("`lengths` array must be sorted in decreasing order when "
                               "`enforce_sorted` is True. You can pass `enforce_sorted=False` "
                               "to pack_padded_sequence and/or pack_sequence to sidestep this "
                               "requirement if you do not need ONNX exportability.")
        sorted_indices = None
    else:
        order = np.argsort(-lens, kind="stable")
        lens = lens[order]
        sorted_indices = wrap(like_device(input._data, order.astype(np.int64)))
        input = index_select(input, batch_dim, sorted_indices)
    if batch_first:
        input = input.transpose(0, 1)
    steps, batch = input.shape[0], input.shape[1]
    if lens.size != batch:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got "
                           f"{lens.size} (batch_size={batch})")
    if lens.size and lens.min() <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an "
                           "element in 'lengths' that is <= 0")
    if lens.size and lens.max() > steps:
        raise RuntimeError(f"pack_padded_sequence: a length of {int(lens.max())} is longer "
                           f"than the input's {steps} time steps; pass lengths of at most "
                           f"{steps}")
    sizes = [int((lens > t).sum()) for t in range(int(lens.max()) if lens.size else 0)]
    rows = (np.repeat(np.arange(len(sizes)), sizes),
            np.concatenate([np.arange(b) for b in sizes]) if sizes else np.zeros(0, int))
    data = PACK_PADDED_SEQUENCE.apply((input,), {"idx": index_on(input._data, rows),
                                                 "shape": tuple(input.shape)})
    return PackedSequence(data, tensor(sizes, dtype=np.int64), sorted_indices, None)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False,
                        padding_value: float = 0.0,
                        total_length: int | None = None) -> tuple[Tensor, Tensor]:
    """Undo ``pack_padded_sequence``: ``(padded, lengths)`` with padded (T, B, *) ((B, T, *)
    with ``batch_first``), filled with ``padding_value`` (to ``total_length`` steps when
    given), in the batch's original order.

    >>> import chainrule as torch
    >>> from chainrule.nn.utils.rnn import pack_sequence, pad_packed_sequence
    >>> p = pack_sequence([torch.tensor([1., 2.]), torch.tensor([3., 4., 5.])],
    ...                   enforce_sorted=False)
    >>> pad_packed_sequence(p, batch_first=True)
    (tensor([[1., 2., 0.],
            [3., 4., 5.]]), tensor([2, 3]))
    """
    data, batch_sizes, _, unsorted = sequence
    sizes = [int(b) for b in batch_sizes._data]
    steps, batch = len(sizes), sizes[0]
    if total_length is not None:
        if total_length < steps:
            raise ValueError(f"Expected total_length to be at least the length of the "
                             f"longest sequence in input, but got total_length="
                             f"{total_length} and max sequence length being {steps}")
    rest = tuple(data.shape[1:])
    padded = full((max(steps, total_length or 0), batch) + rest, padding_value,
                  dtype=data.dtype)
    off = 0
    for t, b in enumerate(sizes):
        padded[t, :b] = data[off:off + b]           # (CopySlices, as PyTorch's)
        off += b
    lengths = np.array([sum(1 for b in sizes if b > i) for i in range(batch)], dtype=np.int64)
    if batch_first:
        padded = padded.transpose(0, 1)
    if unsorted is not None:                         # back to the caller's order
        padded = index_select(padded, 0 if batch_first else 1, unsorted)
        lengths = lengths[unsorted._data]
    return padded, wrap(lengths)


def pad_sequence(sequences: Tensor | Sequence[Tensor], batch_first: bool = False,
                 padding_value: float = 0.0, padding_side: str = "right") -> Tensor:
    """Stack sequences of different lengths (each (L_i, *)) into (T, B, *) ((B, T, *) with
    ``batch_first``), padding with ``padding_value`` on the right (or the left).

    >>> import chainrule as torch
    >>> from chainrule.nn.utils.rnn import pad_sequence
    >>> pad_sequence([torch.tensor([1., 2.]), torch.tensor([3.])], batch_first=True)
    tensor([[1., 2.],
            [3., 0.]])
    """
    if padding_side not in ("left", "right"):
        raise ValueError(f"Expected padding_side to be one of left or right, but got "
                         f"{padding_side}.")
    if isinstance(sequences, Tensor):
        sequences = list(sequences.unbind(0))
    sequences = list(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    steps = max(s.shape[0] for s in sequences)
    first = sequences[0]
    shape = (len(sequences), steps) if batch_first else (steps, len(sequences))
    out = full(shape + tuple(first.shape[1:]), padding_value, dtype=first.dtype)
    for i, s in enumerate(sequences):
        n = s.shape[0]
        where = slice(0, n) if padding_side == "right" else slice(steps - n, steps)
        if batch_first:
            out[i, where] = s                       # (CopySlices, as PyTorch's)
        else:
            out[where, i] = s
    return out


def pack_sequence(sequences: Sequence[Tensor], enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of sequences (each (L_i, *)), longest first unless
    ``enforce_sorted=False``.

    >>> import chainrule as torch
    >>> from chainrule.nn.utils.rnn import pack_sequence
    >>> pack_sequence([torch.tensor([1.]), torch.tensor([2., 3.])],
    ...               enforce_sorted=False).sorted_indices
    tensor([1, 0])
    """
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths,
                                enforce_sorted=enforce_sorted)
