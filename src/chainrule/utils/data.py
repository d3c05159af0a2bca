"""``chainrule.utils.data``: datasets, samplers and ``DataLoader`` (PyTorch's names).

>>> import chainrule as torch
>>> from chainrule.utils.data import DataLoader, TensorDataset
>>> ds = TensorDataset(torch.arange(10.0).reshape(5, 2), torch.arange(5))
>>> loader = DataLoader(ds, batch_size=2)
>>> len(loader), [y.tolist() for _, y in loader]
(3, [[0, 1], [2, 3], [4]])
"""
import bisect
import collections.abc
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Generic, TypeVar

import numpy as np

from .._creation import Generator, default_generator, tensor
from ..ops.shape import stack
from .._tensor import Tensor, wrap

__all__ = ["Dataset", "TensorDataset", "Subset", "ConcatDataset", "random_split", "Sampler",
           "SequentialSampler", "RandomSampler", "BatchSampler", "DataLoader",
           "default_collate"]


_T_co = TypeVar("_T_co", covariant=True)


class Dataset(Generic[_T_co]):
    """A map-style dataset: subclass it and define ``__getitem__`` and ``__len__``.

    >>> import chainrule as torch
    >>> from chainrule.utils.data import Dataset
    >>> class Squares(Dataset):
    ...     def __len__(self):
    ...         return 3
    ...     def __getitem__(self, i):
    ...         return i * i
    ...
    >>> ds = Squares()
    >>> len(ds), ds[2]
    (3, 4)
    """

    def __getitem__(self, index: int) -> _T_co:
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

    def __add__(self, other: "Dataset[_T_co]") -> "ConcatDataset[_T_co]":
        return ConcatDataset([self, other])


class TensorDataset(Dataset[tuple[Tensor, ...]]):
    """Samples are ``(t[i] for t in tensors)``; all tensors share the first dimension.

    >>> import chainrule as torch
    >>> ds = torch.utils.data.TensorDataset(torch.zeros(4, 3), torch.arange(4))
    >>> len(ds), ds[2][1]
    (4, tensor(2))
    """

    def __init__(self, *tensors: Tensor) -> None:
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        n = tensors[0].shape[0] if tensors[0].ndim else None
        if any(t.ndim == 0 or t.shape[0] != n for t in tensors):
            raise AssertionError(f"Size mismatch between tensors: first dimensions "
                                 f"{[t.shape[0] if t.ndim else None for t in tensors]} must "
                                 f"all be equal")
        self.tensors = tensors

    def __getitem__(self, index: Any) -> tuple[Tensor, ...]:
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]


