"""The ops' public names come from their declarations (``ops._core.public``) and only from
them: the package exports, Tensor's methods and the in-place methods."""
import importlib
import pkgutil
import types

import numpy as np
import pytest
import torch

import chainrule
import chainrule.ops
from chainrule import Tensor
from chainrule.ops._core import PUBLIC


def _op_functions():
    """Every function defined at the top level of an op module, by identity."""
    found = {}
    for info in pkgutil.iter_modules(chainrule.ops.__path__):
        mod = importlib.import_module("chainrule.ops." + info.name)
        for name, value in vars(mod).items():
            if isinstance(value, types.FunctionType) and value.__module__ == mod.__name__:
                found.setdefault(id(value), f"{mod.__name__}.{name}")
    return found


def test_every_declaration_is_bound():
    for p in PUBLIC:
        for name in p.names:
            if p.function:
                assert getattr(chainrule, name) is p.fn, name
            else:
                assert getattr(chainrule, name, None) is not p.fn, name
            method = Tensor.__dict__.get(name)
            if p.method is True:
                assert method is p.fn, name
            elif p.method:
                assert method is p.method, name
                assert method.__doc__, name
            if p.inplace:
                assert callable(Tensor.__dict__[name + "_"]), name
                assert Tensor.__dict__[name + "_"].__name__ == name + "_"


def test_no_name_is_declared_twice():
    seen = {}
    for p in PUBLIC:
        for name in p.names:
            assert name not in seen, f"{name} declared by {seen.get(name)} and {p}"
            seen[name] = p


def test_op_functions_are_bound_only_through_declarations():
    ops = _op_functions()
    declared = {id(p.fn) for p in PUBLIC} | {id(p.method) for p in PUBLIC if callable(p.method)}
    for name in dir(chainrule):
        if not name.startswith("_") and id(getattr(chainrule, name)) in ops:
            assert id(getattr(chainrule, name)) in declared, (name, ops[id(getattr(chainrule, name))])
    for name, value in Tensor.__dict__.items():
        if id(value) in ops and not name.startswith("__"):
            assert id(value) in declared, (name, ops[id(value)])
    # the operators are the one hand-kept table; each is an op function or an adapter
    assert Tensor.__add__ is chainrule.add and Tensor.__matmul__ is chainrule.matmul


def test_the_docs_of_adapters_and_conversions_are_on_their_definitions():
    assert "torch.where(condition, self, other)" in Tensor.where.__doc__
    assert Tensor.tile.__doc__ is chainrule.tile.__doc__
    for name in ("float", "double", "half", "long", "int", "short", "bool", "byte",
                 "new_zeros", "new_ones", "new_full", "new_tensor", "type_as",
                 "uniform_", "normal_", "bernoulli_", "contiguous", "view_as", "reshape_as",
                 "expand_as", "dim", "numel", "stride", "data_ptr", "element_size",
                 "is_contiguous", "is_floating_point", "is_complex"):
        assert getattr(Tensor, name).__doc__, name


@pytest.mark.parametrize("name, args", [
    ("arcsin_", ()), ("arccos_", ()), ("arctan_", ()), ("arcsinh_", ()), ("arctanh_", ()),
    ("arctan2_", ("y",)), ("negative_", ()), ("multiply_", ("y",)), ("divide_", ("y",)),
    ("subtract_", ("y",)), ("multiply", ("y",)), ("divide", ("y",)), ("subtract", ("y",)),
])
def test_alias_methods_match_torch(name, args):
    # names PyTorch's Tensor has under both spellings: each gives the same values there
    x = np.array([0.1, -0.4, 0.7, 0.25])
    y = np.array([0.3, 0.5, -0.2, 0.9])
    a, b = chainrule.tensor(x), chainrule.tensor(y)
    ta, tb = torch.tensor(x), torch.tensor(y)
    got = getattr(a, name)(*[b for _ in args])
    want = getattr(ta, name)(*[tb for _ in args])
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-15, atol=0)
    if name.endswith("_"):
        assert got is a
        np.testing.assert_allclose(a.numpy(), ta.numpy(), rtol=1e-15, atol=0)


@pytest.mark.parametrize("name", ["bitwise_and", "bitwise_or", "bitwise_xor"])
def test_bitwise_methods_match_torch(name):
    x, y = np.array([5, 3, 12, 0]), np.array([3, 6, 10, 7])
    got = getattr(chainrule.tensor(x), name)(chainrule.tensor(y))
    want = getattr(torch.tensor(x), name)(torch.tensor(y))
    assert got.dtype == chainrule.int64
    np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_inplace_alias_of_a_leaf_that_requires_grad_raises_as_torch():
    a = chainrule.tensor([0.5], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        a.arcsin_()
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        torch.tensor([0.5], requires_grad=True).arcsin_()


def test_inplace_alias_records_the_op_gradient():
    x = np.array([0.1, -0.4, 0.7])
    a = chainrule.tensor(x, requires_grad=True)
    b = a * 1.0
    b.arcsin_()
    b.sum().backward()
    ta = torch.tensor(x, requires_grad=True)
    tb = ta * 1.0
    tb.arcsin_()
    tb.sum().backward()
    assert type(b.grad_fn).__name__ == type(tb.grad_fn).__name__
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-15, atol=0)
