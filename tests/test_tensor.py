"""The Tensor class, dtypes, type promotion and factories, each checked against PyTorch 2.13.

Most tests run the same lambda on ``chainrule`` and on ``torch`` (``m`` is the module) and
compare the results: values, shapes, dtypes, and the class of any exception raised.
"""
import gc
import math

import numpy as np
import pytest
import torch

import chainrule as cr

LIBS = pytest.mark.parametrize("m", [cr, torch], ids=["chainrule", "torch"])


def _np(x):
    if isinstance(x, torch.Tensor):
        return x.detach().numpy()
    return x.detach().numpy()


def _ver(t):
    """The version counter (an int, as in PyTorch)."""
    return t._version


def same(make):
    """Run ``make(m)`` on both libraries; return the two results (or exception classes)."""
    out = []
    for m in (cr, torch):
        try:
            out.append(make(m))
        except Exception as e:          # noqa: BLE001 -- compared below
            out.append(type(e))
    return out


def assert_same_tensor(a, b, exact=True):
    assert isinstance(a, cr.Tensor), a
    assert isinstance(b, torch.Tensor), b
    assert tuple(a.shape) == tuple(b.shape)
    assert str(a.dtype) == str(b.dtype)
    assert a.requires_grad == b.requires_grad
    if exact:
        np.testing.assert_array_equal(_np(a), _np(b))
    else:
        np.testing.assert_allclose(_np(a), _np(b), rtol=1e-6, atol=1e-7)


def check(make, exact=True):
    a, b = same(make)
    if isinstance(b, type) and issubclass(b, Exception):
        assert a is b or (isinstance(a, type) and issubclass(a, b)), (a, b)
    elif isinstance(b, torch.Tensor):
        assert_same_tensor(a, b, exact)
    else:
        assert repr(a) == repr(b)


# --- class, attributes -----------------------------------------------------------------

def test_class_and_is_tensor():
    x = cr.tensor([1.0])
    assert isinstance(x, cr.Tensor)
    assert cr.is_tensor(x) and not cr.is_tensor([1.0]) and not cr.is_tensor(np.ones(1))
    assert cr.Tensor is type(x)


@pytest.mark.parametrize("make", [
    lambda m: m.Tensor([1, 2]),
    lambda m: m.Tensor([[1.5, 2], [3, 4]]),
    lambda m: m.Tensor((2.0, 3.0)),
    lambda m: m.Tensor(np.array([1, 2])),
    lambda m: m.Tensor(),
])
def test_tensor_constructor(make):
    check(make)


def test_tensor_constructor_sizes():
    for m in (cr, torch):
        assert tuple(m.Tensor(2, 3).shape) == (2, 3)
        assert m.Tensor(2, 3).dtype == m.float32
        assert tuple(m.Tensor(4).shape) == (4,)


SHAPES = [(), (3,), (2, 3), (2, 1, 4), (0,), (2, 0)]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_shape_size_dim_numel(shape):
    c, t = cr.zeros(shape), torch.zeros(shape)
    assert c.shape == t.shape and isinstance(c.shape, tuple)
    assert repr(c.shape) == repr(t.shape)
    assert c.size() == t.size()
    assert c.dim() == t.dim() == c.ndim == t.ndim == len(shape)
    assert c.numel() == t.numel() == math.prod(shape)
    for d in range(-len(shape), len(shape)):
        assert c.size(d) == t.size(d)
        assert c.shape[d] == t.shape[d]
    if shape:
        assert len(c) == len(t) == shape[0]
    else:
        with pytest.raises(TypeError):
            len(c)
        with pytest.raises(TypeError):
            len(t)


def test_size_out_of_range():
    for m in (cr, torch):
        with pytest.raises(IndexError):
            m.zeros(2, 3).size(2)


@pytest.mark.parametrize("shape", [(), (3,), (2, 3)], ids=str)
def test_T(shape):
    import warnings
    data = np.arange(float(math.prod(shape))).reshape(shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        check(lambda m: m.tensor(data).T)


def test_T_is_differentiable():
    x = cr.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    (x.T * cr.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[1, 3, 5], [2, 4, 6]])


@pytest.mark.parametrize("data", [2.5, [3.0], [[7]], True, [False], 4], ids=str)
def test_item_and_scalar_conversions(data):
    c, t = cr.tensor(data), torch.tensor(data)
    assert c.item() == t.item() and type(c.item()) is type(t.item())
    assert float(c) == float(t)
    assert int(c) == int(t)
    assert bool(c) == bool(t)
    assert type(float(c)) is float and type(int(c)) is int and type(bool(c)) is bool


def test_int_truncates_like_torch():
    for v in (2.7, -2.7, 0.5):
        assert int(cr.tensor(v)) == int(torch.tensor(v))


@pytest.mark.parametrize("fn", [lambda x: x.item(), float, int, bool],
                         ids=["item", "float", "int", "bool"])
