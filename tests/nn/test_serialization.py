"""chainrule.save / chainrule.load: round trips, shared tensors, and refusal of files that
would need unpickling (loading never executes code from the file)."""
import io
import os
import pickle
import zipfile
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


# --- refusals: one public class, a message that says what and what to do ---------------

from chainrule.serialization import LoadError   # noqa: E402


def _structure(obj_json, **arrays):
    buf = io.BytesIO()
    np.savez(buf, __chainrule__=np.frombuffer(
        ('{"format": "chainrule-npz-1", "object": ' + obj_json + '}').encode(), np.uint8),
        **arrays)
    return buf.getvalue()


def _refused(data_or_path, *needles):
    src = io.BytesIO(data_or_path) if isinstance(data_or_path, bytes) else data_or_path
    with pytest.raises(LoadError) as ei:
        cr.load(src)
    msg = str(ei.value)
    assert msg.startswith("chainrule.load: ") and "is not a chainrule archive" in msg
    for n in needles:
        assert n in msg, msg
    assert isinstance(ei.value, RuntimeError) and isinstance(ei.value, pickle.UnpicklingError)
    return msg


def test_load_error_is_public_and_documented():
    import chainrule.serialization as ser
    assert "LoadError" in ser.__all__ and ser.LoadError.__doc__
    assert not ser.LoadError.__name__.startswith("_")


def test_missing_path_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        cr.load(tmp_path / "nope.pt")
    with pytest.raises(FileNotFoundError):
        cr.load(str(tmp_path / "nope.pt"))


