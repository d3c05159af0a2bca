"""The benchmark workloads, one builder per (workload, library).

Every builder returns a callable ``step()`` that runs one forward + backward pass (and,
for the MLP, the SGD update) and returns the gradients as a list of NumPy arrays, so the
same code is timed by ``run.py`` and checked for equal gradients by ``check_gradients``
(and by ``tests/test_benchmarks_smoke.py`` at tiny sizes).

Libraries: ``chainrule``, ``torch`` (PyTorch eager), ``hips`` (HIPS ``autograd``) and
``numpy`` (a hand-written forward/backward, the speed floor for NumPy-based code).
"""
import numpy as np

LIBS = ("chainrule", "torch", "hips", "numpy")

# the elementwise chain: op k is CHAIN[k % 4]
MUL_C, ADD_C = 0.9, 0.1
CHAIN = ("mul", "add", "sin", "tanh")


def available_libs():
    """The libraries importable here (chainrule and numpy always are)."""
    libs = ["chainrule"]
    # "autograd.numpy", not "autograd": tests/autograd/ would satisfy a bare import there
    for name, mod in (("torch", "torch"), ("hips", "autograd.numpy")):
        try:
            __import__(mod)
            libs.append(name)
        except ImportError:
            pass
    libs.append("numpy")
    return libs


def _np_dtype(dtype):
    return np.dtype(dtype)


# --- overhead / deep: the elementwise chain -------------------------------------------------

def chain_input(size, seed=0):
    """Start vector of the chain (``size=()`` gives a 0-d scalar)."""
    rng = np.random.default_rng(seed)
    return rng.uniform(-1.0, 1.0, size=size).astype(np.float64)


def chain(lib, x0, n_ops):
    """``step()`` for a chain of ``n_ops`` elementwise ops on ``x0``, then ``sum`` and
    backward; returns ``[d sum / d x0]``."""
    kinds = [CHAIN[k % 4] for k in range(n_ops)]
    if lib in ("chainrule", "compiled"):
        import chainrule as cr
        x = cr.tensor(x0, requires_grad=True)
        sin, tanh = cr.sin, cr.tanh

        def run():
            x.grad = None
            h = x
            for k in kinds:
                if k == "mul":
                    h = h * MUL_C
                elif k == "add":
                    h = h + ADD_C
                elif k == "sin":
                    h = sin(h)
                else:
                    h = tanh(h)
            h.sum().backward()
            return x.grad
        if lib == "compiled":
            run = cr.compile(run, fullgraph=True)      # the same step, recorded and replayed

        def step():
            return [run()._data]
        return step
    if lib == "torch":
        import torch
        x = torch.tensor(x0, requires_grad=True)
        sin, tanh = torch.sin, torch.tanh

        def step():
            x.grad = None
            h = x
            for k in kinds:
                if k == "mul":
                    h = h * MUL_C
                elif k == "add":
                    h = h + ADD_C
                elif k == "sin":
                    h = sin(h)
                else:
                    h = tanh(h)
            h.sum().backward()
            return [x.grad.numpy()]
        return step
    if lib == "hips":
        import autograd
        import autograd.numpy as anp
        sin, tanh = anp.sin, anp.tanh

        def f(h):
            for k in kinds:
                if k == "mul":
                    h = h * MUL_C
                elif k == "add":
                    h = h + ADD_C
                elif k == "sin":
                    h = sin(h)
                else:
                    h = tanh(h)
            return anp.sum(h)
        df = autograd.grad(f)
        x = np.array(x0)

        def step():
            return [np.asarray(df(x))]
        return step
    if lib == "numpy":
        x = np.array(x0)
        sin, cos, tanh = np.sin, np.cos, np.tanh

        def step():
            saved = []
            h = x
            for k in kinds:
                if k == "mul":
                    h = h * MUL_C
                elif k == "add":
                    h = h + ADD_C
                elif k == "sin":
                    saved.append(h)
                    h = sin(h)
                else:
                    h = tanh(h)
                    saved.append(h)
            g = np.ones_like(h)
            for k in reversed(kinds):
                if k == "mul":
                    g = g * MUL_C
                elif k == "sin":
                    g = g * cos(saved.pop())
                elif k == "tanh":
                    y = saved.pop()
                    g = g * (1.0 - y * y)
            return [g]
        return step
    raise ValueError(f"unknown library {lib!r}")