@pytest.mark.parametrize("data", [[1.0, 2.0], [], [[1, 2]]], ids=str)
def test_scalar_conversion_of_many_elements_raises_like_torch(fn, data):
    errors = same(lambda m: fn(m.tensor(data)))
    assert errors[0] is errors[1] and issubclass(errors[0], Exception)


@pytest.mark.parametrize("data", [2.5, [1.0, 2.0], [[1, 2], [3, 4]], [True, False], 3],
                         ids=str)
def test_tolist(data):
    c, t = cr.tensor(data).tolist(), torch.tensor(data).tolist()
    assert c == t and repr(c) == repr(t)


def test_numpy_shares_memory():
    x = cr.zeros(3)
    a = x.numpy()
    assert isinstance(a, np.ndarray) and a.dtype == np.float32
    a[0] = 5.0
    assert x[0].item() == 5.0
    x.add_(1.0)
    np.testing.assert_array_equal(a, [6.0, 1.0, 1.0])


def test_numpy_and_array_raise_when_requires_grad():
    for m in (cr, torch):
        x = m.ones(2, requires_grad=True)
        with pytest.raises(RuntimeError, match="detach"):
            x.numpy()
        with pytest.raises(RuntimeError):
            np.asarray(x)
        np.testing.assert_array_equal(x.detach().numpy(), [1.0, 1.0])


def test_array_protocol():
    x = cr.tensor([[1.0, 2.0], [3.0, 4.0]])
    a = np.asarray(x)
    assert a.dtype == np.float32 and a.shape == (2, 2)
    assert np.shares_memory(a, x.numpy())
    np.testing.assert_array_equal(np.asarray(x, dtype=np.float64), np.asarray(torch.tensor(
        [[1.0, 2.0], [3.0, 4.0]]), dtype=np.float64))
    assert np.asarray(x, dtype=np.float64).dtype == np.float64


@pytest.mark.parametrize("spec", ["", ".2f", ".3e", "8.1f", "g"])
@pytest.mark.parametrize("data", [3.14159, 2, True], ids=str)
def test_format_0d(spec, data):
    c = same(lambda m: format(m.tensor(data), spec))
    assert c[0] == c[1]


@pytest.mark.parametrize("data", [[1.5, 2.0], [[1, 2], [3, 4]], np.arange(2000.0), [3.0]],
                         ids=["1d", "2d", "many", "one"])
def test_format_many_elements(data):
    c, t = cr.tensor(data), torch.tensor(data)
    assert format(c) == format(t) == str(t)
    assert f"{c}" == f"{t}"
    assert "{}".format(c) == "{}".format(t)
    with pytest.raises(TypeError):
        format(c, ".2f")
    with pytest.raises(TypeError):
        format(t, ".2f")


def test_format_requires_grad_0d():
    assert f"{cr.tensor(2.5, requires_grad=True):.2f}" == "2.50"
    y = cr.tensor(2.0, requires_grad=True) * 3
    assert f"{y:.1f}" == f"{torch.tensor(2.0, requires_grad=True) * 3:.1f}" == "6.0"


def test_clone():
    for m in (cr, torch):
        x = m.tensor([1.0, 2.0])
        c = x.clone()
        c[0] = 10.0
        assert x[0].item() == 1.0
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    c = x.clone()
    assert type(c.grad_fn).__name__ == "CloneBackward0" and not c.is_leaf
    (c * cr.tensor([3.0, 4.0])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 4.0])


def test_detach_shares_memory_and_version():
    for m in (cr, torch):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        d = y.detach()
        assert d.requires_grad is False and d.is_leaf and d.grad_fn is None
        assert _ver(d) == _ver(y) == 0
        d[0] = 7.0
        assert y[0].item() == 7.0               # same memory
        assert _ver(y) == _ver(d) == 1           # same version counter
        dx = x.detach()
        dx.add_(1.0)
        assert _ver(x) == 1 and x[1].item() == 3.0


def test_detach_inplace():
    for m in (cr, torch):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        r = y.detach_()
        assert r is y and y.grad_fn is None and not y.requires_grad and y.is_leaf
        assert y.tolist() == [2.0, 4.0]


def test_data():
    for m in (cr, torch):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        d = x.data
        assert not d.requires_grad and d.is_leaf
        d[0] = 5.0                      # shares memory with x, not recorded
        assert x[0].item() == 5.0
        x.data = m.tensor([3.0, 4.0])
        assert x.tolist() == [3.0, 4.0] and x.requires_grad and x.is_leaf
        (x * x).sum().backward()
        assert x.grad.tolist() == [6.0, 8.0]