class Subset(Dataset[_T_co]):
    """The samples of ``dataset`` at ``indices``.

    >>> import chainrule as torch
    >>> from chainrule.utils.data import Subset, TensorDataset
    >>> ds = TensorDataset(torch.tensor([10, 20, 30]))
    >>> sub = Subset(ds, [2, 0])
    >>> len(sub), sub[0]
    (2, (tensor(30),))
    """

    def __init__(self, dataset: Dataset[_T_co], indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = list(indices)

    def __getitem__(self, idx: Any) -> Any:
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __len__(self) -> int:
        return len(self.indices)


class ConcatDataset(Dataset[_T_co]):
    """Datasets one after another.

    >>> import chainrule as torch
    >>> from chainrule.utils.data import ConcatDataset, TensorDataset
    >>> a = TensorDataset(torch.tensor([1, 2]))
    >>> b = TensorDataset(torch.tensor([3]))
    >>> both = ConcatDataset([a, b])
    >>> len(both), both[2]
    (3, (tensor(3),))
    """

    def __init__(self, datasets: Iterable[Dataset[_T_co]]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise AssertionError("datasets should not be an empty iterable")
        self.cumulative_sizes = list(np.cumsum([len(d) for d in self.datasets]).tolist())

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx: int) -> _T_co:
        if idx < 0:
            idx += len(self)
        if not 0 <= idx < len(self):
            raise IndexError(f"index {idx} out of range for a dataset of length {len(self)}")
        d = bisect.bisect_right(self.cumulative_sizes, idx)
        start = self.cumulative_sizes[d - 1] if d else 0
        return self.datasets[d][idx - start]


def random_split(dataset: Dataset[_T_co], lengths: Sequence[int | float],
                 generator: Generator = default_generator) -> list[Subset[_T_co]]:
    """Split ``dataset`` into non-overlapping random subsets of the given lengths (or
    fractions summing to 1).

    >>> import chainrule as torch
    >>> a, b = torch.utils.data.random_split(range(10), [0.7, 0.3],
    ...                                      generator=torch.Generator().manual_seed(0))
    >>> len(a), len(b), sorted(list(a) + list(b)) == list(range(10))
    (7, 3, True)
    """
    n = len(dataset)
    lengths = list(lengths)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        counts = [int(math.floor(n * f)) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if sum(lengths) != n:
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    perm = generator._rng.permutation(n).tolist()
    out, start = [], 0
    for length in lengths:
        out.append(Subset(dataset, perm[start:start + length]))
        start += length
    return out


# --- samplers ---------------------------------------------------------------------------

class Sampler(Generic[_T_co]):
    """Base class of index samplers (iterables of dataset indices).

    >>> import chainrule as torch
    >>> from chainrule.utils.data import Sampler
    >>> class EvenFirst(Sampler):
    ...     def __init__(self, n):
    ...         self.n = n
    ...     def __iter__(self):
    ...         return iter(list(range(0, self.n, 2)) + list(range(1, self.n, 2)))
    ...     def __len__(self):
    ...         return self.n
    ...
    >>> list(EvenFirst(5))
    [0, 2, 4, 1, 3]
    """

    def __init__(self, data_source: Any = None) -> None:
        pass

    def __iter__(self) -> Iterator[_T_co]:
        raise NotImplementedError


class SequentialSampler(Sampler[int]):
    """Indices ``0, 1, ..., len(data_source) - 1``.

    >>> import chainrule as torch
    >>> from chainrule.utils.data import SequentialSampler
    >>> list(SequentialSampler(range(4)))
    [0, 1, 2, 3]
    """

    def __init__(self, data_source: Any) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler[int]):
    """A fresh random permutation of the indices on every iteration (or ``num_samples``
    draws with replacement), from ``generator`` or chainrule's default generator.

    >>> import chainrule as torch
    >>> from chainrule.utils.data import RandomSampler
    >>> _ = torch.manual_seed(0)
    >>> sorted(RandomSampler(range(5)))
    [0, 1, 2, 3, 4]
    """

    def __init__(self, data_source: Any, replacement: bool = False,
                 num_samples: int | None = None, generator: Generator | None = None) -> None:
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got "
                             f"num_samples={self.num_samples}")

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def _indices(self):
        rng = (self.generator or default_generator)._rng
        n = len(self.data_source)
        if self.replacement:
            return rng.integers(0, n, self.num_samples)
        reps = -(-self.num_samples // n)
        return np.concatenate([rng.permutation(n) for _ in range(reps)])[:self.num_samples]

    def __iter__(self) -> Iterator[int]:
        return iter(self._indices().tolist())

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler[list[int]]):
    """Groups the indices of ``sampler`` into lists of ``batch_size``.

    >>> import chainrule as torch
    >>> from chainrule.utils.data import BatchSampler, SequentialSampler
    >>> list(BatchSampler(SequentialSampler(range(5)), batch_size=2, drop_last=False))
    [[0, 1], [2, 3], [4]]
    >>> list(BatchSampler(SequentialSampler(range(5)), batch_size=2, drop_last=True))
    [[0, 1], [2, 3]]
    """

    def __init__(self, sampler: Sampler[int] | Iterable[int], batch_size: int,
                 drop_last: bool) -> None:
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got "
                             f"batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got "
                             f"drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def _index_array(self):
        if isinstance(self.sampler, RandomSampler):
            return self.sampler._indices()
        if isinstance(self.sampler, SequentialSampler):
            return np.arange(len(self.sampler))
        return np.fromiter(iter(self.sampler), dtype=np.int64)

    def _batches(self):
        idx = self._index_array()
        bs = self.batch_size
        stop = len(idx) - len(idx) % bs if self.drop_last else len(idx)
        for i in range(0, stop, bs):
            yield idx[i:i + bs]

    def __iter__(self) -> Iterator[list[int]]:
        for b in self._batches():
            yield b.tolist()

    def __len__(self) -> int:
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)


# --- collation --------------------------------------------------------------------------