# --- mlp: one SGD step of a 784 -> hidden -> 10 ReLU MLP -------------------------------------

def mlp_data(batch=128, n_in=784, hidden=256, n_out=10, dtype="float64", seed=0):
    """Inputs, labels and initial parameters ``[W1, b1, W2, b2]`` as NumPy arrays."""
    rng = np.random.default_rng(seed)
    dt = _np_dtype(dtype)
    x = rng.standard_normal((batch, n_in)).astype(dt)
    y = rng.integers(0, n_out, size=batch)
    params = [
        (rng.standard_normal((n_in, hidden)) / np.sqrt(n_in)).astype(dt),
        (0.1 * rng.standard_normal(hidden)).astype(dt),
        (rng.standard_normal((hidden, n_out)) / np.sqrt(hidden)).astype(dt),
        (0.1 * rng.standard_normal(n_out)).astype(dt),
    ]
    return x, y, params


def mlp(lib, x, y, params, lr=1e-3):
    """``step()``: forward (softmax cross-entropy from exp/log/sum/max/indexing), backward,
    SGD update; returns the gradients ``[dW1, db1, dW2, db2]`` of that step."""
    batch = x.shape[0]
    rows = np.arange(batch)
    if lib == "compiled":
        import chainrule as m
        ps = [m.tensor(p.copy(), requires_grad=True) for p in params]
        xt, rows_t, yt = m.tensor(x), m.tensor(rows), m.tensor(y)
        W1, b1, W2, b2 = ps

        @m.compile(fullgraph=True)
        def compiled_step():
            h = m.relu(xt @ W1 + b1)
            logits = h @ W2 + b2
            z = logits - logits.max(dim=1, keepdim=True).values
            logp = z - m.log(m.exp(z).sum(dim=1, keepdim=True))
            loss = -logp[rows_t, yt].sum() / batch
            loss.backward()
            grads = [p.grad for p in ps]    # the next backward makes new ones
            with m.no_grad():
                for p in ps:
                    p -= lr * p.grad
                    p.grad = None
            return grads

        def step():
            return [g._data for g in compiled_step()]
        return step
    if lib in ("chainrule", "torch"):
        if lib == "chainrule":
            import chainrule as m
            ps = [m.tensor(p.copy(), requires_grad=True) for p in params]
            xt, rows_t, yt = m.tensor(x), m.tensor(rows), m.tensor(y)
        else:
            import torch as m
            ps = [m.tensor(p.copy(), requires_grad=True) for p in params]
            xt, rows_t, yt = m.tensor(x), m.tensor(rows), m.tensor(y)
        W1, b1, W2, b2 = ps

        def step():
            h = m.relu(xt @ W1 + b1)
            logits = h @ W2 + b2
            z = logits - logits.max(dim=1, keepdim=True).values
            logp = z - m.log(m.exp(z).sum(dim=1, keepdim=True))
            loss = -logp[rows_t, yt].sum() / batch
            loss.backward()
            grads = [p.grad.numpy() for p in ps]    # the next backward makes new ones
            with m.no_grad():
                for p in ps:
                    p -= lr * p.grad
                    p.grad = None
            return grads
        return step
    if lib == "hips":
        import autograd
        import autograd.numpy as anp
        ps = [p.copy() for p in params]

        def loss_fn(ps):
            W1, b1, W2, b2 = ps
            h = anp.maximum(anp.dot(x, W1) + b1, 0.0)
            logits = anp.dot(h, W2) + b2
            z = logits - anp.max(logits, axis=1, keepdims=True)
            logp = z - anp.log(anp.sum(anp.exp(z), axis=1, keepdims=True))
            return -anp.sum(logp[rows, y]) / batch
        dloss = autograd.grad(loss_fn)

        def step():
            grads = dloss(ps)
            for p, g in zip(ps, grads):
                p -= lr * g
            return [np.asarray(g) for g in grads]
        return step
    if lib == "numpy":
        ps = [p.copy() for p in params]

        def step():
            W1, b1, W2, b2 = ps
            h = x @ W1
            h += b1
            np.maximum(h, 0, out=h)
            logits = h @ W2
            logits += b2
            z = logits - logits.max(axis=1, keepdims=True)
            e = np.exp(z)
            p = e / e.sum(axis=1, keepdims=True)
            # loss = -mean(log p[rows, y]); d loss / d logits = (p - onehot) / batch
            p[rows, y] -= 1
            p /= batch
            dW2 = h.T @ p
            db2 = p.sum(axis=0)
            dh = p @ W2.T
            dh *= h > 0
            dW1 = x.T @ dh
            db1 = dh.sum(axis=0)
            grads = [dW1, db1, dW2, db2]
            for q, g in zip(ps, grads):
                q -= lr * g
            return grads
        return step
    raise ValueError(f"unknown library {lib!r}")


