"""Random small programs run on chainrule and on PyTorch, for differential testing.

A program is a list of steps over a pool of variables.  The pool starts with 2-3 leaf
inputs of broadcast-compatible shapes; each step applies one entry of ``OPS`` to variables
of the pool (chosen at random, so one intermediate is often used several times) and
appends its result.  Steps are drawn with a seeded NumPy generator and validated by
running the program so far on PyTorch: a step PyTorch refuses (shape mismatch, in-place
on a leaf) or whose values leave a moderate range is dropped, so every program is valid
PyTorch whose values stay finite.  A program may still fail in PyTorch's *backward* (a
saved tensor modified in place): chainrule must then fail with the same exception class.

Each ``OPS`` entry is ``(arity, params(rng, shapes) -> dict or None, fn(lib, xs, p))``:
``params`` returns ``None`` when the op does not apply to those shapes; ``fn`` gets the
library (``chainrule`` or ``torch``), the input tensors and the drawn parameters and
returns the result.  In-place entries (``inplace`` in the name) modify ``xs[0]`` and
return it.  Kinks and ties are kept away by random continuous offsets.

Deliberately not generated: random sampling ops; in-place changes of expanded tensors
(PyTorch raises for most, only deprecates masked_fill_, chainrule always raises).
"""
import os

import numpy as np

#: longest program; raise (with CHAINRULE_DIFF_PROGRAMS in test_differential) to hunt locally
MAX_STEPS = int(os.environ.get("CHAINRULE_DIFF_STEPS", 8))
LEAF_SHAPES = [(), (3,), (2, 3), (1, 3), (2, 1), (2, 2), (2, 1, 3)]
VALUE_LIMIT = 1e4


def _off(rng):
    """A random offset that keeps comparisons away from exact ties."""
    return float(np.round(rng.uniform(-0.4, 0.4), 6)) + 0.0137


def _bshape(a, b):
    try:
        return tuple(np.broadcast_shapes(a, b))
    except ValueError:
        return None


def _any(rng, shapes):
    return {}


def _with_off(rng, shapes):
    return {"off": _off(rng)}


def _with_c(rng, shapes):
    return {"c": float(np.round(rng.uniform(0.5, 2.0), 4)) * (1 if rng.random() < 0.5 else -1)}


def _binary(rng, shapes):
    return {"off": _off(rng)} if _bshape(*shapes) is not None else None


def _dim(rng, shapes, need_size=1):
    s = shapes[0]
    dims = [d for d in range(len(s)) if s[d] >= need_size]
    if not dims:
        return None
    d = int(rng.choice(dims))
    if rng.random() < 0.5:
        d -= len(s)
    return {"dim": d, "keepdim": bool(rng.random() < 0.5)}


def _dim2(rng, shapes):
    return _dim(rng, shapes, 2)


def _ndim_at_least(n):
    return lambda rng, shapes: ({} if len(shapes[0]) >= n else None)


def _clamp(rng, shapes):
    lo = float(np.round(rng.uniform(-1.0, 0.0), 5)) - 0.0071
    return {"lo": lo, "hi": lo + float(np.round(rng.uniform(0.3, 1.5), 5))}


def _unsqueeze(rng, shapes):
    n = len(shapes[0])
    return {"dim": int(rng.integers(-(n + 1), n + 1))}


def _squeeze(rng, shapes):
    ones = [d for d, k in enumerate(shapes[0]) if k == 1]
    return {"dim": int(rng.choice(ones))} if ones else None


def _expand(rng, shapes):
    s = shapes[0]
    if len(s) >= 3:
        return None
    ones = [d for d, k in enumerate(s) if k == 1]
    if ones and rng.random() < 0.6:
        new = list(s)
        new[int(rng.choice(ones))] = 3
        return {"size": tuple(new)}
    return {"size": (2,) + tuple(s)}


def _permute(rng, shapes):
    n = len(shapes[0])
    return {"perm": tuple(int(i) for i in rng.permutation(n))} if n >= 2 else None


