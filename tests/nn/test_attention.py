"""nn.MultiheadAttention and F.scaled_dot_product_attention against PyTorch with the same
weights: outputs, attention weights and gradients of query/key/value and parameters, with
bool and float masks (attn_mask 2-D/3-D, key_padding_mask), batch_first, kdim/vdim,
bias, add_bias_kv, add_zero_attn, unbatched input; state_dict keys, init, errors."""
import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import nn

E, HEADS, L, S, N = 8, 2, 3, 4, 2


def _pair(*args, **kw):
    tm = torch.nn.MultiheadAttention(*args, **kw).double()
    cm = nn.MultiheadAttention(*args, **kw).double()
    assert [(k, tuple(v.shape)) for k, v in tm.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in cm.state_dict().items()]
    cm.load_state_dict({k: cr.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    return tm, cm


def _masks(m, kind, batched=True):
    rng = np.random.default_rng(9)
    kpm = np.zeros((N, S), bool)
    kpm[0, 2:] = True
    kpm[1, 0] = True
    am = np.triu(np.ones((L, S), bool), 2)
    out = {}
    if "kpm" in kind:
        out["key_padding_mask"] = m.tensor(kpm if batched else kpm[0])
    if "kpm_float" in kind:
        out["key_padding_mask"] = m.tensor(np.where(kpm, -1.5, 0.25))
    if "am_bool" in kind:
        out["attn_mask"] = m.tensor(am)
    if "am_float" in kind:
        out["attn_mask"] = m.tensor(rng.standard_normal((L, S)))
    if "am_3d" in kind:
        out["attn_mask"] = m.tensor(rng.standard_normal(((N if batched else 1) * HEADS, L, S)))
    return out


def _run_pair(tm, cm, shapes, call_kw, mask_kind="", batched=True, rtol=1e-10):
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal(s) for s in shapes]
    res = {}
    for m, mod in ((torch, tm), (cr, cm)):
        ins = [m.tensor(a, requires_grad=True) for a in arrays]
        out, w = mod(*ins, **call_kw, **_masks(m, mask_kind, batched))
        loss = (out * m.tensor(np.linspace(-1, 1, out.numel()).reshape(tuple(out.shape)))).sum()
        if w is not None:
            loss = loss + (w * m.tensor(np.cos(np.arange(w.numel())).reshape(tuple(w.shape)))).sum()
        loss.backward()
        res[m] = ([out.detach().numpy()] + ([] if w is None else [w.detach().numpy()])
                  + [i.grad.numpy() for i in ins]
                  + [p.grad.numpy() for p in mod.parameters()])
    assert len(res[cr]) == len(res[torch])
    for c, t in zip(res[cr], res[torch]):
        assert c.shape == t.shape
        np.testing.assert_allclose(c, t, rtol=rtol, atol=1e-12)


@pytest.mark.filterwarnings("ignore:Support for mismatched key_padding_mask")
@pytest.mark.parametrize("mask_kind", ["", "kpm", "am_bool", "am_float", "am_3d",
                                       "kpm+am_bool", "kpm_float+am_float"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_mha_parity_masks(batch_first, mask_kind):
    tm, cm = _pair(E, HEADS, batch_first=batch_first)
    q, kv = ((N, L, E), (N, S, E)) if batch_first else ((L, N, E), (S, N, E))
    _run_pair(tm, cm, [q, kv, kv], {}, mask_kind)


@pytest.mark.filterwarnings("ignore:Support for mismatched key_padding_mask")
@pytest.mark.parametrize("kw, call_kw", [
    (dict(bias=False), {}),
    (dict(kdim=5, vdim=3), {}),
    (dict(add_bias_kv=True), {}),
    (dict(add_zero_attn=True), {}),
    (dict(add_bias_kv=True, add_zero_attn=True), {}),
    ({}, dict(need_weights=False)),
    ({}, dict(average_attn_weights=False)),
])
def test_mha_parity_options(kw, call_kw):
    tm, cm = _pair(E, HEADS, **kw)
    kd, vd = kw.get("kdim", E), kw.get("vdim", E)
    _run_pair(tm, cm, [(L, N, E), (S, N, kd), (S, N, vd)], call_kw, "kpm+am_float")


@pytest.mark.filterwarnings("ignore:Support for mismatched key_padding_mask")
def test_mha_unbatched_and_self_attention_mask():
    tm, cm = _pair(E, HEADS, batch_first=True)
    _run_pair(tm, cm, [(L, E), (S, E), (S, E)], {}, "kpm+am_3d", batched=False)
    x = (L, N, E)
    tm, cm = _pair(E, HEADS)
    causal = {"attn_mask": None}
    for m in (torch, cr):
        causal[m] = m.tensor(np.triu(np.ones((L, L), bool), 1))
    rng = np.random.default_rng(3)
    a = rng.standard_normal(x)
    t_out = tm(*[torch.tensor(a)] * 3, attn_mask=causal[torch], is_causal=True)[0]
    c_out = cm(*[cr.tensor(a)] * 3, attn_mask=causal[cr], is_causal=True)[0]
    np.testing.assert_allclose(c_out.detach().numpy(), t_out.detach().numpy(), rtol=1e-10)


def test_mha_warns_for_mismatched_mask_types_as_torch():
    m = nn.MultiheadAttention(E, HEADS)
    x = cr.ones(L, N, E)
    with pytest.warns(UserWarning, match="mismatched key_padding_mask and attn_mask"):
        m(x, x, x, key_padding_mask=cr.zeros(N, L, dtype=cr.bool), attn_mask=cr.zeros(L, L))


def test_mha_dropout_train_eval():
    tm, cm = _pair(E, HEADS, dropout=1.0)
    # dropout=1 zeroes every attention weight in train mode (deterministic): torch's output
    _run_pair(tm.train(), cm.train(), [(L, N, E)] * 3, dict(need_weights=False))
    _run_pair(tm.eval(), cm.eval(), [(L, N, E)] * 3, {})


def test_mha_init_and_repr():
    cr.manual_seed(0)
    m = nn.MultiheadAttention(16, 4)
    w = m.in_proj_weight.detach().numpy()
    bound = np.sqrt(6 / (16 + 48))                 # xavier_uniform_ on (3E, E)
    assert w.shape == (48, 16) and np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert np.all(m.in_proj_bias.detach().numpy() == 0)
    assert np.all(m.out_proj.bias.detach().numpy() == 0)
    assert np.abs(m.out_proj.weight.detach().numpy()).max() <= 1 / 4   # Linear's init
    assert m.q_proj_weight is None and m.bias_k is None
    assert repr(m) == repr(torch.nn.MultiheadAttention(16, 4))
    assert isinstance(m.out_proj, nn.Linear)
    sep = nn.MultiheadAttention(16, 4, kdim=3, vdim=5, add_bias_kv=True, bias=False)
    t_sep = torch.nn.MultiheadAttention(16, 4, kdim=3, vdim=5, add_bias_kv=True, bias=False)
    assert [(k, tuple(v.shape)) for k, v in sep.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in t_sep.state_dict().items()]
    assert sep.in_proj_weight is None and sep.in_proj_bias is None


def _same_error(fn):
    with pytest.raises(Exception) as t_err:
        fn(torch)
    with pytest.raises(type(t_err.value)) as c_err:
        fn(cr)
    assert str(t_err.value) in str(c_err.value), (str(t_err.value), str(c_err.value))


@pytest.mark.parametrize("fn", [
    lambda m: m.nn.MultiheadAttention(8, 3),
    lambda m: m.nn.MultiheadAttention(0, 2),
    lambda m: m.nn.MultiheadAttention(8, 2)(m.ones(3, 2, 8), m.ones(4, 8), m.ones(4, 8)),
    lambda m: m.nn.MultiheadAttention(8, 2)(m.ones(3, 2, 8), m.ones(4, 2, 8), m.ones(4, 2, 8),
                                            attn_mask=m.ones(3, 5)),
    lambda m: m.nn.MultiheadAttention(8, 2)(m.ones(3, 2, 8), m.ones(4, 2, 8), m.ones(4, 2, 8),
                                            key_padding_mask=m.ones(2, 5, dtype=m.bool)),
    lambda m: m.nn.MultiheadAttention(8, 2)(m.ones(3, 2, 8), m.ones(4, 2, 8), m.ones(4, 2, 8),
                                            attn_mask=m.ones(3, 3, 4)),
    lambda m: m.nn.MultiheadAttention(8, 2)(m.ones(3, 2, 8), m.ones(4, 2, 8), m.ones(4, 2, 8),
                                            is_causal=True),
    lambda m: m.nn.MultiheadAttention(8, 2)(m.ones(3, 2, 8), m.ones(4, 2, 8), m.ones(4, 2, 8),
                                            attn_mask=m.ones(3, 4, dtype=m.int64)),
    lambda m: m.nn.MultiheadAttention(8, 2)(m.ones(2, 3, 2, 8), m.ones(4, 2, 8),
                                            m.ones(4, 2, 8)),
    lambda m: m.nn.functional.scaled_dot_product_attention(
        m.ones(2, 3, 4), m.ones(2, 3, 4), m.ones(2, 3, 4), attn_mask=m.ones(3, 3),
        is_causal=True),
])
def test_errors_match_torch(fn):
    _same_error(fn)


# --- scaled_dot_product_attention --------------------------------------------------------

@pytest.mark.parametrize("kw", [dict(), dict(is_causal=True), dict(scale=0.3),
                                dict(attn_mask="bool"), dict(attn_mask="float")])
def test_sdpa_parity(kw):
    rng = np.random.default_rng(4)
    arrays = [rng.standard_normal(s) for s in [(2, 2, 3, 4), (2, 2, 5, 4), (2, 2, 5, 6)]]
    if kw.get("is_causal"):
        arrays[1], arrays[2] = arrays[1][:, :, :3], arrays[2][:, :, :3]
    mask = {"bool": np.tril(np.ones((3, 5), bool), 1), "float": rng.standard_normal((3, 5))}
    res = {}
    for m in (torch, cr):
        ins = [m.tensor(a, requires_grad=True) for a in arrays]
        call = dict(kw)
        if "attn_mask" in call:
            call["attn_mask"] = m.tensor(mask[call["attn_mask"]])
        out = m.nn.functional.scaled_dot_product_attention(*ins, **call)
        (out * m.tensor(np.sin(np.arange(out.numel())).reshape(tuple(out.shape)))).sum() \
            .backward()
        res[m] = [out.detach().numpy()] + [i.grad.numpy() for i in ins]
    for c, t in zip(res[cr], res[torch]):
        np.testing.assert_allclose(c, t, rtol=1e-10, atol=1e-12)


def test_sdpa_grouped_query_and_float32():
    rng = np.random.default_rng(5)
    q, k, v = (rng.standard_normal(s).astype(np.float32)
               for s in [(1, 4, 3, 2), (1, 2, 3, 2), (1, 2, 3, 2)])
    t = torch.nn.functional.scaled_dot_product_attention(
        *map(torch.tensor, (q, k, v)), enable_gqa=True)
    c = nn.functional.scaled_dot_product_attention(*map(cr.tensor, (q, k, v)), enable_gqa=True)
    assert c.dtype == cr.float32
    np.testing.assert_allclose(c.numpy(), t.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.filterwarnings("ignore:Support for mismatched key_padding_mask")
def test_mha_forward_mode_and_second_order_match_torch():
    tm, cm = _pair(E, HEADS)
    rng = np.random.default_rng(6)
    q, kv, v = rng.standard_normal((L, N, E)), rng.standard_normal((S, N, E)), \
        rng.standard_normal((L, N, E))
    masks = {m: _masks(m, "kpm+am_float") for m in (torch, cr)}
    _, tt = torch.func.jvp(lambda a: tm(a, torch.tensor(kv), torch.tensor(kv),
                                        **masks[torch])[0], (torch.tensor(q),),
                           (torch.tensor(v),))
    _, ct = cr.func.jvp(lambda a: cm(a, cr.tensor(kv), cr.tensor(kv), **masks[cr])[0],
                        (cr.tensor(q),), (cr.tensor(v),))
    np.testing.assert_allclose(ct.detach().numpy(), tt.detach().numpy(), rtol=1e-10,
                               atol=1e-12)
    grads = {}
    for m, mod in ((torch, tm), (cr, cm)):
        x = m.tensor(q, requires_grad=True)
        out = mod(x, m.tensor(kv), m.tensor(kv), **masks[m])[0]
        (g,) = m.autograd.grad((out * m.tensor(v)).sum(), x, create_graph=True)
        (g ** 2).sum().backward()
        grads[m] = [None if p.grad is None else p.grad.numpy() for p in mod.parameters()]
    assert [c is None for c in grads[cr]] == [t is None for t in grads[torch]]
    assert sum(c is not None for c in grads[cr]) >= 3
    for c, t in zip(grads[cr], grads[torch]):
        if c is not None:
            np.testing.assert_allclose(c, t, rtol=1e-9, atol=1e-11)


@pytest.mark.filterwarnings("ignore:Support for mismatched key_padding_mask")
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("mask_kind", ["", "kpm", "am_bool"])
def test_mha_need_weights_false_in_inference_like_torchs_fast_path(batch_first, mask_kind):
    # eval() under no_grad with need_weights=False is where PyTorch takes its fused path:
    # the same output, and None for the weights (never computed or averaged)
    tm, cm = _pair(E, HEADS, batch_first=batch_first)
    tm.eval()
    cm.eval()
    rng = np.random.default_rng(4)
    x = rng.standard_normal((N, L, E) if batch_first else (L, N, E))
    kw = {}
    if mask_kind == "kpm":
        m = np.zeros((N, L), bool)
        m[:, -1] = True
        kw = {"key_padding_mask": m}
    elif mask_kind == "am_bool":
        kw = {"attn_mask": np.triu(np.ones((L, L), bool), 1)}
    with torch.no_grad():
        t_out, t_w = tm(*[torch.tensor(x)] * 3, need_weights=False,
                        **{k: torch.tensor(v) for k, v in kw.items()})
    with cr.no_grad():
        c_out, c_w = cm(*[cr.tensor(x)] * 3, need_weights=False,
                        **{k: cr.tensor(v) for k, v in kw.items()})
    assert t_w is None and c_w is None
    np.testing.assert_allclose(c_out.numpy(), t_out.numpy(), rtol=1e-10, atol=1e-12)
    # unbatched, with gradients
    xu = rng.standard_normal((L, E))
    tx, cx = torch.tensor(xu, requires_grad=True), cr.tensor(xu, requires_grad=True)
    (t_o, t_w), (c_o, c_w) = tm(tx, tx, tx, need_weights=False), cm(cx, cx, cx,
                                                                     need_weights=False)
    assert t_w is None and c_w is None
    t_o.sum().backward()
    c_o.sum().backward()
    np.testing.assert_allclose(cx.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-12)