# --- big: a matmul/tanh chain on large matrices ---------------------------------------------

def big_data(n=2048, layers=3, dtype="float32", seed=0):
    """Input ``x`` (n x n) and ``layers`` weight matrices (n x n)."""
    rng = np.random.default_rng(seed)
    dt = _np_dtype(dtype)
    x = rng.standard_normal((n, n)).astype(dt)
    ws = [(rng.standard_normal((n, n)) / np.sqrt(n)).astype(dt) for _ in range(layers)]
    return x, ws


def big(lib, x, ws):
    """``step()``: ``h = tanh(h @ W)`` per layer, ``h.sum()``, backward; returns ``[dW...]``."""
    if lib in ("chainrule", "torch"):
        if lib == "chainrule":
            import chainrule as m
        else:
            import torch as m
        xt = m.tensor(x)
        wt = [m.tensor(w, requires_grad=True) for w in ws]

        def step():
            h = xt
            for w in wt:
                h = m.tanh(h @ w)
            h.sum().backward()
            grads = [w.grad.numpy() for w in wt]
            for w in wt:
                w.grad = None
            return grads
        return step
    if lib == "hips":
        import autograd
        import autograd.numpy as anp

        def f(ws):
            h = x
            for w in ws:
                h = anp.tanh(anp.dot(h, w))
            return anp.sum(h)
        df = autograd.grad(f)
        wl = list(ws)

        def step():
            return [np.asarray(g) for g in df(wl)]
        return step
    if lib == "numpy":
        def step():
            hs = [x]
            for w in ws:
                hs.append(np.tanh(hs[-1] @ w))
            g = np.ones_like(hs[-1])
            grads = [None] * len(ws)
            for i in range(len(ws) - 1, -1, -1):
                y = hs[i + 1]
                g *= 1 - y * y               # through tanh (g is ours to overwrite)
                grads[i] = hs[i].T @ g
                if i:
                    g = g @ ws[i].T
            return grads
        return step
    raise ValueError(f"unknown library {lib!r}")


# --- conv: a 3x3 convolution layer and a LeNet training step --------------------------------

