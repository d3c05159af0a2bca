"""chainrule.save / chainrule.load: round trips, shared tensors, and refusal of files that
would need unpickling (loading never executes code from the file)."""
import io
import os
import pickle
from collections import OrderedDict

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import nn


def _roundtrip(obj, tmp_path, name="obj.pt"):
    path = tmp_path / name
    cr.save(obj, path)
    assert path.exists()                      # the exact path, no ".npz" appended
    return cr.load(path)


@pytest.mark.parametrize("dtype", [cr.float32, cr.float64, cr.int64, cr.int32, cr.bool,
                                   cr.uint8, cr.float16])
def test_tensor_roundtrip_keeps_values_shape_dtype(dtype, tmp_path):
    t = (cr.arange(12) % 3).reshape(3, 4).to(dtype)
    u = _roundtrip(t, tmp_path)
    assert u.dtype == dtype and u.shape == t.shape and (u == t).all()
    assert u.is_leaf and not u.requires_grad


def test_scalars_views_and_requires_grad(tmp_path):
    x = cr.arange(6.0).reshape(2, 3)
    obj = {"zero_d": cr.tensor(2.5), "view": x.t(), "rg": cr.ones(2, requires_grad=True),
           "param": nn.Parameter(cr.zeros(2))}
    out = _roundtrip(obj, tmp_path)
    assert out["zero_d"].shape == () and out["zero_d"].item() == 2.5
    assert out["view"].tolist() == x.t().tolist()
    assert out["rg"].requires_grad and out["rg"].is_leaf
    assert isinstance(out["param"], nn.Parameter) and out["param"].requires_grad


def test_nested_structures(tmp_path):
    obj = {"epoch": 7, "lr": 1e-3, "inf": float("inf"), "name": "mlp", "flag": True,
           "none": None, "betas": (0.9, 0.999), "hist": [1.5, 2.5, [3, cr.ones(1)]],
           1: "int key", (2, 3): "tuple key", "od": OrderedDict(b=1, a=2),
           "dtype": cr.float64, "arr": np.arange(3)}
    out = _roundtrip(obj, tmp_path)
    assert out["epoch"] == 7 and isinstance(out["epoch"], int)
    assert out["lr"] == 1e-3 and out["inf"] == float("inf")
    assert out["betas"] == (0.9, 0.999) and isinstance(out["betas"], tuple)
    assert out["hist"][2][1].tolist() == [1.0] and out[1] == "int key"
    assert out[(2, 3)] == "tuple key" and list(out["od"]) == ["b", "a"]
    assert isinstance(out["od"], OrderedDict) and out["dtype"] is cr.float64
    assert out["flag"] is True and out["none"] is None and out["arr"].tolist() == [0, 1, 2]
    assert list(out) == list(obj)


def test_shared_tensors_stay_shared(tmp_path):
    t = cr.ones(3)
    out = _roundtrip({"a": t, "b": [t]}, tmp_path)
    assert out["a"] is out["b"][0]


def test_model_state_dict_roundtrip(tmp_path):
    net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    sd = _roundtrip(net.state_dict(), tmp_path)
    assert isinstance(sd, OrderedDict) and list(sd) == list(net.state_dict())
    other = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    other.load_state_dict(sd)
    x = cr.randn(5, 3)
    assert (other(x) == net(x)).all()


def test_file_objects_and_unsupported_types():
    buf = io.BytesIO()
    cr.save([cr.ones(2), 3], buf)
    buf.seek(0)
    out = cr.load(buf)
    assert out[0].tolist() == [1.0, 1.0] and out[1] == 3
    with pytest.raises(TypeError, match="cannot save an object of type set"):
        cr.save({1, 2}, io.BytesIO())
    with pytest.raises(TypeError, match="cannot save an object of type object"):
        cr.save({"x": object()}, io.BytesIO())


class _Evil:
    """Unpickling this would create a marker file."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_malicious_pickle_is_refused_without_running_code(tmp_path):
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.pt"
    evil.write_bytes(pickle.dumps({"weight": _Evil(str(marker))}))
    with pytest.raises(pickle.UnpicklingError, match="never unpickles"):
        cr.load(evil)
    assert not marker.exists()


def test_npz_with_object_array_is_refused(tmp_path):
    marker = tmp_path / "pwned2"
    bad = tmp_path / "bad.npz"
    arr = np.empty(1, dtype=object)
    arr[0] = _Evil(str(marker))
    np.savez(bad, __chainrule__=np.frombuffer(b'{"format": "chainrule-npz-1", "object": '
                                             b'{"T": "ndarray", "ref": "t0"}}', np.uint8),
             t0=arr)
    with pytest.raises(pickle.UnpicklingError):
        cr.load(bad)
    assert not marker.exists()


def test_foreign_files_are_refused(tmp_path):
    tfile = tmp_path / "torch.pt"
    torch.save({"w": torch.ones(2)}, tfile)
    with pytest.raises(pickle.UnpicklingError):
        cr.load(tfile)
    plain = tmp_path / "plain.npz"
    np.savez(plain, a=np.ones(2))
    with pytest.raises(pickle.UnpicklingError, match="no __chainrule__ entry"):
        cr.load(plain)
    text = tmp_path / "x.txt"
    text.write_text("hello")
    with pytest.raises(pickle.UnpicklingError):
        cr.load(text)
    forged = tmp_path / "forged.npz"
    np.savez(forged, __chainrule__=np.frombuffer(
        b'{"format": "chainrule-npz-1", "object": {"T": "callable", "v": "os.system"}}',
        np.uint8))
    with pytest.raises(pickle.UnpicklingError, match="unknown entry type"):
        cr.load(forged)
    assert os.path.exists(forged)
