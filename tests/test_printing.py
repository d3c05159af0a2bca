"""repr/str of tensors are identical to PyTorch 2.13's for the same data.

Every case builds the tensor from the same NumPy array in both libraries and compares
``repr`` (and ``str``, which is the same text).
"""
import numpy as np
import pytest
import torch

import chainrule as cr

_DT = {"float16": (cr.float16, torch.float16), "float32": (cr.float32, torch.float32),
       "float64": (cr.float64, torch.float64), "int32": (cr.int32, torch.int32),
       "int64": (cr.int64, torch.int64), "bool": (cr.bool, torch.bool),
       "int8": (cr.int8, torch.int8), "uint8": (cr.uint8, torch.uint8),
       "int16": (cr.int16, torch.int16)}

_rng = np.random.default_rng(0)

# (id, data, dtype name)
VALUE_CASES = [
    ("0d_float", 28.0, "float32"),
    ("0d_frac", 3.14159, "float32"),
    ("0d_neg", -2.5, "float32"),
    ("0d_zero", 0.0, "float32"),
    ("0d_int", 7, "int64"),
    ("0d_bool", True, "bool"),
    ("0d_f64", 1.5, "float64"),
    ("0d_big", 1.0e10, "float32"),
    ("0d_tiny", 1.0e-6, "float32"),
    ("1d_intvalued", [0.0, 1.0, 2.0, 3.0], "float32"),
    ("1d_intvalued_widths", [0.0, 4.0, 8.0, 12.0], "float32"),
    ("1d_mixed", [0.5, 1.25, -3.0], "float32"),
    ("1d_precision", [1.23456789, 2.0, 3.5], "float32"),
    ("1d_negative", [-1.0, -2.5, 3.25], "float32"),
    ("1d_neg_int", [-1.0, 2.0, -30.0], "float32"),
    ("1d_sci_ratio", [1.0, 2000.0, 3.5], "float32"),
    ("1d_sci_tiny", [1e-5, 2e-5, 3e-5], "float32"),
    ("1d_sci_large", [1e9, 2.5e9], "float32"),
    ("1d_sci_int_ratio", [1.0, 10000.0], "float32"),
    ("1d_sci_neg", [-1e-7, 5.0], "float32"),
    ("1d_inf", [1.0, float("inf"), -float("inf")], "float32"),
    ("1d_nan", [float("nan"), 1.5, 2.0], "float32"),
    ("1d_inf_only", [float("inf"), float("nan")], "float32"),
    ("1d_zeros", [0.0, 0.0], "float32"),
    ("1d_negzero", [-0.0, 1.0], "float32"),
    ("1d_int", [1, 2, 3], "int64"),
    ("1d_int_neg", [-10, 2, 300], "int64"),
    ("1d_int32", [1, 2, 3], "int32"),
    ("1d_int8", [1, -2, 3], "int8"),
    ("1d_uint8", [1, 2, 255], "uint8"),
    ("1d_int16", [1, 2], "int16"),
    ("1d_bool", [True, False], "bool"),
    ("1d_bool_true", [True, True], "bool"),
    ("1d_bool_false", [False, False], "bool"),
    ("1d_f64", [1.0, 2.5], "float64"),
    ("1d_f64_int", [1.0, 2.0], "float64"),
    ("1d_f16", [1.5, 2.25, 1000.125], "float16"),
    ("1d_f16_int", [1.0, 2.0], "float16"),
    ("1d_f16_frac", [0.1, 0.2, 0.3], "float16"),
    ("1d_f64_precise", [0.1, 0.2, 1 / 3], "float64"),
    ("2d_float", [[1.0, 2.5], [3.0, 4.0]], "float32"),
    ("2d_intvalued", [[1.0, 2.0], [30.0, 4.0]], "float32"),
    ("2d_int", [[1, 2, 3], [4, 5, 6]], "int64"),
    ("2d_bool", [[True, False], [False, True]], "bool"),
    ("2d_sci", [[1e-8, 1.0], [2.0, 3.0]], "float32"),
    ("2d_f64", [[1.0, 2.0], [3.5, 4.0]], "float64"),
    ("3d_float", np.arange(24.0).reshape(2, 3, 4) / 7, "float32"),
    ("3d_int", np.arange(12).reshape(2, 3, 2), "int64"),
    ("4d_float", np.arange(16.0).reshape(2, 2, 2, 2), "float32"),
    ("randn_2d", _rng.standard_normal((3, 4)), "float32"),
    ("randn_3d", _rng.standard_normal((2, 3, 2)), "float64"),
    ("randn_scaled", _rng.standard_normal((3, 3)) * 1000, "float32"),
    ("long_row", np.linspace(-1, 1, 30), "float32"),
    ("long_row_int", np.arange(50), "int64"),
    ("long_row_bool", np.arange(40) % 3 == 0, "bool"),
    ("long_row_f64", np.linspace(0, 5, 17), "float64"),
    ("long_rows_2d", np.linspace(-1, 1, 60).reshape(3, 20), "float32"),
    ("long_rows_sci", np.logspace(-6, 6, 25), "float32"),
    ("summarised_1d", np.arange(2000.0), "float32"),
    ("summarised_1d_frac", np.linspace(0, 1, 1500), "float32"),
    ("summarised_int", np.arange(1001), "int64"),
    ("summarised_2d", np.arange(2000.0).reshape(40, 50), "float32"),
    ("summarised_2d_narrow", np.arange(3000.0).reshape(1000, 3), "float32"),
    ("summarised_3d", np.arange(1200.0).reshape(10, 10, 12) / 3, "float32"),
    ("summarised_bool", np.arange(1200) % 2 == 0, "bool"),
    ("summarised_sci", np.linspace(1e-6, 1e3, 1200), "float32"),
    ("threshold_exact", np.arange(1000.0), "float32"),
]