def test_requires_grad_settable_on_leaves():
    for m in (cr, torch):
        x = m.tensor([1.0, 2.0])
        assert x.requires_grad is False
        x.requires_grad = True
        assert x.requires_grad and x.is_leaf
        x.requires_grad = False
        assert not x.requires_grad
        assert x.requires_grad_() is x and x.requires_grad
        assert x.requires_grad_(False) is x and not x.requires_grad
        y = m.tensor([1.0], requires_grad=True) * 2
        with pytest.raises(RuntimeError, match="leaf"):
            y.requires_grad = False
        with pytest.raises(RuntimeError, match="leaf"):
            y.requires_grad = True          # the setter refuses non-leaves either way
        assert y.requires_grad_(True) is y  # ... but requires_grad_(True) is a no-op


def test_requires_grad_on_integer_tensor_raises():
    for m in (cr, torch):
        with pytest.raises(RuntimeError, match="floating point"):
            m.tensor([1, 2], requires_grad=True)
        with pytest.raises(RuntimeError, match="floating point"):
            m.zeros(2, dtype=m.int64).requires_grad_()
        with pytest.raises(RuntimeError):
            m.ones(2, dtype=m.bool, requires_grad=True)


def test_is_leaf_grad_and_grad_fn():
    import warnings
    for m in (cr, torch):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        w = m.tensor([3.0, 4.0])
        assert x.is_leaf and w.is_leaf and x.grad is None and x.grad_fn is None
        y = x * w
        z = y.sum()
        assert not y.is_leaf and (w * 2).is_leaf
        assert type(y.grad_fn).__name__ == "MulBackward0"
        assert y.grad_fn.name() == "MulBackward0"
        assert type(z.grad_fn).__name__ == "SumBackward0"
        (acc, i0), (none, i1) = y.grad_fn.next_functions
        assert type(acc).__name__ == "AccumulateGrad" and acc.variable is x
        assert none is None and i0 == 0 and i1 == 0
        assert z.grad_fn.next_functions[0][0] is y.grad_fn
        z.backward()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            assert y.grad is None                   # non-leaf without retain_grad
        assert x.grad.tolist() == [3.0, 4.0]
        assert w.grad is None


@pytest.mark.parametrize("expr,name", [
    (lambda m, x: x + 1, "AddBackward0"), (lambda m, x: x - x, "SubBackward0"),
    (lambda m, x: x / 2, "DivBackward0"), (lambda m, x: -x, "NegBackward0"),
    (lambda m, x: x ** 2, "PowBackward0"), (lambda m, x: 2 ** x, "PowBackward2"),
    (lambda m, x: x ** x, "PowBackward1"), (lambda m, x: m.pow(x, x), "PowBackward1"),
    (lambda m, x: m.exp(x), "ExpBackward0"), (lambda m, x: m.log(x), "LogBackward0"),
    (lambda m, x: m.sin(x), "SinBackward0"), (lambda m, x: m.cos(x), "CosBackward0"),
    (lambda m, x: m.tanh(x), "TanhBackward0"), (lambda m, x: m.sigmoid(x), "SigmoidBackward0"),
    (lambda m, x: m.relu(x), "ReluBackward0"), (lambda m, x: m.abs(x), "AbsBackward0"),
    (lambda m, x: m.sqrt(x), "SqrtBackward0"), (lambda m, x: x.sum(), "SumBackward0"),
    (lambda m, x: x.sum(0), "SumBackward1"), (lambda m, x: x.mean(), "MeanBackward0"),
    (lambda m, x: x.mean(0), "MeanBackward1"), (lambda m, x: x.max(), "MaxBackward1"),
    (lambda m, x: x.max(0).values, "MaxBackward0"), (lambda m, x: m.dot(x, x), "DotBackward0"),
    (lambda m, x: x.view(2, 1), "ViewBackward0"), (lambda m, x: x.reshape(1, 2), "ViewBackward0"),
    (lambda m, x: x.unsqueeze(0), "UnsqueezeBackward0"), (lambda m, x: x[0], "SelectBackward0"),
    (lambda m, x: x[0:1], "SliceBackward0"), (lambda m, x: x[[0, 1]], "IndexBackward0"),
    (lambda m, x: m.cat([x, x]), "CatBackward0"), (lambda m, x: m.stack([x, x]), "StackBackward0"),
    (lambda m, x: x.clamp(0, 1), "ClampBackward1"), (lambda m, x: m.maximum(x, x), "MaximumBackward0"),
    (lambda m, x: m.where(x > 0, x, x), "WhereBackward0"), (lambda m, x: x.norm(), "LinalgVectorNormBackward0"),
    (lambda m, x: x.norm(p=1), "LinalgVectorNormBackward0"),
    (lambda m, x: x.min(), "MinBackward1"), (lambda m, x: x.min(0).values, "MinBackward0"),
    (lambda m, x: x.clamp(min=0.7), "ClampBackward1"),
    (lambda m, x: x.clamp(min=x * 0.5), "ClampBackward0"),
    (lambda m, x: x.expand(3, 2), "ExpandBackward0"), (lambda m, x: x.double(), "ToCopyBackward0"),
    (lambda m, x: x.clone(), "CloneBackward0"),
    (lambda m, x: x.unsqueeze(1) @ x.unsqueeze(0), "MmBackward0"),
    (lambda m, x: x.unsqueeze(0).t(), "TBackward0"),
    (lambda m, x: x.unsqueeze(0).transpose(0, 1), "TransposeBackward0"),
    (lambda m, x: x.unsqueeze(0).permute(1, 0), "PermuteBackward0"),
    (lambda m, x: x.unsqueeze(0).squeeze(0), "SqueezeBackward1"),
    (lambda m, x: x.unsqueeze(0).squeeze(), "SqueezeBackward0"),
    (lambda m, x: x.unsqueeze(0).squeeze((0,)), "SqueezeBackward2"),
])
def test_grad_fn_names(expr, name):
    for m in (cr, torch):
        x = m.tensor([0.5, 1.5], requires_grad=True)
        assert type(expr(m, x).grad_fn).__name__ == name, m.__name__