def conv_layer_data(batch=64, channels=64, size=32, dtype="float32", seed=0):
    """Input (batch, channels, size, size), a 3x3 weight (channels -> channels), a bias and
    the fixed upstream gradient of the output."""
    rng = np.random.default_rng(seed)
    dt = _np_dtype(dtype)
    x = rng.standard_normal((batch, channels, size, size)).astype(dt)
    w = (rng.standard_normal((channels, channels, 3, 3)) / np.sqrt(9 * channels)).astype(dt)
    b = (0.1 * rng.standard_normal(channels)).astype(dt)
    g = rng.standard_normal((batch, channels, size, size)).astype(dt)
    return x, w, b, g


def conv_layer(lib, x, w, b, g):
    """``step()``: ``y = conv2d(x, w, b, padding=1)``, backward of ``y`` with the upstream
    gradient ``g``; returns ``[dx, dw, db]``."""
    if lib in ("chainrule", "torch"):
        if lib == "chainrule":
            import chainrule as m
        else:
            import torch as m
        xt, wt, bt = (m.tensor(a, requires_grad=True) for a in (x, w, b))
        gt = m.tensor(g)
        conv2d = m.nn.functional.conv2d

        def step():
            for t in (xt, wt, bt):
                t.grad = None
            conv2d(xt, wt, bt, padding=1).backward(gt)
            return [xt.grad.numpy(), wt.grad.numpy(), bt.grad.numpy()]
        return step
    if lib == "numpy":
        from numpy.lib.stride_tricks import sliding_window_view
        n, c, h, wd = x.shape
        o = w.shape[0]

        def step():
            xl = np.zeros((n, h + 2, wd + 2, c), dtype=x.dtype)      # channels-last, padded
            xl[:, 1:-1, 1:-1] = x.transpose(0, 2, 3, 1)
            cols = sliding_window_view(xl, (3, 3), axis=(1, 2)).transpose(0, 1, 2, 4, 5, 3)
            cols = cols.reshape(n * h * wd, 9 * c)                   # rows (N*H*W, 3*3*C)
            w2 = w.transpose(0, 2, 3, 1).reshape(o, 9 * c)
            _ = np.ascontiguousarray((cols @ w2.T + b).reshape(n, h, wd, o).transpose(0, 3, 1, 2))
            gr = np.ascontiguousarray(g.transpose(0, 2, 3, 1)).reshape(-1, o)
            dw = (cols.T @ gr).T.reshape(o, 3, 3, c).transpose(0, 3, 1, 2)
            db = gr.sum(0)
            dcols = (gr @ w2).reshape(n, h, wd, 3, 3, c)
            dxl = np.zeros((n, h + 2, wd + 2, c), dtype=x.dtype)
            for i in range(3):
                for j in range(3):
                    dxl[:, i:i + h, j:j + wd] += dcols[:, :, :, i, j]
            dx = np.ascontiguousarray(dxl[:, 1:-1, 1:-1].transpose(0, 3, 1, 2))
            return [dx, np.ascontiguousarray(dw), db]
        return step
    raise ValueError(f"library {lib!r} has no conv_layer workload")


def lenet_data(batch=256, dtype="float32", seed=0):
    """MNIST-shaped inputs (batch, 1, 28, 28), labels and the book's LeNet parameters
    (conv 1->6 5x5 pad 2, conv 6->16 5x5, linear 400->120->84->10) as NumPy arrays."""
    rng = np.random.default_rng(seed)
    dt = _np_dtype(dtype)
    x = rng.standard_normal((batch, 1, 28, 28)).astype(dt)
    y = rng.integers(0, 10, size=batch)
    shapes = [(6, 1, 5, 5), (6,), (16, 6, 5, 5), (16,), (120, 400), (120,), (84, 120), (84,),
              (10, 84), (10,)]
    params = []
    for s in shapes:
        fan_in = int(np.prod(s[1:])) if len(s) > 1 else s[0]
        params.append((rng.uniform(-1, 1, s) / np.sqrt(fan_in)).astype(dt))
    return x, y, params


