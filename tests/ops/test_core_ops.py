"""Every core op (issue: core) against PyTorch and finite differences: value, VJP, JVP and
second order in float64, plus float32 dtype preservation.  Rows live in ``CASES``."""

import warnings

import numpy as np
import pytest
import torch

import chainrule as cr
from oplib import OpCase, table_tests

P = (0.3, 2.0)         # positive domain (log, sqrt, ...)


def _view_after_change(a, b):
    y = a * 1.0
    v = y[1]                  # a view of y
    y.mul_(b)                 # y changes; v's grad_fn must follow
    return v * v


def _through_view(a, b):
    y = a * 1.0
    y[0].mul_(b)              # through a view: y's graph gets the change
    y.T[1].add_(y[1, :2].sum())
    return y


def _inplace(a, op):
    """Apply an in-place op to a non-leaf copy of ``a`` and return the modified tensor."""
    y = a * 1.0
    r = op(y)
    assert r is y
    return y

CASES = [
    # arithmetic, with broadcasting and 0-d inputs
    OpCase("add", lambda m, a, b: a + b, [(3,), (3,)], op="add"),
    OpCase("add_bcast", lambda m, a, b: a + b, [(2, 3), (3,)], op="add"),
    OpCase("add_bcast2", lambda m, a, b: a + b, [(2, 1), (1, 3)], op="add"),
    OpCase("add_col", lambda m, a, b: a + b, [(2, 3), (2, 1)], op="add"),
    OpCase("add_0d", lambda m, a, b: a + b, [(), (2, 3)], op="add"),
    OpCase("add_scalar", lambda m, a: 2.5 + a, [(3,)], op="add"),
    OpCase("add_alpha", lambda m, a, b: m.add(a, b, alpha=2.0), [(3,), (3,)], op="add"),
    OpCase("sub", lambda m, a, b: a - b, [(2, 3), (2, 1)], op="sub"),
    OpCase("sub_bcast", lambda m, a, b: a - b, [(2, 3), (3,)], op="sub"),
    OpCase("sub_0d", lambda m, a, b: a - b, [(2, 3), ()], op="sub"),
    OpCase("rsub", lambda m, a: 1.0 - a, [(3,)], op="rsub"),
    OpCase("rsub_alpha", lambda m, a: m.rsub(a * a, 2, alpha=3), [(2, 3)], op="rsub"),
    OpCase("rsub_0d", lambda m, a: 2 - a, [()], op="rsub"),
    OpCase("mul", lambda m, a, b: a * b, [(2, 3), (3,)], op="mul"),
    OpCase("mul_0d", lambda m, a, b: a * b, [(), ()], op="mul"),
    OpCase("mul_scalar", lambda m, a: a * 3.0, [(4,)], op="mul"),
    OpCase("div", lambda m, a, b: a / b, [(2, 3), (3,)], op="div",
           make=lambda r: [r.uniform(-2, 2, (2, 3)), r.uniform(0.5, 2, (3,))]),
    OpCase("rdiv", lambda m, a: 2.0 / a, [(3,)], domain=P, op="div"),
    OpCase("neg", lambda m, a: -a, [(2, 2)], op="neg"),
    OpCase("rmul", lambda m, a: 3.0 * a, [(2, 2)], op="mul"),
    OpCase("radd_int", lambda m, a: 2 + a, [(3,)], op="add"),
    OpCase("rsub_tensor", lambda m, a, b: b.sum() - a, [(3,), (2,)], op="sub"),
    # in-place forms recorded in the graph (on a non-leaf copy)
    OpCase("iadd", lambda m, a, b: _inplace(a, lambda y: y.__iadd__(b)), [(2, 3), (3,)],
           op="add"),
    OpCase("isub", lambda m, a, b: _inplace(a, lambda y: y.__isub__(b)), [(2, 3), (2, 1)],
           op="sub"),
    OpCase("imul", lambda m, a, b: _inplace(a, lambda y: y.__imul__(b)), [(2, 3), (3,)],
           op="mul"),
    OpCase("idiv", lambda m, a, b: _inplace(a, lambda y: y.__itruediv__(b)), [(3,), (3,)],
           op="div", make=lambda r: [r.uniform(-2, 2, (3,)), r.uniform(0.5, 2, (3,))]),
    OpCase("ipow", lambda m, a: _inplace(a, lambda y: y.__ipow__(3)), [(4,)], op="pow"),
    OpCase("ipow_tensor", lambda m, a, b: _inplace(a, lambda y: y.__ipow__(b)), [(3,), (3,)],
           op="pow_tensor", make=lambda r: [r.uniform(0.5, 2, (3,)), r.uniform(-1, 1, (3,))]),
    # a view re-derived from its base after the base changed in place (AsStridedBackward0),
    # and an in-place change through a view (CopySlices on the base)
    OpCase("view_after_base_change", lambda m, a, b: _view_after_change(a, b), [(2, 3), (3,)],
           op="as_strided"),
    OpCase("inplace_through_view", lambda m, a, b: _through_view(a, b), [(2, 3), (3,)],
           op="setitem"),
    # whole-tensor overwrites: the old value gets zero gradient, copy_'s source gets it all
    OpCase("zero_", lambda m, a, b: _inplace(a, lambda y: y.zero_()) + b, [(2, 3), (3,)],
           op="zero"),
    OpCase("fill_", lambda m, a: _inplace(a, lambda y: y.fill_(1.5)) * a, [(4,)], op="fill"),
    OpCase("copy_", lambda m, a, b: _inplace(a, lambda y: y.copy_(b)) * a, [(2, 3), (3,)],
           op="copy"),
    OpCase("copy_f32_src", lambda m, a, b: _inplace(a, lambda y: y.copy_(b.float())) * a,
           [(2, 3), (2, 1)], op="copy", atol=1e-6, rtol=1e-6, fd_eps=1e-3, f32=False,
           second=False),
    OpCase("index_put", lambda m, a, b: _inplace(a, lambda y: y.__setitem__(a > 0, b.sum()) or y),
           [(2, 3), (2,)], op="index_put"),
    OpCase("index_put_list", lambda m, a, b: _inplace(a, lambda y: y.__setitem__([2, 0], b) or y),
           [(4, 2), (2, 2)], op="index_put"),
    OpCase("clamp_inplace", lambda m, a: _inplace(a, lambda y: y.clamp_(-1.0, 0.5)), [(6,)],
           op="clamp"),
    OpCase("pow_scalar", lambda m, a: a ** 3, [(3,)], op="pow"),
    OpCase("pow_frac", lambda m, a: a ** 2.5, [(3,)], domain=P, op="pow"),
    OpCase("pow_neg", lambda m, a: a ** -1.5, [(3,)], domain=P, op="pow"),
    OpCase("pow_fn", lambda m, a: m.pow(a, 2), [(2, 2)], op="pow"),
    OpCase("pow_tensor", lambda m, a, b: a ** b, [(2, 3), (3,)], op="pow_tensor",
           make=lambda r: [r.uniform(0.5, 2, (2, 3)), r.uniform(-2, 2, (3,))]),
    OpCase("rpow", lambda m, a: 2.0 ** a, [(3,)], op="pow_scalar_base"),
    OpCase("rpow_fn", lambda m, a: m.pow(0.5, a), [(2, 2)], op="pow_scalar_base"),
    # unary math
    OpCase("exp", lambda m, a: m.exp(a), [(2, 3)], op="exp"),
    OpCase("log", lambda m, a: m.log(a), [(2, 3)], domain=P, op="log"),
    OpCase("sin", lambda m, a: m.sin(a), [(5,)], op="sin"),
    OpCase("cos", lambda m, a: a.cos(), [(5,)], op="cos"),
    OpCase("tanh", lambda m, a: m.tanh(a), [(2, 2)], op="tanh"),
    OpCase("sigmoid", lambda m, a: m.sigmoid(a), [(4,)], domain=(-5, 5), op="sigmoid"),
    OpCase("relu", lambda m, a: m.relu(a), [(6,)], op="relu"),
    OpCase("abs", lambda m, a: m.abs(a), [(6,)], op="abs"),
    OpCase("sqrt", lambda m, a: m.sqrt(a), [(4,)], domain=P, op="sqrt"),
    OpCase("sign", lambda m, a: m.sign(a) * a, [(4,)], op="sign"),
    OpCase("floor", lambda m, a: m.floor(a) + a, [(4,)], op="floor"),
    OpCase("ceil", lambda m, a: m.ceil(a) * a, [(4,)], op="ceil"),
    OpCase("trunc", lambda m, a: m.trunc(a) * a, [(4,)], op="trunc"),
    OpCase("maximum", lambda m, a, b: m.maximum(a, b), [(2, 3), (3,)], op="maximum"),
    OpCase("minimum", lambda m, a, b: m.minimum(a, b), [(3,), (3,)], op="minimum"),
    OpCase("max_binary", lambda m, a, b: m.max(a, b), [(3,), (3,)], op="maximum"),
    OpCase("where", lambda m, a, b: m.where(a > 0, a, b), [(2, 3), (3,)], op="where"),
    OpCase("where_scalar", lambda m, a: m.where(a > 0, a, 0.0), [(5,)], op="where"),
    OpCase("clamp", lambda m, a: m.clamp(a, -1.0, 1.0), [(6,)], op="clamp"),
    OpCase("clamp_min", lambda m, a: a.clamp(min=0.5), [(6,)], op="clamp"),
    # tensor bounds (ClampBackward0): broadcasting, one bound, crossed bounds (result = hi)
    OpCase("clamp_tensor", lambda m, a, lo, hi: m.clamp(a, lo, hi), [(2, 3), (3,), (2, 1)],
           op="clamp_tensor", make=lambda r: [r.uniform(-2, 2, (2, 3)), r.uniform(-1, -0.1, (3,)),
                                              r.uniform(0.1, 1, (2, 1))]),
    OpCase("clamp_tensor_min", lambda m, a, lo: a.clamp(min=lo), [(6,), (6,)], op="clamp_tensor"),
    OpCase("clamp_tensor_max", lambda m, a, hi: m.clamp(a, max=hi), [(2, 3), ()],
           op="clamp_tensor"),
    OpCase("clamp_tensor_crossed", lambda m, a, lo, hi: m.clamp(a, lo, hi), [(4,), (4,), (4,)],
           op="clamp_tensor", make=lambda r: [r.uniform(-2, 2, 4), r.uniform(0.5, 1, 4),
                                              r.uniform(-1, -0.5, 4)]),
    OpCase("to64", lambda m, a: (a * 2).to(m.float32).to(m.float64), [(3,)], op="to",
           atol=1e-5, rtol=1e-5, f32=False, fd_eps=1e-2),
    # reductions
    OpCase("sum", lambda m, a: a.sum(), [(2, 3)], op="sum"),
    OpCase("sum_dim", lambda m, a: a.sum(dim=1), [(2, 3)], op="sum_dim"),
    OpCase("sum_dims_keep", lambda m, a: m.sum(a, (0, 2), keepdim=True), [(2, 3, 2)],
           op="sum_dim"),
    OpCase("sum_0d", lambda m, a: a.sum(), [()], op="sum"),
    OpCase("mean", lambda m, a: a.mean(), [(2, 3)], op="mean"),
    OpCase("mean_dim", lambda m, a: a.mean(-1, keepdim=True), [(2, 3)], op="mean_dim"),
    OpCase("max_all", lambda m, a: a.max(), [(2, 3)], op="max"),
    OpCase("min_all", lambda m, a: m.min(a), [(2, 3)], op="min"),
    OpCase("max_dim", lambda m, a: a.max(dim=1).values, [(3, 4)], op="max_dim"),
    OpCase("max_dim_keep", lambda m, a: m.max(a, 0, keepdim=True)[0], [(3, 4)],
           op="max_dim"),
    OpCase("min_dim", lambda m, a: a.min(dim=0).values, [(3, 4)], op="min_dim"),
    OpCase("expand", lambda m, a: a.expand(2, 3) * 1.0, [(1, 3)], op="expand"),
    # NumPy-style aliases axis=/keepdims=
    OpCase("sum_axis", lambda m, a: a.sum(axis=1, keepdims=True), [(2, 3)], op="sum_dim"),
    OpCase("sum_axis_fn", lambda m, a: m.sum(a, axis=0), [(2, 3)], op="sum_dim"),
    OpCase("mean_axis", lambda m, a: a.mean(axis=0, keepdims=True), [(2, 3)], op="mean_dim"),
    OpCase("max_axis", lambda m, a: a.max(axis=1, keepdims=True).values, [(3, 4)],
           op="max_dim"),
    OpCase("min_axis", lambda m, a: m.min(a, axis=0)[0], [(3, 4)], op="min_dim"),
    # argmax/argmin: integer results, no gradient
    OpCase("argmax", lambda m, a: a.argmax(), [(3, 4)], grad=False, fwd=False, second=False,
           f32=False, nondiff_output=True),
    OpCase("argmax_dim", lambda m, a: m.argmax(a, dim=1, keepdim=True), [(3, 4)], grad=False,
           fwd=False, second=False, f32=False, nondiff_output=True),
    OpCase("argmax_axis", lambda m, a: a.argmax(axis=0), [(3, 4)], grad=False, fwd=False,
           second=False, f32=False, nondiff_output=True),
    OpCase("argmin_dim", lambda m, a: a.argmin(dim=0), [(3, 4)], grad=False, fwd=False,
           second=False, f32=False, nondiff_output=True),
    OpCase("argmax_select", lambda m, a: a[a.argmax(dim=0), m.arange(4)], [(3, 4)],
           op="getitem"),
    # products and norms
    OpCase("dot", lambda m, a, b: m.dot(a, b), [(4,), (4,)], op="dot"),
    OpCase("mv", lambda m, a, b: m.mv(a, b), [(3, 4), (4,)], op="mv"),
    OpCase("mm", lambda m, a, b: m.mm(a, b), [(3, 4), (4, 2)], op="mm"),
    OpCase("addmm", lambda m, c, a, b: m.addmm(c, a, b), [(2,), (3, 4), (4, 2)], op="addmm"),
    OpCase("addmm_full_input", lambda m, c, a, b: m.addmm(c, a, b), [(3, 2), (3, 4), (4, 2)],
           op="addmm"),
    OpCase("addmm_beta_alpha", lambda m, c, a, b: m.addmm(c, a, b, beta=0.5, alpha=-2.0),
           [(1, 2), (3, 4), (4, 2)], op="addmm"),
    OpCase("linear_bias", lambda m, x, w, b: m.nn.functional.linear(x, w, b),
           [(3, 4), (2, 4), (2,)], op="addmm"),
    OpCase("linear_vector", lambda m, x, w, b: m.nn.functional.linear(x, w, b),
           [(4,), (2, 4), (2,)], op="addmm"),
    OpCase("linear_batched", lambda m, x, w, b: m.nn.functional.linear(x, w, b),
           [(2, 3, 4), (2, 4), (2,)], op="addmm"),
    OpCase("linear_no_bias", lambda m, x, w: m.nn.functional.linear(x, w), [(3, 4), (2, 4)],
           op="mm"),
    OpCase("matmul_vv", lambda m, a, b: a @ b, [(4,), (4,)], op="dot"),
    OpCase("matmul_vm", lambda m, a, b: a @ b, [(4,), (4, 3)], op="mm"),
    OpCase("matmul_mv", lambda m, a, b: m.matmul(a, b), [(3, 4), (4,)], op="mv"),
    OpCase("matmul_batched", lambda m, a, b: a @ b, [(2, 3, 4), (4, 5)],
           op="matmul_batched"),
    OpCase("matmul_bcast", lambda m, a, b: a @ b, [(2, 1, 3, 4), (3, 4, 2)],
           op="matmul_batched"),
    OpCase("matmul_vb", lambda m, a, b: a @ b, [(4,), (2, 4, 3)], op="matmul_batched"),
    OpCase("matmul_bv", lambda m, a, b: a @ b, [(2, 3, 4), (4,)], op="matmul_batched"),
    OpCase("bmm", lambda m, a, b: m.bmm(a, b), [(2, 3, 4), (2, 4, 2)], op="bmm"),
    OpCase("norm", lambda m, a: a.norm(), [(3, 2)], op="norm"),
    OpCase("norm_dim", lambda m, a: m.norm(a, dim=1), [(3, 2)], op="norm"),
    OpCase("norm_p1", lambda m, a: m.norm(a, p=1), [(4,)], op="norm"),
    OpCase("norm_p3", lambda m, a: m.norm(a, p=3, dim=0, keepdim=True), [(4, 2)], op="norm"),
    # shape ops
    OpCase("reshape", lambda m, a: a.reshape(3, 2), [(2, 3)], op="view"),
    OpCase("view", lambda m, a: a.view(-1), [(2, 3)], op="view"),
    OpCase("transpose", lambda m, a: a.transpose(0, 2), [(2, 3, 4)], op="transpose"),
    OpCase("t", lambda m, a: a.t(), [(2, 3)], op="t"),
    OpCase("T", lambda m, a: a.T, [(2, 3)], op="permute"),
    OpCase("permute", lambda m, a: a.permute(2, 0, 1), [(2, 3, 4)], op="permute"),
    OpCase("unsqueeze", lambda m, a: a.unsqueeze(1), [(2, 3)], op="unsqueeze"),
    OpCase("squeeze", lambda m, a: a.squeeze(), [(2, 1, 3)], op="squeeze"),
    OpCase("squeeze_dim", lambda m, a: a.squeeze(1), [(2, 1, 3)], op="squeeze_dim"),
    OpCase("squeeze_dims", lambda m, a: a.squeeze((0, 2)), [(1, 3, 1)], op="squeeze_dims"),
    OpCase("flatten", lambda m, a: a.flatten(1), [(2, 3, 2)], op="view"),
    OpCase("cat", lambda m, a, b: m.cat([a, b], dim=1), [(2, 3), (2, 2)], op="cat"),
    OpCase("stack", lambda m, a, b: m.stack([a, b], dim=1), [(2, 3), (2, 3)], op="stack"),
    OpCase("clone", lambda m, a: a.clone(), [(3,)], op="clone"),
    # indexing
    OpCase("index_int", lambda m, a: a[1], [(3, 4)], op="select"),
    OpCase("index_slice", lambda m, a: a[:, 1:3], [(3, 4)], op="slice"),
    OpCase("index_none", lambda m, a: a[None, ..., 0], [(3, 4)], op="slice"),
    OpCase("index_step", lambda m, a: a[::2], [(5,)], op="slice"),
    OpCase("index_list_repeat", lambda m, a: a[[0, 2, 0, 0]], [(3, 2)], op="getitem"),
    OpCase("index_range", lambda m, a: a[range(1, 3)], [(4,)], op="getitem"),
    OpCase("index_mask", lambda m, a: a[a > 0], [(3, 4)], op="getitem"),
    OpCase("index_2d_adv", lambda m, a: a[m.tensor([0, 1, 1]), m.tensor([2, 0, 2])],
           [(3, 4)], op="getitem"),
    OpCase("gather", lambda m, a: m.gather(a, 1, m.tensor([[0, 0], [1, 0]])), [(2, 3)],
           op="gather"),
]


