"""Bad input raises the exception class PyTorch raises, and chainrule's message names the
op and says what to do.

Each case is one function ``f(m)`` run under ``torch`` (to learn the class PyTorch raises)
and under ``chainrule``; ``hints`` are phrases chainrule's message must contain.
"""
import numpy as np
import pytest
import torch

import chainrule as cr


def _second_backward(m):
    x = m.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    y.backward()


def _second_grad(m):
    x = m.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp().sum()
    m.autograd.grad(y, x)
    m.autograd.grad(y, x)


def _nonleaf_requires_grad(m):
    y = m.tensor([1.0], requires_grad=True) * 2
    y.requires_grad = False


def _nonleaf_requires_grad_(m):
    y = m.tensor([1.0], requires_grad=True) * 2
    y.requires_grad_(False)


def _saved_modified(m):
    x = m.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    z = (y * 2).sum() + y.sum()
    y.mul_(2)
    y = x.sigmoid()
    z = y.sum()
    y.add_(1)
    z.backward()


def _saved_input_modified(m):
    x = m.tensor([1.0, 2.0], requires_grad=True)
    a = x * 1
    z = (a * a).sum()
    a[0] = 3.0
    z.backward()


CASES = [
    # (id, f, phrases chainrule's message must contain)
    ("neg_bool", lambda m: -m.tensor([True, False]), ["Negation", "bool tensor", "~"]),
    ("addmm_vector", lambda m: m.addmm(m.ones(3), m.ones(4), m.ones(4, 3)),
     ["mat1 must be a matrix"]),
    ("addmm_shapes", lambda m: m.addmm(m.ones(3), m.ones(2, 4), m.ones(5, 3)),
     ["cannot be multiplied", "2x4 and 5x3"]),
    ("addmm_input", lambda m: m.addmm(m.ones(5), m.ones(2, 4), m.ones(4, 3)),
     ["addmm", "[5]", "[2, 3]"]),
    ("ce_weight_dtype", lambda m: m.nn.functional.cross_entropy(
        m.ones(3, 4, dtype=m.float64), m.tensor([0, 1, 2]), weight=m.ones(4)),
     ["expected scalar type Double but found Float", "weight.to("]),
    ("ce_spatial_weight_dtype", lambda m: m.nn.functional.cross_entropy(
        m.ones(2, 3, 4, dtype=m.float64), m.zeros(2, 4, dtype=m.long), weight=m.ones(3)),
     ["expected scalar type Double but found Float"]),
    ("ce_weight_requires_grad", lambda m: m.nn.functional.cross_entropy(
        m.ones(3, 4), m.tensor([0, 1, 2]), weight=m.ones(4, requires_grad=True)),
     ["not differentiable with respect to argument 'weight'"]),
    ("sub_bool", lambda m: m.tensor([True]) - m.tensor([False]),
     ["Subtraction", "bool tensor", "~"]),
    ("backward_nonscalar", lambda m: (m.ones(3, requires_grad=True) * 2).backward(),
     ["scalar outputs", "gradient=", "sum()"]),
    ("backward_nonscalar_2d", lambda m: (m.ones(1, 2, requires_grad=True) * 2).backward(),
     ["scalar outputs", "gradient="]),
    ("grad_nonscalar", lambda m: m.autograd.grad(m.ones(3, requires_grad=True) * 2,
                                                 m.ones(1)), None),
    ("second_backward", _second_backward, ["second time", "retain_graph=True"]),
    ("second_grad", _second_grad, ["second time", "retain_graph=True"]),
    ("backward_no_grad", lambda m: (m.ones(2) * 2).sum().backward(),
     ["does not require grad", "requires_grad=True"]),
    ("backward_no_grad_leaf", lambda m: m.tensor(1.0).backward(),
     ["does not require grad", "requires_grad"]),
    ("backward_under_no_grad", lambda m: _under_no_grad(m), ["does not require grad"]),
    ("int_requires_grad", lambda m: m.tensor([1, 2], requires_grad=True),
     ["floating point", ".float()"]),
    ("int_requires_grad_", lambda m: m.arange(3).requires_grad_(),
     ["floating point", ".float()"]),
    ("int_zeros_requires_grad", lambda m: m.zeros(2, dtype=m.int64, requires_grad=True),
     ["floating point"]),
    ("bool_requires_grad", lambda m: m.tensor([True]).requires_grad_(True), ["floating point"]),
    ("nonleaf_requires_grad", _nonleaf_requires_grad, ["leaf", "detach()"]),
    ("nonleaf_requires_grad_", _nonleaf_requires_grad_, ["leaf", "detach()"]),
    ("inplace_leaf_add_", lambda m: m.ones(2, requires_grad=True).add_(1),
     ["leaf", "add_", "no_grad"]),
    ("inplace_leaf_iadd", lambda m: m.ones(2, requires_grad=True).__iadd__(1),
     ["leaf", "no_grad"]),
    ("inplace_leaf_mul_", lambda m: m.ones(2, requires_grad=True).mul_(2), ["mul_", "no_grad"]),
    ("inplace_leaf_zero_", lambda m: m.ones(2, requires_grad=True).zero_(), ["no_grad"]),
    ("inplace_leaf_setitem", lambda m: m.ones(2, requires_grad=True).__setitem__(0, 1.0),
     ["no_grad"]),
    ("inplace_leaf_copy_", lambda m: m.ones(2, requires_grad=True).copy_(m.zeros(2)),
     ["copy_", "no_grad"]),
    ("saved_output_modified", _saved_modified,
     ["modified by an inplace operation", "version", "clone()"]),
    ("saved_input_modified", _saved_input_modified,
     ["modified by an inplace operation", "MulBackward0", "clone()"]),
    ("broadcast_add", lambda m: m.ones(2, 3) + m.ones(4),
     ["add", "[2, 3]", "[4]", "Reshape or unsqueeze"]),
    ("broadcast_mul", lambda m: m.ones(2, 3) * m.ones(3, 2), ["mul", "unsqueeze"]),
    ("broadcast_sub_grad", lambda m: m.ones(2, 3, requires_grad=True) - m.ones(2, 2), ["sub"]),
    ("broadcast_div", lambda m: m.ones(2) / m.ones(3), ["div"]),
    ("broadcast_pow", lambda m: m.ones(2) ** m.ones(3), ["pow"]),
    ("broadcast_maximum", lambda m: m.maximum(m.ones(2), m.ones(3)), ["maximum"]),
    ("broadcast_where", lambda m: m.where(m.ones(2) > 0, m.ones(3), m.ones(2)), ["where"]),
    ("broadcast_inplace", lambda m: m.ones(2).add_(m.ones(2, 2)), ["add_", "broadcast"]),
    ("matmul_2d", lambda m: m.ones(2, 3) @ m.ones(2, 3),
     ["matmul", "2x3 and 2x3", "last dimension"]),
    ("matmul_vec", lambda m: m.ones(3) @ m.ones(4), ["matmul"]),
    ("matmul_batch", lambda m: m.matmul(m.ones(2, 2, 3), m.ones(4, 3, 2)), ["matmul"]),
    ("matmul_0d", lambda m: m.ones(2) @ m.tensor(1.0), ["matmul", "1D"]),
    ("mm", lambda m: m.mm(m.ones(2, 3), m.ones(2, 3)), ["mm", "2x3"]),
    ("mv", lambda m: m.mv(m.ones(2, 3), m.ones(2)), ["mv", "columns"]),
    ("dot", lambda m: m.dot(m.ones(2), m.ones(3)), ["dot"]),
    ("gradient_shape", lambda m: (m.ones(2, requires_grad=True) * 2).backward(m.ones(3)),
     ["shape", "[3]", "[2]", "gradient"]),
    ("gradient_shape_0d", lambda m: (m.ones(2, requires_grad=True) * 2).sum().backward(
        m.ones(1)), ["shape"]),
    ("grad_outputs_shape", lambda m: m.autograd.grad(m.ones(2, requires_grad=True) * 2,
                                                     m.ones(2), m.ones(2, 2)), None),
    ("item_many", lambda m: m.tensor([1.0, 2.0]).item(), ["2 elements", "tolist()"]),
    ("item_empty", lambda m: m.zeros(0).item(), ["0 elements"]),
    ("bool_many", lambda m: bool(m.tensor([1.0, 2.0])), ["ambiguous", "any()", "all()"]),
    ("bool_if", lambda m: _if(m.tensor([1, 0])), ["ambiguous", "any()"]),
    ("bool_empty", lambda m: bool(m.zeros(0)), ["ambiguous"]),
    ("float_many", lambda m: float(m.ones(2)), ["one element"]),
    ("int_many", lambda m: int(m.ones(2)), ["one element"]),
    ("view_size", lambda m: m.ones(2, 3).view(4), ["view", "same number of elements"]),
    ("reshape_infer", lambda m: m.ones(2, 3).reshape(-1, 4), ["reshape"]),
    ("cat_sizes", lambda m: m.cat([m.ones(2, 3), m.ones(3, 2)]), ["cat", "dim="]),
    ("sum_dim", lambda m: m.ones(2, 3).sum(dim=2), ["sum", "range"]),
    ("index_out_of_range", lambda m: m.ones(2, 3)[2], ["out of bounds"]),
    ("numpy_requires_grad", lambda m: m.ones(2, requires_grad=True).numpy(),
     ["detach().numpy()"]),
    ("len_0d", lambda m: len(m.tensor(1.0)), ["0-d"]),
    ("set_default_int", lambda m: m.set_default_dtype(m.int64), ["float"]),
    ("grad_assign_shape", lambda m: setattr(m.ones(2, requires_grad=True), "grad", m.ones(3)),
     ["size"]),
    ("fill_nd", lambda m: m.ones(2).fill_(m.ones(2)), ["fill_", "0-dim"]),
    ("inplace_int_float", lambda m: m.ones(2, dtype=m.int64).add_(1.5), ["add_", "cast"]),
]