def lenet(lib, x, y, params, lr=0.1):
    """``step()``: LeNet forward (sigmoid activations, 2x2 average pooling), softmax
    cross-entropy, backward and an SGD update; returns the gradients of that step."""
    if lib not in ("chainrule", "torch"):
        raise ValueError(f"library {lib!r} has no lenet workload")
    if lib == "chainrule":
        import chainrule as m
    else:
        import torch as m
    F = m.nn.functional
    ps = [m.tensor(p.copy(), requires_grad=True) for p in params]
    xt, yt = m.tensor(x), m.tensor(y)

    def step():
        c1, b1, c2, b2, l1, lb1, l2, lb2, l3, lb3 = ps
        h = F.avg_pool2d(m.sigmoid(F.conv2d(xt, c1, b1, padding=2)), 2, 2)
        h = F.avg_pool2d(m.sigmoid(F.conv2d(h, c2, b2)), 2, 2).flatten(1)
        h = m.sigmoid(F.linear(h, l1, lb1))
        h = m.sigmoid(F.linear(h, l2, lb2))
        F.cross_entropy(F.linear(h, l3, lb3), yt).backward()
        grads = [p.grad.numpy() for p in ps]
        with m.no_grad():
            for p in ps:
                p -= lr * p.grad
                p.grad = None
        return grads
    return step


# --- gradient check ---------------------------------------------------------------------------

# --- scipy: L-BFGS with jac=True on chainrule's value_and_grad, eager and compiled -------------

def scipy_data(problem, seed=0):
    """``(x0, data)`` of a problem: ``"rosenbrock"`` (2-D) or ``"logreg"`` (a logistic
    regression with 100 weights on 500 samples, L2-regularised)."""
    if problem == "rosenbrock":
        return np.array([-1.2, 1.0]), None
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((500, 100))
    w_true = rng.standard_normal(100)
    y = np.where(X @ w_true + 0.5 * rng.standard_normal(500) > 0, 1.0, -1.0)
    return np.zeros(100), (X, y)


def scipy_minimize(lib, problem, x0, data):
    """``step()``: ``scipy.optimize.minimize(value_and_grad(f), x0, jac=True,
    method="L-BFGS-B")`` with ``f`` written in chainrule, run eagerly (``lib="chainrule"``)
    or compiled; returns ``[final x, [iterations]]``."""
    import scipy.optimize
    import chainrule as cr
    from chainrule.func import value_and_grad
    if problem == "rosenbrock":
        def f(x):
            return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2
    else:
        X, y = data
        Xt, yt = cr.tensor(X), cr.tensor(y)

        def f(w):
            return cr.nn.functional.softplus(-yt * (Xt @ w)).mean() + 0.005 * (w * w).sum()
    fun = value_and_grad(f)
    if lib == "compiled":
        fun = cr.compile(fun, fullgraph=True)
    elif lib != "chainrule":
        raise ValueError(f"unknown library {lib!r}")

    def step():
        res = scipy.optimize.minimize(fun, x0, jac=True, method="L-BFGS-B")
        return [res.x, np.array([res.nit])]
    return step


def check_gradients(make, libs, rtol, atol, reference="torch"):
    """Run one ``step()`` of each library (``make(lib)`` builds it) and assert that every
    gradient equals the reference library's.  Returns the reference gradients."""
    ref_lib = reference if reference in libs else "numpy"
    ref = make(ref_lib)()
    for lib in libs:
        if lib == ref_lib:
            continue
        got = make(lib)()
        assert len(got) == len(ref), (lib, len(got), len(ref))
        for i, (a, b) in enumerate(zip(got, ref)):
            a, b = np.asarray(a), np.asarray(b)
            assert a.shape == b.shape, f"{lib}: gradient {i} has shape {a.shape}, {ref_lib} {b.shape}"
            assert np.allclose(a, b, rtol=rtol, atol=atol), (
                f"{lib}: gradient {i} differs from {ref_lib}'s "
                f"(max abs diff {np.max(np.abs(a - b)):.3g})")
    return ref
