"""Recurrent layers and cells against PyTorch with the same weights (copied through
state_dict): outputs, final states and gradients of inputs, parameters and initial states,
for every layer x batch_first x bidirectional x num_layers; forward mode and second order;
state_dict keys/shapes, init bounds, errors, dropout, and a short char-level GRU training
loop giving torch's losses."""
import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import nn

LAYERS = ["RNN", "RNN_relu", "GRU", "LSTM"]


def _pair(name, *args, **kw):
    cls = name.split("_")[0]
    if name.endswith("relu"):
        kw["nonlinearity"] = "relu"
    tm = getattr(torch.nn, cls)(*args, **kw).double()
    cm = getattr(nn, cls)(*args, **kw).double()
    cm.load_state_dict({k: cr.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    return tm, cm


def _leaf(m, a):
    return m.tensor(a, requires_grad=True)


def _np(t):
    return t.detach().numpy()


def _flat(out):
    """output, then h_n (and c_n) as a list."""
    o, s = out
    return [o] + (list(s) if isinstance(s, tuple) else [s])


def _check_parity(tm, cm, x, states, rng, rtol=1e-10, atol=1e-12):
    """Run both with the given input/initial states, backprop a random projection of every
    output, and compare values and gradients of input, states and all parameters."""
    tx, cx = _leaf(torch, x), _leaf(cr, x)
    ts = [_leaf(torch, s) for s in states]
    cs = [_leaf(cr, s) for s in states]

    def call(m, mod, xx, ss):
        if not ss:
            return _flat(mod(xx))
        return _flat(mod(xx, tuple(ss) if len(ss) == 2 else ss[0]))
    touts, couts = call(torch, tm, tx, ts), call(cr, cm, cx, cs)
    assert [tuple(t.shape) for t in touts] == [tuple(c.shape) for c in couts]
    weights = [rng.standard_normal(tuple(t.shape)) for t in touts]
    for t, c in zip(touts, couts):
        np.testing.assert_allclose(_np(c), _np(t), rtol=rtol, atol=atol)
    sum((t * torch.tensor(w)).sum() for t, w in zip(touts, weights)).backward()
    sum((c * cr.tensor(w)).sum() for c, w in zip(couts, weights)).backward()
    np.testing.assert_allclose(cx.grad.numpy(), tx.grad.numpy(), rtol=rtol, atol=atol)
    for t, c in zip(ts, cs):
        np.testing.assert_allclose(c.grad.numpy(), t.grad.numpy(), rtol=rtol, atol=atol)
    tp, cp = dict(tm.named_parameters()), dict(cm.named_parameters())
    assert list(tp) == list(cp)
    for k in tp:
        np.testing.assert_allclose(cp[k].grad.numpy(), tp[k].grad.numpy(), rtol=rtol,
                                   atol=atol, err_msg=k)


@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("name", LAYERS)
def test_layer_parity_with_initial_states(name, batch_first, bidirectional, num_layers):
    rng = np.random.default_rng(0)
    tm, cm = _pair(name, 3, 4, num_layers=num_layers, batch_first=batch_first,
                   bidirectional=bidirectional)
    T, B = 5, 2
    x = rng.standard_normal((B, T, 3) if batch_first else (T, B, 3))
    n_states = 2 if name == "LSTM" else 1
    states = [rng.standard_normal((num_layers * (2 if bidirectional else 1), B, 4))
              for _ in range(n_states)]
    _check_parity(tm, cm, x, states, rng)


@pytest.mark.parametrize("steps", [1, 2, 4, 9, 10, 17])
@pytest.mark.parametrize("name", ["GRU", "LSTM"])
def test_layer_parity_for_sequence_lengths(name, steps):
    """The per-step pieces of the input projection are cut in blocks of ~sqrt(T) steps
    (cheaper backward): every length, with full and partial blocks, gives torch's values
    and gradients."""
    rng = np.random.default_rng(steps)
    tm, cm = _pair(name, 3, 4, num_layers=2, bidirectional=True)
    states = [rng.standard_normal((4, 2, 4)) for _ in range(2 if name == "LSTM" else 1)]
    _check_parity(tm, cm, rng.standard_normal((steps, 2, 3)), states, rng)


@pytest.mark.parametrize("name", LAYERS)
def test_layer_parity_default_state_no_bias_and_unbatched(name):
    rng = np.random.default_rng(1)
    tm, cm = _pair(name, 3, 4, num_layers=2, bias=False, bidirectional=True)
    assert not any("bias" in k for k in cm.state_dict())
    _check_parity(tm, cm, rng.standard_normal((4, 3, 3)), [], rng)
    tm, cm = _pair(name, 3, 4, num_layers=2, batch_first=True)
    _check_parity(tm, cm, rng.standard_normal((6, 3)), [], rng)        # unbatched (L, H_in)
    states = [rng.standard_normal((2, 4)) for _ in range(2 if name == "LSTM" else 1)]
    _check_parity(tm, cm, rng.standard_normal((6, 3)), states, rng)


@pytest.mark.parametrize("name", LAYERS)
def test_float32_output_and_gradients(name):
    rng = np.random.default_rng(2)
    tm, cm = _pair(name, 3, 4, num_layers=2, bidirectional=True)
    tm, cm = tm.float(), cm.float()
    x = rng.standard_normal((5, 2, 3)).astype(np.float32)
    cx = _leaf(cr, x)
    out = _flat(cm(cx))
    assert all(o.dtype == cr.float32 for o in out)
    out[0].sum().backward()
    assert cx.grad.dtype == cr.float32 and cm.weight_hh_l1.grad.dtype == cr.float32
    np.testing.assert_allclose(out[0].detach().numpy(),
                               _np(_flat(tm(torch.tensor(x)))[0]), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["GRU", "LSTM", "RNN"])
def test_second_order_matches_torch(name):
    """Gradient of ||d out / d x||^2 with respect to the parameters (create_graph)."""
    rng = np.random.default_rng(3)
    tm, cm = _pair(name, 2, 3, num_layers=2, bidirectional=True)
    x = rng.standard_normal((4, 2, 2))
    w = rng.standard_normal((4, 2, 6))
    tx, cx = _leaf(torch, x), _leaf(cr, x)
    (tg,) = torch.autograd.grad((tm(tx)[0] * torch.tensor(w)).sum(), tx, create_graph=True)
    (cg,) = cr.autograd.grad((cm(cx)[0] * cr.tensor(w)).sum(), cx, create_graph=True)
    np.testing.assert_allclose(_np(cg), _np(tg), rtol=1e-10, atol=1e-12)
    (tg ** 2).sum().backward()
    (cg ** 2).sum().backward()
    for (k, tp), cp in zip(tm.named_parameters(), cm.parameters()):
        np.testing.assert_allclose(cp.grad.numpy(), tp.grad.numpy(), rtol=1e-9, atol=1e-11,
                                   err_msg=k)


@pytest.mark.parametrize("name", ["GRU", "LSTM", "RNN_relu"])
def test_forward_mode_matches_torch(name):
    rng = np.random.default_rng(4)
    tm, cm = _pair(name, 2, 3, num_layers=2, bidirectional=True, batch_first=True)
    x, v = rng.standard_normal((2, 4, 2)), rng.standard_normal((2, 4, 2))
    _, tt = torch.func.jvp(lambda a: tm(a)[0], (torch.tensor(x),), (torch.tensor(v),))
    _, ct = cr.func.jvp(lambda a: cm(a)[0], (cr.tensor(x),), (cr.tensor(v),))
    np.testing.assert_allclose(_np(ct), _np(tt), rtol=1e-10, atol=1e-12)


# --- cells ------------------------------------------------------------------------------

CELLS = ["RNNCell", "RNNCell_relu", "GRUCell", "LSTMCell"]


def _cell_pair(name, *args, **kw):
    cls = name.split("_")[0]
    if name.endswith("relu"):
        kw["nonlinearity"] = "relu"
    tm = getattr(torch.nn, cls)(*args, **kw).double()
    cm = getattr(nn, cls)(*args, **kw).double()
    assert [(k, tuple(v.shape)) for k, v in tm.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in cm.state_dict().items()]
    cm.load_state_dict({k: cr.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    return tm, cm


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("name", CELLS)
def test_cell_parity(name, bias):
    rng = np.random.default_rng(5)
    tm, cm = _cell_pair(name, 3, 4, bias=bias)
    n_states = 2 if name == "LSTMCell" else 1
    for shape in [(2,), ()]:                         # batched, unbatched
        x = rng.standard_normal(shape + (3,))
        states = [rng.standard_normal(shape + (4,)) for _ in range(n_states)]
        tx, cx = _leaf(torch, x), _leaf(cr, x)
        ts, cs = [_leaf(torch, s) for s in states], [_leaf(cr, s) for s in states]
        to = tm(tx, tuple(ts) if n_states == 2 else ts[0])
        co = cm(cx, tuple(cs) if n_states == 2 else cs[0])
        to, co = (list(to), list(co)) if n_states == 2 else ([to], [co])
        for t, c in zip(to, co):
            assert tuple(c.shape) == tuple(t.shape)
            np.testing.assert_allclose(_np(c), _np(t), rtol=1e-12, atol=1e-14)
        ws = [rng.standard_normal(tuple(t.shape)) for t in to]
        sum((t * torch.tensor(w)).sum() for t, w in zip(to, ws)).backward()
        sum((c * cr.tensor(w)).sum() for c, w in zip(co, ws)).backward()
        np.testing.assert_allclose(cx.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-12)
        for t, c in zip(ts, cs):
            np.testing.assert_allclose(c.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-12)
        for (k, tp), cp in zip(tm.named_parameters(), cm.parameters()):
            np.testing.assert_allclose(cp.grad.numpy(), tp.grad.numpy(), rtol=1e-10,
                                       atol=1e-12, err_msg=k)
            tp.grad = None
            cp.grad = None
    # no state given: zeros
    x = rng.standard_normal((2, 3))
    to, co = tm(torch.tensor(x)), cm(cr.tensor(x))
    to, co = (to, co) if n_states == 2 else ((to,), (co,))
    for t, c in zip(to, co):
        np.testing.assert_allclose(_np(c), _np(t), rtol=1e-12, atol=1e-14)


def test_cell_loop_equals_layer():
    """An LSTMCell unrolled by hand with the layer's weights gives the layer's output."""
    rng = np.random.default_rng(6)
    layer, cell = nn.LSTM(3, 4).double(), nn.LSTMCell(3, 4).double()
    cell.load_state_dict({k[:-3]: v for k, v in layer.state_dict().items()})
    x = cr.tensor(rng.standard_normal((5, 2, 3)))
    out, (h_n, c_n) = layer(x)
    h = c = cr.zeros(2, 4, dtype=cr.float64)
    for t in range(5):
        h, c = cell(x[t], (h, c))
        np.testing.assert_allclose(h.detach().numpy(), out[t].detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(c.detach().numpy(), c_n[0].detach().numpy(), rtol=1e-12)


# --- structure: state_dict, init, repr ---------------------------------------------------

@pytest.mark.parametrize("kw", [dict(), dict(num_layers=3, bidirectional=True),
                                dict(bias=False, num_layers=2), dict(batch_first=True)])
@pytest.mark.parametrize("cls", ["RNN", "GRU", "LSTM"])
def test_state_dict_keys_shapes_and_repr_match_torch(cls, kw):
    tm, cm = getattr(torch.nn, cls)(5, 7, **kw), getattr(nn, cls)(5, 7, **kw)
    assert [(k, tuple(v.shape)) for k, v in tm.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in cm.state_dict().items()]
    assert repr(cm) == repr(tm)
    assert [[tuple(p.shape) for p in ws] for ws in cm.all_weights] == \
        [[tuple(p.shape) for p in ws] for ws in tm.all_weights]


def test_repr_of_cells_and_dropout_layers():
    for args, kw in [((3, 4), {}), ((3, 4), dict(bias=False)),
                     ((3, 4), dict(nonlinearity="relu"))]:
        assert repr(nn.RNNCell(*args, **kw)) == repr(torch.nn.RNNCell(*args, **kw))
    assert repr(nn.GRUCell(3, 4)) == repr(torch.nn.GRUCell(3, 4))
    assert repr(nn.LSTMCell(3, 4, bias=False)) == repr(torch.nn.LSTMCell(3, 4, bias=False))
    kw = dict(num_layers=2, dropout=0.25, batch_first=True, bidirectional=True, bias=False)
    assert repr(nn.GRU(3, 4, **kw)) == repr(torch.nn.GRU(3, 4, **kw))


@pytest.mark.parametrize("make", [lambda: nn.LSTM(10, 25, num_layers=2, bidirectional=True),
                                  lambda: nn.GRU(10, 25), lambda: nn.RNN(10, 25),
                                  lambda: nn.GRUCell(10, 25), lambda: nn.LSTMCell(10, 25)])
def test_default_init_is_uniform_in_inverse_sqrt_hidden(make):
    cr.manual_seed(0)
    bound = 1 / np.sqrt(25)
    values = np.concatenate([p.detach().numpy().ravel() for p in make().parameters()])
    assert values.dtype == np.float32
    assert np.abs(values).max() <= bound
    assert np.abs(values).max() > 0.95 * bound            # spans the interval
    assert abs(values.mean()) < 0.02 and abs(values.std() - bound / np.sqrt(3)) < 0.01


# --- dropout, train/eval ----------------------------------------------------------------

def test_dropout_between_layers_train_only():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((5, 2, 3))
    # dropout=1 zeroes the second layer's input deterministically: same as torch
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        nn.GRU(3, 4, dropout=0.5)
    tm, cm = _pair("GRU", 3, 4, num_layers=2, dropout=1.0)
    _check_parity(tm.train(), cm.train(), x, [], rng)
    # eval: no dropout, same as torch in eval
    _check_parity(tm.eval(), cm.eval(), x, [], rng)
    # p = 0.5 in train: differs from eval, the last layer is not dropped (finite, nonzero)
    _, cm = _pair("LSTM", 3, 4, num_layers=2, dropout=0.5)
    cr.manual_seed(0)
    train_out = cm.train()(cr.tensor(x))[0].detach().numpy()
    eval_out = cm.eval()(cr.tensor(x))[0].detach().numpy()
    assert not np.allclose(train_out, eval_out)
    assert np.all(train_out != 0)


# --- errors -------------------------------------------------------------------------------

def _same_error(fn):
    with pytest.raises(Exception) as t_err:
        fn(torch)
    with pytest.raises(type(t_err.value)) as c_err:
        fn(cr)
    assert str(t_err.value) in str(c_err.value), (str(t_err.value), str(c_err.value))


@pytest.mark.parametrize("case", [
    lambda m: m.nn.GRU(3, 4)(m.ones(5, 2, 7)),
    lambda m: m.nn.GRU(3, 4)(m.ones(5, 2, 3), m.ones(2, 2, 4)),
    lambda m: m.nn.RNN(3, 4)(m.ones(5, 2, 3), m.ones(1, 3, 4)),
    lambda m: m.nn.GRU(3, 4)(m.ones(5, 2, 3, 1)),
    lambda m: m.nn.GRU(3, 4)(m.ones(5, 3), m.ones(1, 1, 4)),
    lambda m: m.nn.GRU(3, 4)(m.ones(5, 2, 3), m.ones(1, 4)),
    lambda m: m.nn.LSTM(3, 4)(m.ones(5, 2, 3), (m.ones(1, 2, 4), m.ones(1, 3, 4))),
    lambda m: m.nn.LSTM(3, 4)(m.ones(5, 2, 3), (m.ones(1, 2, 4), m.ones(2, 4))),
    lambda m: m.nn.LSTM(3, 4)(m.ones(5, 2, 3, dtype=m.float64)),
    lambda m: m.nn.RNN(3, 4, nonlinearity="sigmoid"),
    lambda m: m.nn.GRU(3, 4, proj_size=2),
    lambda m: m.nn.GRU(3, 0),
    lambda m: m.nn.GRU(3, 4, dropout=1.5),
    lambda m: m.nn.GRU(3, 4, bias=1),
    lambda m: m.nn.RNNCell(3, 4)(m.ones(2, 5)),
    lambda m: m.nn.RNNCell(3, 4)(m.ones(2, 3), m.ones(3, 4)),
    lambda m: m.nn.GRUCell(3, 4)(m.ones(2, 3), m.ones(2, 5)),
    lambda m: m.nn.LSTMCell(3, 4)(m.ones(2, 3), (m.ones(2, 4), m.ones(2, 5))),
    lambda m: m.nn.LSTMCell(3, 4)(m.ones(2, 2, 3)),
    lambda m: m.nn.GRUCell(3, 4)(m.ones(2, 3), m.ones(1, 2, 4)),
    lambda m: m.nn.GRU(3, 4)(m.ones(0, 2, 3)),
])
def test_errors_match_torch(case):
    _same_error(case)


@pytest.mark.parametrize("call", [
    lambda: nn.GRU(3, 4)(cr.ones(5, 2, 3), cr.ones(1, 2, 4, dtype=cr.float64)),
    lambda: nn.LSTM(3, 4)(cr.ones(5, 2, 3), (cr.ones(1, 2, 4), cr.ones(1, 2, 4, dtype=cr.float64))),
    lambda: nn.GRUCell(3, 4)(cr.ones(2, 3), cr.ones(2, 4, dtype=cr.float64)),
])
def test_state_of_another_dtype_is_refused_naming_both(call):
    with pytest.raises(RuntimeError, match="Input and hidden tensors are not the same dtype.*"
                                           "torch.float32.*torch.float64"):
        call()


# --- a short char-level training loop -----------------------------------------------------

def test_char_level_gru_training_matches_torch_losses():
    text = "the time machine by h g wells "
    vocab = sorted(set(text))
    idx = np.array([vocab.index(ch) for ch in text])
    V, H, T = len(vocab), 16, 8
    xs = np.stack([idx[i:i + T] for i in range(0, 16, 4)])          # (4, T)
    ys = np.stack([idx[i + 1:i + T + 1] for i in range(0, 16, 4)])

    def build(m):
        class Net(m.nn.Module):
            def __init__(self):
                super().__init__()
                self.rnn = m.nn.GRU(V, H, batch_first=True)
                self.out = m.nn.Linear(H, V)

            def forward(self, x, state=None):
                y, state = self.rnn(x, state)
                return self.out(y.reshape(-1, H)), state
        return Net()
    torch.manual_seed(0)
    tnet, cnet = build(torch), build(cr)
    cnet.load_state_dict({k: cr.tensor(v.numpy()) for k, v in tnet.state_dict().items()})

    def train(m, net):
        opt = m.optim.SGD(net.parameters(), lr=1.0)
        loss_fn = m.nn.CrossEntropyLoss()
        eye = m.tensor(np.eye(V, dtype=np.float32))
        losses = []
        for _ in range(6):
            logits, _ = net(eye[m.tensor(xs)])
            loss = loss_fn(logits, m.tensor(ys).reshape(-1))
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        return losses
    t_losses = train(torch, tnet)
    c_losses = train(cr, cnet)
    assert t_losses[-1] < t_losses[0] - 0.2                # it learns
    np.testing.assert_allclose(c_losses, t_losses, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("layer", [
    lambda m, V, H: m.nn.RNN(V, H),
    lambda m, V, H: m.nn.LSTM(V, H),
    lambda m, V, H: m.nn.GRU(V, H, num_layers=2),
    lambda m, V, H: m.nn.GRU(V, H, bidirectional=True),
], ids=["rnn", "lstm", "gru2", "bigru"])
def test_book_style_language_model_training_matches_torch(layer):
    """The book's concise RNN language model: time-major one-hot inputs (F.one_hot of
    X.T), a recurrent layer, a linear output layer, gradient clipping and SGD; the state is
    carried from one batch to the next (detached), as in sequential partitioning."""
    text = "the time traveller for so it will be convenient to speak of him " * 2
    vocab = sorted(set(text))
    idx = np.array([vocab.index(ch) for ch in text])
    V, H, T, B = len(vocab), 12, 6, 3

    def build(m):
        class RNNLM(m.nn.Module):
            def __init__(self):
                super().__init__()
                self.rnn = layer(m, V, H)
                d = 2 if self.rnn.bidirectional else 1
                self.linear = m.nn.Linear(d * H, V)

            def forward(self, X, state=None):
                embs = m.nn.functional.one_hot(X.T, V).type(m.float32)
                rnn_outputs, state = self.rnn(embs, state)
                return self.linear(rnn_outputs).swapaxes(0, 1), state
        return RNNLM()
    torch.manual_seed(1)
    tnet, cnet = build(torch), build(cr)
    cnet.load_state_dict({k: cr.tensor(v.numpy()) for k, v in tnet.state_dict().items()})

    def train(m, net):
        opt = m.optim.SGD(net.parameters(), lr=1.0)
        losses, state = [], None
        for step in range(5):
            start = step * T
            X = m.tensor(np.stack([idx[start + b * 20:start + b * 20 + T] for b in range(B)]))
            Y = m.tensor(np.stack([idx[start + b * 20 + 1:start + b * 20 + T + 1]
                                   for b in range(B)]))
            if state is not None:
                state = tuple(s.detach() for s in state) if isinstance(state, tuple) \
                    else state.detach()
            Y_hat, state = net(X, state)
            loss = m.nn.functional.cross_entropy(Y_hat.reshape(-1, V), Y.reshape(-1))
            opt.zero_grad()
            loss.backward()
            m.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()
            losses.append(loss.item())
        return losses
    t_losses, c_losses = train(torch, tnet), train(cr, cnet)
    np.testing.assert_allclose(c_losses, t_losses, rtol=1e-4, atol=1e-5)
    for (k, tp), cp in zip(tnet.named_parameters(), cnet.parameters()):
        np.testing.assert_allclose(cp.detach().numpy(), tp.detach().numpy(), rtol=1e-4,
                                   atol=1e-5, err_msg=k)


# --- LSTM proj_size -------------------------------------------------------------------------

@pytest.mark.parametrize("kw", [dict(), dict(num_layers=2, bidirectional=True),
                                dict(bias=False, batch_first=True, num_layers=2)])
def test_lstm_proj_size_parity(kw):
    rng = np.random.default_rng(3)
    tm, cm = _pair("LSTM", 3, 5, proj_size=2, **kw)
    assert [(k, tuple(v.shape)) for k, v in tm.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in cm.state_dict().items()]
    assert repr(cm) == repr(tm)
    d = 2 if kw.get("bidirectional") else 1
    L = kw.get("num_layers", 1)
    T, B = 4, 3
    x = rng.standard_normal((B, T, 3) if kw.get("batch_first") else (T, B, 3))
    states = [rng.standard_normal((L * d, B, 2)), rng.standard_normal((L * d, B, 5))]
    _check_parity(tm, cm, x, states, rng)
    _check_parity(tm, cm, x, [], rng)                         # default (zero) states
    # unbatched: h (L*D, 2), c (L*D, 5)
    xu = rng.standard_normal((T, 3))
    (to, (th, tc)), (co, (ch, cc)) = tm(torch.tensor(xu)), cm(cr.tensor(xu))
    assert tuple(co.shape) == (T, 2 * d) and tuple(ch.shape) == (L * d, 2) and \
        tuple(cc.shape) == (L * d, 5)
    for a, b in ((co, to), (ch, th), (cc, tc)):
        np.testing.assert_allclose(_np(a), _np(b), rtol=1e-10, atol=1e-12)


def test_lstm_proj_size_init_and_errors():
    cr.manual_seed(0)
    lstm = nn.LSTM(4, 100, proj_size=30)
    w = lstm.weight_hr_l0.detach().numpy()
    assert w.shape == (30, 100) and np.abs(w).max() <= 0.1 and np.abs(w).max() > 0.099
    for case in (lambda m: m.nn.LSTM(3, 4, proj_size=4),
                 lambda m: m.nn.LSTM(3, 4, proj_size=-1),
                 lambda m: m.nn.LSTM(3, 4, proj_size=2)(m.ones(5, 2, 3),
                                                        (m.ones(1, 2, 4), m.ones(1, 2, 4))),
                 lambda m: m.nn.LSTM(3, 4, proj_size=2)(m.ones(5, 2, 3),
                                                        (m.ones(1, 2, 2), m.ones(1, 2, 2)))):
        _same_error(case)


# --- packed sequences ---------------------------------------------------------------------

def _packed_pair(m, seqs, enforce_sorted, h=None):
    xs = [m.tensor(s, requires_grad=True) for s in seqs]
    packed = m.nn.utils.rnn.pack_sequence(xs, enforce_sorted=enforce_sorted)
    return xs, packed


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("name,kw", [("RNN", {}), ("GRU", {}), ("LSTM", {}),
                                     ("LSTM", {"proj_size": 2}), ("GRU", {"bias": False})])
@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_rnn_on_packed_sequences_matches_torch(name, kw, bidirectional, enforce_sorted):
    rng = np.random.default_rng(7)
    lengths = [5, 4, 4, 2, 1] if enforce_sorted else [2, 5, 1, 4, 4]
    seqs = [rng.standard_normal((n, 3)) for n in lengths]
    tm, cm = _pair(name, 3, 4, num_layers=2, bidirectional=bidirectional, **kw)
    d = 2 if bidirectional else 1
    hs = kw.get("proj_size", 4)
    states = [rng.standard_normal((2 * d, 5, hs))]
    if name == "LSTM":
        states.append(rng.standard_normal((2 * d, 5, 4)))
    for with_states in (True, False):
        outs, grads = [], []
        for m, mod in ((torch, tm), (cr, cm)):
            xs, packed = _packed_pair(m, seqs, enforce_sorted)
            st = [m.tensor(s, requires_grad=True) for s in states] if with_states else []
            hx = (tuple(st) if name == "LSTM" else st[0]) if st else None
            out, state = mod(packed, hx)
            assert type(out).__name__ == "PackedSequence"
            flat = [out.data] + (list(state) if name == "LSTM" else [state])
            ws = [np.random.default_rng(1).standard_normal(tuple(t.shape)) for t in flat]
            sum((t * m.tensor(w)).sum() for t, w in zip(flat, ws)).backward()
            outs.append([_np(t) for t in flat] + [out.batch_sizes.numpy()] +
                        ([] if out.sorted_indices is None else
                         [out.sorted_indices.numpy(), out.unsorted_indices.numpy()]))
            grads.append([x.grad.numpy() for x in xs] + [s.grad.numpy() for s in st] +
                         [p.grad.numpy() for p in mod.parameters()])
            mod.zero_grad()
        for a, b in zip(outs[1], outs[0]):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
        assert len(grads[0]) == len(grads[1])
        for a, b in zip(grads[1], grads[0]):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_packed_final_states_are_each_sequences_last_step():
    # the final state of a sequence of length n equals the state after n steps of it alone
    rng = np.random.default_rng(2)
    gru = nn.GRU(3, 4).double()
    seqs = [rng.standard_normal((n, 3)) for n in (2, 5, 3)]
    _, h = gru(nn.utils.rnn.pack_sequence([cr.tensor(s) for s in seqs], enforce_sorted=False))
    for i, s in enumerate(seqs):
        _, hi = gru(cr.tensor(s))
        np.testing.assert_allclose(_np(h)[0, i], _np(hi)[0], rtol=1e-12)


def _packing(m, seqs, batch_first, enforce_sorted, lengths_as, padding_value, total_length):
    U = m.nn.utils.rnn
    xs = [m.tensor(s, requires_grad=True) for s in seqs]
    padded = U.pad_sequence(xs, batch_first=batch_first, padding_value=-1.0)
    lengths = [len(s) for s in seqs]
    if lengths_as == "tensor":
        lengths = m.tensor(lengths)
    packed = U.pack_padded_sequence(padded, lengths, batch_first=batch_first,
                                    enforce_sorted=enforce_sorted)
    back, lens = U.pad_packed_sequence(packed, batch_first=batch_first,
                                       padding_value=padding_value, total_length=total_length)
    w = np.random.default_rng(0).standard_normal(tuple(back.shape))
    (back * m.tensor(w)).sum().backward()
    left = U.pad_sequence(xs, batch_first=True, padding_side="left")
    return ([_np(padded), _np(packed.data), packed.batch_sizes.numpy(), _np(back),
             lens.numpy(), str(lens.dtype).split(".")[-1], _np(left)] +
            [t.numpy() for t in packed[2:] if t is not None] + [x.grad.numpy() for x in xs])


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("enforce_sorted,seq_lengths", [(True, (4, 4, 2, 1)),
                                                        (False, (1, 4, 2, 4, 3))])
@pytest.mark.parametrize("lengths_as", ["list", "tensor"])
@pytest.mark.parametrize("padding_value,total_length", [(0.0, None), (9.5, 6)])
def test_pack_pad_round_trip_matches_torch(batch_first, enforce_sorted, seq_lengths,
                                           lengths_as, padding_value, total_length):
    rng = np.random.default_rng(len(seq_lengths))
    seqs = [rng.standard_normal((n, 2)) for n in seq_lengths]
    ours = _packing(cr, seqs, batch_first, enforce_sorted, lengths_as, padding_value,
                    total_length)
    theirs = _packing(torch, seqs, batch_first, enforce_sorted, lengths_as, padding_value,
                      total_length)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        if isinstance(a, str):
            assert a == b
        else:
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("case", [
    lambda m: m.nn.utils.rnn.pack_padded_sequence(m.zeros(5, 4, 2), [3, 5, 3, 1]),
    lambda m: m.nn.utils.rnn.pack_padded_sequence(m.zeros(5, 4, 2), [5, 3, 0, 0]),
    lambda m: m.nn.utils.rnn.pack_padded_sequence(m.zeros(5, 4, 2), [5, 3, 3]),
    lambda m: m.nn.utils.rnn.pad_packed_sequence(
        m.nn.utils.rnn.pack_sequence([m.ones(3), m.ones(2)]), total_length=2),
    lambda m: m.nn.utils.rnn.pad_sequence([]),
])
def test_packing_errors_match_torch(case):
    _same_error(case)


def test_packed_input_with_a_state_of_the_wrong_batch_says_so():
    # (PyTorch raises a RuntimeError from inside the kernel about mismatched sizes)
    packed = nn.utils.rnn.pack_sequence([cr.ones(3, 2), cr.ones(2, 2)])
    for m, err in ((torch, "must match the size"), (cr, r"Expected hidden\[0\] size")):
        lstm = m.nn.LSTM(2, 3)
        p = packed if m is cr else m.nn.utils.rnn.pack_sequence([m.ones(3, 2), m.ones(2, 2)])
        with pytest.raises(RuntimeError, match=err):
            lstm(p, (m.zeros(1, 3, 3), m.zeros(1, 3, 3)))
