"""Optimiser API: param_groups, state_dict round trips, zero_grad, closures, errors (vs torch).
The update formulas themselves are checked in test_parity.py."""
import numpy as np
import pytest
import torch

import chainrule as cr


def _params(m, seed=0):
    rng = np.random.default_rng(seed)
    return [m.tensor(rng.standard_normal(s).astype(np.float32), requires_grad=True)
            for s in ((3, 2), (2,))]


def _loss(m, ps):
    w, b = ps
    return ((m.tensor([[1.0, -1.0, 0.5]]) @ w + b) ** 2).sum() + (w ** 4).sum()


def _run(m, make, steps, ps=None):
    ps = ps or _params(m)
    opt = make(m, ps)
    for _ in range(steps):
        opt.zero_grad()
        _loss(m, ps).backward()
        opt.step()
    return ps, opt


MAKERS = {
    "sgd": lambda m, ps: m.optim.SGD(ps, lr=0.01, momentum=0.9, nesterov=True),
    "adam": lambda m, ps: m.optim.Adam(ps, lr=0.01, amsgrad=True),
    "adamw": lambda m, ps: m.optim.AdamW(ps, lr=0.01),
    "rmsprop": lambda m, ps: m.optim.RMSprop(ps, lr=0.01, momentum=0.9, centered=True),
    "rmsprop_plain": lambda m, ps: m.optim.RMSprop(ps, lr=0.01),
    "adagrad": lambda m, ps: m.optim.Adagrad(ps, lr=0.1, lr_decay=0.01,
                                             initial_accumulator_value=0.1),
    "adadelta": lambda m, ps: m.optim.Adadelta(ps, lr=0.5, weight_decay=0.01),
}


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_state_dict_structure_matches_torch(name):
    _, oc = _run(cr, MAKERS[name], 2)
    _, ot = _run(torch, MAKERS[name], 2)
    sc, st = oc.state_dict(), ot.state_dict()
    assert sc["param_groups"] == st["param_groups"]
    assert sc["state"].keys() == st["state"].keys()
    for k in st["state"]:
        assert sc["state"][k].keys() == st["state"][k].keys()
        for key, v in st["state"][k].items():
            np.testing.assert_allclose(sc["state"][k][key].numpy(), v.numpy(), rtol=1e-5,
                                       atol=1e-7)
            assert str(sc["state"][k][key].dtype) == str(v.dtype)
    assert repr(oc) == repr(ot)


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_load_state_dict_resumes_exactly(name, tmp_path):
    make = MAKERS[name]
    full, _ = _run(cr, make, 6)
    ps, opt = _run(cr, make, 3)
    cr.save({"opt": opt.state_dict(), "params": [p.detach() for p in ps]}, tmp_path / "ck")
    ck = cr.load(tmp_path / "ck")
    ps2 = [p.clone().requires_grad_() for p in ck["params"]]
    opt2 = make(cr, ps2)
    opt2.load_state_dict(ck["opt"])
    for _ in range(3):
        opt2.zero_grad()
        _loss(cr, ps2).backward()
        opt2.step()
    for a, b in zip(full, ps2):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


def test_param_groups_zero_grad_and_add_group():
    a, b, c = (cr.ones(2, requires_grad=True) for _ in range(3))
    opt = cr.optim.SGD([{"params": [a]}, {"params": b, "lr": 1.0}], lr=0.1, momentum=0.5)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 1.0]
    assert opt.param_groups[1]["momentum"] == 0.5
    opt.add_param_group({"params": [c], "momentum": 0.0})
    assert opt.param_groups[2]["lr"] == 0.1 and opt.param_groups[2]["momentum"] == 0.0
    (a.sum() + b.sum() + c.sum()).backward()
    opt.step()
    assert a.tolist() == pytest.approx([0.9, 0.9]) and b.tolist() == pytest.approx([0.0, 0.0])
    opt.zero_grad(set_to_none=False)
    assert a.grad.tolist() == [0.0, 0.0]
    opt.zero_grad()
    assert a.grad is None and b.grad is None
    opt.param_groups[0]["lr"] = 0.0               # editing options takes effect
    (a.sum()).backward()
    opt.step()
    assert a.tolist() == pytest.approx([0.9, 0.9])
    with pytest.raises(ValueError, match="some parameters appear in more than one"):
        opt.add_param_group({"params": [a]})


