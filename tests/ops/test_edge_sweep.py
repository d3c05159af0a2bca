"""Differential edge sweep: every op of the rule table on special inputs, against PyTorch.

Inputs are drawn from a grid of special values (+-0, +-inf, nan, subnormals, the dtype's
largest and smallest normal values, a few ordinary numbers; integer extremes for ops that
take integers) and empty shapes.  Values, reverse-mode gradients and (where cheap)
forward-mode tangents are compared with PyTorch in float64 and float32, NaN-aware
(nan == nan; +0 and -0 differ in values unless the entry says ``signed_zero=False``; they
are equal in gradients) with a tight tolerance.

Every op of ``chainrule.ops.OPS`` needs an entry in ``SWEEP`` or a reason in ``SKIP``
(``test_every_op_is_swept``), so an op added later must be covered.  Adding one is one line:

    "hypot": B(lambda m, a, b: m.hypot(a, b)),          # elementwise binary: all pairs
    "sinc": U(lambda m, a: m.sinc(a)),                  # elementwise unary: the whole grid
    "median": G(lambda m, a: a.median(), (2, 3)),       # any op: small tensors from the grid

Differences that are intentional go in ``ALLOW`` with the reason; everything else fails.
Where PyTorch's answer depends on the platform's rounding (ties in sorting/max, singular
matrices, LAPACK, BLAS summation order) the entry draws its inputs so that no such case
arises (``sets=``), or the op is in ``SKIP`` with the reason.
"""
import dataclasses
import math
from typing import Callable, Optional

import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.autograd.forward_ad as cr_fw
import torch.autograd.forward_ad as t_fw
from chainrule.ops import OPS

INF, NAN = math.inf, math.nan

# NumPy's floating-point warnings (chainrule silences them at import; pytest re-enables them
# per test) are expected on these inputs
pytestmark = [pytest.mark.filterwarnings(
    r"ignore:(divide by zero|invalid value|overflow|underflow) encountered:RuntimeWarning"),
    pytest.mark.filterwarnings(r"ignore:(var|std)\(\). degrees of freedom is <= 0")]


def _specials(dt):
    fi = np.finfo(dt)
    sub = float(np.nextafter(dt(0), dt(1)))           # smallest subnormal
    return [0.0, -0.0, 1.0, -1.0, 0.5, -2.0, 3.0, INF, -INF, NAN, sub, -sub,
            float(fi.max), -float(fi.max), float(fi.tiny), -float(fi.tiny)]


GRID = {"float64": _specials(np.float64), "float32": _specials(np.float32)}
INT_GRID = {"int64": [0, 1, -1, 2, -3, 7, np.iinfo(np.int64).max, np.iinfo(np.int64).min],
            "int32": [0, 1, -1, 2, -3, 7, np.iinfo(np.int32).max, np.iinfo(np.int32).min],
            "uint8": [0, 1, 2, 7, 128, 255],
            "bool": [False, True]}


def _finite(dt):
    """Ordinary values plus signed zero and the subnormal/smallest normal; no duplicates
    other than 0/-0, sums of them are exact up to the tiny values (any order)."""
    sub = float(np.nextafter(dt(0), dt(1)))
    return [0.5, -2.0, 0.0, 3.0, -1.0, -0.0, 1.0, float(np.finfo(dt).tiny), -sub, 1.5, -0.25,
            2.5]


def _distinct(dt):
    """As ``_finite`` without the -0 (ties of 0 and -0 are ties for sort/max)."""
    return [v for v in _finite(dt) if not (v == 0 and math.copysign(1, v) < 0)]


def _with(base, pos, *vals):
    out = list(base)
    for i, v in enumerate(vals):
        out[(pos + 3 * i) % len(out)] = v
    return out


# value sets for non-elementwise ops: name -> dtype -> list of values
SETS = {
    "finite": _finite,
    "inf": lambda dt: _with(_finite(dt), 1, INF),
    "-inf": lambda dt: _with(_finite(dt), 4, -INF),
    "nan": lambda dt: _with(_finite(dt), 2, NAN),
    "huge": lambda dt: _with(_finite(dt), 0, float(np.finfo(dt).max), -float(np.finfo(dt).max)),
    "distinct": _distinct,
    "distinct_inf": lambda dt: _with(_distinct(dt), 1, INF, -INF),
    "distinct_nan": lambda dt: _with(_distinct(dt), 2, NAN),
    "distinct_huge": lambda dt: _with(_distinct(dt), 0, float(np.finfo(dt).max)),
    # probabilities for binary_cross_entropy: 0, 1, the largest below 1 and the smallest
    # above 0 (saturated sigmoids), ordinary values
    "probs": lambda dt: [0.0, 1.0, 0.5, float(np.finfo(dt).tiny), float(np.nextafter(dt(0), dt(1))),
                         float(np.nextafter(dt(1), dt(0))), 0.25, 0.75, 1e-3, 0.999, -0.0,
                         float(np.finfo(dt).eps)],
    "probs_nan": lambda dt: [0.5, NAN, 0.25],
    "const": lambda dt: [1.5],                # all elements equal (zero variance)
    # small integers: products and sums are exact in any order (matmul-like ops)
    "ints": lambda dt: [1.0, -2.0, 0.0, 3.0, -1.0, 2.0, -3.0, 1.0, 0.0, -0.0],
}
ALL = ("finite", "inf", "-inf", "nan", "huge")
SUMS = ("finite", "inf", "-inf", "nan")          # no +-max: overflow depends on summation order
DISTINCT = ("distinct", "distinct_inf", "distinct_nan", "distinct_huge")
MATMUL = ("ints", "inf", "nan")


@dataclasses.dataclass
class Sweep:
    fn: Callable                    # fn(lib, *inputs) -> Tensor or tuple of Tensors
    kind: str                       # "unary" | "binary" | "grid"
    shapes: tuple = ()              # "grid": shapes of the inputs
    sets: tuple = ALL               # "grid": value sets the inputs are drawn from
    empty: tuple = ()               # "grid": extra runs on these (empty) shapes
    ints: tuple = ()                # integer dtypes to run too (values only)
    grad: bool = True               # compare reverse-mode gradients
    fwd: bool = True                # compare forward-mode tangents
    signed_zero: bool = True        # +0 and -0 differ in the values (False: equal)
    floats: tuple = ("float64", "float32")
    rtol: Optional[float] = None    # looser than TOL's (say why)
    atol: Optional[float] = None


def U(fn, **kw):
    """Elementwise unary op: one run on the whole grid (and on empty shapes)."""
    return Sweep(fn, "unary", **kw)


