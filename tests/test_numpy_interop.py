"""Plain NumPy code differentiates as it is: the transforms of chainrule.func take and return
NumPy values, NumPy's functions called with Tensors (__array_ufunc__/__array_function__) run
recorded chainrule ops, and elementwise_grad (HIPS autograd's name).  Gradients are checked
against torch and against central differences of the very same NumPy function run on
ndarrays."""
import numpy as np
import pytest
import torch
import torch.func as tf

import chainrule as cr
import chainrule.func as cf

RNG = np.random.default_rng(0)
A = RNG.normal(size=(3, 4))
B = RNG.normal(size=(4, 2))
V = RNG.normal(size=4)
P = RNG.uniform(0.5, 2.0, size=(3, 4))            # positive, for log/sqrt/power


def numgrad(f, x, eps=1e-6):
    """Central differences of the scalar NumPy function f at ndarray x."""
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += eps
        xm[i] -= eps
        g[i] = (f(xp) - f(xm)) / (2 * eps)
    return g


# --- NumPy functions on Tensors: value as NumPy's, gradient as finite differences ----------

# (id, NumPy function of one array, input)
NUMPY_FUNCS = [
    ("sin", np.sin, A), ("cos", np.cos, A), ("tan", lambda x: np.tan(x * 0.3), A),
    ("exp", np.exp, A), ("expm1", np.expm1, A), ("exp2", np.exp2, A), ("log", np.log, P),
    ("log2", np.log2, P), ("log10", np.log10, P), ("log1p", np.log1p, P),
    ("sqrt", np.sqrt, P), ("square", np.square, A), ("reciprocal", np.reciprocal, P),
    ("tanh", np.tanh, A), ("sinh", np.sinh, A), ("cosh", np.cosh, A),
    ("arctan", np.arctan, A), ("arcsin", lambda x: np.arcsin(x * 0.3), A),
    ("arccos", lambda x: np.arccos(x * 0.3), A), ("arcsinh", np.arcsinh, A),
    ("arctanh", lambda x: np.arctanh(x * 0.3), A), ("abs", np.abs, A),
    ("absolute", np.absolute, A), ("fabs", np.fabs, A), ("negative", np.negative, A),
    ("positive", np.positive, A), ("power", lambda x: np.power(x, 3), A),
    ("power-base", lambda x: np.power(2.0, x), A), ("pow-op", lambda x: x ** 2.5, P),
    ("add", lambda x: np.add(x, A), A), ("radd", lambda x: A + x, A),
    ("subtract", lambda x: np.subtract(P, x), A), ("rsub", lambda x: 1.0 - x, A),
    ("multiply", lambda x: np.multiply(A, x), A), ("rmul", lambda x: np.float64(2.0) * x, A),
    ("divide", lambda x: np.divide(A, x), P), ("rdiv", lambda x: A / x, P),
    ("true_divide", lambda x: np.true_divide(x, P), A),
    ("maximum", lambda x: np.maximum(x, 0.1), A), ("minimum", lambda x: np.minimum(x, A.T.T * 0.5), A),
    ("arctan2", lambda x: np.arctan2(x, P), A), ("logaddexp", lambda x: np.logaddexp(x, A[::-1]), A),
    ("matmul", lambda x: np.matmul(x, B), A), ("matmul-op", lambda x: A.T @ x, A),
    ("dot", lambda x: np.dot(x, B), A), ("dot-1d", lambda x: np.dot(x[0], V), A),
    ("dot-nd", lambda x: np.dot(x.reshape(3, 2, 2), np.ones((2, 2, 3))), A),
    ("vdot", lambda x: np.vdot(x, A), A), ("inner", lambda x: np.inner(x, A), A),
    ("outer", lambda x: np.outer(x[0], V), A), ("tensordot", lambda x: np.tensordot(x, A, 2), A),
    ("einsum", lambda x: np.einsum("ij,jk->ik", x, B), A),
    ("sum", np.sum, A), ("sum-axis", lambda x: np.sum(x, axis=0), A),
    ("sum-keepdims", lambda x: np.sum(x, axis=1, keepdims=True), A),
    ("sum-tuple", lambda x: np.sum(x, axis=(0, 1)), A), ("mean", np.mean, A),
    ("mean-axis", lambda x: np.mean(x, axis=-1, keepdims=True), A),
    ("prod", lambda x: np.prod(x, axis=0), P), ("prod-all", np.prod, P),
    ("max", lambda x: np.max(x, axis=1), A), ("amax", np.amax, A),
    ("min", lambda x: np.min(x, axis=0, keepdims=True), A),
    ("cumsum", lambda x: np.cumsum(x, axis=1), A), ("cumsum-flat", np.cumsum, A),
    ("cumprod", lambda x: np.cumprod(x, axis=0), P), ("std", lambda x: np.std(x, axis=0), A),
    ("var-ddof", lambda x: np.var(x, ddof=1), A), ("trace", np.trace, A),
    ("where", lambda x: np.where(x > 0, x, 0.1 * x), A),
    ("where-arrays", lambda x: np.where(A > 0, A, x), A),
    ("clip", lambda x: np.clip(x, -0.5, 0.5), A),
    ("concatenate", lambda x: np.concatenate([x, A, x ** 2], axis=1), A),
    ("concatenate-none", lambda x: np.concatenate([x, A], axis=None), A),
    ("stack", lambda x: np.stack([x, A], axis=1), A), ("vstack", lambda x: np.vstack([x, V]), A),
    ("hstack", lambda x: np.hstack([x, A]), A), ("column_stack", lambda x: np.column_stack([x[0], V]), A),
    ("reshape", lambda x: np.reshape(x, (2, 6)), A), ("ravel", np.ravel, A),
    ("transpose", np.transpose, A), ("transpose-axes", lambda x: np.transpose(x.reshape(3, 2, 2), (2, 0, 1)), A),
    ("swapaxes", lambda x: np.swapaxes(x, 0, 1), A), ("moveaxis", lambda x: np.moveaxis(x, 0, -1), A),
    ("expand_dims", lambda x: np.expand_dims(x, (0, 2)), A),
    ("squeeze", lambda x: np.squeeze(x[None, :, None]), A),
    ("broadcast_to", lambda x: np.broadcast_to(x, (2, 3, 4)), A),
    ("atleast_2d", lambda x: np.atleast_2d(x[0]), A), ("tile", lambda x: np.tile(x, (2, 1)), A),
    ("flip", np.flip, A), ("flip-axis", lambda x: np.flip(x, axis=1), A), ("fliplr", np.fliplr, A),
    ("flipud", np.flipud, A), ("roll", lambda x: np.roll(x, 2, axis=1), A), ("roll-flat", lambda x: np.roll(x, 5), A),
    ("sort", lambda x: np.sort(x, axis=0), A), ("take", lambda x: np.take(x, [0, 5, 7]), A),
    ("take-axis", lambda x: np.take(x, [2, 0], axis=1), A),
    ("take_along_axis", lambda x: np.take_along_axis(x, np.argsort(A, axis=1), axis=1), A),
    ("diag", lambda x: np.diag(x[:, :3]), A), ("diagonal", lambda x: np.diagonal(x, 1), A),
    ("triu", np.triu, A), ("tril", lambda x: np.tril(x, -1), A),
    ("inv", lambda x: np.linalg.inv(x[:, :3] + 3 * np.eye(3)), A),
    ("det", lambda x: np.linalg.det(x[:, :3]), A),
    ("solve", lambda x: np.linalg.solve(x[:, :3] + 3 * np.eye(3), V[:3]), A),
    ("norm", np.linalg.norm, A), ("norm-axis", lambda x: np.linalg.norm(x, axis=1), A),
    ("add.reduce", lambda x: np.add.reduce(x, axis=1), A),
    ("add.accumulate", lambda x: np.add.accumulate(x, axis=1), A),
    ("multiply.accumulate", lambda x: np.multiply.accumulate(x), P),
    ("prod-axes", lambda x: np.prod(x.reshape(3, 2, 2), axis=(1, -3)), P),
    ("maximum.reduce", lambda x: np.maximum.reduce(x, axis=0), A),
    ("getitem", lambda x: x[1:, ::2] * x.T[:2, :2].sum(), A),
    ("hypot", lambda x: np.hypot(x, P), A), ("cbrt", np.cbrt, P), ("cbrt-neg", lambda x: np.cbrt(-x), P),
    ("deg2rad", np.deg2rad, A), ("rad2deg", np.degrees, A), ("fmod", lambda x: np.fmod(x * 3, P), A),
    ("logaddexp2", lambda x: np.logaddexp2(x, 0.5), A),
    ("float_power", lambda x: np.float_power(x, 1.5), P),
    ("ptp", lambda x: np.ptp(x, axis=1), A), ("average", np.average, A),
    ("average-weights", lambda x: np.average(x, axis=1, weights=V), A),
    ("diff", np.diff, A), ("diff-n2", lambda x: np.diff(x, n=2, axis=0), A),
    ("diff-prepend", lambda x: np.diff(x, axis=1, prepend=0.5), A),
    ("append", lambda x: np.append(x, A, axis=0), A), ("append-flat", lambda x: np.append(x, V), A),
    ("split", lambda x: np.split(x, 2, axis=1)[1], A),
    ("array_split", lambda x: np.array_split(x, [1], axis=0)[1], A),
    ("hsplit", lambda x: np.hsplit(x, 4)[2], A), ("vsplit", lambda x: np.vsplit(x, 3)[0], A),
    ("copy", np.copy, A), ("round", lambda x: np.round(x, 1) * x, A),
    ("meshgrid", lambda x: np.meshgrid(x[0], x[1, :3])[0] * np.meshgrid(x[0], x[1, :3])[1], A),
]