def _under_no_grad(m):
    x = m.ones(2, requires_grad=True)
    with m.no_grad():
        y = (x * 2).sum()
    y.backward()


def _if(t):
    if t:
        return 1
    return 0


@pytest.mark.parametrize("f,hints", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_error_class_and_message(f, hints):
    with pytest.raises(Exception) as expected:
        f(torch)
    cls = expected.type
    with pytest.raises(Exception) as got:
        f(cr)
    assert got.type is cls, f"chainrule raised {got.type.__name__}, torch {cls.__name__}: " \
                            f"{got.value}"
    msg = str(got.value)
    for h in hints or ():
        assert h in msg, f"{h!r} not in {msg!r}"


def test_messages_name_the_op():
    """Errors from op front-ends start with the op's name."""
    for f, op in [(lambda: cr.ones(2) + cr.ones(3), "add"),
                  (lambda: cr.ones(2, 3) @ cr.ones(2, 3), "matmul"),
                  (lambda: cr.ones(2).view(3), "view"),
                  (lambda: cr.ones(2, requires_grad=True).add_(1), "add_")]:
        with pytest.raises(RuntimeError) as e:
            f()
        assert op in str(e.value)


def test_errors_leave_state_clean():
    """A failed backward leaves grad mode on and leaves no partial gradients."""
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    z = y.sum()
    y.add_(1)
    with pytest.raises(RuntimeError):
        z.backward()
    assert cr.is_grad_enabled()
    assert x.grad is None
    (x * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])


def test_grad_assignment_dtype_mismatch():
    def f(m):
        x = m.ones(2, requires_grad=True)
        x.grad = m.ones(2, dtype=m.float64)
    with pytest.raises(RuntimeError):
        f(torch)
    with pytest.raises(RuntimeError, match="different type"):
        f(cr)
