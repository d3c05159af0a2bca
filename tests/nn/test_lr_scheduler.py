"""optim.lr_scheduler against PyTorch: the learning rates of every epoch (bit for bit), the
parameters after training, state_dict contents and round trips, warnings and errors."""
import math
import warnings

import numpy as np
import pytest
import torch

import chainrule as cr

LRS = (0.1, 0.05, 0.2)


def _model(m):
    """Three parameter groups with different learning rates (float64, so the trained
    parameters can be compared tightly)."""
    rng = np.random.default_rng(1)
    ps = [m.tensor(rng.standard_normal(s), requires_grad=True) for s in ((3, 2), (2,), (4,))]
    groups = [{"params": [ps[0]]}, {"params": [ps[1]], "lr": LRS[1]},
              {"params": [ps[2]], "lr": LRS[2]}]
    return ps, groups


def _loss(m, ps):
    w, b, c = ps
    x = m.tensor([[1.0, -1.0, 0.5], [0.3, 0.2, -0.7]], dtype=m.float64)
    return ((x @ w + b) ** 2).sum() + 0.1 * (w ** 4).sum() + ((c - 1.0) ** 2).sum()


def _sgd(m, groups):
    return m.optim.SGD(groups, lr=LRS[0], momentum=0.9)


def _adam(m, groups):
    return m.optim.Adam(groups, lr=LRS[0])


SCHEDULERS = {
    "step": lambda S, opt: S.StepLR(opt, step_size=4, gamma=0.5),
    "step_default_gamma": lambda S, opt: S.StepLR(opt, 7),
    "multistep": lambda S, opt: S.MultiStepLR(opt, milestones=[20, 3, 8, 8], gamma=0.3),
    "exponential": lambda S, opt: S.ExponentialLR(opt, gamma=0.9),
    "lambda": lambda S, opt: S.LambdaLR(opt, lambda e: 0.95 ** e),
    "lambda_per_group": lambda S, opt: S.LambdaLR(
        opt, [lambda e: 1 / (1 + e), lambda e: 0.9 ** e, lambda e: min(1.0, (e + 1) / 5)]),
    "cosine": lambda S, opt: S.CosineAnnealingLR(opt, T_max=7, eta_min=0.001),
    "cosine_eta0": lambda S, opt: S.CosineAnnealingLR(opt, T_max=5),
    "cosine_long": lambda S, opt: S.CosineAnnealingLR(opt, T_max=40, eta_min=0.01),
    "multiplicative": lambda S, opt: S.MultiplicativeLR(opt, lambda e: 0.97),
    "linear": lambda S, opt: S.LinearLR(opt, start_factor=0.2, end_factor=0.9, total_iters=12),
    "linear_default": lambda S, opt: S.LinearLR(opt),
    "constant": lambda S, opt: S.ConstantLR(opt, factor=0.4, total_iters=6),
    "sequential": lambda S, opt: S.SequentialLR(
        opt, [S.LinearLR(opt, start_factor=0.1, total_iters=5),
              S.CosineAnnealingLR(opt, T_max=9, eta_min=0.002),
              S.ExponentialLR(opt, gamma=0.8)], milestones=[5, 20]),
    "polynomial": lambda S, opt: S.PolynomialLR(opt, total_iters=20, power=1.7),
    "chained": lambda S, opt: S.ChainedScheduler(
        [S.ExponentialLR(opt, gamma=0.95), S.StepLR(opt, 5, gamma=0.5),
         S.LinearLR(opt, start_factor=0.5, total_iters=4)]),
    "chained_in_sequential": lambda S, opt: S.SequentialLR(
        opt, [S.ChainedScheduler([S.ExponentialLR(opt, gamma=0.9),
                                  S.MultiStepLR(opt, [4, 8])], optimizer=opt),
              S.CosineAnnealingLR(opt, T_max=6)],
        milestones=[12]),
}

