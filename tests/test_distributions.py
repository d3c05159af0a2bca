"""chainrule.distributions against torch.distributions: log_prob, entropy, cdf, mean and
variance values and their gradients (float64), shapes and dtypes, validation errors.
Sampling is checked statistically with a fixed seed and generous bounds (chainrule draws
from NumPy's generator, so the streams differ from PyTorch's)."""
import itertools
import math

import numpy as np
import pytest
import torch

import chainrule as cr

RNG = np.random.default_rng(0)


def _both(arrays):
    return ([cr.tensor(a, dtype=cr.float64, requires_grad=True) for a in arrays],
            [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays])


def _check(fn, arrays, rtol=1e-10, atol=1e-12):
    """fn(lib, *params) -> tensor; values and gradients of a weighted sum agree."""
    pc, pt = _both(arrays)
    yc, yt = fn(cr, *pc), fn(torch, *pt)
    np.testing.assert_allclose(yc.detach().numpy(), yt.detach().numpy(), rtol=rtol, atol=atol)
    assert tuple(yc.shape) == tuple(yt.shape)
    w = RNG.standard_normal(tuple(yt.shape))
    gc = cr.autograd.grad((yc * cr.tensor(w)).sum(), pc, allow_unused=True)
    gt = torch.autograd.grad((yt * torch.tensor(w)).sum(), pt, allow_unused=True)
    for a, b in zip(gc, gt):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=rtol * 100,
                                       atol=atol * 100)


def D(m):
    return m.distributions


VALUE_CASES = {
    "normal_log_prob": (lambda m, loc, s, x: D(m).Normal(loc, s).log_prob(x),
                        [RNG.standard_normal(4), RNG.uniform(0.5, 2, 4), RNG.standard_normal(4)]),
    "normal_log_prob_bcast": (lambda m, loc, s, x: D(m).Normal(loc, s).log_prob(x),
                              [RNG.standard_normal((3, 1)), RNG.uniform(0.5, 2, 4),
                               RNG.standard_normal((3, 4))]),
    "normal_entropy": (lambda m, loc, s: D(m).Normal(loc, s).entropy(),
                       [RNG.standard_normal(3), RNG.uniform(0.5, 2, 3)]),
    "normal_cdf": (lambda m, loc, s, x: D(m).Normal(loc, s).cdf(x),
                   [RNG.standard_normal(4), RNG.uniform(0.5, 2, 4), RNG.standard_normal(4)]),
    "normal_mean_var_std": (lambda m, loc, s: m.stack([D(m).Normal(loc, s).mean,
                                                       D(m).Normal(loc, s).variance,
                                                       D(m).Normal(loc, s).stddev]),
                            [RNG.standard_normal(3), RNG.uniform(0.5, 2, 3)]),
    "bernoulli_probs_log_prob": (
        lambda m, p: D(m).Bernoulli(p).log_prob(m.tensor([1.0, 0.0, 1.0], dtype=p.dtype)),
        [RNG.uniform(0.1, 0.9, 3)]),
    "bernoulli_logits_log_prob": (
        lambda m, z: D(m).Bernoulli(logits=z).log_prob(m.tensor([[1.0], [0.0]],
                                                                dtype=z.dtype)),
        [RNG.standard_normal(3)]),
    "bernoulli_entropy": (lambda m, p: D(m).Bernoulli(p).entropy(), [RNG.uniform(0.1, 0.9, 4)]),
    "bernoulli_logits_entropy": (lambda m, z: D(m).Bernoulli(logits=z).entropy(),
                                 [RNG.standard_normal(4)]),
    "bernoulli_mean_var": (lambda m, p: D(m).Bernoulli(p).mean + D(m).Bernoulli(p).variance,
                           [RNG.uniform(0.1, 0.9, 4)]),
    "categorical_probs_log_prob": (
        lambda m, p: D(m).Categorical(p).log_prob(m.tensor([0, 2, 3])),
        [RNG.uniform(0.1, 1, 4)]),
    "categorical_batch_log_prob": (
        lambda m, p: D(m).Categorical(p).log_prob(m.tensor([[0, 2], [1, 1], [2, 0]])),
        [RNG.uniform(0.1, 1, (2, 3))]),
    "categorical_logits_log_prob": (
        lambda m, z: D(m).Categorical(logits=z).log_prob(m.tensor([1, 0])),
        [RNG.standard_normal((2, 3))]),
    "categorical_entropy": (lambda m, p: D(m).Categorical(p).entropy(),
                            [RNG.uniform(0.1, 1, (2, 5))]),
    "categorical_logits_entropy": (lambda m, z: D(m).Categorical(logits=z).entropy(),
                                   [RNG.standard_normal(5)]),
    "categorical_probs_of_logits": (lambda m, z: D(m).Categorical(logits=z).probs,
                                    [RNG.standard_normal(4)]),
    "multinomial_log_prob": (
        lambda m, p: D(m).Multinomial(10, p).log_prob(m.tensor([2.0, 3.0, 5.0], dtype=p.dtype)),
        [RNG.uniform(0.1, 1, 3)]),
    "multinomial_batch_log_prob": (
        lambda m, z: D(m).Multinomial(4, logits=z).log_prob(
            m.tensor([[1.0, 3.0, 0.0], [0.0, 0.0, 4.0]], dtype=z.dtype)),
        [RNG.standard_normal((2, 3))]),
    "multinomial_mean_var": (lambda m, p: D(m).Multinomial(7, p).mean * 2 +
                             D(m).Multinomial(7, p).variance, [RNG.uniform(0.1, 1, 4)]),
}