def test_retain_grad():
    for m in (cr, torch):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        y = x * 3
        y.retain_grad()
        assert y.retains_grad and not x.retains_grad
        (y * y).sum().backward()
        assert y.grad.tolist() == [6.0, 12.0]
        assert x.grad.tolist() == [18.0, 36.0]
        x.retain_grad()                     # no-op on a leaf
        with pytest.raises(RuntimeError):
            m.tensor([1.0]).retain_grad()


def test_register_hook_on_leaf_and_remove():
    for m in (cr, torch):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        seen = []
        h = x.register_hook(lambda g: seen.append(g.tolist()) or g * 10)
        (x * 2).sum().backward()
        assert seen == [[2.0, 2.0]] and x.grad.tolist() == [20.0, 20.0]
        h.remove()
        (x * 2).sum().backward()
        assert x.grad.tolist() == [22.0, 22.0] and len(seen) == 1
        with pytest.raises(RuntimeError):
            m.tensor([1.0]).register_hook(lambda g: g)


@pytest.mark.parametrize("conv,dtype", [
    (lambda x, m: x.type(m.float64), "float64"), (lambda x, m: x.to(m.float64), "float64"),
    (lambda x, m: x.to(m.int32), "int32"), (lambda x, m: x.to(dtype=m.float16), "float16"),
    (lambda x, m: x.type("torch.DoubleTensor"), "float64"),
    (lambda x, m: x.type(m.int64), "int64"),
    (lambda x, m: x.float(), "float32"), (lambda x, m: x.double(), "float64"),
    (lambda x, m: x.long(), "int64"), (lambda x, m: x.bool(), "bool"),
    (lambda x, m: x.int(), "int32"), (lambda x, m: x.half(), "float16"),
    (lambda x, m: x.to(m.zeros(1, dtype=m.float64)), "float64"),
    (lambda x, m: x.to("cpu"), "float32"), (lambda x, m: x.to("cpu", m.float64), "float64"),
])
def test_casts(conv, dtype):
    data = [1.7, -2.7, 0.0, 3.0]
    c, t = conv(cr.tensor(data), cr), conv(torch.tensor(data), torch)
    assert_same_tensor(c, t)
    assert str(c.dtype) == "torch." + dtype


def test_type_without_argument():
    for d in ("float32", "float64", "int64", "int32", "bool", "float16"):
        c = cr.zeros(1, dtype=getattr(cr, d)).type()
        t = torch.zeros(1, dtype=getattr(torch, d)).type()
        assert c == t


def test_to_returns_self_when_nothing_changes():
    for m in (cr, torch):
        x = m.ones(2)
        assert x.to(m.float32) is x and x.float() is x or m is cr
    x = cr.ones(2)
    assert x.to(cr.float32) is x


def test_cast_gradient_flows_in_input_dtype():
    for m in (cr, torch):
        x = m.tensor([1.0, 2.0], dtype=m.float64, requires_grad=True)
        (x.float() * 3).sum().backward()
        assert x.grad.dtype == m.float64 and x.grad.tolist() == [3.0, 3.0]


@pytest.mark.parametrize("shape", [(3,), (2, 3), (2, 2, 2)], ids=str)
def test_iteration(shape):
    data = np.arange(float(math.prod(shape))).reshape(shape)
    cs, ts = list(cr.tensor(data)), list(torch.tensor(data))
    assert len(cs) == len(ts) == shape[0]
    for a, b in zip(cs, ts):
        assert_same_tensor(a, b)
    with pytest.raises(TypeError):
        iter(cr.tensor(1.0)).__next__()


def test_iteration_keeps_graph():
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    total = sum(v * v for v in x)
    total.backward()
    assert x.grad.tolist() == [2.0, 4.0, 6.0]


CMP = [("lt", lambda a, b: a < b), ("le", lambda a, b: a <= b), ("gt", lambda a, b: a > b),
       ("ge", lambda a, b: a >= b), ("eq", lambda a, b: a == b), ("ne", lambda a, b: a != b)]