# metric per epoch for ReduceLROnPlateau: improvements, plateaus and a relapse
METRICS = [5.0, 4.0, 4.0, 3.9999, 4.0, 4.1, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 2.0, 2.5, 2.5,
           2.5, 2.5, 2.5, 2.5, 2.5, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
PLATEAUS = {
    "plateau": lambda S, opt: S.ReduceLROnPlateau(opt, factor=0.5, patience=2),
    "plateau_max_abs_cooldown": lambda S, opt: S.ReduceLROnPlateau(
        opt, mode="max", factor=0.3, patience=1, threshold=0.5, threshold_mode="abs",
        cooldown=2, min_lr=[0.01, 0.0, 0.03]),
    "plateau_min_lr_eps": lambda S, opt: S.ReduceLROnPlateau(opt, patience=0, min_lr=0.004,
                                                             eps=1e-3),
}


def _train(m, make_sched, epochs=30, make_opt=_sgd, stop=None, resume=None):
    """``epochs`` of zero_grad/backward/optimizer.step()/scheduler.step(); returns the
    trained parameters, the per-epoch (get_last_lr(), group lrs) and the objects."""
    ps, groups = _model(m)
    opt = make_opt(m, groups)
    sched = make_sched(m.optim.lr_scheduler, opt)
    history = [(list(sched.get_last_lr()), [g["lr"] for g in opt.param_groups])]
    for epoch in range(epochs):
        opt.zero_grad()
        loss = _loss(m, ps)
        loss.backward()
        opt.step()
        if isinstance(sched, m.optim.lr_scheduler.ReduceLROnPlateau):
            sched.step(METRICS[epoch])
        else:
            sched.step()
        history.append((list(sched.get_last_lr()), [g["lr"] for g in opt.param_groups]))
    return ps, history, opt, sched


def _assert_same_training(name, make, make_opt=_sgd):
    pc, hc, oc, sc = _train(cr, make, make_opt=make_opt)
    pt, ht, ot, st = _train(torch, make, make_opt=make_opt)
    for epoch, ((lc, gc), (lt, gt)) in enumerate(zip(hc, ht)):
        # the same floating-point operations: equal, not just close
        assert lc == lt, f"{name}: get_last_lr() at epoch {epoch}: {lc} != {lt}"
        assert gc == gt, f"{name}: group lrs at epoch {epoch}: {gc} != {gt}"
        assert all(type(v) is float for v in lc), lc
    assert len({tuple(lr) for lr, _ in hc}) >= 2, f"{name}: the schedule never changed"
    for a, b in zip(pc, pt):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12,
                                   atol=1e-14)
    assert getattr(sc, "last_epoch", None) == getattr(st, "last_epoch", None)
    return sc, st


# a chain inside SequentialLR warns as in PyTorch (test_warns_when_scheduler_steps_...)
@pytest.mark.filterwarnings("ignore:Detected call of")
@pytest.mark.parametrize("name", sorted(SCHEDULERS) + sorted(PLATEAUS))
def test_schedule_and_training_match_torch(name):
    make = SCHEDULERS.get(name) or PLATEAUS[name]
    sc, st = _assert_same_training(name, make)
    assert _comparable(sc.state_dict()) == _comparable(st.state_dict())


@pytest.mark.parametrize("name", ["step", "cosine", "sequential", "plateau"])
def test_schedules_drive_adam_like_torch(name):
    _assert_same_training(name, SCHEDULERS.get(name) or PLATEAUS.get(name), make_opt=_adam)


def test_cosine_values_over_several_periods():
    """The recursive form follows the closed form (to rounding) over four periods, rises
    again after T_max, and agrees with PyTorch's sequence to 1e-12 relative."""
    T, low = 6, 0.01
    make = lambda S, opt: S.CosineAnnealingLR(opt, T_max=T, eta_min=low)  # noqa: E731
    _, hc, _, _ = _train(cr, make, epochs=4 * T)
    _, ht, _, _ = _train(torch, make, epochs=4 * T)
    for t, ((lc, _), (lt, _)) in enumerate(zip(hc, ht)):
        np.testing.assert_allclose(lc, lt, rtol=1e-12, atol=0)
        closed = [low + (base - low) * (1 + math.cos(math.pi * t / T)) / 2 for base in LRS]
        np.testing.assert_allclose(lc, closed, rtol=1e-9, atol=1e-15)
    assert hc[T][0][0] == pytest.approx(low) and hc[2 * T][0][0] == pytest.approx(LRS[0])


def _comparable(state):
    """A state dict with Counters as plain dicts (equal either way) and inf kept."""
    return {k: (dict(v) if k == "milestones" else
                [_comparable(s) for s in v] if k == "_schedulers" else v)
            for k, v in state.items()}