@pytest.mark.parametrize("name", sorted(VALUE_CASES))
def test_values_and_gradients_match_torch(name):
    fn, arrays = VALUE_CASES[name]
    _check(fn, arrays)


def test_multinomial_entropy():
    # PyTorch takes lgamma(n + 1) of an int64 tensor, i.e. in float32, so it is only
    # ~1e-7 accurate; chainrule's is checked against a brute-force sum over all outcomes
    p = np.array([0.2, 0.3, 0.5])
    n = 4
    exact = 0.0
    for x in itertools.product(range(n + 1), repeat=3):
        if sum(x) != n:
            continue
        lp = math.lgamma(n + 1) - sum(math.lgamma(k + 1) for k in x) + \
            sum(k * math.log(q) for k, q in zip(x, p))
        exact -= math.exp(lp) * lp
    pc, pt = _both([p])
    ec = D(cr).Multinomial(n, pc[0]).entropy()
    assert ec.item() == pytest.approx(exact, rel=1e-12)
    et = D(torch).Multinomial(n, pt[0]).entropy()
    assert ec.item() == pytest.approx(et.item(), rel=1e-6)
    ec.backward(); et.backward()
    np.testing.assert_allclose(pc[0].grad.numpy(), pt[0].grad.numpy(), rtol=1e-5)
    eb = D(cr).Multinomial(3, cr.tensor([[0.2, 0.8], [0.5, 0.5]])).entropy()
    tb = D(torch).Multinomial(3, torch.tensor([[0.2, 0.8], [0.5, 0.5]])).entropy()
    np.testing.assert_allclose(eb.numpy(), tb.numpy(), rtol=1e-5)
    assert eb.dtype == cr.float32


def test_normal_rsample_is_reparameterised():
    cr.manual_seed(0)
    loc = cr.tensor([1.0, -2.0], dtype=cr.float64, requires_grad=True)
    scale = cr.tensor([0.5, 3.0], dtype=cr.float64, requires_grad=True)
    d = D(cr).Normal(loc, scale)
    x = d.rsample((1000,))
    assert x.shape == (1000, 2) and x.requires_grad and d.has_rsample
    x.sum().backward()
    np.testing.assert_allclose(loc.grad.numpy(), [1000.0, 1000.0])
    eps = (x.detach().numpy() - [1.0, -2.0]) / [0.5, 3.0]
    np.testing.assert_allclose(scale.grad.numpy(), eps.sum(0), rtol=1e-12)
    s = d.sample((5,))
    assert not s.requires_grad and s.shape == (5, 2)


def test_normal_sampling_statistics():
    cr.manual_seed(1)
    d = D(cr).Normal(cr.tensor([0.0, 5.0]), cr.tensor([1.0, 0.1]))
    x = d.sample((20000,)).numpy()
    assert x.dtype == np.float32
    np.testing.assert_allclose(x.mean(0), [0.0, 5.0], atol=0.05)
    np.testing.assert_allclose(x.std(0), [1.0, 0.1], rtol=0.05)
    assert D(cr).Normal(0.0, 1.0).sample().shape == ()
    cr.manual_seed(1)
    again = d.sample((20000,)).numpy()
    np.testing.assert_array_equal(x, again)               # same seed, same samples


def test_bernoulli_and_categorical_sampling_statistics():
    cr.manual_seed(2)
    b = D(cr).Bernoulli(cr.tensor([0.1, 0.7])).sample((20000,))
    assert b.dtype == cr.float32 and set(np.unique(b.numpy())) <= {0.0, 1.0}
    np.testing.assert_allclose(b.numpy().mean(0), [0.1, 0.7], atol=0.02)
    assert D(cr).Bernoulli(logits=cr.tensor(0.0)).sample((3, 2)).shape == (3, 2)
    p = np.array([[0.1, 0.0, 0.6, 0.3], [0.25, 0.25, 0.25, 0.25]])
    c = D(cr).Categorical(cr.tensor(p)).sample((30000,))
    assert c.dtype == cr.int64 and c.shape == (30000, 2)
    for row in range(2):
        freq = np.bincount(c.numpy()[:, row], minlength=4) / 30000
        np.testing.assert_allclose(freq, p[row], atol=0.015)
    assert (c.numpy()[:, 0] != 1).all()                   # a zero-probability class
    assert D(cr).Categorical(logits=cr.zeros(3)).sample().shape == ()