def test_truncated_and_empty_archives(tmp_path):
    buf = io.BytesIO()
    cr.save({"w": cr.arange(100.0), "b": cr.ones(3)}, buf)
    data = buf.getvalue()
    for cut in (len(data) // 2, len(data) - 10, 30, 4):
        _refused(data[:cut], "damaged")
    _refused(b"", "empty")
    path = tmp_path / "t.pt"
    path.write_bytes(data[: len(data) // 3])
    _refused(path, "damaged", str(path))


def test_crc_error_is_refused():
    buf = io.BytesIO()
    cr.save({"w": cr.arange(64.0, dtype=cr.float64)}, buf)
    data = bytearray(buf.getvalue())
    i = data.index(np.arange(64.0).tobytes()[8:16])    # inside t0's stored bytes
    data[i] ^= 0xFF
    _refused(bytes(data), "CRC")


@pytest.mark.parametrize("obj_json, arrays, needle", [
    ('{"T": "tensor", "ref": "t9"}', {}, "missing array 't9'"),
    ('{"T": "tensor"}', {}, "without its 'ref'"),
    ('{"T": "ndarray", "ref": "t0"}', {}, "missing array 't0'"),
    ('{"T": "list"}', {}, "without its 'items'"),
    ('{"T": "list", "items": {"a": 1}}', {}, "'items' is a dict"),
    ('{"T": "dict", "items": [[{"T": "int", "v": 1}]]}', {}, "[key, value] pair"),
    ('{"T": "dict", "items": [[{"T": "list", "items": []}, {"T": "none"}]]}', {},
     "unhashable dict key"),
    ('{"T": "float", "v": 1.5}', {}, "'v' is a float"),
    ('{"T": "float", "v": "one"}', {}, "a float entry"),
    ('{"T": "int", "v": "1"}', {}, "an int entry"),
    ('{"T": "dtype", "v": "torch.complex64"}', {}, "unknown dtype"),
    ('{"T": "tensor", "ref": "t0", "requires_grad": "yes"}', {"t0": np.ones(2)},
     "requires_grad"),
    ('{"T": "tensor", "ref": "t0"}', {"t0": np.ones(2, np.complex128)}, "complex128"),
    ('{"T": "tensor", "ref": "t0"}', {"t0": np.array(["a"])}, "<U1"),
    ('[1, 2]', {}, "malformed"),
    ('{"T": 3}', {}, "malformed"),
])
def test_missing_or_mistyped_entries(obj_json, arrays, needle):
    _refused(_structure(obj_json, **arrays), needle)


def test_mistyped_description_and_format():
    buf = io.BytesIO()
    np.savez(buf, __chainrule__=np.ones(3))
    _refused(buf.getvalue(), "expected a 1-D uint8 array")
    buf = io.BytesIO()
    np.savez(buf, __chainrule__=np.frombuffer(b'{"format": "other"}', np.uint8))
    _refused(buf.getvalue(), "unknown format")
    buf = io.BytesIO()
    np.savez(buf, __chainrule__=np.frombuffer(b'{"format": "chainrule-npz-1"}', np.uint8))
    _refused(buf.getvalue(), "no 'object'")
    buf = io.BytesIO()
    np.savez(buf, __chainrule__=np.frombuffer(b'\xff\xfe{', np.uint8))
    _refused(buf.getvalue(), "damaged structure description")


def test_deep_json_is_refused_without_recursion_error():
    deep = '{"T": "list", "items": [' * 100_000 + ']}' * 100_000
    _refused(_structure(deep), "nested too deeply")
    deep = '{"T": "list", "items": [' * 300 + ']}' * 300
    _refused(_structure(deep), "nested more than")
    nested = []
    for _ in range(150):
        nested = [nested]
    buf = io.BytesIO()
    cr.save(nested, buf)
    buf.seek(0)
    assert cr.load(buf) == nested                       # within the limit: round trips
    for _ in range(100):
        nested = [nested]
    with pytest.raises(ValueError, match="nested more than"):
        cr.save(nested, io.BytesIO())


def test_duplicate_members_are_refused():
    good = io.BytesIO()
    cr.save({"w": cr.ones(2)}, good)
    buf = io.BytesIO()
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(buf, "w") as dst:
        for name in src.namelist():
            dst.writestr(name, src.read(name))
        with pytest.warns(UserWarning, match="Duplicate name"):
            dst.writestr("t0.npy", src.read("t0.npy"))
    _refused(buf.getvalue(), "duplicate members", "t0.npy")


def test_foreign_archives_name_their_origin(tmp_path):
    tfile = tmp_path / "torch.pt"
    torch.save({"w": torch.ones(2)}, tfile)
    _refused(tfile, "torch.save")
    _refused(pickle.dumps({"w": 1}), "pickled", "never unpickles")
    _refused(tfile.read_bytes(), "torch.save")
    arr = io.BytesIO()
    np.save(arr, np.ones(2))
    _refused(arr.getvalue(), "bare .npy")
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w") as z:
        z.writestr("readme.txt", "hi")
    _refused(zbuf.getvalue(), "not .npy arrays")


def test_nothing_raw_escapes_on_random_damage():
    """Random byte flips and cuts of a valid archive: loading succeeds or raises
    LoadError, never a raw KeyError/BadZipFile/ValueError/RecursionError."""
    buf = io.BytesIO()
    cr.save({"w": cr.arange(20.0).reshape(4, 5), "n": 3, "l": [1.5, "x", None]}, buf)
    data = buf.getvalue()
    rng = np.random.default_rng(0)
    for _ in range(400):
        d = bytearray(data)
        for i in rng.integers(0, len(d), size=int(rng.integers(1, 4))):
            d[i] = int(rng.integers(0, 256))
        if rng.random() < 0.3:
            d = d[: int(rng.integers(0, len(d)))]
        try:
            cr.load(io.BytesIO(bytes(d)))
        except LoadError:
            pass


def test_directory_target(tmp_path):
    with pytest.raises(IsADirectoryError):
        cr.save(cr.ones(1), tmp_path)
    with pytest.raises(IsADirectoryError):
        cr.load(tmp_path)


# --- atomic save --------------------------------------------------------------------------

def test_save_replaces_atomically_and_keeps_permissions(tmp_path):
    path = tmp_path / "ckpt.pt"
    cr.save({"v": 1}, path)
    os.chmod(path, 0o640)
    cr.save({"v": 2}, path)
    assert cr.load(path) == {"v": 2}
    assert (os.stat(path).st_mode & 0o777) == 0o640
    assert sorted(os.listdir(tmp_path)) == ["ckpt.pt"]          # no temporary left behind
    link = tmp_path / "link.pt"
    os.symlink(path, link)
    cr.save({"v": 3}, link)                                      # writes through the link
    assert os.path.islink(link) and cr.load(path) == {"v": 3}


def test_failed_save_leaves_the_old_file(tmp_path):
    path = tmp_path / "ckpt.pt"
    cr.save({"v": 1}, path)
    with pytest.raises(TypeError):
        cr.save({"v": object()}, path)
    assert cr.load(path) == {"v": 1}
    assert sorted(os.listdir(tmp_path)) == ["ckpt.pt"]


_KILLED_CHILD = r"""
import os, sys, time
import numpy as np
import chainrule as cr
path, marker = sys.argv[1], sys.argv[2]
real = np.lib.format.write_array
calls = []
def slow_write(fp, array, *a, **k):
    real(fp, array, *a, **k)
    calls.append(1)
    if len(calls) == 1:                  # mid-save: one array written, more to come
        fp.flush()
        open(marker, "w").close()
        while True:
            time.sleep(1)
np.lib.format.write_array = slow_write
cr.save({"w": cr.full((1000,), 2.0), "b": cr.zeros(10), "step": 2}, path)
"""


def test_killed_save_leaves_the_previous_file_intact(tmp_path):
    import signal
    import subprocess
    import sys
    import time
    path, marker = tmp_path / "ckpt.pt", tmp_path / "writing"
    cr.save({"w": cr.ones(1000), "step": 1}, path)
    before = path.read_bytes()
    child = subprocess.Popen([sys.executable, "-c", _KILLED_CHILD, str(path), str(marker)])
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():           # waits for the child's signal, not a time
            assert child.poll() is None, "the child ended before it reached mid-save"
            assert time.monotonic() < deadline, "the child never reached mid-save"
            time.sleep(0.01)
        child.send_signal(signal.SIGKILL)
        child.wait(60)
    finally:
        if child.poll() is None:
            child.kill()
    assert path.read_bytes() == before
    out = cr.load(path)
    assert out["step"] == 1 and out["w"].tolist() == [1.0] * 1000
