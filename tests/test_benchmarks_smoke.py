"""The benchmark workloads at tiny sizes: every library computes the same gradients.

No timing is asserted here; timings live in benchmarks/ (``python -m benchmarks``).
"""
import json
import os
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from benchmarks import workloads as W  # noqa: E402

pytest.importorskip("torch")
LIBS = W.available_libs()           # chainrule, torch, numpy, and HIPS autograd if installed


@pytest.mark.parametrize("size", [4, (), (3, 2)])
def test_chain_gradients_agree(size):
    x0 = W.chain_input(size, seed=1)
    ref = W.check_gradients(lambda lib: W.chain(lib, x0, 23), LIBS, rtol=1e-12, atol=1e-14)
    # the chain's gradient is not trivial (and a fresh step gives the same answer again)
    step = W.chain("chainrule", x0, 23)
    np.testing.assert_allclose(step()[0], ref[0], rtol=1e-12)
    np.testing.assert_allclose(step()[0], ref[0], rtol=1e-12)
    assert np.all(ref[0] != 0)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_mlp_gradients_agree(dtype):
    x, y, params = W.mlp_data(batch=6, n_in=7, hidden=5, n_out=3, dtype=dtype, seed=2)
    tol = dict(rtol=1e-4, atol=1e-6) if dtype == "float32" else dict(rtol=1e-10, atol=1e-12)
    W.check_gradients(lambda lib: W.mlp(lib, x, y, params), LIBS, **tol)
    # dtype is preserved and the SGD update moves the parameters the same way as torch
    cr, tc = W.mlp("chainrule", x, y, params), W.mlp("torch", x, y, params)
    for _ in range(3):
        g_cr, g_tc = cr(), tc()
    for a, b in zip(g_cr, g_tc):
        assert a.dtype == np.dtype(dtype)
        np.testing.assert_allclose(a, b, **tol)


def test_big_gradients_agree():
    x, ws = W.big_data(n=9, layers=3, dtype="float32", seed=3)
    ref = W.check_gradients(lambda lib: W.big(lib, x, ws), LIBS, rtol=1e-4, atol=1e-5)
    assert len(ref) == 3 and all(g.shape == (9, 9) for g in ref)
    assert W.big("chainrule", x, ws)()[0].dtype == np.float32


def test_conv_layer_gradients_agree():
    data = W.conv_layer_data(batch=2, channels=3, size=5, dtype="float64", seed=4)
    libs = [lib for lib in LIBS if lib in ("chainrule", "torch", "numpy")]
    ref = W.check_gradients(lambda lib: W.conv_layer(lib, *data), libs, rtol=1e-10,
                            atol=1e-12)
    assert [g.shape for g in ref] == [(2, 3, 5, 5), (3, 3, 3, 3), (3,)]


def test_lenet_gradients_agree():
    x, y, params = W.lenet_data(batch=4, dtype="float64", seed=5)
    ref = W.check_gradients(lambda lib: W.lenet(lib, x, y, params), ["chainrule", "torch"],
                            rtol=1e-9, atol=1e-12)
    assert len(ref) == 10 and ref[0].shape == (6, 1, 5, 5)
    # the SGD update moves both libraries' parameters the same way
    a, b = W.lenet("chainrule", x, y, params), W.lenet("torch", x, y, params)
    for _ in range(2):
        ga, gb = a(), b()
    for u, v in zip(ga, gb):
        np.testing.assert_allclose(u, v, rtol=1e-9, atol=1e-12)


def test_deep_child_reports_time_and_memory(capsys):
    from benchmarks import deep_child
    deep_child.main(["--lib", "chainrule", "--n", "40", "--size", "10", "--repeats", "2"])
    res = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert res["lib"] == "chainrule" and len(res["times"]) == 2 and res["peak_mb"] >= 0


def test_table_formats_ratios():
    from benchmarks import run
    row = run.Row("x", "s", 1.0, {"chainrule": [1.0, 2.0, 3.0], "numpy": [2.0, 2.0, 2.0]},
                  {"numpy": 1.05})
    assert row.ratio("numpy") == 1.0
    assert row.verdicts() == [("numpy", 1.05, 1.0, True)]
    text = run.table([row], ["chainrule", "numpy"])
    assert "| x | s | 2 | 2 | 1 |" in text and "yes" in text


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_compiled_mlp_matches_eager_bit_for_bit(dtype):
    x, y, params = W.mlp_data(batch=6, n_in=7, hidden=5, n_out=3, dtype=dtype, seed=2)
    eager, comp = W.mlp("chainrule", x, y, params), W.mlp("compiled", x, y, params)
    for _ in range(4):
        for a, b in zip(eager(), comp()):
            assert a.dtype == b.dtype and a.tobytes() == b.tobytes()


def test_compiled_chain_matches_eager_bit_for_bit():
    x0 = W.chain_input(4, seed=1)
    eager, comp = W.chain("chainrule", x0, 23), W.chain("compiled", x0, 23)
    for _ in range(3):
        assert eager()[0].tobytes() == comp()[0].tobytes()


@pytest.mark.parametrize("problem", ["rosenbrock", "logreg"])
def test_scipy_compiled_takes_the_same_iterates(problem):
    pytest.importorskip("scipy")
    x0, data = W.scipy_data(problem)
    a = W.scipy_minimize("chainrule", problem, x0, data)()
    b = W.scipy_minimize("compiled", problem, x0, data)()
    assert a[1][0] == b[1][0] and a[1][0] > 5
    # (OpenBLAS's matrix-vector products may round the last bit differently for buffers at
    # other addresses: the logistic regression's iterates agree to ~1e-15, not bit for bit)
    np.testing.assert_allclose(a[0], b[0], rtol=1e-10, atol=1e-12)