def test_multinomial_as_in_the_book():
    cr.manual_seed(3)
    fair_probs = cr.ones([6]) / 6
    one = D(cr).multinomial.Multinomial(1, fair_probs).sample()
    assert one.shape == (6,) and one.dtype == cr.float32 and one.sum().item() == 1.0
    ten = D(cr).multinomial.Multinomial(1, fair_probs).sample((10,))
    assert ten.shape == (10, 6) and (ten.sum(1).numpy() == 1).all()
    counts = D(cr).multinomial.Multinomial(10, fair_probs).sample((500,))
    assert counts.shape == (500, 6) and (counts.sum(1).numpy() == 10).all()
    freq = counts.sum(0).numpy() / 5000
    np.testing.assert_allclose(freq, np.full(6, 1 / 6), atol=0.02)
    big = D(cr).Multinomial(100, cr.tensor([[0.9, 0.1], [0.2, 0.8]])).sample((3,))
    assert big.shape == (3, 2, 2) and (big.sum(-1).numpy() == 100).all()
    m = D(cr).Multinomial(1, fair_probs)
    assert m.batch_shape == torch.Size([]) and m.event_shape == torch.Size([6])


def test_shapes_dtypes_and_repr_match_torch():
    for make in (lambda m: D(m).Normal(0.0, 1.0),
                 lambda m: D(m).Normal(m.zeros(2, 1), m.ones(3)),
                 lambda m: D(m).Bernoulli(m.tensor(0.3)),
                 lambda m: D(m).Categorical(m.ones(2, 3)),
                 lambda m: D(m).Categorical(logits=m.zeros(4)),
                 lambda m: D(m).Multinomial(5, m.ones(2, 3))):
        dc, dt = make(cr), make(torch)
        assert repr(dc) == repr(dt)
        assert tuple(dc.batch_shape) == tuple(dt.batch_shape)
        assert tuple(dc.event_shape) == tuple(dt.event_shape)
        sc, st = dc.sample((4,)), dt.sample((4,))
        assert tuple(sc.shape) == tuple(st.shape) and str(sc.dtype) == str(st.dtype)
    mc, mt = D(cr).Categorical(cr.ones(2, 3)).mean, D(torch).Categorical(torch.ones(2, 3)).mean
    assert mc.shape == (2,) and np.isnan(mc.numpy()).all() and np.isnan(mt.numpy()).all()


@pytest.mark.parametrize("call", [
    lambda m: D(m).Normal(m.tensor([0.0]), m.tensor([-1.0])),
    lambda m: D(m).Categorical(probs=m.tensor([0.5, -0.1])),
    lambda m: D(m).Categorical(),
    lambda m: D(m).Categorical(m.tensor([0.5, 0.5]), logits=m.tensor([0.5, 0.5])),
    lambda m: D(m).Categorical(m.tensor(0.5)),
    lambda m: D(m).Categorical(m.tensor([0.5, 0.5])).log_prob(m.tensor(2)),
    lambda m: D(m).Bernoulli(m.tensor([0.5])).log_prob(m.tensor([0.3])),
    lambda m: D(m).Bernoulli(m.tensor([1.5])),
    lambda m: D(m).Bernoulli(),
    lambda m: D(m).Multinomial(1, m.ones(6) / 6).log_prob(m.tensor([1., 1, 0, 0, 0, 0])),
    lambda m: D(m).Normal(0.0, 1.0).sample(3),
], ids=["normal_scale", "simplex", "neither", "both", "0d", "support", "bern_support",
        "bern_probs", "bern_neither", "multi_support", "int_shape"])
def test_errors_match_torch(call):
    with pytest.raises(Exception) as et:
        call(torch)
    with pytest.raises(et.type) as ec:
        call(cr)
    assert str(et.value).split(" (")[0].split(":")[0][:30] in str(ec.value)


def test_reachable_as_an_attribute_in_a_fresh_interpreter():
    # `import chainrule as torch; torch.distributions...` (loaded lazily, like nn)
    import os
    import subprocess
    import sys
    src = os.path.dirname(os.path.dirname(cr.__file__))
    code = ("import chainrule as torch; "
            "print(torch.distributions.multinomial.Multinomial(1, torch.ones(6) / 6)"
            ".sample().sum().item())")
    env = dict(os.environ, PYTHONPATH=src)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "1.0"