def B(fn, **kw):
    """Elementwise binary op: one run on every pair of grid values."""
    return Sweep(fn, "binary", **kw)


def G(fn, *shapes, **kw):
    """Any op: inputs of ``shapes`` filled from each value set of ``sets``."""
    return Sweep(fn, "grid", shapes=shapes, **kw)


def _inplace(a, op):
    y = a * 1.0
    op(y)
    return y


def _vjp_of(m, f, shape, g):
    """The VJP of ``f`` at zeros of ``shape`` as a differentiable function of ``g``."""
    x = m.zeros(shape, dtype=g.dtype, requires_grad=True)
    return m.autograd.grad(f(x), x, g, create_graph=True)[0]


def _cat(m, *ts):
    return m.cat([t.reshape(-1) for t in ts])


def _setitem(a, b):
    y = a * 1.0
    y[1] = b
    return y


def _view_after_change(a, b):
    y = a * 1.0
    v = y[1]
    y.mul_(b)
    return v * 1.0


F = lambda m: m.nn.functional  # noqa: E731
MASK = [[True, False, True], [False, True, True]]
I64 = ("int64",)
INTS = ("int64", "int32", "uint8")
LOGIC = ("int64", "uint8", "bool")

SWEEP = {
    # --- elementwise arithmetic
    "add": B(lambda m, a, b: a + b, ints=INTS),
    "sub": B(lambda m, a, b: a - b, ints=INTS),
    "rsub": U(lambda m, a: _cat(m, 2.0 - a, m.rsub(a, 3, alpha=2)), ints=I64),
    "mul": B(lambda m, a, b: a * b, ints=INTS),
    "div": B(lambda m, a, b: a / b, ints=I64),
    "neg": U(lambda m, a: -a, ints=("int64", "int32")),
    "pow": U(lambda m, a: _cat(m, a ** 2, a ** 3, a ** 0.5, a ** -1.5, a ** 0, a ** 1, a ** -2),
             ints=I64),
    "pow_tensor": B(lambda m, a, b: a ** b),
    "pow_scalar_base": U(lambda m, a: _cat(m, 2.0 ** a, 0.5 ** a, 0.0 ** a, (-2.0) ** a)),
    "exp": U(lambda m, a: m.exp(a)),
    "log": U(lambda m, a: m.log(a)),
    "sin": U(lambda m, a: m.sin(a)),
    "cos": U(lambda m, a: m.cos(a)),
    "tanh": U(lambda m, a: m.tanh(a)),
    "sqrt": U(lambda m, a: m.sqrt(a)),
    "abs": U(lambda m, a: m.abs(a), ints=("int64", "int32")),
    "sigmoid": U(lambda m, a: m.sigmoid(a)),
    # relu(-0.) is +0 here, -0 in PyTorch: np.maximum(x, 0) on the hot path; the sign of a
    # zero activation does not matter
    "relu": U(lambda m, a: m.relu(a), ints=I64, signed_zero=False),
    "sign": U(lambda m, a: m.sign(a), ints=("int64", "int32", "bool")),
    # the VJPs of tanh, sigmoid and relu as ops (PyTorch's aten ops of the same names)
    "tanh_backward": B(lambda m, g, y: (torch.ops.aten.tanh_backward if m is torch else
                                        cr.ops.unary.tanh_backward)(g, y)),
    "sigmoid_backward": B(lambda m, g, y: (torch.ops.aten.sigmoid_backward if m is torch else
                                           cr.ops.activation.sigmoid_backward)(g, y)),
    "threshold_backward": B(lambda m, g, y: (torch.ops.aten.threshold_backward(g, y, 0)
                                             if m is torch else
                                             cr.ops.activation.relu_backward(g, y))),
    "floor": U(lambda m, a: m.floor(a), ints=I64),
    "ceil": U(lambda m, a: m.ceil(a), ints=I64),
    "trunc": U(lambda m, a: m.trunc(a), ints=I64),
    "maximum": B(lambda m, a, b: m.maximum(a, b), ints=INTS),
    "minimum": B(lambda m, a, b: m.minimum(a, b), ints=INTS),
    "where": B(lambda m, a, b: m.where(a > b, a, b)),
    "clamp": U(lambda m, a: _cat(m, m.clamp(a, -1.0, 0.5), m.clamp(a, min=0.0),
                                 m.clamp(a, max=-0.0), m.clamp(a, 1.0, 1.0)), ints=I64),
    "clamp_tensor": B(lambda m, a, b: _cat(m, m.clamp(a, min=b), m.clamp(a, max=b),
                                           m.clamp(a, b, -b))),
    "clamp_min": U(lambda m, a: _cat(m, m.clamp_min(a, 0.0), a.clamp_min(-1.0),
                                     m.clamp_min(a, float("nan"))), ints=I64),
    "clamp_max": U(lambda m, a: _cat(m, m.clamp_max(a, -0.0), a.clamp_max(0.5),
                                     m.clamp_max(a, float("nan"))), ints=I64),
    "clamp_min_tensor": B(lambda m, a, b: m.clamp_min(a, b)),
    "clamp_max_tensor": B(lambda m, a, b: a.clamp_max(b)),
    "zero": U(lambda m, a: _inplace(a, lambda y: y.zero_())),
    "fill": U(lambda m, a: _inplace(a, lambda y: y.fill_(-0.5))),
    "copy": B(lambda m, a, b: _inplace(a, lambda y: y.copy_(b)) + a),
    "to": U(lambda m, a: _cat(m, a.to(m.float32).to(m.float64), a.to(m.float16).double()),
            floats=("float64",)),
    "eq": B(lambda m, a, b: a == b, ints=INTS),
    "ne": B(lambda m, a, b: a != b, ints=INTS),
    "lt": B(lambda m, a, b: a < b, ints=INTS),
    "le": B(lambda m, a, b: a <= b, ints=INTS),
    "gt": B(lambda m, a, b: a > b, ints=INTS),
    "ge": B(lambda m, a, b: a >= b, ints=INTS),
    "logical_and": B(lambda m, a, b: m.logical_and(a, b), ints=LOGIC),
    "logical_or": B(lambda m, a, b: m.logical_or(a, b), ints=LOGIC),
    "logical_xor": B(lambda m, a, b: m.logical_xor(a, b), ints=LOGIC),
    "logical_not": U(lambda m, a: m.logical_not(a), ints=LOGIC),
    "bitwise_and": B(lambda m, a, b: a & b, ints=LOGIC, floats=()),
    "bitwise_or": B(lambda m, a, b: a | b, ints=LOGIC, floats=()),
    "bitwise_xor": B(lambda m, a, b: a ^ b, ints=LOGIC, floats=()),
    "bitwise_not": U(lambda m, a: ~a, ints=LOGIC, floats=()),
    # --- more elementwise math
    "tan": U(lambda m, a: m.tan(a)),
    "asin": U(lambda m, a: m.asin(a)),
    "acos": U(lambda m, a: m.acos(a)),
    "atan": U(lambda m, a: m.atan(a)),
    "sinh": U(lambda m, a: m.sinh(a)),
    "cosh": U(lambda m, a: m.cosh(a)),
    "asinh": U(lambda m, a: m.asinh(a)),
    "atanh": U(lambda m, a: m.atanh(a)),
    "log1p": U(lambda m, a: m.log1p(a)),
    "expm1": U(lambda m, a: m.expm1(a)),
    "log2": U(lambda m, a: m.log2(a)),
    "log10": U(lambda m, a: m.log10(a)),
    "exp2": U(lambda m, a: m.exp2(a)),
    "rsqrt": U(lambda m, a: m.rsqrt(a)),
    "square": U(lambda m, a: m.square(a), ints=I64),
    "reciprocal": U(lambda m, a: m.reciprocal(a)),
    "round": U(lambda m, a: m.round(a), ints=I64),
    "round_decimals": U(lambda m, a: m.round(a, decimals=1)),
    "erf": U(lambda m, a: m.erf(a)),
    "atan2": B(lambda m, a, b: m.atan2(a, b)),
    # --- division family, copysign, hypot, xlogy, logit, lerp, nan_to_num, sinc, median
    "div_rounding": B(lambda m, a, b: _cat(m, m.div(a, b, rounding_mode="floor"),
                                           m.div(a, b, rounding_mode="trunc")), ints=I64),
    "floor_divide": B(lambda m, a, b: a // b, ints=I64),
    "fmod": B(lambda m, a, b: m.fmod(a, b), ints=I64),
    "fmod_scalar": U(lambda m, a: _cat(m, a.fmod(1.5), a.fmod(-2.0), a.fmod(INF))),
    "remainder": B(lambda m, a, b: m.remainder(a, b), ints=I64),
    "remainder_scalar": U(lambda m, a: _cat(m, a % 1.5, m.remainder(a, -2.0), a % INF)),
    "copysign": B(lambda m, a, b: m.copysign(a, b)),
    "copysign_scalar": U(lambda m, a: _cat(m, m.copysign(a, -1.0), m.copysign(a, 0.0),
                                           m.copysign(a, -0.0))),
    "hypot": B(lambda m, a, b: m.hypot(a, b)),
    "xlogy": B(lambda m, a, b: m.xlogy(a, b)),
    "xlogy_scalar_other": U(lambda m, a: _cat(m, m.xlogy(a, 2.5), m.xlogy(a, 0.0),
                                              m.xlogy(a, float("nan")))),
    "xlogy_scalar_self": U(lambda m, b: _cat(m, m.xlogy(1.5, b), m.xlogy(0.0, b),
                                             m.xlogy(-2.0, b))),
    "logit": U(lambda m, a: _cat(m, m.logit(a), m.logit(a, eps=0.2))),
    # the sign of a zero lerp depends on PyTorch's kernel (fused multiply-add); values agree
    "lerp": B(lambda m, a, b: _cat(m, m.lerp(a, b, 0.3), m.lerp(a, b, 1.0)), signed_zero=False),
    "lerp_tensor": G(lambda m, a, b, w: m.lerp(a, b, w), (6,), (6,), (6,)),
    "nan_to_num": U(lambda m, a: _cat(m, m.nan_to_num(a),
                                      m.nan_to_num(a, nan=1.0, posinf=2.0, neginf=-3.0))),
    "sinc": U(lambda m, a: m.sinc(a)),
    "median": G(lambda m, a: a.median(), (2, 3), sets=DISTINCT, empty=[(0,)]),
    "median_dim": G(lambda m, a: m.median(a, 1).values, (3, 4), sets=DISTINCT),
    # (a zero mean is a rounding residue in PyTorch (Welford): atol)
    "native_layer_norm": G(lambda m, a, w, b: _cat(m, F(m).layer_norm(a, (4,)),
                                                   F(m).layer_norm(a, (4,), w, b)),
                           (3, 4), (4,), (4,), sets=SUMS, atol=1e-12),
    "native_group_norm": G(lambda m, a, w, b: _cat(m, F(m).group_norm(a.reshape(1, 3, 4), 1),
                                                   F(m).group_norm(a.reshape(2, 2, 3), 2, w,
                                                                   b)),
                           (3, 4), (2,), (2,), sets=SUMS, atol=1e-12),
    "native_batch_norm": G(lambda m, a, w, b: _cat(
        m, F(m).batch_norm(a, None, None, training=True),
        F(m).batch_norm(a, None, None, w, b, training=True),
        F(m).batch_norm(a, m.zeros(4, dtype=a.dtype), m.ones(4, dtype=a.dtype), w, b)),
        (3, 4), (4,), (4,), sets=SUMS, atol=1e-12),
    # --- activations
    "softplus": U(lambda m, a: _cat(m, F(m).softplus(a), F(m).softplus(a, beta=2, threshold=5))),
    "logsigmoid": U(lambda m, a: F(m).logsigmoid(a)),
    "gelu": U(lambda m, a: _cat(m, F(m).gelu(a), F(m).gelu(a, approximate="tanh"))),
    "silu": U(lambda m, a: F(m).silu(a)),
    "leaky_relu": U(lambda m, a: F(m).leaky_relu(a, 0.1)),
    "elu": U(lambda m, a: F(m).elu(a)),
    "softmax": G(lambda m, a: m.softmax(a, dim=-1), (3, 4), sets=SUMS + ("distinct_huge",),
                 empty=[(0, 4), (3, 0)]),
    "log_softmax": G(lambda m, a: m.log_softmax(a, dim=-1), (3, 4),
                     sets=SUMS + ("distinct_huge",), empty=[(0, 4), (3, 0)]),
    "logsumexp": G(lambda m, a: m.logsumexp(a, 1), (3, 4), sets=SUMS + ("distinct_huge",),
                   empty=[(0, 4), (3, 0)]),
    # --- reductions
    "sum": G(lambda m, a: a.sum(), (2, 3), sets=SUMS, empty=[(0,), (2, 0)], ints=I64),
    "sum_dim": G(lambda m, a: a.sum(dim=1), (2, 3), sets=SUMS, empty=[(2, 0)], ints=I64),
    "mean": G(lambda m, a: a.mean(), (2, 3), sets=SUMS, empty=[(0,)]),
    "mean_dim": G(lambda m, a: a.mean(-1, keepdim=True), (2, 3), sets=SUMS, empty=[(2, 0)]),
    "max": G(lambda m, a: a.max(), (2, 3), sets=DISTINCT, ints=I64, empty=[(0,)]),
    "min": G(lambda m, a: m.min(a), (2, 3), sets=DISTINCT, ints=I64, empty=[(2, 0)]),
    "max_dim": G(lambda m, a: a.max(dim=1).values, (3, 4), sets=DISTINCT, ints=I64,
                 empty=[(0, 4)]),
    "min_dim": G(lambda m, a: a.min(dim=0).values, (3, 4), sets=DISTINCT, ints=I64,
                 empty=[(0, 4)]),
    "amax": G(lambda m, a: a.amax(dim=1), (3, 4), sets=DISTINCT, ints=I64, empty=[(0, 4)]),
    "amin": G(lambda m, a: m.amin(a, 0), (3, 4), sets=DISTINCT, ints=I64, empty=[(0, 4)]),
    "sum_to": G(lambda m, g: _vjp_of(m, lambda x: x.expand(2, 2, 3), (2, 1, 3), g), (2, 2, 3),
                sets=SUMS),
    "expand": G(lambda m, a: a.expand(2, 3) * 1.0, (1, 3)),
    "prod": G(lambda m, a: a.prod(), (2, 3), sets=SUMS, empty=[(0,)], ints=I64),
    "prod_dim": G(lambda m, a: m.prod(a, 1), (3, 4), sets=SUMS, empty=[(2, 0)]),
    "cumsum": G(lambda m, a: m.cumsum(a, 0), (5,), sets=SUMS, empty=[(0,)], ints=I64),
    "cumprod": G(lambda m, a: m.cumprod(a, 0), (6,), sets=SUMS, empty=[(0,)]),
    "var": G(lambda m, a: _cat(m, a.var(), a.var(dim=0), a[:1].var(), a[0].var(correction=0)),
             (3, 4), sets=SUMS + ("const",), empty=[(0,)]),
    "std": G(lambda m, a: _cat(m, a.std(), a.std(dim=0), a[:1].std(), a[0].std(correction=0)),
             (3, 4), sets=SUMS + ("const",), empty=[(0,)]),
    "norm": G(lambda m, a: _cat(m, a.norm(), a.norm(p=0.5), a.norm(p=3), a.norm(p=1.5), a.norm(p=0)),
              (3, 2),
              sets=SUMS + ("huge",)),
    "linalg_vector_norm": G(lambda m, a: _cat(m, m.linalg.vector_norm(a),
                                              m.linalg.vector_norm(a, ord=1, dim=0),
                                              m.linalg.vector_norm(a, ord=INF, dim=1),
                                              m.linalg.vector_norm(a, ord=0.5, dim=1),
                                              m.linalg.vector_norm(a, ord=-INF, dim=0),
                                              m.linalg.vector_norm(a, ord=3),
                                              m.linalg.vector_norm(a, ord=0)),
                            (3, 4), sets=SUMS),
    # --- matmul and linear algebra (small integers: exact in any summation order)
    "dot": G(lambda m, a, b: m.dot(a, b), (4,), (4,), sets=MATMUL, empty=[(0,), (0,)]),
    "mv": G(lambda m, a, b: m.mv(a, b), (3, 4), (4,), sets=MATMUL),
    "mm": G(lambda m, a, b: m.mm(a, b), (3, 4), (4, 2), sets=MATMUL, empty=[(3, 0), (0, 2)]),
    "bmm": G(lambda m, a, b: m.bmm(a, b), (2, 3, 4), (2, 4, 2), sets=MATMUL),
    "matmul_batched": G(lambda m, a, b: a @ b, (2, 3, 4), (4, 5), sets=MATMUL),
    "addmm": G(lambda m, c, a, b: _cat(m, m.addmm(c, a, b), m.addmm(c, a, b, beta=0, alpha=2)),
               (2,), (3, 4), (4, 2), sets=MATMUL),
    "einsum": G(lambda m, a, b: m.einsum("ij,jk->ik", a, b), (3, 4), (4, 2), sets=MATMUL),
    "trace": G(lambda m, a: m.trace(a), (3, 3), sets=SUMS),
    "diagonal": G(lambda m, a: m.diagonal(a, 1), (3, 4)),
    "diag_embed": G(lambda m, a: m.diag(a), (3,)),
    "tril": G(lambda m, a: m.tril(a), (3, 4)),
    "triu": G(lambda m, a: m.triu(a, 1), (4, 3)),
    # --- shape and indexing: special values pass through
    "view": G(lambda m, a: a.reshape(3, 2), (2, 3), empty=[(0, 3)]),
    "unsqueeze": G(lambda m, a: a.unsqueeze(1), (2, 3), empty=[(0,)]),
    "squeeze": G(lambda m, a: a.squeeze(), (2, 1, 3)),
    "squeeze_dim": G(lambda m, a: a.squeeze(1), (2, 1, 3)),
    "squeeze_dims": G(lambda m, a: a.squeeze((0, 2)), (1, 3, 1)),
    "permute": G(lambda m, a: a.permute(1, 0), (2, 3), empty=[(0, 3)]),
    "transpose": G(lambda m, a: a.transpose(0, 2), (2, 3, 4)),
    "t": G(lambda m, a: a.t(), (2, 3)),
    "cat": G(lambda m, a, b: m.cat([a, b], dim=1), (2, 3), (2, 2), empty=[(2, 0), (2, 1)]),
    "stack": G(lambda m, a, b: m.stack([a, b], dim=1), (2, 3), (2, 3), empty=[(0,), (0,)]),
    "clone": G(lambda m, a: a.clone(), (3,)),
    "getitem": G(lambda m, a: a[m.tensor([2, 0, 2])], (3, 4)),
    "select": G(lambda m, a: a[1], (3, 4)),
    "slice": G(lambda m, a: a[:, 1:3], (3, 4), empty=[(0, 4)]),
    "pack_padded_sequence": G(lambda m, a: m.nn.utils.rnn.pack_padded_sequence(
        a, [3, 2, 2, 1]).data, (3, 4)),
    "index_scatter": G(lambda m, g: _vjp_of(m, lambda x: x[[0, 2, 0]], (3, 2), g), (3, 2)),
    "as_strided": G(lambda m, a, b: _view_after_change(a, b), (2, 3), (3,)),
    "setitem": G(lambda m, a, b: _setitem(a, b), (3, 4), (4,)),
    "zero_at": G(lambda m, a, v: _setitem(a, v), (3, 4), (4,)),
    "index_put": G(lambda m, a, b: _inplace(a, lambda y: y.__setitem__(m.tensor([2, 0]), b)),
                   (4, 2), (2, 2)),
    "gather": G(lambda m, a: m.gather(a, 1, m.tensor([[0, 0], [1, 0]])), (2, 3)),
    # convolution's primitives: unfold copies, fold sums overlapping blocks, a 1x1
    # convolution with one input channel multiplies (its weight gradient sums products;
    # the GEMM's sum starts at +0, so a -0 product comes out +0 where torch keeps -0)
    "im2col": G(lambda m, a: m.nn.functional.unfold(a.reshape(1, 1, 3, 4), 2), (3, 4)),
    "col2im": G(lambda m, a: m.nn.functional.fold(a.reshape(1, 4, 6), (3, 4), 2), (4, 6),
                sets=SUMS),
    "convolution": G(lambda m, a, w, b: m.nn.functional.conv2d(
        a.reshape(1, 1, 3, 4), w.reshape(2, 1, 1, 1), b), (3, 4), (2,), (2,), sets=MATMUL,
        signed_zero=False),
    "convolution_transpose": G(lambda m, a, w, b: m.nn.functional.conv_transpose2d(
        a.reshape(1, 1, 3, 4), w.reshape(1, 2, 1, 1), b), (3, 4), (2,), (2,), sets=MATMUL,
        signed_zero=False),
    # the convolutions' layout moves, reached through their second derivatives
    "cols_to_image": G(lambda m, g, w: _vjp_of(m, lambda x: m.nn.functional.conv_transpose2d(
        x, w.reshape(1, 2, 1, 1)), (1, 1, 3, 4), g.reshape(1, 2, 3, 4)), (2, 12), (2,),
        sets=MATMUL, signed_zero=False),
    "image_to_cols": G(lambda m, g, w: _vjp_of(m, lambda x: m.nn.functional.conv2d(
        x, w.reshape(2, 1, 1, 1)), (1, 1, 3, 4), g.reshape(1, 2, 3, 4)), (2, 12), (2,),
        sets=MATMUL, signed_zero=False),
    # pooling: max picks (DISTINCT: no ties), averages sum
    "max_pool2d_with_indices": G(lambda m, a: _cat(
        m, F(m).max_pool2d(a.reshape(1, 1, 3, 4), 2, stride=1),
        F(m).max_pool1d(a, 2, padding=1)), (3, 4), sets=DISTINCT),
    "adaptive_max_pool2d": G(lambda m, a: F(m).adaptive_max_pool2d(a.reshape(1, 3, 4), (2, 3)),
                             (3, 4), sets=DISTINCT),
    "avg_pool2d": G(lambda m, a: _cat(m, F(m).avg_pool2d(a.reshape(1, 1, 3, 4), 2, stride=1),
                                      F(m).avg_pool1d(a, 3, padding=1)), (3, 4), sets=SUMS),
    "adaptive_avg_pool2d": G(lambda m, a: F(m).adaptive_avg_pool2d(a.reshape(1, 3, 4), (2, 3)),
                             (3, 4), sets=SUMS),
    "scatter_add_zeros": G(lambda m, g: _vjp_of(m, lambda x: m.gather(
        x, 1, m.tensor([[1, 1], [0, 2]])), (2, 3), g), (2, 2)),
    "scatter_add": G(lambda m, a, s: m.scatter_add(a, 0, m.tensor([[0, 1, 2, 0]]), s),
                     (3, 4), (1, 4)),
    "index_select": G(lambda m, a: m.index_select(a, 0, m.tensor([2, 0, 2])), (3, 2)),
    "masked_fill": G(lambda m, a: _cat(m, a.masked_fill(m.tensor(MASK), 0.5),
                                       a.masked_fill(m.tensor(MASK), NAN)), (2, 3)),
    "masked_fill_tensor": G(lambda m, a, v: a.masked_fill(m.tensor(MASK), v), (2, 3), ()),
    "masked_scatter": G(lambda m, a, s: m.masked_scatter(a, m.tensor(MASK), s), (2, 3), (5,)),
    "flip": G(lambda m, a: m.flip(a, [0]), (3, 2)),
    "roll": G(lambda m, a: m.roll(a, 1, 0), (3, 2)),
    "repeat": G(lambda m, a: a.repeat(2, 1), (2, 3)),
    "split": G(lambda m, a: m.split(a, 2), (5, 2)),
    "split_with_sizes": G(lambda m, a: a.split([1, 3], dim=1), (2, 4)),
    "unbind": G(lambda m, a: m.unbind(a, 1), (2, 3)),
    "constant_pad_nd": G(lambda m, a: F(m).pad(a, (1, 2), value=NAN), (2, 3)),
    "reflect_pad1d": G(lambda m, a: F(m).pad(a, (2, 1), mode="reflect"), (2, 4)),
    "reflect_pad2d": G(lambda m, a: F(m).pad(a, (1, 2, 2, 0), mode="reflect"), (1, 2, 3, 4)),
    "reflect_pad3d": G(lambda m, a: F(m).pad(a, (1, 1, 0, 1, 1, 0), mode="reflect"),
                       (1, 2, 2, 3)),
    "replicate_pad1d": G(lambda m, a: F(m).pad(a, (3, 1), mode="replicate"), (1, 2, 3)),
    "replicate_pad2d": G(lambda m, a: F(m).pad(a, (1, 1, 2, 1), mode="replicate"), (2, 2, 3)),
    "replicate_pad3d": G(lambda m, a: F(m).pad(a, (0, 1, 1, 0, 2, 1), mode="replicate"),
                         (1, 1, 2, 2, 2)),
    "circular_pad": G(lambda m, a: F(m).pad(a, (2, 3), mode="circular"), (1, 2, 3)),
    "take": G(lambda m, a: m.take(a, m.tensor([[0, 5], [5, -1]])), (2, 3)),
    "scatter": G(lambda m, a, s: m.scatter(a, 1, m.tensor([[2, 0], [1, 2]]), s), (2, 3), (2, 2)),
    "scatter_value": G(lambda m, a: m.scatter(a, 1, m.tensor([[2, 0], [1, 2]]), INF), (2, 3)),
    "index_add": G(lambda m, a, s: m.index_add(a, 0, m.tensor([2, 0, 2]), s), (3, 2), (3, 2),
                   sets=SUMS),
    "index_copy": G(lambda m, a, s: m.index_copy(a, 1, m.tensor([2, 0]), s), (2, 3), (2, 2)),
    "index_fill": G(lambda m, a: m.index_fill(a, 1, m.tensor([2, 0]), -INF), (2, 3)),
    "index_fill_tensor": G(lambda m, a, v: m.index_fill(a, 0, m.tensor([2, 0]), v), (3, 2), ()),
    "embedding": G(lambda m, w: F(m).embedding(m.tensor([[0, 2], [2, 3]]), w), (4, 3)),
    # --- sorting (distinct values: ties are not compared)
    "sort": G(lambda m, a: m.sort(a).values, (7,), sets=DISTINCT, empty=[(0,)]),
    "topk": G(lambda m, a: m.topk(a, 3).values, (7,), sets=DISTINCT),
    # --- losses
    "mse_loss": B(lambda m, x, y: F(m).mse_loss(x, y, reduction="none")),
    "nll_loss": G(lambda m, x: _cat(m, F(m).nll_loss(x, m.tensor([1, 0, 2, 2])),
                                    F(m).nll_loss(x, m.tensor([1, 0, 2, 2]), reduction="none")),
                  (4, 3), sets=SUMS),
    "binary_cross_entropy": G(lambda m, p, t: _cat(
        m, F(m).binary_cross_entropy(p, t, reduction="none"), F(m).binary_cross_entropy(p, t)),
        (12,), (12,), sets=("probs", "probs_nan"), empty=[(0,), (0,)],
        rtol=1e-8),     # PyTorch's float64 gradient at the 1e-12 clamp of x (1 - x) is 4e-9 off
}

SKIP = {
    "linalg_det": "LAPACK: values and gradients at singular/special matrices depend on the "
                  "LU pivoting and rounding of the platform's LAPACK (test_decompositions checks "
                  "the singular cases against the analytic values)",
    "linalg_inv": "LAPACK: inverse of singular or inf/nan matrices depends on the platform's "
                  "LAPACK (raises or returns inf/nan by pivot order)",
    "linalg_solve": "LAPACK, as linalg_inv",
    "linalg_eigvalsh": "LAPACK: eigen-decompositions of inf/nan matrices are "
                       "implementation-defined (LAPACK may return nan or raise)",
    "linalg_eigh_vectors": "LAPACK, as linalg_eigvalsh; eigenvectors also have a free sign",
}

# Intentional differences from PyTorch: (op, what) -> (reason, where).  ``what`` is
# "value", "grad" or "jvp"; ``where(dtype, xs)`` says which elements are excused (xs: the
# elementwise inputs as float64 arrays; True for all).
def _f32(pred):
    return lambda dtype, xs: dtype == "float32" and pred(*xs)


def _quotient_overflows(dtype, a, b):
    """a / b overflows in ``dtype`` for a finite a and a non-zero b."""
    a, b = a.astype(dtype), b.astype(dtype)
    with np.errstate(all="ignore"):
        return np.isinf(a / b) & np.isfinite(a) & (b != 0)


def _extreme(dtype, *xs):
    """Any operand is finite and huge (a product with it overflows) or subnormal."""
    fi = np.finfo(dtype)
    m = np.zeros(np.shape(xs[0]), bool)
    for x in xs:
        ax = np.abs(x)
        m |= (ax >= float(fi.max) / 4) & np.isfinite(ax) | (ax > 0) & (ax < float(fi.tiny))
    return m


def _has_inf_and_zero(dtype, xs):
    return bool(np.isinf(xs[0]).any() and (xs[0] == 0).any())


ALLOW = {
    ("gelu", "value"): (
        "PyTorch's float32 gelu kernel gives nan at +inf and overflows to inf at the largest "
        "float32; chainrule gives the limit x (float64 PyTorch agrees with chainrule)",
        _f32(lambda x: np.isinf(x) | (np.abs(x) == np.finfo(np.float32).max))),
    ("elu", "grad"): (
        "PyTorch's float32 elu backward passes the gradient through at a nan input (its "
        "float64 kernel gives nan); chainrule gives nan in both dtypes",
        _f32(lambda x: np.isnan(x))),
    ("elu", "jvp"): ("as elu's grad: PyTorch float32 passes the tangent at nan",
                     _f32(lambda x: np.isnan(x))),
    ("cumprod", "grad"): (
        "an inf and a zero in one slice: every output from the later of them on is nan "
        "(inf * 0); PyTorch's and chainrule's zero-handling formulas then give different "
        "non-finite gradients (PyTorch: +-inf or finite, chainrule: nan) for the earlier "
        "inputs; slices without such a pair agree",
        _has_inf_and_zero),
    ("cumprod", "jvp"): ("as cumprod's grad (an inf and a zero in one slice)",
                         _has_inf_and_zero),
    ("fmod", "value"): (
        "PyTorch's CPU kernel computes a - trunc(a / b) * b, nan when a / b overflows (a "
        "subnormal divisor); chainrule gives the exact fmod (C's fmod: 1.0 fmod 5e-324 is 0)",
        lambda dtype, xs: _quotient_overflows(dtype, *xs)),
    ("remainder", "value"): (
        "as fmod's: PyTorch's a - floor(a / b) * b is nan when a / b overflows; chainrule "
        "gives the exact remainder",
        lambda dtype, xs: _quotient_overflows(dtype, *xs)),
    ("hypot", "grad"): (
        "PyTorch computes (g * a) / hypot(a, b), which overflows or loses the subnormal's "
        "precision before the division at extreme inputs; chainrule's g * (a / hypot) is exact "
        "there (|a / hypot| <= 1)",
        lambda dtype, xs: _extreme(dtype, *xs)),
    ("hypot", "jvp"): ("as hypot's grad: PyTorch's (a ta + b tb) / hypot overflows or loses a "
                       "subnormal's precision first",
                       lambda dtype, xs: _extreme(dtype, *xs)),
    ("logit", "jvp"): (
        "PyTorch's forward mode disagrees with its own backward at nan with eps (0, backward "
        "nan); chainrule's JVP uses the backward's formula",
        lambda dtype, xs: np.isnan(xs[0])),
    ("logit", "grad"): (
        "PyTorch's float32 logit backward gives -inf at -0 (its float64 kernel, and "
        "chainrule, give +inf: 1 / (x (1 - x)) at x = +-0)",
        _f32(lambda x: (x == 0) & np.signbit(x))),
}


# --- the machinery --------------------------------------------------------------------------

TOL = {"float64": (1e-12, 1e-300), "float32": (1e-5, 1e-37)}


def _np(t):
    if isinstance(t, torch.Tensor):
        return t.detach().numpy(force=True)
    return t.detach().numpy()


def _flat(out):
    if isinstance(out, (tuple, list)):
        return list(out)
    return [out]


def _mismatch(c, t, dtype, signed_zero, rtol=None, atol=None):
    """Bool array of elements where ``c`` and ``t`` differ (NaN-aware)."""
    c = np.asarray(c)
    t = np.asarray(t)
    if c.dtype.kind in "biu" or t.dtype.kind in "biu":
        return c != t
    c = c.astype(np.float64)
    t = t.astype(np.float64)
    rtol0, atol0 = TOL.get(dtype, TOL["float64"])
    rtol = rtol0 if rtol is None else max(rtol, rtol0)
    atol = atol if atol is not None and atol > atol0 else atol0
    both_nan = np.isnan(c) & np.isnan(t)
    with np.errstate(invalid="ignore", over="ignore"):
        inf = np.isinf(c) | np.isinf(t)
        close = np.where(inf, c == t, np.abs(c - t) <= atol + rtol * np.abs(t))
    bad = ~(both_nan | close)
    if signed_zero:
        bad |= (c == 0) & (t == 0) & (np.signbit(c) != np.signbit(t))
    return bad


def _inputs(entry, dtype):
    """[(label, [float64 arrays])] for an entry and a dtype."""
    npdt = np.dtype(dtype).type
    if entry.kind == "unary":
        g = np.array(GRID[dtype] if dtype in GRID else INT_GRID[dtype], dtype=np.float64)
        if dtype not in GRID:
            g = np.array(INT_GRID[dtype], dtype=object)
        runs = [("grid", [g])]
        if dtype in GRID:
            runs += [("empty", [np.zeros((0,))]), ("empty2d", [np.zeros((2, 0))])]
        return runs
    if entry.kind == "binary":
        vals = GRID[dtype] if dtype in GRID else INT_GRID[dtype]
        a = np.array([x for x in vals for _ in vals], dtype=object)
        b = np.array([y for _ in vals for y in vals], dtype=object)
        runs = [("pairs", [a, b])]
        if dtype in GRID:
            runs.append(("empty", [np.zeros((0,)), np.zeros((0,))]))
        return runs
    runs = []
    if dtype in GRID:
        for name in entry.sets:
            vals = SETS[name](npdt)
            arrs = []
            for k, s in enumerate(entry.shapes):
                n = int(np.prod(s, dtype=np.int64))
                idx = (np.arange(n) + 5 * k) % len(vals)
                arrs.append(np.array([vals[i] for i in idx], dtype=np.float64).reshape(s))
            runs.append((name, arrs))
    else:
        vals = INT_GRID[dtype]
        arrs = []
        for k, s in enumerate(entry.shapes):
            n = int(np.prod(s, dtype=np.int64))
            # distinct values (no ties) for max/min/sort
            idx = (np.arange(n) * 5 + 3 * k) % len(vals)
            arrs.append(np.array([vals[i] for i in idx], dtype=object).reshape(s))
        runs.append(("ints", arrs))
    if entry.empty and dtype in GRID:
        runs.append(("empty", [np.zeros(s) for s in entry.empty]))
    return runs


def _tensors(lib, arrays, dtype, rg):
    out = []
    for a in arrays:
        if lib is cr:
            t = cr.tensor(a.tolist() if a.dtype == object else a, dtype=getattr(cr, dtype))
        else:
            t = torch.tensor(a.tolist() if a.dtype == object else a, dtype=getattr(torch, dtype))
        if rg:
            t.requires_grad_(True)
        out.append(t)
    return out


def _allowed(name, what, dtype, xs, shape):
    if (name, what) not in ALLOW:
        return np.zeros(shape, bool)
    reason, where = ALLOW[(name, what)]
    m = np.asarray(where(dtype, [np.asarray(x, dtype=np.float64) for x in xs]), bool)
    if m.ndim and m.shape != tuple(shape):
        m = np.resize(m, shape)     # a _cat of several results of the op: the mask repeats
    return np.broadcast_to(m, shape)


def _report(name, what, dtype, label, xs, c, t, bad, elementwise):
    c, t, bad = np.atleast_1d(c), np.atleast_1d(t), np.atleast_1d(bad)
    lines = [f"{name} [{dtype}, {label}] {what} differs from PyTorch at "
             f"{int(bad.sum())} element(s):"]
    for i in list(zip(*np.nonzero(bad)))[:8]:
        inp = ""
        if elementwise:
            inp = "inputs " + ", ".join(repr(float(x.reshape(-1)[i[0] % x.size])) for x in xs)
            inp += ": "
        lines.append(f"  {inp}chainrule {c[i]!r} vs torch {t[i]!r}")
    if not elementwise:
        lines.append("  inputs: " + "; ".join(np.array2string(x.astype(np.float64))
                                             for x in xs))
    return "\n".join(lines)


def _compare(name, what, dtype, label, xs, c, t, entry, errors):
    c, t = np.asarray(c), np.asarray(t)
    if c.shape != t.shape:
        errors.append(f"{name} [{dtype}, {label}] {what}: shape {c.shape} vs torch {t.shape}")
        return
    if what == "value" and c.dtype != t.dtype:
        errors.append(f"{name} [{dtype}, {label}] value dtype {c.dtype} vs torch {t.dtype}")
        return
    bad = _mismatch(c, t, dtype, entry.signed_zero and what == "value", entry.rtol, entry.atol)
    elementwise = entry.kind in ("unary", "binary")
    if bad.any():
        excused = _allowed(name, what, dtype, xs, bad.shape) if elementwise else \
            np.broadcast_to(_allowed(name, what, dtype, xs, ()), bad.shape)
        bad = bad & ~excused
    if bad.any():
        errors.append(_report(name, what, dtype, label, xs, c, t, bad, elementwise))


def _run(lib, fn, ts):
    try:
        return fn(lib, *ts), None
    except Exception as e:       # noqa: BLE001 -- compared with torch's behaviour below
        return None, e


def sweep_one(name, entry, dtype):
    """Compare one op on one dtype; returns a list of error strings."""
    errors = []
    is_float = dtype in GRID
    for label, xs in _inputs(entry, dtype):
        differentiable = is_float and entry.grad
        tt = _tensors(torch, xs, dtype, differentiable)
        ct = _tensors(cr, xs, dtype, differentiable)
        out_t, err_t = _run(torch, entry.fn, tt)
        out_c, err_c = _run(cr, entry.fn, ct)
        if err_t is not None or err_c is not None:
            if err_t is None or err_c is None:
                errors.append(f"{name} [{dtype}, {label}]: torch "
                              f"{'raised ' + type(err_t).__name__ if err_t else 'ran'}, "
                              f"chainrule {'raised ' + repr(err_c) if err_c else 'ran'}")
            elif not isinstance(err_c, type(err_t)):
                errors.append(f"{name} [{dtype}, {label}]: torch raised "
                              f"{type(err_t).__name__}, chainrule {type(err_c).__name__}")
            continue
        outs_t, outs_c = _flat(out_t), _flat(out_c)
        for o_c, o_t in zip(outs_c, outs_t):
            _compare(name, "value", dtype, label, xs, _np(o_c), _np(o_t), entry, errors)
        if not differentiable:
            continue
        diff_t = [o for o in outs_t if o.requires_grad]
        if not diff_t:
            continue
        diff_c = [o for o, ot in zip(outs_c, outs_t) if ot.requires_grad]
        seeds = [_pattern(tuple(o.shape), k) for k, o in enumerate(diff_t)]
        gt, gc, err_t, err_c = None, None, None, None
        try:
            gt = torch.autograd.grad(diff_t, tt, [torch.tensor(v, dtype=o.dtype) for v, o in
                                                  zip(seeds, diff_t)], allow_unused=True)
        except Exception as e:   # noqa: BLE001 -- e.g. a derivative PyTorch does not implement
            err_t = e
        try:
            gc = cr.autograd.grad(diff_c, ct, [cr.tensor(v, dtype=getattr(cr, dtype))
                                               for v in seeds], allow_unused=True)
        except Exception as e:   # noqa: BLE001
            err_c = e
        if err_t is not None or err_c is not None:
            if err_t is None or err_c is None or not isinstance(err_c, type(err_t)):
                errors.append(f"{name} [{dtype}, {label}] backward: torch "
                              f"{'raised ' + repr(err_t) if err_t else 'ran'}, chainrule "
                              f"{'raised ' + repr(err_c) if err_c else 'ran'}")
            continue
        for i, (a, b) in enumerate(zip(gc, gt)):
            a = np.zeros(xs[i].shape) if a is None else _np(a)
            b = np.zeros(xs[i].shape) if b is None else _np(b)
            _compare(name, f"grad", dtype, f"{label}, input {i}", xs, a, b, entry, errors)
        if entry.fwd:
            _jvp(name, entry, dtype, label, xs, errors)
    return errors


PATTERN = (1.0, -1.5, 2.0, -0.5, 1.25, -2.0, 0.75)


def _pattern(shape, k):
    """A fixed cotangent/tangent (exact binary fractions, mixed signs; not all ones, which
    is a degenerate direction for shift-invariant ops such as softmax)."""
    n = int(np.prod(shape, dtype=np.int64))
    return np.array([PATTERN[(i + 3 * k) % len(PATTERN)] for i in range(n)]).reshape(shape)


def _jvp(name, entry, dtype, label, xs, errors):
    """A fixed tangent (``_pattern``) on every input, vs torch's forward mode."""
    tans = [_pattern(x.shape, k + 1) for k, x in enumerate(xs)]
    with t_fw.dual_level():
        try:
            duals = [t_fw.make_dual(x, torch.tensor(t, dtype=x.dtype))
                     for x, t in zip(_tensors(torch, xs, dtype, False), tans)]
            outs_t = _flat(entry.fn(torch, *duals))
            tans_t = [t_fw.unpack_dual(o).tangent for o in outs_t]
            tans_t = [None if x is None else _np(x) for x in tans_t]
            vals_t = [_np(t_fw.unpack_dual(o).primal) for o in outs_t]
        except (NotImplementedError, RuntimeError):
            return                  # torch has no forward mode for this op
    with cr_fw.dual_level():
        try:
            duals = [cr_fw.make_dual(x, cr.tensor(t, dtype=x.dtype))
                     for x, t in zip(_tensors(cr, xs, dtype, False), tans)]
            outs_c = _flat(entry.fn(cr, *duals))
            tans_c = [cr_fw.unpack_dual(o).tangent for o in outs_c]
            tans_c = [None if x is None else _np(x) for x in tans_c]
        except Exception as e:   # noqa: BLE001
            errors.append(f"{name} [{dtype}, {label}] forward mode raised {e!r}")
            return
    for a, b, v in zip(tans_c, tans_t, vals_t):
        a = np.zeros(v.shape) if a is None else a
        b = np.zeros(v.shape) if b is None else b
        if np.asarray(v).dtype.kind != "f":
            continue
        _compare(name, "jvp", dtype, label, xs, a, b, entry, errors)


# --- the tests --------------------------------------------------------------------------------

def _cases():
    for name in sorted(SWEEP):
        entry = SWEEP[name]
        for dt in tuple(entry.floats) + tuple(entry.ints):
            yield pytest.param(name, dt, id=f"{name}-{dt}")


@pytest.mark.parametrize("name,dtype", list(_cases()))
def test_edge_sweep(name, dtype):
    errors = sweep_one(name, SWEEP[name], dtype)
    assert not errors, "\n".join(errors)


def test_every_op_is_swept():
    missing = sorted(n for n in OPS if n not in SWEEP and n not in SKIP)
    assert not missing, (
        f"op(s) of the rule table with neither an edge-sweep entry nor a skip reason: "
        f"{', '.join(missing)}. Add a line to SWEEP in tests/ops/test_edge_sweep.py, e.g. "
        f"'{missing[0]}': U(lambda m, a: m.{missing[0]}(a)) (see docs/DEVELOPING.md, "
        f"'Testing an op'), or a reason to SKIP")
    stale = sorted(n for n in set(SWEEP) | set(SKIP) if n not in OPS)
    assert not stale, f"SWEEP/SKIP name op(s) not in the rule table: {stale}"
    both = sorted(set(SWEEP) & set(SKIP))
    assert not both, f"op(s) both swept and skipped: {both}"


def test_allow_list_entries_have_reasons():
    for key, (reason, where) in ALLOW.items():
        assert key[0] in SWEEP and key[1] in ("value", "grad", "jvp"), key
        assert isinstance(reason, str) and len(reason) > 20, key
        assert callable(where), key