# a chain inside SequentialLR warns as in PyTorch (test_warns_when_scheduler_steps_...)
@pytest.mark.filterwarnings("ignore:Detected call of")
@pytest.mark.parametrize("name", sorted(SCHEDULERS) + sorted(PLATEAUS))
def test_state_dict_round_trip_resumes_exactly(name):
    """Save at epoch 12, load into a fresh optimizer and scheduler, run to 30: the same
    rates and parameters as an uninterrupted run."""
    make = SCHEDULERS.get(name) or PLATEAUS[name]
    full_ps, full_hist, _, _ = _train(cr, make)
    ps, hist, opt, sched = _train(cr, make, epochs=12)
    saved_sched, saved_opt = sched.state_dict(), opt.state_dict()
    saved_params = [p.detach().clone() for p in ps]

    ps2 = [p.clone().requires_grad_() for p in saved_params]
    groups = [{"params": [ps2[0]]}, {"params": [ps2[1]], "lr": LRS[1]},
              {"params": [ps2[2]], "lr": LRS[2]}]
    opt2 = _sgd(cr, groups)
    sched2 = make(cr.optim.lr_scheduler, opt2)        # scheduler first, then the states
    opt2.load_state_dict(saved_opt)
    sched2.load_state_dict(saved_sched)
    assert sched2.get_last_lr() == hist[-1][0]
    resumed = []
    for epoch in range(12, 30):
        opt2.zero_grad()
        _loss(cr, ps2).backward()
        opt2.step()
        if isinstance(sched2, cr.optim.lr_scheduler.ReduceLROnPlateau):
            sched2.step(METRICS[epoch])
        else:
            sched2.step()
        resumed.append((list(sched2.get_last_lr()), [g["lr"] for g in opt2.param_groups]))
    assert resumed == full_hist[13:]
    for a, b in zip(full_ps, ps2):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


def test_state_dict_contents_match_torch():
    w = {m: m.zeros(2, requires_grad=True) for m in (cr, torch)}
    for make in [lambda S, o: S.StepLR(o, 3), lambda S, o: S.MultiStepLR(o, [3, 1, 3]),
                 lambda S, o: S.LambdaLR(o, lambda e: 0.5 ** e),
                 lambda S, o: S.CosineAnnealingLR(o, 10)]:
        states = []
        for m in (cr, torch):
            opt = m.optim.SGD([w[m]], lr=0.1)
            sched = make(m.optim.lr_scheduler, opt)
            opt.step()
            sched.step()
            states.append(sched.state_dict())
            assert opt.param_groups[0]["initial_lr"] == 0.1
        assert list(states[0]) == list(states[1])       # same keys in the same order
        assert states[0] == states[1]


def test_lambda_state_dict_saves_callable_objects():
    class Decay:
        def __init__(self):
            self.rate = 0.5

        def __call__(self, epoch):
            return self.rate ** epoch

    opt = cr.optim.SGD([cr.zeros(1, requires_grad=True)], lr=1.0)
    fn = Decay()
    sched = cr.optim.lr_scheduler.LambdaLR(opt, [fn])
    state = sched.state_dict()
    assert state["lr_lambdas"] == [{"rate": 0.5}]
    fn2 = Decay()
    fn2.rate = 0.1
    opt2 = cr.optim.SGD([cr.zeros(1, requires_grad=True)], lr=1.0)
    sched2 = cr.optim.lr_scheduler.LambdaLR(opt2, fn2)
    sched2.load_state_dict(state)
    assert fn2.rate == 0.5 and "lr_lambdas" in state     # the caller's dict is not emptied
    opt2.step()
    sched2.step()
    assert sched2.get_last_lr() == [0.5]


