"""chainrule.utils.data: TensorDataset, DataLoader (batching, seeded shuffling, drop_last,
collation), samplers and random_split."""
import numpy as np
import pytest

import chainrule as cr
from chainrule.utils.data import (BatchSampler, DataLoader, Dataset, RandomSampler,
                                  SequentialSampler, Subset, TensorDataset, default_collate,
                                  random_split)


def _ds(n=10):
    return TensorDataset(cr.arange(n * 2, dtype=cr.float32).reshape(n, 2), cr.arange(n))


def test_utils_namespace():
    assert cr.utils.data.DataLoader is DataLoader


def test_tensor_dataset_items_and_errors():
    ds = _ds()
    x, y = ds[3]
    assert x.tolist() == [6.0, 7.0] and y.item() == 3 and len(ds) == 10
    with pytest.raises(AssertionError, match="Size mismatch"):
        TensorDataset(cr.zeros(3), cr.zeros(4))


@pytest.mark.parametrize("n, bs, drop_last, expected", [
    (10, 3, False, [3, 3, 3, 1]), (10, 3, True, [3, 3, 3]), (10, 5, True, [5, 5]),
    (10, 20, False, [10]), (10, 20, True, [])])
def test_batch_sizes_and_len(n, bs, drop_last, expected):
    loader = DataLoader(_ds(n), batch_size=bs, drop_last=drop_last)
    sizes = [len(y) for _, y in loader]
    assert sizes == expected and len(loader) == len(expected)


def test_sequential_order_and_dtypes():
    batches = list(DataLoader(_ds(), batch_size=4))
    x, y = batches[0]
    assert x.shape == (4, 2) and x.dtype == cr.float32 and y.dtype == cr.int64
    assert cr.cat([b[1] for b in batches]).tolist() == list(range(10))


def test_shuffle_is_seeded_and_changes_every_epoch():
    def epochs(seed):
        loader = DataLoader(_ds(20), batch_size=6, shuffle=True,
                            generator=cr.Generator().manual_seed(seed))
        return [cr.cat([y for _, y in loader]).tolist() for _ in range(3)]
    a, b, c = epochs(0), epochs(0), epochs(1)
    assert a == b                                  # same seed, same orders
    assert a != c
    assert a[0] != a[1]                            # a new permutation each epoch
    for order in a:
        assert sorted(order) == list(range(20))    # every sample exactly once
    x, y = next(iter(DataLoader(_ds(20), batch_size=6, shuffle=True,
                                generator=cr.Generator().manual_seed(0))))
    assert (x[:, 0] == 2 * y.float()).all()        # features stay with their labels


def test_shuffle_with_default_generator_follows_manual_seed():
    cr.manual_seed(3)
    a = [y.tolist() for _, y in DataLoader(_ds(), batch_size=10, shuffle=True)]
    cr.manual_seed(3)
    b = [y.tolist() for _, y in DataLoader(_ds(), batch_size=10, shuffle=True)]
    assert a == b and a[0] != list(range(10))


def test_generic_dataset_and_collation():
    class Squares(Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return {"x": cr.tensor([float(i)]), "y": i * i, "w": 0.5, "name": f"s{i}"}
    batches = list(DataLoader(Squares(), batch_size=2))
    first = batches[0]
    assert first["x"].shape == (2, 1) and first["y"].tolist() == [0, 1]
    assert first["w"].dtype == cr.float64 and first["name"] == ["s0", "s1"]
    assert len(batches) == 3
    x, y = default_collate([(np.array([1.0, 2.0]), 3), (np.array([3.0, 4.0]), 5)])
    assert x.dtype == cr.float64 and x.shape == (2, 2) and y.tolist() == [3, 5]
    nested = default_collate([[cr.ones(2), (1, 2.0)], [cr.zeros(2), (3, 4.0)]])
    assert nested[0].shape == (2, 2) and nested[1][0].tolist() == [1, 3]


def test_no_batching_custom_collate_and_samplers():
    ds = _ds(4)
    items = list(DataLoader(ds, batch_size=None))
    assert len(items) == 4 and items[2][1].item() == 2
    loader = DataLoader(ds, batch_size=2, collate_fn=lambda b: [int(y) for _, y in b])
    assert list(loader) == [[0, 1], [2, 3]]
    assert list(BatchSampler(SequentialSampler(range(5)), 2, drop_last=False)) == \
        [[0, 1], [2, 3], [4]]
    rs = RandomSampler(range(6), generator=cr.Generator().manual_seed(0))
    assert sorted(rs) == list(range(6)) and len(rs) == 6
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        DataLoader(ds, sampler=rs, shuffle=True)
    with pytest.raises(ValueError, match="batch_size should be a positive integer"):
        DataLoader(ds, batch_size=0)


def test_random_split_and_subset():
    g = cr.Generator().manual_seed(0)
    a, b = random_split(_ds(10), [7, 3], generator=g)
    assert isinstance(a, Subset) and len(a) == 7 and len(b) == 3
    ys = sorted([int(a[i][1]) for i in range(7)] + [int(b[i][1]) for i in range(3)])
    assert ys == list(range(10))
    with pytest.raises(ValueError, match="Sum of input lengths"):
        random_split(_ds(10), [5, 4])
    assert [len(s) for s in random_split(range(10), [0.5, 0.5])] == [5, 5]


def test_tensor_dataset_subclass_getitem_is_respected():
    class Doubled(TensorDataset):
        def __getitem__(self, i):
            x, y = super().__getitem__(i)
            return x * 2, y
    (x, y), = list(DataLoader(Doubled(cr.ones(3, 2), cr.arange(3)), batch_size=3))
    assert (x == 2).all() and y.tolist() == [0, 1, 2]


def test_batches_of_tuple_samples_are_lists_like_torch():
    import torch
    from torch.utils import data as tdata
    from chainrule.utils import data as cdata
    a, b = cr.arange(6.0).reshape(3, 2), cr.arange(3.0)
    ta, tb = torch.arange(6.0).reshape(3, 2), torch.arange(3.0)
    cb = next(iter(cdata.DataLoader(cdata.TensorDataset(a, b), batch_size=2)))
    tbatch = next(iter(tdata.DataLoader(tdata.TensorDataset(ta, tb), batch_size=2)))
    assert type(cb) is type(tbatch) is list
    assert [t.tolist() for t in cb] == [t.tolist() for t in tbatch]