def _reshape(rng, shapes):
    s = shapes[0]
    if len(s) == 0:
        return {"shape": (1,)}
    n = int(np.prod(s))
    options = [(n,), (-1,), tuple(reversed(s))]
    if n % 2 == 0 and n > 2:
        options.append((2, n // 2))
    return {"shape": options[int(rng.integers(len(options)))]}


def _slice(rng, shapes):
    s = shapes[0]
    if not s or s[0] < 2:
        return None
    return {"kind": int(rng.integers(3))}


def _intlist(rng, shapes):
    s = shapes[0]
    if not s or s[0] < 1:
        return None
    k = int(rng.integers(2, 5))
    idx = [int(i) for i in rng.integers(0, s[0], k)]
    idx.append(idx[0])                  # at least one repeat
    return {"idx": idx}


def _intlist_last(rng, shapes):
    s = shapes[0]
    if len(s) < 2 or s[-1] < 1:
        return None
    idx = [int(i) for i in rng.integers(0, s[-1], 3)] + [0]
    return {"idx": idx}


def _select(rng, shapes):
    s = shapes[0]
    if not s or s[0] < 1:
        return None
    return {"i": int(rng.integers(-s[0], s[0]))}


def _cat(rng, shapes):
    a, b = shapes
    if len(a) == 0 or len(a) != len(b):
        return None
    dims = [d for d in range(len(a))
            if all(a[k] == b[k] for k in range(len(a)) if k != d)]
    return {"dim": int(rng.choice(dims))} if dims else None


def _stack(rng, shapes):
    a, b = shapes
    if a != b:
        return None
    return {"dim": int(rng.integers(-(len(a) + 1), len(a) + 1))}


def _matmul(rng, shapes):
    a, b = shapes
    if not (1 <= len(a) <= 2 and 1 <= len(b) <= 2):
        return None
    if a[-1] != b[0 if len(b) == 1 else -2] or a[-1] == 0:
        return None
    return {}


def _matmul_t(rng, shapes):
    return {} if len(shapes[0]) == 2 else None


def _inplace_binary(rng, shapes):
    a, b = shapes
    return {"off": _off(rng)} if _bshape(a, b) == tuple(a) else None


def _setitem(rng, shapes):
    a, b = shapes
    if not a or a[0] < 2:
        return None
    kind = int(rng.integers(3))
    return {"kind": kind, "scalar": bool(rng.random() < 0.5)}


def _index_put(rng, shapes):
    s = shapes[0]
    if not s or s[0] < 2:
        return None
    idx = [int(i) for i in rng.permutation(s[0])[:int(rng.integers(1, s[0] + 1))]]
    return {"idx": idx, "tensor": bool(rng.random() < 0.5), "scalar": bool(rng.random() < 0.5),
            "vals": np.round(rng.uniform(-1, 1, (len(idx),) + tuple(s[1:])), 4).tolist()}


def _int_tensor(rng, shapes):
    s = shapes[0]
    return {"ints": rng.integers(-3, 4, s).tolist() if rng.random() < 0.7 else int(rng.integers(-3, 4))}


def _setitem_index(p, lib):
    k = p["kind"]
    if k == 0:
        return 0
    if k == 1:
        return slice(1, None)
    return (slice(None, None, 2),)


def _slice_index(p):
    k = p["kind"]
    if k == 0:
        return slice(1, None)
    if k == 1:
        return slice(None, None, 2)
    return (Ellipsis, slice(0, 1))


def _setitem_fn(lib, xs, p):
    x, y = xs
    idx = _setitem_index(p, lib)
    target_shape = tuple(x[idx].shape)
    v = y.sum() * 0.5 if p["scalar"] or _bshape(tuple(y.shape), target_shape) != target_shape \
        else y * 0.5
    x[idx] = v
    return x


def _clone_then(fn):
    def run(lib, xs, p):
        return fn(lib, [xs[0].clone()] + list(xs[1:]), p)
    return run


def _nograd_add(lib, xs, p):
    with lib.no_grad():
        c = xs[0] * 3.0
    return xs[0] + c


def _tiebreak(lib, x, dim):
    n = x.shape[dim]
    d = dim % x.dim()
    ramp = lib.arange(n, dtype=x.dtype) * 1e-3
    return x + ramp.reshape([n] + [1] * (x.dim() - d - 1))


def _gram(lib, x):
    n = x.shape[-2]
    return x @ x.mT + lib.eye(n, dtype=x.dtype)


def _solve(rng, shapes):
    a, b = shapes
    return {} if len(a) == 2 and len(b) in (1, 2) and b[0] == a[0] else None


def _gather(rng, shapes):
    s = shapes[0]
    if not s or 0 in s:
        return None
    d = int(rng.integers(len(s)))
    idx = rng.integers(0, s[d], s).tolist()
    return {"dim": d, "idx": idx, "out": tuple(s)}


def _targets(rng, shapes):
    s = shapes[0]
    if len(s) != 2 or 0 in s:
        return None
    return {"t": rng.integers(0, s[1], s[0]).tolist()}


def _unbind_mix(lib, x, dim):
    parts = x.unbind(dim)
    return parts[0] * parts[-1] + parts[0]


def _hooked(x, c):
    y = x.clone()
    if y.requires_grad:
        y.register_hook(lambda g: g * c)
    return y


def _bmm(rng, shapes):
    """Reshape both operands to batched matrices whose batch dimensions broadcast."""
    a, b = (int(np.prod(s)) for s in shapes)
    if a % 2 or b % 2 or a < 4 or b < 2:
        return None
    k = 2
    sa = (2, a // 4, k) if a % 4 == 0 else (1, a // 2, k)
    sb = (1, k, b // 2)
    return {"a": sa, "b": sb}


# name -> (arity, params, fn)
OPS = {
    # unary math, guarded domains
    "sin": (1, _any, lambda lib, xs, p: lib.sin(xs[0])),
    "cos": (1, _any, lambda lib, xs, p: xs[0].cos()),
    "tanh": (1, _any, lambda lib, xs, p: lib.tanh(xs[0])),
    "sigmoid": (1, _any, lambda lib, xs, p: lib.sigmoid(xs[0])),
    "exp_tanh": (1, _any, lambda lib, xs, p: lib.exp(lib.tanh(xs[0]))),
    "log_abs": (1, _any, lambda lib, xs, p: lib.log(lib.abs(xs[0]) + 0.5)),
    "sqrt_sq": (1, _any, lambda lib, xs, p: lib.sqrt(xs[0] * xs[0] + 0.1)),
    "square": (1, _any, lambda lib, xs, p: lib.square(xs[0])),
    "cube": (1, _any, lambda lib, xs, p: xs[0] ** 3),
    "recip": (1, _any, lambda lib, xs, p: lib.reciprocal(xs[0] * xs[0] + 1.0)),
    "atan": (1, _any, lambda lib, xs, p: lib.atan(xs[0])),
    "asinh": (1, _any, lambda lib, xs, p: lib.asinh(xs[0])),
    "erf": (1, _any, lambda lib, xs, p: lib.erf(xs[0])),
    "log1p_sq": (1, _any, lambda lib, xs, p: lib.log1p(xs[0] * xs[0])),
    "expm1_tanh": (1, _any, lambda lib, xs, p: lib.expm1(lib.tanh(xs[0]))),
    "relu_off": (1, _with_off, lambda lib, xs, p: lib.relu(xs[0] + p["off"])),
    "abs_off": (1, _with_off, lambda lib, xs, p: lib.abs(xs[0] - p["off"])),
    "softplus": (1, _any, lambda lib, xs, p: lib.nn.functional.softplus(xs[0])),
    "neg": (1, _any, lambda lib, xs, p: -xs[0]),
    "scale": (1, _with_c, lambda lib, xs, p: xs[0] * p["c"]),
    "rsub": (1, _with_c, lambda lib, xs, p: p["c"] - xs[0]),
    "rdiv": (1, _with_c, lambda lib, xs, p: p["c"] / (xs[0] * xs[0] + 0.5)),
    "clamp": (1, _clamp, lambda lib, xs, p: lib.clamp(xs[0], p["lo"], p["hi"])),
    "clamp_min": (1, _clamp, lambda lib, xs, p: xs[0].clamp(min=p["lo"])),
    "pow_frac": (1, _with_c, lambda lib, xs, p: (lib.abs(xs[0]) + 0.5) ** abs(p["c"])),
    "rpow": (1, _with_c, lambda lib, xs, p: abs(p["c"]) ** lib.tanh(xs[0])),
    "clone": (1, _any, lambda lib, xs, p: xs[0].clone()),
    "detach_mul": (1, _any, lambda lib, xs, p: xs[0] * xs[0].detach()),
    "nograd_add": (1, _any, _nograd_add),
    "floor_add": (1, _any, lambda lib, xs, p: xs[0] + lib.floor(xs[0] * 2.0 + 0.37)),
    "masked_fill": (1, _with_off, lambda lib, xs, p: xs[0].masked_fill(xs[0] > p["off"], 0.25)),
    "mul_int": (1, _int_tensor, lambda lib, xs, p: xs[0] * lib.tensor(p["ints"])),
    "int_rsub": (1, _int_tensor, lambda lib, xs, p: lib.tensor(p["ints"]) - xs[0]),
    # binary broadcasting arithmetic
    "add": (2, _binary, lambda lib, xs, p: xs[0] + xs[1]),
    "sub": (2, _binary, lambda lib, xs, p: lib.sub(xs[0], xs[1])),
    "mul": (2, _binary, lambda lib, xs, p: xs[0] * xs[1]),
    "div": (2, _binary, lambda lib, xs, p: xs[0] / (xs[1] * xs[1] + 0.5)),
    "maximum": (2, _binary, lambda lib, xs, p: lib.maximum(xs[0], xs[1] + p["off"])),
    "minimum": (2, _binary, lambda lib, xs, p: lib.minimum(xs[0] - p["off"], xs[1])),
    "where": (2, _binary, lambda lib, xs, p: lib.where(xs[0] > xs[1] + p["off"], xs[0],
                                                      xs[1] * 1.5)),
    "pow": (2, _binary, lambda lib, xs, p: (lib.abs(xs[0]) + 0.5) ** lib.tanh(xs[1])),
    "atan2": (2, _binary, lambda lib, xs, p: lib.atan2(xs[0], xs[1] * xs[1] + 0.2)),
    # reductions
    "sum_all": (1, _any, lambda lib, xs, p: xs[0].sum()),
    "mean_all": (1, _any, lambda lib, xs, p: lib.mean(xs[0])),
    "max_all": (1, lambda r, s: {} if np.prod(s[0]) > 0 else None, lambda lib, xs, p: xs[0].max()),
    "sum_dim": (1, _dim, lambda lib, xs, p: xs[0].sum(p["dim"], keepdim=p["keepdim"])),
    "mean_dim": (1, _dim, lambda lib, xs, p: xs[0].mean(dim=p["dim"], keepdim=p["keepdim"])),
    "amax_dim": (1, _dim, lambda lib, xs, p: lib.amax(xs[0], p["dim"], keepdim=p["keepdim"])),
    "logsumexp": (1, _dim, lambda lib, xs, p: lib.logsumexp(xs[0], p["dim"], keepdim=p["keepdim"])),
    "softmax": (1, _dim, lambda lib, xs, p: lib.softmax(xs[0], p["dim"])),
    "log_softmax": (1, _dim, lambda lib, xs, p: xs[0].log_softmax(p["dim"])),
    "prod_dim": (1, _dim, lambda lib, xs, p: xs[0].prod(p["dim"], keepdim=p["keepdim"])),
    "cumsum": (1, _dim, lambda lib, xs, p: lib.cumsum(xs[0], p["dim"])),
    "cumprod": (1, _dim, lambda lib, xs, p: xs[0].cumprod(p["dim"])),
    "var_dim": (1, _dim2, lambda lib, xs, p: xs[0].var(p["dim"], keepdim=p["keepdim"])),
    "norm": (1, _any, lambda lib, xs, p: (xs[0] + 0.031).norm()),
    # shapes
    "reshape": (1, _reshape, lambda lib, xs, p: xs[0].reshape(p["shape"])),
    "transpose": (1, _ndim_at_least(2), lambda lib, xs, p: xs[0].transpose(-1, -2)),
    "permute": (1, _permute, lambda lib, xs, p: xs[0].permute(*p["perm"])),
    "unsqueeze": (1, _unsqueeze, lambda lib, xs, p: xs[0].unsqueeze(p["dim"])),
    "squeeze": (1, _squeeze, lambda lib, xs, p: xs[0].squeeze(p["dim"])),
    "expand": (1, _expand, lambda lib, xs, p: xs[0].expand(*p["size"])),
    "flip": (1, _dim, lambda lib, xs, p: lib.flip(xs[0], (p["dim"],))),
    # indexing
    "slice": (1, _slice, lambda lib, xs, p: xs[0][_slice_index(p)]),
    "select": (1, _select, lambda lib, xs, p: xs[0][p["i"]]),
    "intlist": (1, _intlist, lambda lib, xs, p: xs[0][p["idx"]]),
    "intlist_tensor": (1, _intlist_last,
                       lambda lib, xs, p: xs[0][..., lib.tensor(p["idx"])]),
    "index_select": (1, _intlist, lambda lib, xs, p: xs[0].index_select(0, lib.tensor(p["idx"]))),
    "mask": (1, _with_off, lambda lib, xs, p: xs[0][xs[0] > p["off"]]),
    # joining, products
    "cat": (2, _cat, lambda lib, xs, p: lib.cat([xs[0], xs[1], xs[0]], dim=p["dim"])),
    "stack": (2, _stack, lambda lib, xs, p: lib.stack([xs[0], xs[1]], dim=p["dim"])),
    "matmul": (2, _matmul, lambda lib, xs, p: xs[0] @ xs[1]),
    "matmul_t": (1, _matmul_t, lambda lib, xs, p: lib.matmul(xs[0], xs[0].mT)),
    # in-place on a fresh clone of an intermediate
    "clone_add_": (2, _inplace_binary, _clone_then(lambda lib, xs, p: xs[0].add_(xs[1]))),
    "clone_mul_": (2, _inplace_binary, _clone_then(lambda lib, xs, p: xs[0].mul_(xs[1]))),
    "clone_tanh_": (1, _any, _clone_then(lambda lib, xs, p: xs[0].tanh_())),
    "clone_setitem": (2, _setitem, _clone_then(_setitem_fn)),
    # in-place on an intermediate of the pool (earlier users may have saved it)
    "inplace_add_": (2, _inplace_binary, lambda lib, xs, p: xs[0].add_(xs[1] * 0.5)),
    "inplace_mul_": (2, _inplace_binary, lambda lib, xs, p: xs[0].mul_(lib.tanh(xs[1]))),
    "inplace_sigmoid_": (1, _any, lambda lib, xs, p: xs[0].sigmoid_()),
    "inplace_exp_": (1, _any, lambda lib, xs, p: xs[0].mul_(0.1).exp_()),
    "inplace_clamp_": (1, _clamp, lambda lib, xs, p: xs[0].clamp_(p["lo"], p["hi"])),
    "inplace_setitem": (2, _setitem, _setitem_fn),
    "iadd_op": (2, _inplace_binary, lambda lib, xs, p: _iadd(xs[0], xs[1])),
    "inplace_sub_": (2, _inplace_binary, lambda lib, xs, p: xs[0].sub_(xs[1] * 0.3)),
    "inplace_div_": (2, _inplace_binary, lambda lib, xs, p: xs[0].div_(xs[1] * xs[1] + 0.5)),
    "inplace_copy_": (2, _inplace_binary, lambda lib, xs, p: xs[0].copy_(xs[1] * 0.5)),
    "inplace_fill_": (2, _any, lambda lib, xs, p: xs[0].fill_(xs[1].sum() * 0.1)),
    "inplace_zero_": (1, _any, lambda lib, xs, p: xs[0].zero_()),
    "inplace_relu_": (1, _with_off, lambda lib, xs, p: xs[0].add_(p["off"]).relu_()),
    "inplace_cumsum_": (1, _dim, lambda lib, xs, p: xs[0].cumsum_(p["dim"])),
    "inplace_tril_": (1, _ndim_at_least(2), lambda lib, xs, p: xs[0].tril_()),
    "inplace_masked_fill_": (2, _with_off, lambda lib, xs, p: xs[0].masked_fill_(
        xs[0] > p["off"], xs[1].sum() * 0.5)),
    "inplace_index_put": (2, _index_put, lambda lib, xs, p: _index_put_fn(lib, xs, p)),
    "inplace_getitem_iadd": (2, _setitem, lambda lib, xs, p: _getitem_iadd(lib, xs, p)),
    "clone_index_put": (2, _index_put, _clone_then(lambda lib, xs, p: _index_put_fn(lib, xs, p))),
    # tensor bounds, scalar branches, dtype changes inside a program
    "clamp_tensor": (2, _binary, lambda lib, xs, p: lib.clamp(xs[0], min=xs[1] - 0.5,
                                                           max=xs[1] + 0.7 + p["off"])),
    "where_scalar": (1, _with_off, lambda lib, xs, p: lib.where(xs[0] > p["off"], xs[0], 0.0)),
    "f32_roundtrip": (1, _any, lambda lib, xs, p: (xs[0].float() * 2).double()),
    "mul_f64": (1, _int_tensor, lambda lib, xs, p: xs[0] * lib.tensor(p["ints"], dtype=lib.float64)),
    # engine: a gradient hook on an intermediate, batched matmul
    "hook": (1, _with_c, lambda lib, xs, p: _hooked(xs[0], p["c"])),
    "bmm": (2, _bmm, lambda lib, xs, p: lib.matmul(xs[0].reshape(p["a"]), xs[1].reshape(p["b"]))),
    # multi-output ops, sorting, gather/scatter
    "split_cat": (1, _dim, lambda lib, xs, p: lib.cat(
        list(lib.split(xs[0], 1, p["dim"]))[::-1], p["dim"])),
    "unbind_mix": (1, _dim, lambda lib, xs, p: _unbind_mix(lib, xs[0], p["dim"])),
    "chunk0": (1, _dim2, lambda lib, xs, p: lib.chunk(xs[0], 2, p["dim"])[0] * 2.0),
    # (a ramp along dim breaks ties: which of equal elements PyTorch picks is unspecified)
    "sort": (1, _dim, lambda lib, xs, p: lib.sort(_tiebreak(lib, xs[0], p["dim"]), p["dim"],
                                                 descending=p["keepdim"])[0]),
    "topk": (1, _dim, lambda lib, xs, p: _tiebreak(lib, xs[0], p["dim"]).topk(1, p["dim"])[0]),
    "gather": (1, _gather, lambda lib, xs, p: xs[0].gather(p["dim"], lib.tensor(p["idx"]))),
    "scatter_add": (1, _gather, lambda lib, xs, p: lib.zeros(
        p["out"], dtype=xs[0].dtype).scatter_add(p["dim"], lib.tensor(p["idx"]),
                                                  xs[0].gather(p["dim"], lib.tensor(p["idx"])))),
    # (masked_select, mse_loss and BCE get a clone: PyTorch saves their inputs, chainrule's
    # composites do not, so a later in-place change raises only in PyTorch -- see
    # test_inplace_change_after_op_raises_like_pytorch)
    "masked_select": (1, _with_off, lambda lib, xs, p: xs[0].clone().masked_select(
        xs[0] > p["off"])),
    "roll": (1, _dim, lambda lib, xs, p: lib.roll(xs[0], 1, p["dim"])),
    "tile": (1, _any, lambda lib, xs, p: xs[0].tile((2,) + (1,) * max(xs[0].dim() - 1, 0))
             if xs[0].dim() else xs[0].tile((2,))),
    "narrow": (1, _dim2, lambda lib, xs, p: xs[0].narrow(p["dim"], 1, 1)),
    # matrices
    "tril": (1, _ndim_at_least(2), lambda lib, xs, p: lib.tril(xs[0])),
    "diagonal": (1, _ndim_at_least(2), lambda lib, xs, p: xs[0].diagonal(0, -2, -1)),
    "trace": (1, lambda r, s: {} if len(s[0]) == 2 else None, lambda lib, xs, p: xs[0].trace()),
    "outer": (2, lambda r, s: {} if len(s[0]) == 1 and len(s[1]) == 1 else None,
              lambda lib, xs, p: lib.outer(xs[0], xs[1])),
    "einsum": (2, _matmul, lambda lib, xs, p: lib.einsum(
        ("ij," if xs[0].dim() == 2 else "j,") + ("jk->" if xs[1].dim() == 2 else "j->")
        + ("i" if xs[0].dim() == 2 else "") + ("k" if xs[1].dim() == 2 else ""), xs[0], xs[1])),
    "inv_gram": (1, _ndim_at_least(2), lambda lib, xs, p: lib.linalg.inv(_gram(lib, xs[0]))),
    "det_gram": (1, _ndim_at_least(2), lambda lib, xs, p: lib.det(_gram(lib, xs[0]))),
    "solve_gram": (2, _solve, lambda lib, xs, p: lib.linalg.solve(_gram(lib, xs[0]), xs[1])),
    "vector_norm": (1, _dim, lambda lib, xs, p: lib.linalg.vector_norm(
        xs[0] + 0.031, dim=p["dim"], keepdim=p["keepdim"])),
    "std_dim": (1, _dim2, lambda lib, xs, p: (xs[0] + lib.arange(xs[0].shape[p["dim"]],
                dtype=xs[0].dtype).reshape([-1] + [1] * (-p["dim"] - 1 if p["dim"] < 0 else
                xs[0].dim() - p["dim"] - 1)) * 0.3).std(p["dim"])),
    # activations and losses
    "gelu": (1, _any, lambda lib, xs, p: lib.nn.functional.gelu(xs[0])),
    "silu": (1, _any, lambda lib, xs, p: lib.nn.functional.silu(xs[0])),
    "elu": (1, _with_off, lambda lib, xs, p: lib.nn.functional.elu(xs[0] + p["off"])),
    "leaky_relu": (1, _with_off, lambda lib, xs, p: lib.nn.functional.leaky_relu(xs[0] + p["off"], 0.1)),
    "logsigmoid": (1, _any, lambda lib, xs, p: lib.nn.functional.logsigmoid(xs[0])),
    "mse_loss": (2, lambda r, s: {} if s[0] == s[1] else None,
                 lambda lib, xs, p: lib.nn.functional.mse_loss(xs[0].clone(), xs[1].clone())),
    "bce_logits": (2, lambda r, s: {} if s[0] == s[1] else None,
                   lambda lib, xs, p: lib.nn.functional.binary_cross_entropy_with_logits(
                       xs[0].clone(), lib.sigmoid(xs[1]).to(xs[0].dtype))),
    "cross_entropy": (1, _targets, lambda lib, xs, p: lib.nn.functional.cross_entropy(
        xs[0], lib.tensor(p["t"]))),
}


def _getitem_iadd(lib, xs, p):
    x, y = xs
    idx = _setitem_index(p, lib)
    x[idx] += y.sum() * 0.25          # getitem, in-place add on the view, setitem
    return x


def _index_put_fn(lib, xs, p):
    x, y = xs
    idx = lib.tensor(p["idx"]) if p["tensor"] else p["idx"]
    # (the value gets x's dtype: PyTorch's index_put refuses other dtypes, chainrule casts)
    v = y.sum() * 0.5 if p["scalar"] else y.sum() * lib.tensor(p["vals"], dtype=x.dtype)
    x[idx] = v.to(x.dtype)
    return x


def _iadd(x, y):
    x += y
    return x


NAMES = sorted(OPS)


def _is_view(t):
    return t._base is not None


def make_leaves(rng, n):
    shapes = [LEAF_SHAPES[int(rng.integers(len(LEAF_SHAPES)))] for _ in range(n)]
    return [np.round(rng.uniform(-1.5, 1.5, s), 6) for s in shapes]


def run(lib, program, leaves):
    """Run ``program`` on ``leaves`` (tensors of ``lib``); returns the pool."""
    pool = list(leaves)
    for name, args, p in program:
        fn = OPS[name][2]
        pool.append(fn(lib, [pool[i] for i in args], p))
    return pool


def _ok_values(pool):
    import torch
    for t in pool:
        if not torch.is_floating_point(t):
            return False
        a = t.detach()
        if a.numel() and not (torch.isfinite(a).all() and a.abs().max() < VALUE_LIMIT):
            return False
    return True


class Leaves(list):
    """The leaf arrays of a program; ``rg[i]``: whether leaf ``i`` requires grad."""
    rg = ()


def make_program(seed, n_steps=None, n_leaves=None, inplace=True):
    """A random valid program: ``(leaves as float64 arrays, steps, output indices)``; the
    first leaf requires grad, a later one sometimes not (it may then be changed in place)."""
    import torch
    rng = np.random.default_rng(seed)
    n_leaves = n_leaves or int(rng.integers(2, 4))
    leaves = Leaves(make_leaves(rng, n_leaves))
    leaves.rg = tuple([True] * (n_leaves - 1) + [bool(rng.random() < 0.7)])
    n_steps = n_steps or int(rng.integers(3, MAX_STEPS + 1))
    names = [n for n in NAMES if inplace or "_" != n[-1] and "setitem" not in n]
    program = []
    tries = 0

    def fresh():
        return [torch.tensor(a, dtype=torch.float64, requires_grad=r)
                for a, r in zip(leaves, leaves.rg)]
    pool = fresh()
    while len(program) < n_steps and tries < 200:
        tries += 1
        name = names[int(rng.integers(len(names)))]
        arity, params, fn = OPS[name]
        n_pool = len(pool)
        # prefer recent variables, but any may be reused (fan-out)
        weights = np.arange(1, n_pool + 1, dtype=float) ** 1.5
        args = [int(rng.choice(n_pool, p=weights / weights.sum())) for _ in range(arity)]
        p = params(rng, [tuple(pool[i].shape) for i in args])
        if p is None:
            continue
        if name == "reshape" and not pool[args[0]].is_contiguous():
            continue        # PyTorch copies or views by strides chainrule does not model
        mutates = name.startswith("inplace") or name == "iadd_op"
        if mutates:
            x = pool[args[0]]
            if args[0] < n_leaves and leaves.rg[args[0]] or args.count(args[0]) > 1 or any(
                    st == 0 and k > 1 for st, k in zip(x.stride(), x.shape)):
                continue        # (PyTorch only warns for masked_fill_ on expanded tensors)
        step = (name, args, p)
        try:
            if mutates:         # replay: a refused in-place step must leave no trace
                new_pool = run(torch, program + [step], fresh())
            else:
                new_pool = pool + [fn(torch, [pool[i] for i in args], p)]
        except (RuntimeError, IndexError, ValueError, TypeError):
            continue
        if not _ok_values(new_pool[-1:] if not mutates else new_pool):
            continue
        program.append(step)
        pool = new_pool
    grad_vars = [i for i in range(n_leaves, len(pool)) if pool[i].requires_grad]
    outs = []
    if grad_vars:
        outs.append(grad_vars[-1])
        if len(grad_vars) > 1 and rng.random() < 0.6:
            other = grad_vars[int(rng.integers(len(grad_vars) - 1))]
            if pool[other] is not pool[outs[0]]:
                outs.append(other)
    return leaves, program, outs


def describe(leaves, program, outs):
    """A readable form of a program (printed when a property fails)."""
    lines = [f"leaves: {[np.shape(a) for a in leaves]}, requires_grad: {list(leaves.rg)}"]
    n = len(leaves)
    for k, (name, args, p) in enumerate(program):
        lines.append(f"  v{n + k} = {name}({', '.join(f'v{i}' for i in args)}) {p}")
    lines.append(f"outputs: {['v%d' % i for i in outs]}")
    return "\n".join(lines)