def test_initial_lr_last_epoch_and_resuming_with_last_epoch():
    for m in (cr, torch):
        opt = m.optim.SGD([m.zeros(1, requires_grad=True)], lr=0.5)
        S = m.optim.lr_scheduler
        first = S.ExponentialLR(opt, gamma=0.5)
        assert first.last_epoch == 0 and first.base_lrs == [0.5]
        opt.param_groups[0]["lr"] = 0.25
        second = S.StepLR(opt, 2)               # initial_lr is kept (setdefault)
        assert second.base_lrs == [0.5] and opt.param_groups[0]["initial_lr"] == 0.5
    results = []
    for m in (cr, torch):
        opt = m.optim.SGD([m.zeros(1, requires_grad=True)], lr=0.5)
        opt.param_groups[0]["initial_lr"] = 1.0
        S = m.optim.lr_scheduler
        sched = S.CosineAnnealingLR(opt, T_max=10, last_epoch=4)
        assert sched.last_epoch == 5
        lrs = []
        for _ in range(8):
            opt.step()
            sched.step()
            lrs.append(sched.get_last_lr()[0])
        results.append(lrs)
    assert results[0] == results[1]


@pytest.mark.parametrize("name", ["step", "multistep", "exponential", "cosine", "linear",
                                  "constant", "lambda", "polynomial"])
def test_step_with_epoch_uses_the_closed_form_and_warns(name):
    out = []
    for m in (cr, torch):
        ps, groups = _model(m)
        opt = _sgd(m, groups)
        sched = SCHEDULERS[name](m.optim.lr_scheduler, opt)
        lrs = []
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            opt.step()
            for epoch in (3, 8, 5, 14):
                sched.step(epoch)
                lrs.append(sched.get_last_lr())
        msgs = [(w.category, str(w.message)) for w in rec]
        out.append((lrs, msgs, sched.last_epoch))
    assert out[0] == out[1]
    assert any("epoch parameter in `scheduler.step()`" in msg for _, msg in out[0][1])


def _warnings_of(m, body):
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        body(m)
    return [(w.category.__name__, str(w.message)) for w in rec]


def test_warns_when_scheduler_steps_before_the_optimizer():
    def wrong_order(m):
        opt = m.optim.SGD([m.zeros(1, requires_grad=True)], lr=0.1)
        sched = m.optim.lr_scheduler.StepLR(opt, 2)
        sched.step()
        opt.step()
        sched.step()                      # only the first call is checked

    def right_order(m):
        opt = m.optim.SGD([m.zeros(1, requires_grad=True)], lr=0.1)
        sched = m.optim.lr_scheduler.StepLR(opt, 2)
        for _ in range(3):
            opt.step()
            sched.step()

    def overridden(m):
        opt = m.optim.SGD([m.zeros(1, requires_grad=True)], lr=0.1)
        sched = m.optim.lr_scheduler.ExponentialLR(opt, 0.5)
        opt.step = lambda closure=None: None
        opt.step()
        sched.step()

    def get_lr_outside_step(m):
        opt = m.optim.SGD([m.zeros(1, requires_grad=True)], lr=0.1)
        sched = m.optim.lr_scheduler.StepLR(opt, 2)
        opt.step()
        sched.step()
        assert sched.get_lr() == [0.1]

    def chain_inside_sequential(m):      # its initial step steps the chained schedulers
        SCHEDULERS["chained_in_sequential"](m.optim.lr_scheduler, _opt(m))

    for body in (wrong_order, right_order, overridden, get_lr_outside_step,
                 chain_inside_sequential):
        got = _warnings_of(cr, body)
        assert got == _warnings_of(torch, body), body.__name__
    assert len(_warnings_of(cr, wrong_order)) == 1
    assert _warnings_of(cr, right_order) == []
    assert "before `optimizer.step()`" in _warnings_of(cr, wrong_order)[0][1]
    assert "overridden" in _warnings_of(cr, overridden)[0][1]
    assert "get_last_lr()" in _warnings_of(cr, get_lr_outside_step)[0][1]
    assert len(_warnings_of(cr, chain_inside_sequential)) == 2


def test_wrong_order_warning_points_at_the_callers_line():
    opt = cr.optim.SGD([cr.zeros(1, requires_grad=True)], lr=0.1)
    sched = cr.optim.lr_scheduler.StepLR(opt, 2)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        sched.step()
    assert rec[0].filename == __file__


def test_optimizer_step_still_works_after_wrapping():
    w = cr.tensor([1.0], requires_grad=True)
    opt = cr.optim.SGD([w], lr=0.5)
    cr.optim.lr_scheduler.StepLR(opt, 2)
    cr.optim.lr_scheduler.ExponentialLR(opt, 0.5)     # wrapped only once
    assert opt.step._wrapped_by_lr_sched and opt.step.__wrapped__ is cr.optim.SGD.step

    def closure():
        opt.zero_grad()
        loss = (w ** 2).sum()
        loss.backward()
        return loss
    assert opt.step(closure).item() == 1.0 and w.item() == 0.0 and opt._opt_called