@pytest.mark.parametrize("op", [c[1] for c in CMP], ids=[c[0] for c in CMP])
@pytest.mark.parametrize("other", [lambda m: m.tensor([2.0, 1.0, 3.0]), lambda m: 2,
                                   lambda m: 1.5, lambda m: m.tensor(2),
                                   lambda m: m.tensor([[1], [3]])],
                         ids=["tensor", "int", "float", "0d", "bcast"])
def test_comparisons_return_bool(op, other):
    data = [1.0, 2.0, 3.0]
    c = op(cr.tensor(data, requires_grad=True), other(cr))
    t = op(torch.tensor(data, requires_grad=True), other(torch))
    assert_same_tensor(c, t)
    assert c.dtype == cr.bool and not c.requires_grad and c.grad_fn is None
    rc = op(other(cr), cr.tensor(data))
    rt = op(other(torch), torch.tensor(data))
    assert_same_tensor(rc, rt)


# --- dtypes ----------------------------------------------------------------------------

def test_dtype_names_on_module():
    for name in ("float16", "float32", "float64", "int32", "int64", "bool", "float", "double",
                 "half", "long", "int", "int8", "int16", "uint8", "short"):
        assert repr(getattr(cr, name)) == repr(getattr(torch, name)), name
    assert cr.float is cr.float32 and cr.double is cr.float64 and cr.long is cr.int64
    assert isinstance(cr.float32, cr.dtype)
    assert cr.float32.is_floating_point and not cr.int64.is_floating_point


@pytest.mark.parametrize("data", [1.5, 2, True, [1.0, 2.0], [1, 2], [True, False], [1, 2.5],
                                  [True, 2], [[1.0], [2.0]], [], np.float64(1.5),
                                  np.float32(1.5), np.int32(3), [np.int32(1), 2],
                                  [np.float16(1), np.int64(2)], np.array([1, 2], np.int32),
                                  np.array([1.0]), np.array(True), [np.bool_(True)]],
                         ids=str)
def test_default_dtypes_of_tensor(data):
    check(lambda m: m.tensor(data))


def test_set_default_dtype():
    for m in (cr, torch):
        assert m.get_default_dtype() == m.float32
        m.set_default_dtype(m.float64)
        try:
            assert m.get_default_dtype() == m.float64
            assert m.tensor(1.5).dtype == m.float64
            assert m.tensor([1, 2]).dtype == m.int64
            assert m.zeros(2).dtype == m.float64
            assert m.arange(3.0).dtype == m.float64
            assert m.rand(2).dtype == m.float64
            assert m.linspace(0, 1, 3).dtype == m.float64
            assert (m.tensor([1, 2]) / 2).dtype == m.float64
            assert (m.tensor([1, 2]) * 1.5).dtype == m.float64
        finally:
            m.set_default_dtype(m.float32)
        assert m.tensor(1.5).dtype == m.float32
        with pytest.raises(TypeError):
            m.set_default_dtype(m.int64)


# --- type promotion --------------------------------------------------------------------

DTYPES = ["bool", "uint8", "int32", "int64", "float16", "float32", "float64"]
BINOPS = [("add", lambda a, b: a + b), ("mul", lambda a, b: a * b),
          ("div", lambda a, b: a / b), ("lt", lambda a, b: a < b),
          ("eq", lambda a, b: a == b)]


def _operand(m, dname, zero_d):
    data = 3 if zero_d else [1, 2, 3]
    return m.tensor(data, dtype=getattr(m, dname))


@pytest.mark.parametrize("op", [o[1] for o in BINOPS], ids=[o[0] for o in BINOPS])
@pytest.mark.parametrize("da", DTYPES)
@pytest.mark.parametrize("db", DTYPES)
def test_promotion_tensor_tensor(op, da, db):
    for za, zb in ((False, False), (False, True), (True, False)):
        r = same(lambda m: op(_operand(m, da, za), _operand(m, db, zb)))
        if isinstance(r[1], type):
            assert r[0] is r[1]
        else:
            assert str(r[0].dtype) == str(r[1].dtype), (da, db, za, zb)
            np.testing.assert_allclose(_np(r[0]).astype(np.float64),
                                       _np(r[1]).astype(np.float64), rtol=1e-3)


@pytest.mark.parametrize("op", [o[1] for o in BINOPS], ids=[o[0] for o in BINOPS])
@pytest.mark.parametrize("da", DTYPES)
@pytest.mark.parametrize("scalar", [True, 2, 2.5], ids=["bool", "int", "float"])
def test_promotion_tensor_scalar(op, da, scalar):
    for zero_d in (False, True):
        for order in (0, 1):
            def f(m):
                a = _operand(m, da, zero_d)
                return op(a, scalar) if order == 0 else op(scalar, a)
            r = same(f)
            if isinstance(r[1], type):
                assert r[0] is r[1]
            else:
                assert str(r[0].dtype) == str(r[1].dtype), (da, scalar, zero_d, order)
                np.testing.assert_allclose(_np(r[0]).astype(np.float64),
                                           _np(r[1]).astype(np.float64), rtol=1e-3)