test_value, test_vjp, test_jvp, test_second_order, test_float32 = table_tests(CASES)


@pytest.mark.parametrize("base", [0, 0.0, -2.0, 3])
def test_number_to_tensor_power_edges_like_torch(base):
    # d(base**x)/dx = base**x log(base), 0 where base == 0 and x >= 0; NaN for a negative
    # base; first and second order, bit for bit with PyTorch (NaN and inf included)
    res = []
    for m in (cr, torch):
        x = m.tensor([-1.0, 0.0, 2.0], dtype=m.float64, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            y = base ** x
            g, = m.autograd.grad(y.sum(), x, create_graph=True)
            g2, = m.autograd.grad(g.sum(), x)
        res.append([v.detach().numpy() for v in (y, g, g2)])
    for mine, ref in zip(*res):
        np.testing.assert_array_equal(mine, ref)


def test_alpha_rules_like_torch():
    # a float alpha is refused when the result would be integral (even alpha=1.0); a
    # Python-number operand scaled by alpha stays weak in type promotion
    for f in (lambda m, x: m.add(x, 2, alpha=1.0), lambda m, x: m.sub(x, x, alpha=2.0),
              lambda m, x: m.rsub(x, 2, alpha=1.5)):
        with pytest.raises(RuntimeError, match="alpha must not be a floating point number"):
            f(cr, cr.tensor([1, 2]))
        with pytest.raises(RuntimeError, match="alpha must not be a floating point number"):
            f(torch, torch.tensor([1, 2]))
    for f in (lambda m, x: m.add(x, 2.5, alpha=1.5), lambda m, x: m.sub(x, 2, alpha=3),
              lambda m, x: m.rsub(x, 2.5, alpha=2), lambda m, x: 1.5 - x, lambda m, x: 3 - x,
              lambda m, x: m.rsub(x.double(), 2, alpha=0.5)):
        a, b = f(cr, cr.tensor([1, 2])), f(torch, torch.tensor([1, 2]))
        assert str(a.dtype) == str(b.dtype)
        np.testing.assert_array_equal(a.numpy(), b.numpy())