def test_custom_subclass_and_old_name():
    for m in (cr, torch):
        S = m.optim.lr_scheduler

        class Halving(S._LRScheduler):
            def get_lr(self):
                return [base * 0.5 ** self.last_epoch for base in self.base_lrs]
        opt = m.optim.SGD([m.zeros(1, requires_grad=True)], lr=0.8)
        sched = Halving(opt)
        opt.step()
        sched.step()
        assert sched.get_last_lr() == [0.4] and isinstance(sched, S.LRScheduler)
        assert S._LRScheduler.__name__ == "_LRScheduler"
    with pytest.raises(NotImplementedError):
        cr.optim.lr_scheduler.LRScheduler(cr.optim.SGD([cr.zeros(1, requires_grad=True)]))


def _opt(m, groups=1):
    return m.optim.SGD([{"params": [m.zeros(1, requires_grad=True)]} for _ in range(groups)],
                       lr=0.1)


def _steps(sched, n):
    for _ in range(n):
        sched.optimizer.step()
        sched.step()


ERRORS = [
    lambda S, m: S.StepLR("sgd", 3),
    lambda S, m: S.ExponentialLR(object(), 0.5),
    lambda S, m: S.LambdaLR(None, lambda e: 1.0),
    lambda S, m: S.CosineAnnealingLR(3, 10),
    lambda S, m: S.ReduceLROnPlateau([1, 2]),
    lambda S, m: S.StepLR(_opt(m), 3, verbose=True),        # removed in PyTorch 2.13
    lambda S, m: S.CosineAnnealingLR(_opt(m), 3, verbose=False),
    lambda S, m: S.ReduceLROnPlateau(_opt(m), verbose=True),
    lambda S, m: S.LambdaLR(_opt(m), lambda e: 1.0, verbose="deprecated"),
    lambda S, m: S.ExponentialLR(_opt(m)),
    lambda S, m: S.StepLR(_opt(m), 3, last_epoch=4),
    lambda S, m: S.LambdaLR(_opt(m, 2), [lambda e: 1.0] * 3),
    lambda S, m: S.MultiplicativeLR(_opt(m), 0.5),
    lambda S, m: S.ConstantLR(_opt(m), factor=1.5),
    lambda S, m: S.LinearLR(_opt(m), start_factor=0),
    lambda S, m: S.LinearLR(_opt(m), end_factor=1.5),
    lambda S, m: S.ReduceLROnPlateau(_opt(m), factor=1.0),
    lambda S, m: S.ReduceLROnPlateau(_opt(m), mode="up"),
    lambda S, m: S.ReduceLROnPlateau(_opt(m), threshold_mode="pct"),
    lambda S, m: S.ReduceLROnPlateau(_opt(m, 2), min_lr=[0.1]),
    lambda S, m: S.SequentialLR(_opt(m), [], []),
    lambda S, m: S.SequentialLR(_opt(m), [5], []),
    lambda S, m: (lambda o: S.SequentialLR(o, [S.StepLR(o, 2)], [3]))(_opt(m)),
    lambda S, m: (lambda o: S.SequentialLR(o, [S.StepLR(o, 2), S.ReduceLROnPlateau(o)],
                                           [3]))(_opt(m)),
    lambda S, m: S.ChainedScheduler([]),
    lambda S, m: S.ChainedScheduler([3]),
    lambda S, m: (lambda o: S.ChainedScheduler([S.StepLR(o, 2), S.ReduceLROnPlateau(o)]))(
        _opt(m)),
    lambda S, m: S.PolynomialLR("opt"),
    lambda S, m: (lambda o: _steps(S.SequentialLR(        # a chain cannot start mid-way
        o, [S.ConstantLR(o), S.ChainedScheduler([S.StepLR(o, 2)])], [3]), 5))(_opt(m)),
    lambda S, m: S.StepLR(_opt(m), 0).step(),                 # step_size 0 fails on step
    lambda S, m: S.CosineAnnealingLR(_opt(m), 0).step(),
]