def default_collate(batch: Sequence[Any]) -> Any:
    """Stack a list of samples into a batch: tensors are stacked along a new first
    dimension, numbers become tensors (floats as float64, ints as int64), tuples/lists
    (into a list, as PyTorch) and dicts are collated field by field.

    >>> import chainrule as torch
    >>> from chainrule.utils.data import default_collate
    >>> x, y = default_collate([(torch.ones(2), 1), (torch.zeros(2), 0)])
    >>> x.shape, y
    (torch.Size([2, 2]), tensor([1, 0]))
    """
    elem = batch[0]
    if isinstance(elem, Tensor):
        return stack(list(batch), 0)
    if isinstance(elem, np.ndarray):
        return wrap(np.stack(batch)) if elem.dtype.kind in "biuf" else batch
    if isinstance(elem, np.generic):
        return tensor(np.array(batch))
    if isinstance(elem, bool):
        return tensor(batch)
    if isinstance(elem, float):
        return tensor(batch, dtype="torch.float64")
    if isinstance(elem, int):
        return tensor(batch)
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, collections.abc.Mapping):
        return {key: default_collate([d[key] for d in batch]) for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        n = len(elem)
        if any(len(e) != n for e in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        # a list for tuple samples too, as PyTorch's default_collate returns
        return [default_collate(list(s)) for s in zip(*batch)]
    raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, "
                    f"dicts or lists; found {type(elem)}")


# --- the loader -------------------------------------------------------------------------

class DataLoader(Generic[_T_co]):
    """Iterate over a dataset in (optionally shuffled) mini-batches.

    ``shuffle=True`` draws a new permutation every epoch from ``generator`` (e.g.
    ``chainrule.Generator().manual_seed(0)`` for a repeatable order) or chainrule's
    default generator.  ``drop_last`` drops a final incomplete batch.  Runs in the main
    process (``num_workers`` is accepted and ignored).

    >>> import chainrule as torch
    >>> from chainrule.utils.data import DataLoader, TensorDataset
    >>> ds = TensorDataset(torch.arange(6))
    >>> g = torch.Generator().manual_seed(0)
    >>> batches = [b.tolist() for (b,) in DataLoader(ds, batch_size=4, shuffle=True,
    ...                                               generator=g, drop_last=True)]
    >>> len(batches), len(batches[0]), set(batches[0]) <= set(range(6))
    (1, 4, True)
    """

    # _T_co is the dataset's sample type; a batch is whatever collate_fn makes of a list of
    # samples (default_collate: a list of stacked tensors for tuple samples), so iterating
    # gives Any, as in PyTorch
    def __init__(self, dataset: Dataset[_T_co], batch_size: int | None = 1,
                 shuffle: bool | None = None, sampler: Sampler[Any] | Iterable[Any] | None = None,
                 batch_sampler: Sampler[Any] | Iterable[Any] | None = None,
                 num_workers: int = 0, collate_fn: Callable[[list[Any]], Any] | None = None,
                 pin_memory: bool = False, drop_last: bool = False, timeout: float = 0,
                 worker_init_fn: Callable[[int], None] | None = None,
                 multiprocessing_context: Any = None, generator: Generator | None = None, *,
                 prefetch_factor: int | None = None, persistent_workers: bool = False,
                 pin_memory_device: str = "", in_order: bool = True) -> None:
        if generator is not None and not isinstance(generator, Generator):
            raise TypeError(f"DataLoader: generator must be a chainrule.Generator, got "
                            f"{type(generator).__name__}")
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")
        if sampler is None:
            sampler = RandomSampler(dataset, generator=generator) if shuffle \
                else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = num_workers
        self.generator = generator
        self.collate_fn = collate_fn if collate_fn is not None else default_collate
        self._auto_collation = batch_sampler is not None

    def __iter__(self) -> Iterator[Any]:
        ds = self.dataset
        if not self._auto_collation:
            for i in self.sampler:
                yield ds[i]
            return
        fast = (type(ds) is TensorDataset and self.collate_fn is default_collate
                and isinstance(self.batch_sampler, BatchSampler))
        if fast:
            # one fancy-indexing read per tensor instead of stacking sample by sample
            for idx in self.batch_sampler._batches():
                yield list(t[wrap(idx)] if t.requires_grad else wrap(t._data[idx])
                            for t in ds.tensors)
            return
        for indices in self.batch_sampler:
            yield self.collate_fn([ds[i] for i in indices])

    def __len__(self) -> int:
        if self._auto_collation:
            return len(self.batch_sampler)
        return len(self.sampler)