def _pair(data, dname):
    cd, td = _DT[dname]
    arr = np.asarray(data)
    return cr.tensor(arr, dtype=cd), torch.tensor(arr, dtype=td)


@pytest.mark.parametrize("data,dname", [c[1:] for c in VALUE_CASES],
                         ids=[c[0] for c in VALUE_CASES])
def test_repr_matches_torch(data, dname):
    c, t = _pair(data, dname)
    assert repr(c) == repr(t)
    assert str(c) == str(t)


EMPTY_CASES = [((0,), "float32"), ((0,), "int64"), ((0,), "float64"), ((2, 0), "float32"),
               ((0, 3), "int64"), ((0,), "bool"), ((1, 0, 2), "int32")]


@pytest.mark.parametrize("shape,dname", EMPTY_CASES)
def test_empty(shape, dname):
    c, t = _pair(np.zeros(shape), dname)
    assert repr(c) == repr(t)


def test_readme_cases():
    assert repr(cr.tensor([0., 1., 2., 3.])) == "tensor([0., 1., 2., 3.])"
    assert repr(cr.tensor([True, True])) == "tensor([True, True])"
    assert repr(cr.tensor([True, False])) == "tensor([ True, False])"
    x = cr.arange(4.0, requires_grad=True)
    assert repr(x) == "tensor([0., 1., 2., 3.], requires_grad=True)"
    y = 2 * cr.dot(x, x)
    assert repr(y) == "tensor(28., grad_fn=<MulBackward0>)"


GRAPH_CASES = [
    ("leaf_rg", lambda m: m.tensor([1.0, 2.0], requires_grad=True)),
    ("leaf_rg_0d", lambda m: m.tensor(1.5, requires_grad=True)),
    ("leaf_rg_f64", lambda m: m.tensor([1.0, 2.0], dtype=m.float64, requires_grad=True)),
    ("mul", lambda m: m.tensor([1.0, 2.0], requires_grad=True) * 2),
    ("add", lambda m: m.tensor([1.0, 2.0], requires_grad=True) + 1),
    ("sum", lambda m: m.tensor([1.0, 2.0], requires_grad=True).sum()),
    ("mean", lambda m: m.tensor([1.0, 2.0], requires_grad=True).mean()),
    ("exp", lambda m: m.exp(m.tensor([1.0, 2.0], requires_grad=True))),
    ("pow", lambda m: m.tensor([1.0, 2.0], requires_grad=True) ** 2),
    ("dot", lambda m: m.dot(m.tensor([1.0, 2.0], requires_grad=True), m.ones(2))),
    ("f64_graph", lambda m: m.tensor([1.0, 2.0], dtype=m.float64, requires_grad=True) * 3),
    ("view", lambda m: m.tensor([1.0, 2.0], requires_grad=True).view(2, 1)),
    ("index", lambda m: m.tensor([1.0, 2.0], requires_grad=True)[0]),
    ("neg", lambda m: -m.tensor([1.0, 2.0], requires_grad=True)),
    ("div", lambda m: m.tensor([1.0, 2.0], requires_grad=True) / 3),
    ("sub", lambda m: m.tensor([1.0, 2.0], requires_grad=True) - 3),
    ("mm", lambda m: m.ones(2, 2, requires_grad=True) @ m.ones(2, 2)),
    # long rows: the suffix wraps onto its own line
    ("wrap_suffix_rg", lambda m: m.linspace(0, 1, 12, requires_grad=True)),
    ("wrap_suffix_grad_fn", lambda m: m.linspace(0, 1, 12, requires_grad=True) * 2),
    ("wrap_suffix_f64", lambda m: m.linspace(0, 1, 9, dtype=m.float64, requires_grad=True) * 2),
    ("wrap_2d", lambda m: m.linspace(0, 1, 24, requires_grad=True).view(2, 12) * 2),
    ("fits_suffix", lambda m: m.linspace(0, 1, 6, requires_grad=True) * 2),
    ("summarised_rg", lambda m: m.arange(2000.0, requires_grad=True)),
    ("summarised_grad_fn", lambda m: m.arange(2000.0, requires_grad=True) * 1.5),
]