def test_promote_types():
    for a in DTYPES:
        for b in DTYPES:
            assert repr(cr.promote_types(getattr(cr, a), getattr(cr, b))) == \
                repr(torch.promote_types(getattr(torch, a), getattr(torch, b)))


def test_gradient_dtype_matches_leaf_under_promotion():
    for m in (cr, torch):
        x = m.tensor([1.0, 2.0], requires_grad=True)               # float32
        w = m.tensor([0.5, 0.25], dtype=m.float64, requires_grad=True)
        (x * w).sum().backward()
        assert x.grad.dtype == m.float32 and w.grad.dtype == m.float64


# --- factories -------------------------------------------------------------------------

FACTORIES = [
    lambda m: m.tensor([[1, 2], [3, 4]], dtype=m.float64, requires_grad=True),
    lambda m: m.tensor(m.tensor([1, 2]), dtype=m.float32),
    lambda m: m.as_tensor([1, 2]),
    lambda m: m.as_tensor([1, 2], dtype=m.float64),
    lambda m: m.as_tensor(np.array([1.0, 2.0])),
    lambda m: m.from_numpy(np.array([1, 2], dtype=np.int32)),
    lambda m: m.from_numpy(np.arange(6.0).reshape(2, 3)),
    lambda m: m.arange(5), lambda m: m.arange(1, 4), lambda m: m.arange(0, 1, 0.25),
    lambda m: m.arange(1, 2.5, 0.5, dtype=m.float64), lambda m: m.arange(5.0),
    lambda m: m.arange(5, dtype=m.float32, requires_grad=True), lambda m: m.arange(10, 0, -3),
    lambda m: m.arange(0, 1, 0.1), lambda m: m.arange(-2.5, 2.5), lambda m: m.arange(0),
    lambda m: m.linspace(0, 1, 5), lambda m: m.linspace(-1, 1, 4, dtype=m.float64),
    lambda m: m.linspace(0, 10, 3, dtype=m.int64), lambda m: m.linspace(0, 1, 1),
    lambda m: m.linspace(0, 1, 0), lambda m: m.linspace(0, 1, 3, requires_grad=True),
    lambda m: m.zeros(2, 3), lambda m: m.zeros((2, 3)), lambda m: m.zeros([2, 3], dtype=m.int32),
    lambda m: m.zeros(()), lambda m: m.zeros(2, requires_grad=True),
    lambda m: m.zeros(m.Size([2, 1])), lambda m: m.zeros(0),
    lambda m: m.ones(2, 2, dtype=m.bool), lambda m: m.ones(3, dtype=m.float64, requires_grad=True),
    lambda m: m.ones((1, 2)), lambda m: m.ones(2, 1, 3),
    lambda m: m.full((2, 2), 3.5), lambda m: m.full((2,), 3), lambda m: m.full((2,), True),
    lambda m: m.full([2, 1], 1.0, dtype=m.float64, requires_grad=True),
    lambda m: m.full((2,), 7, dtype=m.float32),
    lambda m: m.eye(3), lambda m: m.eye(2, 3, dtype=m.int64), lambda m: m.eye(2, requires_grad=True),
    lambda m: m.zeros_like(m.ones(2, 3, dtype=m.int32)),
    lambda m: m.zeros_like(m.ones(2), dtype=m.float64, requires_grad=True),
    lambda m: m.ones_like(m.ones(2, dtype=m.float64), dtype=m.float32, requires_grad=True),
    lambda m: m.ones_like(m.tensor([1, 2])),
    lambda m: m.full_like(m.ones(2), 7), lambda m: m.full_like(m.ones(2, dtype=m.int64), 7.9),
    lambda m: m.full_like(m.ones(2), 2.5, requires_grad=True),
    lambda m: m.full_like(m.ones(2, 2), 1, dtype=m.float64),
    # size= as a keyword (the book writes torch.randn(size=(), requires_grad=True))
    lambda m: m.zeros(size=(2, 3)), lambda m: m.ones(size=[1, 2], dtype=m.int64),
    lambda m: m.zeros(size=(), requires_grad=True), lambda m: m.full(size=(2,), fill_value=3.0),
]


@pytest.mark.parametrize("make", FACTORIES, ids=[f"factory{i}" for i in range(len(FACTORIES))])
def test_factories(make):
    check(make)


@pytest.mark.parametrize("make", [
    lambda m: m.empty(2, 3), lambda m: m.empty((2, 3), dtype=m.int64),
    lambda m: m.empty(2, requires_grad=True), lambda m: m.empty([4], dtype=m.float64)])
def test_empty(make):
    c, t = make(cr), make(torch)
    assert tuple(c.shape) == tuple(t.shape) and str(c.dtype) == str(t.dtype)
    assert c.requires_grad == t.requires_grad