def test_params_without_grad_are_skipped_and_version_bumps():
    a, b = cr.ones(2, requires_grad=True), cr.ones(2, requires_grad=True)
    opt = cr.optim.Adam([a, b], lr=0.1)
    a.sum().backward()
    v = a._version_counter
    opt.step()
    assert b.tolist() == [1.0, 1.0] and b not in opt.state
    assert a._version_counter == v + 1
    assert a.tolist() == pytest.approx([0.9, 0.9])


def test_closure_returns_loss():
    w = cr.tensor([2.0], requires_grad=True)
    opt = cr.optim.SGD([w], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (w ** 2).sum()
        loss.backward()
        return loss
    assert opt.step(closure).item() == 4.0
    assert w.item() == 1.0


@pytest.mark.parametrize("call", [
    lambda m, p: m.optim.SGD(p, lr=-1),
    lambda m, p: m.optim.SGD(p, lr=0.1, momentum=-0.5),
    lambda m, p: m.optim.SGD(p, lr=0.1, nesterov=True),
    lambda m, p: m.optim.SGD(p, lr=0.1, weight_decay=-1),
    lambda m, p: m.optim.Adam(p, betas=(1.0, 0.9)),
    lambda m, p: m.optim.Adam(p, betas=(0.9, -0.1)),
    lambda m, p: m.optim.Adam(p, eps=-1.0),
    lambda m, p: m.optim.AdamW(p, lr=-0.1),
    lambda m, p: m.optim.SGD([], lr=0.1),
    lambda m, p: m.optim.SGD(p[0], lr=0.1),
    lambda m, p: m.optim.SGD([p[0] * 2], lr=0.1),
    lambda m, p: m.optim.SGD([{"params": {p[0]}}], lr=0.1),
    lambda m, p: m.optim.RMSprop(p, lr=-1),
    lambda m, p: m.optim.RMSprop(p, eps=-1),
    lambda m, p: m.optim.RMSprop(p, momentum=-1),
    lambda m, p: m.optim.RMSprop(p, weight_decay=-1),
    lambda m, p: m.optim.RMSprop(p, alpha=-1),
    lambda m, p: m.optim.Adagrad(p, lr=-1),
    lambda m, p: m.optim.Adagrad(p, lr_decay=-1),
    lambda m, p: m.optim.Adagrad(p, weight_decay=-1),
    lambda m, p: m.optim.Adagrad(p, initial_accumulator_value=-1),
    lambda m, p: m.optim.Adagrad(p, eps=-1),
    lambda m, p: m.optim.Adadelta(p, lr=-1),
    lambda m, p: m.optim.Adadelta(p, rho=1.5),
    lambda m, p: m.optim.Adadelta(p, eps=-1),
    lambda m, p: m.optim.Adadelta(p, weight_decay=-1),
])
def test_errors_match_torch(call):
    results = []
    for m in (cr, torch):
        with pytest.raises(Exception) as info:
            call(m, _params(m))
        results.append((type(info.value), str(info.value)))
    assert results[0][0] is results[1][0]
    assert results[0][1] == results[1][1]


def test_load_state_dict_mismatch_errors():
    ps = _params(cr)
    opt = cr.optim.SGD(ps, lr=0.1)
    sd = opt.state_dict()
    other = cr.optim.SGD([ps[0]], lr=0.1)
    with pytest.raises(ValueError, match="doesn't match the size"):
        other.load_state_dict(sd)
    two = cr.optim.SGD([{"params": [ps[0]]}, {"params": [ps[1]]}], lr=0.1)
    with pytest.raises(ValueError, match="different number of parameter groups"):
        two.load_state_dict(sd)


@pytest.mark.parametrize("make", [
    lambda m, ps: m.optim.SGD(ps, lr=m.tensor(0.1), momentum=0.9, nesterov=True),
    lambda m, ps: m.optim.SGD(ps, lr=m.tensor(0.1), weight_decay=m.tensor(0.01)),
    lambda m, ps: m.optim.Adam(ps, lr=m.tensor(0.01, dtype=m.float64)),
    lambda m, ps: m.optim.AdamW(ps, lr=m.tensor(0.01, dtype=m.float64), weight_decay=0.1),
    lambda m, ps: m.optim.RMSprop(ps, lr=m.tensor(0.01, dtype=m.float64), momentum=0.5),
    lambda m, ps: m.optim.Adagrad(ps, lr=m.tensor(0.1, dtype=m.float64)),
    lambda m, ps: m.optim.Adadelta(ps, lr=m.tensor(0.5, dtype=m.float64)),
], ids=["sgd-nesterov", "sgd-wd", "adam", "adamw", "rmsprop", "adagrad", "adadelta"])
def test_tensor_hyperparameters_like_torch(make):
    # PyTorch accepts 0-d tensors for lr (and weight_decay); the update used to turn the
    # parameter's storage into a Tensor (ndarray -= Tensor falls back to Tensor.__rsub__).
    # (Adam's lr is float64 here: with a float32 lr tensor PyTorch forms the step size in
    # float32 and the results differ from chainrule's by ~1e-10 relative.)
    out = []
    for m in (cr, torch):
        w = m.tensor([1.0, -2.0, 3.0], dtype=m.float64, requires_grad=True)
        opt = make(m, [w])
        sched = m.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
        for _ in range(5):
            opt.zero_grad()
            (w * w * w).sum().backward()
            opt.step()
            sched.step()
        assert w.dtype == m.float64 and "tensor(" in repr(w)
        out.append((w.detach().numpy().copy(), float(opt.param_groups[0]["lr"])))
    np.testing.assert_allclose(out[0][0], out[1][0], rtol=1e-12)
    assert out[0][1] == out[1][1]


def test_adagrad_state_is_made_at_construction_like_torch():
    for m in (cr, torch):
        ps = _params(m)
        opt = m.optim.Adagrad(ps, initial_accumulator_value=0.25)
        st = opt.state_dict()["state"]
        assert sorted(st) == [0, 1]
        assert float(st[0]["step"]) == 0.0 and str(st[0]["step"].dtype).endswith("float32")
        np.testing.assert_array_equal(st[1]["sum"].numpy(), np.full(2, 0.25, np.float32))


@pytest.mark.parametrize("name", ["rmsprop", "adagrad", "adadelta"])
def test_adaptive_optimizers_follow_a_scheduler_like_torch(name):
    make = MAKERS[name]
    out = []
    for m in (cr, torch):
        ps = _params(m)
        opt = make(m, ps)
        sched = m.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
        lrs = []
        for _ in range(5):
            opt.zero_grad()
            _loss(m, ps).backward()
            opt.step()
            sched.step()
            lrs.append(sched.get_last_lr())
        out.append((lrs, [p.detach().numpy().copy() for p in ps]))
    assert out[0][0] == out[1][0]
    for a, b in zip(out[0][1], out[1][1]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta"])
def test_step_count_is_an_in_place_change_as_in_torch(name):
    # the optimizer's ``step`` state tensor is counted up in place: its version moves with
    # each step, as PyTorch's ``step_t += 1`` does
    versions = []
    for lib in (cr, torch):
        p = lib.nn.Parameter(lib.ones(3, dtype=lib.float64))
        opt = getattr(lib.optim, name)([p])
        for _ in range(3):
            p.grad = lib.ones(3, dtype=lib.float64)
            opt.step()
        versions.append((opt.state[p]["step"]._version, float(opt.state[p]["step"])))
    assert versions[0] == versions[1]