@pytest.mark.filterwarnings("ignore:Detected call of")
@pytest.mark.parametrize("i", range(len(ERRORS)))
def test_errors_match_torch(i):
    caught = []
    for m in (cr, torch):
        with pytest.raises(Exception) as info:
            ERRORS[i](m.optim.lr_scheduler, m)
        caught.append((info.type.__name__, str(info.value)))
    assert caught[0] == caught[1]


def test_sequential_needs_the_same_optimizer():
    for m in (cr, torch):
        a, b = _opt(m), _opt(m)
        S = m.optim.lr_scheduler
        with pytest.raises(ValueError, match="expects all schedulers to belong to the same"):
            S.SequentialLR(a, [S.StepLR(a, 2), S.StepLR(b, 2)], [3])


def test_plateau_accepts_a_tensor_metric_and_added_groups():
    for m in (cr, torch):
        opt = _opt(m)
        sched = m.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0, factor=0.5)
        sched.step(m.tensor(1.0))
        sched.step(m.tensor([2.0]))
        assert sched.get_last_lr() == [0.05]
        opt.add_param_group({"params": [m.zeros(1, requires_grad=True)], "lr": 1.0})
        sched.step(3.0)                    # a scalar min_lr follows the new group count
        assert sched.get_last_lr() == [0.025, 0.5]
        fixed = m.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0, min_lr=[0.0, 0.0])
        opt.add_param_group({"params": [m.zeros(1, requires_grad=True)]})
        fixed.step(1.0)
        with pytest.raises(RuntimeError, match="differs from when `ReduceLROnPlateau`"):
            fixed.step(2.0)


@pytest.mark.filterwarnings("ignore:The epoch parameter")
@pytest.mark.parametrize("name", ["multistep", "sequential", "lambda", "plateau"])
def test_state_dict_survives_chainrule_save_and_load(name, tmp_path):
    make = SCHEDULERS.get(name) or PLATEAUS[name]
    _, full_hist, _, _ = _train(cr, make)
    _, _, opt, sched = _train(cr, make, epochs=12)
    cr.save({"sched": sched.state_dict(), "opt": opt.state_dict()}, tmp_path / "ck")
    ck = cr.load(tmp_path / "ck")
    ps2, groups = _model(cr)
    opt2 = _sgd(cr, groups)
    sched2 = make(cr.optim.lr_scheduler, opt2)
    opt2.load_state_dict(ck["opt"])
    sched2.load_state_dict(ck["sched"])
    lrs = []
    for epoch in range(12, 30):
        opt2.step()
        if name == "plateau":
            sched2.step(METRICS[epoch])
        else:
            sched2.step(*(() if name != "multistep" or epoch != 20 else (epoch + 1,)))
        lrs.append(sched2.get_last_lr())
    if name != "multistep":
        assert lrs == [h[0] for h in full_hist[13:]]
    else:        # the closed form (step(epoch)) needs milestones to be a Counter again
        assert lrs[:8] == [h[0] for h in full_hist[13:21]]
        # epoch 21 is past the milestones 3, 8, 8 and 20
        assert lrs[8] == pytest.approx([lr * 0.3 ** 4 for lr in LRS], rel=1e-14)


def test_get_lr_with_the_wrong_number_of_rates():
    caught = []
    for m in (cr, torch):
        class TwoRates(m.optim.lr_scheduler.LRScheduler):
            def get_lr(self):
                return [1.0, 2.0]
        with pytest.raises(ValueError) as info:
            TwoRates(_opt(m))
        caught.append(str(info.value))
    assert caught[0] == caught[1] == "zip() argument 2 is longer than argument 1"


def test_copies_and_pickles_of_a_scheduled_optimizer_step_themselves():
    import copy
    import pickle
    for m in (cr, torch):
        w = m.tensor([1.0], requires_grad=True)
        opt = m.optim.SGD([w], lr=0.5)
        m.optim.lr_scheduler.StepLR(opt, 2)
        for clone in (copy.deepcopy(opt), pickle.loads(pickle.dumps(opt))):
            assert "step" not in clone.__dict__ and not hasattr(clone, "_opt_called")
            w2 = clone.param_groups[0]["params"][0]
            w2.grad = m.ones(1)
            clone.step()
            assert w2.item() == 0.5 and w.item() == 1.0 and not hasattr(opt, "_opt_called")