def test_from_numpy_and_as_tensor_share_memory():
    a = np.zeros(3)
    t = cr.from_numpy(a)
    a[1] = 4.0
    assert t.dtype == cr.float64 and t.tolist() == [0.0, 4.0, 0.0]
    t[0] = 2.0
    assert a[0] == 2.0
    b = np.ones(2, dtype=np.float32)
    s = cr.as_tensor(b)
    b[0] = 3.0
    assert s[0].item() == 3.0
    c = cr.tensor(b)                    # tensor() copies
    b[1] = 9.0
    assert c[1].item() == 1.0
    x = cr.ones(2)
    assert cr.as_tensor(x) is x
    for m in (cr, torch):
        with pytest.raises(TypeError):
            m.from_numpy([1.0])


RANDOM = [
    (lambda m: m.rand(2, 3), (0, 1)), (lambda m: m.rand((2, 3), dtype=m.float64), (0, 1)),
    (lambda m: m.rand(4, requires_grad=True), (0, 1)),
    (lambda m: m.randn(4, dtype=m.float64, requires_grad=True), None),
    (lambda m: m.randn((2, 2)), None), (lambda m: m.randn(3, 1, 2), None),
    (lambda m: m.randint(0, 10, (30,)), (0, 10)), (lambda m: m.randint(10, (3, 2)), (0, 10)),
    (lambda m: m.randint(3, 10, (20,), dtype=m.int32), (3, 10)),
    (lambda m: m.randint(-3, 2, size=(20,)), (-3, 2)),
    (lambda m: m.normal(0, 1, size=(2, 3)), None), (lambda m: m.normal(0., 1., (2,)), None),
    (lambda m: m.normal(m.zeros(3), 1.), None),
    (lambda m: m.normal(m.zeros(3, dtype=m.float64), m.ones(3, dtype=m.float64)), None),
    (lambda m: m.normal(2., m.ones(3)), None),
    (lambda m: m.normal(0, 1, size=(2,), requires_grad=True), None),
    (lambda m: m.normal(0, 1, (2,), dtype=m.float64), None),
    (lambda m: m.randn(size=(), requires_grad=True), None),
    (lambda m: m.rand(size=(2, 3), dtype=m.float64), (0, 1)),
    (lambda m: m.empty(size=(3,)), None),
]


@pytest.mark.parametrize("make,bounds", RANDOM, ids=[f"random{i}" for i in range(len(RANDOM))])
def test_random_factories(make, bounds):
    c, t = make(cr), make(torch)
    assert tuple(c.shape) == tuple(t.shape)
    assert str(c.dtype) == str(t.dtype)
    assert c.requires_grad == t.requires_grad
    if bounds is not None:
        v = _np(c)
        assert v.min() >= bounds[0] and v.max() < bounds[1]
    cr.manual_seed(123)
    a = make(cr)
    cr.manual_seed(123)
    b = make(cr)
    np.testing.assert_array_equal(_np(a), _np(b))


def test_random_statistics_and_seed():
    cr.manual_seed(0)
    u = cr.rand(20000, dtype=cr.float64).numpy()
    n = cr.randn(20000, dtype=cr.float64).numpy()
    g = cr.normal(3.0, 2.0, size=(20000,)).numpy()
    assert abs(u.mean() - 0.5) < 0.01 and abs(u.var() - 1 / 12) < 0.005
    assert abs(n.mean()) < 0.03 and abs(n.std() - 1) < 0.03
    assert abs(g.mean() - 3) < 0.06 and abs(g.std() - 2) < 0.06
    r = cr.randint(0, 5, (5000,)).numpy()
    assert set(np.unique(r).tolist()) == {0, 1, 2, 3, 4}
    gen = cr.manual_seed(7)
    assert isinstance(gen, cr.Generator) and gen.initial_seed() == 7
    a = cr.rand(3)
    b = cr.rand(3)
    assert not np.array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("make", [
    lambda m: m.zeros(-1), lambda m: m.zeros(2.5), lambda m: m.ones(2, -3),
    lambda m: m.arange(0, 10, 0), lambda m: m.randint(5, 3, (2,)),
    lambda m: m.rand(2, dtype=m.int64), lambda m: m.randn(2, dtype=m.int64),
    lambda m: m.tensor("a"), lambda m: m.tensor([[1, 2], [3]]),
    lambda m: m.from_numpy(np.array(["a"])),
])
def test_factory_errors_match_torch(make):
    a, b = same(make)
    assert isinstance(b, type) and issubclass(b, Exception)
    assert a is b, (a, b)


def test_grad_is_garbage_free():
    """A Tensor and its graph are freed by reference counting alone."""
    import weakref
    gc.disable()
    try:
        x = cr.ones(3, requires_grad=True)
        y = (x * 2).exp().sum()
        ref = weakref.ref(y.grad_fn)
        del y
        assert ref() is None
    finally:
        gc.enable()