@pytest.mark.parametrize("fn,x", [(f, x) for _, f, x in NUMPY_FUNCS],
                         ids=[n for n, _, _ in NUMPY_FUNCS])
def test_numpy_function_on_tensor_is_recorded(fn, x):
    want = fn(x)
    t = cr.tensor(x, requires_grad=True)
    out = fn(t)
    assert isinstance(out, cr.Tensor) and out.requires_grad
    assert tuple(out.shape) == np.shape(want)
    assert out.dtype == cr.float64
    np.testing.assert_allclose(out.detach().numpy(), want, rtol=1e-12, atol=1e-12)
    w = RNG.normal(size=np.shape(want))

    def loss(z):
        return np.sum(fn(z) * w)
    g = cf.grad(loss)(x)
    assert isinstance(g, np.ndarray) and g.dtype == np.float64
    np.testing.assert_allclose(g, numgrad(loss, x), rtol=1e-5, atol=1e-6)


def test_numpy_functions_match_torch_gradients():
    """The same expressions through NumPy's names and through torch give one gradient."""
    def ours(x):
        h = np.tanh(np.dot(x, B))
        return np.mean(np.log(np.sum(np.exp(h), axis=1)) + np.maximum(h, 0).sum(axis=1))

    def theirs(x):
        h = torch.tanh(x @ torch.tensor(B))
        return (torch.log(torch.exp(h).sum(1)) + torch.relu(h).sum(1)).mean()
    np.testing.assert_allclose(cf.grad(ours)(A), tf.grad(theirs)(torch.tensor(A)).numpy(),
                               rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(cf.hessian(lambda v: np.sum(np.sin(v) * np.outer(v, v)))(V),
                               tf.hessian(lambda v: (torch.sin(v) * torch.outer(v, v)).sum())(
                                   torch.tensor(V)).numpy(), rtol=1e-12, atol=1e-12)


def test_ndarray_operand_first_gives_tensor_in_torch_order():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    for y in (np.ones(2) + x, np.ones(2) * x, np.ones(2) - x, np.ones(2) / x, np.ones(2) @ x):
        assert isinstance(y, cr.Tensor) and y.requires_grad
    y = np.float64(3.0) * x                    # NumPy scalar: a number, as in torch
    assert y.dtype == cr.float32 and y.grad_fn.name() == "MulBackward0"
    assert y.grad_fn.next_functions[0][0].name() == "AccumulateGrad"
    np.testing.assert_array_equal((np.ones(2) > x).numpy(), [False, False])


def test_numpy_names_of_arguments_and_refusals():
    x = cr.tensor(A, requires_grad=True)
    np.testing.assert_allclose(np.std(x, axis=1, ddof=1).detach().numpy(), np.std(A, axis=1, ddof=1))
    with pytest.raises(TypeError, match=r"numpy.sum on chainrule Tensors: out= is not supported"):
        np.sum(x, out=np.zeros(()))
    with pytest.raises(TypeError, match=r"numpy.sin on chainrule Tensors: out= is not supported"):
        np.sin(x, out=np.zeros((3, 4)))
    with pytest.raises(TypeError, match=r"order='F' is not supported"):
        np.reshape(x, (4, 3), order="F")
    with pytest.raises(TypeError, match="where="):
        np.sum(x, where=A > 0)
    assert np.sum(x, out=None).item() == pytest.approx(A.sum())       # out=None is fine


@pytest.mark.parametrize("call,name,hint", [
    (lambda x: np.sinc(x), "numpy.sinc", "sin(pi * x) / (pi * x)"),
    (lambda x: np.fft.fft(x), "numpy.fft.fft", "chainrule has no such op"),
    (lambda x: np.median(x), "numpy.median", "sort"),
    (lambda x: np.cross(x[:, :3], x[:, 1:]), "numpy.cross", "there is none"),
    (lambda x: np.kron(x, x), "numpy.kron", "einsum"),
    (lambda x: np.multiply.outer(x, x), "numpy.multiply.outer", "broadcasting"),
    (lambda x: np.maximum.accumulate(x), "numpy.maximum.accumulate", "there is none"),
])
def test_numpy_function_without_rule_raises_naming_it(call, name, hint):
    x = cr.tensor(A, requires_grad=True)
    with pytest.raises(TypeError, match=name.replace(".", r"\.") + " has no differentiation rule") as e:
        call(x)
    assert hint in str(e.value) and "drop the gradient" in str(e.value)
    with pytest.raises(TypeError, match=name.replace(".", r"\.")):
        cf.grad(lambda z: np.sum(call(z)))(A)       # inside a transform, too
    with pytest.raises(TypeError, match=name.replace(".", r"\.")):
        cf.jacfwd(call)(A)                          # forward-mode tangents count as well
    # without a graph nothing is lost: NumPy runs on the data, as before
    np.testing.assert_allclose(call(x.detach()), call(A))


@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
def test_asarray_of_tensor_requiring_grad_raises_like_torch():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    msg = "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead."
    for conv in (np.asarray, np.array, lambda t: t.__array__()):
        with pytest.raises(RuntimeError) as e:
            conv(x)
        with pytest.raises(RuntimeError) as et:
            conv(torch.tensor([1.0, 2.0], requires_grad=True))
        assert str(e.value) == str(et.value) == msg
    a = np.asarray(x.detach())
    assert isinstance(a, np.ndarray) and a.dtype == np.float32
    np.testing.assert_array_equal(a, [1.0, 2.0])


def test_numpy_on_plain_tensor_returns_tensor_and_keeps_values():
    t = cr.tensor([[1.0, 2.0], [3.0, 4.0]])
    r = np.exp(t)
    assert isinstance(r, cr.Tensor) and not r.requires_grad and r.dtype == cr.float32
    assert np.shape(t) == (2, 2) and np.ndim(t) == 2 and np.size(t) == 4
    assert np.allclose(t, [[1.0, 2.0], [3.0, 4.0]])
    assert isinstance(np.zeros_like(t), cr.Tensor)
    np.testing.assert_array_equal(np.where(t > 2)[1].numpy(), [0, 1])


# --- transforms take and give NumPy values -------------------------------------------------

def test_grad_of_numpy_function_returns_ndarray():
    def f(x):
        return np.sum(np.sin(x) * x ** 2)
    g = cf.grad(f)(V)
    assert type(g) is np.ndarray and g.dtype == np.float64
    np.testing.assert_allclose(g, np.cos(V) * V ** 2 + 2 * V * np.sin(V), rtol=1e-13)
    g32 = cf.grad(f)(V.astype(np.float32))                # float32 stays float32
    assert g32.dtype == np.float32
    np.testing.assert_allclose(g32, g, rtol=1e-5)
    d = cf.grad(np.tanh)(1.0)                              # Python float: float64 scalar
    assert type(d) is np.float64 and d == pytest.approx(1 - np.tanh(1.0) ** 2, rel=1e-15)
    assert type(cf.grad(np.tanh)(np.float32(1.0))) is np.float32


def test_numpy_results_are_writable_arrays():
    """Regression: grad of np.sum returned the read-only stride-0 broadcast view behind the
    gradient, so ``g *= 0.5`` or ``g[0] = 0`` raised 'assignment destination is read-only'."""
    for f in (np.sum, np.mean, lambda x: np.sum(np.max(x, axis=0))):
        g = cf.grad(f)(np.ones((2, 3)))
        assert g.flags.writeable
        g *= 0.5
        g[0, 0] = 7.0
        assert g[0, 0] == 7.0
    (g,) = cf.vjp(np.sum, np.ones(3))[1](1.0)
    assert g.flags.writeable


def test_value_and_grad_order_and_has_aux():
    v, g = cf.value_and_grad(lambda x: np.sum(x ** 2))(V)
    assert type(v) is np.float64 and v == pytest.approx(np.sum(V ** 2))
    np.testing.assert_allclose(g, 2 * V)
    g2, v2 = cf.grad_and_value(lambda x: np.sum(x ** 2))(V)
    assert v2 == v and np.array_equal(g2, g)
    (v, aux), g = cf.value_and_grad(lambda x: (np.sum(x ** 3), {"sq": x ** 2}), has_aux=True)(V)
    np.testing.assert_allclose(aux["sq"], V ** 2)
    assert type(aux["sq"]) is np.ndarray
    np.testing.assert_allclose(g, 3 * V ** 2)
    # tensors in, tensors out, as before
    vt, gt = cf.value_and_grad(lambda x: (x ** 2).sum())(cr.tensor([1.0, 2.0]))
    assert isinstance(vt, cr.Tensor) and isinstance(gt, cr.Tensor)


def test_pytrees_argnums_and_untouched_arguments():
    params = [(np.ones((2, 3)), np.zeros(3)), (np.full((3, 1), 0.5), np.zeros(1))]
    data = RNG.normal(size=(5, 2))
    seen = {}

    def loss(params, inputs):
        seen["inputs"] = type(inputs)
        h = inputs
        for W, b in params:
            h = np.tanh(h @ W + b)
        return np.mean(h ** 2)
    g = cf.grad(loss)(params, data)
    assert seen["inputs"] is np.ndarray                  # non-differentiated: left alone
    assert isinstance(g, list) and isinstance(g[0], tuple) and type(g[0][0]) is np.ndarray
    for (gW, gb), (W, b) in zip(g, params):
        assert gW.shape == W.shape and gb.shape == b.shape
    flat = [p for pair in params for p in pair]

    def loss_flat(i, x):
        ps = [list(p) for p in params]
        ps[i // 2][i % 2] = x
        return loss(ps, data)
    for i, p in enumerate(flat):
        np.testing.assert_allclose(g[i // 2][i % 2], numgrad(lambda x: loss_flat(i, x), p),
                                   rtol=1e-6, atol=1e-8)
    gx, gy = cf.grad(lambda x, y: np.sum(x * y ** 2), argnums=(0, 1))(V, 2.0)
    np.testing.assert_allclose(gx, np.full(4, 4.0))
    assert type(gy) is np.float64 and gy == pytest.approx(4 * V.sum())


def test_mixed_tensor_and_numpy_inputs_give_tensors():
    gx, gy = cf.grad(lambda x, y: (x * y).sum(), argnums=(0, 1))(cr.tensor([1.0, 2.0]),
                                                                  np.array([3.0, 4.0]))
    assert isinstance(gx, cr.Tensor) and isinstance(gy, cr.Tensor)
    np.testing.assert_array_equal(gx.numpy(), [3.0, 4.0])
    assert gy.dtype == cr.float64


def test_vjp_jvp_jacobians_with_numpy():
    out, vjp_fn = cf.vjp(np.sin, V)
    assert type(out) is np.ndarray
    (g,) = vjp_fn(np.ones(4))
    assert type(g) is np.ndarray
    np.testing.assert_allclose(g, np.cos(V))
    (g1,) = vjp_fn(np.arange(4.0))
    np.testing.assert_allclose(g1, np.cos(V) * np.arange(4.0))
    o, t = cf.jvp(lambda x, y: np.sin(x) * y, (V, 2.0), (np.ones(4), 0.5))
    assert type(o) is np.ndarray and type(t) is np.ndarray
    np.testing.assert_allclose(t, np.cos(V) * 2.0 + np.sin(V) * 0.5)
    for jac in (cf.jacrev, cf.jacfwd):
        J = jac(lambda x: np.tanh(np.dot(A, x)))(V)
        assert type(J) is np.ndarray and J.shape == (3, 4)
        np.testing.assert_allclose(J, (1 - np.tanh(A @ V) ** 2)[:, None] * A, rtol=1e-12)
    H = cf.hessian(lambda x: np.sum(x ** 3) * x[0])(V)
    Ht = tf.hessian(lambda x: (x ** 3).sum() * x[0])(torch.tensor(V)).numpy()
    assert type(H) is np.ndarray
    np.testing.assert_allclose(H, Ht, rtol=1e-12)


def test_integer_inputs_are_refused_clearly():
    with pytest.raises(RuntimeError, match=r"only floating point values can be differentiated"
                                           r".*dtype int64.*astype\(np\.float64\)"):
        cf.grad(lambda x: np.sum(x * 1.0))(np.arange(3))
    with pytest.raises(RuntimeError, match=r"a Python int \(2\); pass floats instead"):
        cf.grad(np.tanh)(2)
    with pytest.raises(RuntimeError, match=r"only floating point"):
        cf.jvp(np.sin, (np.arange(2),), (np.ones(2),))


def test_constant_numpy_output_has_zero_gradient():
    g = cf.grad(lambda x: 3.0)(V)
    np.testing.assert_array_equal(g, np.zeros(4))


def test_nested_transform_keeps_outer_gradient():
    """An inner transform fed NumPy values but closing over an outer differentiated Tensor
    must keep its result a Tensor, or the outer gradient would be lost."""
    def outer(w):
        inner = cf.grad(lambda x: np.sum(x * w ** 2))(np.ones(2))   # = w ** 2
        return np.sum(inner)
    np.testing.assert_allclose(cf.grad(outer)(np.array([1.0, 3.0])), [2.0, 6.0])


# --- elementwise_grad ----------------------------------------------------------------------

def _tanh(x):
    y = np.exp(-2.0 * x)
    return (1.0 - y) / (1.0 + y)


def test_elementwise_grad_tanh_to_sixth_order_like_hips():
    x = np.linspace(-7, 7, 200)
    f, ours = _tanh, []
    for _ in range(6):
        f = cf.elementwise_grad(f)
        ours.append(f(x))
    tx = torch.tensor(x, requires_grad=True)
    g = torch.tanh(tx)
    for k in range(6):
        g, = torch.autograd.grad(g.sum(), tx, create_graph=True)
        assert type(ours[k]) is np.ndarray and ours[k].shape == (200,)
        np.testing.assert_allclose(ours[k], g.detach().numpy(), rtol=1e-6,
                                   atol=1e-9 * 10 ** k)
    np.testing.assert_allclose(ours[0], 1 - np.tanh(x) ** 2, rtol=1e-9, atol=1e-15)
    # the same with NumPy's tanh passed as it is
    np.testing.assert_allclose(cf.elementwise_grad(cf.elementwise_grad(np.tanh))(x), ours[1],
                               rtol=1e-9, atol=1e-12)