@pytest.mark.parametrize("make", [c[1] for c in GRAPH_CASES], ids=[c[0] for c in GRAPH_CASES])
def test_graph_suffixes(make):
    assert repr(make(cr)) == repr(make(torch))


@pytest.mark.parametrize("data,dname", [
    ([1.0, 2.0], "float32"), ([1.5, 2.0], "float64"), ([1, 2], "int64"),
    (np.zeros(0), "float32"), (np.zeros(0), "float64"), (2.5, "float32"),
    ([[1.0, 2.0]], "float16")])
def test_default_dtype_float64(data, dname):
    torch.set_default_dtype(torch.float64)
    cr.set_default_dtype(cr.float64)
    try:
        c, t = _pair(data, dname)
        assert repr(c) == repr(t)
        assert repr(cr.tensor([1.0, 2.0])) == repr(torch.tensor([1.0, 2.0]))
        assert repr(cr.tensor([1.0, 2.0]).float()) == repr(torch.tensor([1.0, 2.0]).float())
    finally:
        torch.set_default_dtype(torch.float32)
        cr.set_default_dtype(cr.float32)


def test_grad_and_nonleaf_results_print_like_torch():
    outs = []
    for m in (cr, torch):
        x = m.arange(4.0, requires_grad=True)
        y = 2 * m.dot(x, x)
        y.backward()
        outs.append((repr(x.grad), repr(x.detach()), repr(x.grad == 4 * x), repr(y.detach())))
    assert outs[0] == outs[1]


@pytest.mark.parametrize("opts", [dict(precision=2), dict(precision=6), dict(sci_mode=True),
                                  dict(sci_mode=False), dict(linewidth=40),
                                  dict(threshold=5), dict(threshold=5, edgeitems=1)])
def test_printoptions(opts):
    data = [[0.123456789, 12.5, -3.0, 4e-3, 0.5, 1.0, 2.0, 3.0]] * 3
    try:
        cr.set_printoptions(**opts)
        torch.set_printoptions(**opts)
        assert repr(cr.tensor(data)) == repr(torch.tensor(data))
        assert repr(cr.tensor(data[0])) == repr(torch.tensor(data[0]))
    finally:
        cr.set_printoptions(profile="default")
        torch.set_printoptions(profile="default")


def test_size_and_dtype_reprs():
    assert repr(cr.zeros(2, 3).shape) == repr(torch.zeros(2, 3).shape)
    assert repr(cr.zeros(0).shape) == repr(torch.zeros(0).shape)
    assert repr(cr.zeros(()).shape) == repr(torch.zeros(()).shape)
    for name in ("float16", "float32", "float64", "int32", "int64", "bool"):
        assert repr(getattr(cr, name)) == repr(getattr(torch, name))
        assert str(getattr(cr, name)) == str(getattr(torch, name))


@pytest.mark.parametrize("data", [[0.123456789, 12.5, -3.0] * 4, [[1, 2, 3]] * 4,
                                  np.arange(30.0).reshape(2, 3, 5)])
def test_edgeitems_zero(data):
    try:
        cr.set_printoptions(threshold=3, edgeitems=0)
        torch.set_printoptions(threshold=3, edgeitems=0)
        assert repr(cr.tensor(data)) == repr(torch.tensor(data))
    finally:
        cr.set_printoptions(profile="default")
        torch.set_printoptions(profile="default")


def test_dual_tensors_show_their_tangent():
    outs = []
    for m in (cr, torch):
        fw = m.autograd.forward_ad
        with fw.dual_level():
            x = fw.make_dual(m.tensor([1.0, 2.0]), m.tensor([3.0, 4.0]))
            y = m.tensor([1.0, 2.5], requires_grad=True) * 1
            outs.append((repr(x), repr(x * 2), repr(fw.make_dual(y, m.ones(2))),
                         repr(fw.make_dual(m.linspace(0, 1, 9), m.linspace(0, 2, 9)))))
        outs.append(repr(x))
    assert outs[0] == outs[2] and outs[1] == outs[3]