@pytest.mark.parametrize("make", [
    lambda m: np.float64(2.0) * m.tensor([1.0, 2.0]),
    lambda m: m.tensor([1.0, 2.0]) + np.int64(3),
    lambda m: m.tensor([1, 2]) * np.float32(1.5),
    lambda m: m.tensor([1, 2]) + np.int32(1),
    lambda m: m.tensor([1.0, 2.0], dtype=m.float16) * np.float64(0.5),
    lambda m: m.tensor([1.0, 2.0]) < np.float64(1.5),
], ids=["f64_scalar", "i64_scalar", "f32_scalar_int", "i32_scalar_int", "f16", "cmp"])
def test_numpy_scalars_promote_like_python_numbers(make):
    check(make)


def test_compare_with_none():
    for m in (cr, torch):
        x = m.tensor([1.0, 2.0])
        assert (x == None) is False and (x != None) is True   # noqa: E711


def test_numpy_floating_point_warnings_stay_inside_like_torch():
    # PyTorch computes log(0), 1/0, 0/0, exp(1000) and their gradients without a warning;
    # chainrule's NumPy calls must not warn either, while the user's own NumPy still does.
    # A fresh interpreter with RuntimeWarnings as errors (set before chainrule is imported)
    import subprocess
    import sys
    code = (
        "import numpy as np, chainrule as cr\n"
        "x = cr.tensor([0., 1., -1.], requires_grad=True)\n"
        "y = cr.log(x) + 1 / x + cr.sqrt(x) + x ** -1.0 + cr.exp(x * 1000.)\n"
        "y.sum().backward()\n"
        "z = cr.tensor([0.]) / 0\n"
        "print([y.detach().numpy().tolist(), x.grad.numpy().tolist(), z.numpy().tolist()])\n"
        "try:\n"
        "    np.log(np.zeros(1))\n"
        "except RuntimeWarning:\n"
        "    print('user warns')\n")
    out = subprocess.run([sys.executable, "-W", "error::RuntimeWarning", "-c", code],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    got = out.stdout.strip().splitlines()
    assert got[1] == "user warns"
    x = torch.tensor([0., 1., -1.], requires_grad=True)
    y = torch.log(x) + 1 / x + torch.sqrt(x) + x ** -1.0 + torch.exp(x * 1000.)
    y.sum().backward()
    z = torch.tensor([0.]) / 0
    assert got[0] == str([y.detach().numpy().tolist(), x.grad.numpy().tolist(),
                          z.numpy().tolist()])


def test_generator_state_round_trips_without_pickle(tmp_path):
    import pickle
    g = cr.Generator().manual_seed(3)
    cr.rand(5, generator=g)
    state = g.get_state()
    assert state.dtype == cr.uint8 and state.dim() == 1
    a = cr.rand(4, generator=g)
    assert g.set_state(state) is g
    assert cr.rand(4, generator=g).tolist() == a.tolist()
    # a pickled payload is refused without being run
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))
    evil = cr.tensor(list(pickle.dumps(Evil())), dtype=cr.uint8)
    with pytest.raises(RuntimeError, match="not a chainrule generator state"):
        g.set_state(evil)
    assert not marker.exists()
    with pytest.raises(RuntimeError, match="does not describe a PCG64 state"):
        g.set_state(cr.tensor(list(b'{"bit_generator": "MT19937"}'), dtype=cr.uint8))
    with pytest.raises(TypeError, match="expected a torch.ByteTensor"):
        g.set_state(cr.zeros(3))
    with pytest.raises(TypeError, match="expected a torch.ByteTensor"):
        g.set_state("state")
    assert cr.rand(4, generator=g.set_state(state)).tolist() == a.tolist()


def test_tensor_class_prints_as_chainrule_tensor():
    assert repr(type(cr.ones(1))) == "<class 'chainrule.Tensor'>"
    assert repr(type(cr.nn.Parameter(cr.ones(1)))) == "<class 'chainrule.nn.parameter.Parameter'>"


def test_inplace_on_an_expanded_gradient_raises_torchs_error():
    """autograd.grad of a sum returns an expanded gradient in both libraries; writing into
    it raises torch's RuntimeError (not NumPy's ValueError), and clone() makes it writable."""
    for lib in (cr, torch):
        x = lib.ones(3, requires_grad=True)
        (g,) = lib.autograd.grad(x.sum(), x)
        with pytest.raises(RuntimeError, match="more than one element of the written-to"):
            g.mul_(2)
        h = g.clone().mul_(2)
        assert h.tolist() == [2.0, 2.0, 2.0]
    for lib in (cr, torch):          # zero_/fill_ write one value everywhere: allowed
        x = lib.ones(3, requires_grad=True)
        (g,) = lib.autograd.grad(x.sum(), x)
        assert g.zero_().tolist() == [0.0, 0.0, 0.0]
        assert g.fill_(2.0).tolist() == [2.0, 2.0, 2.0]
