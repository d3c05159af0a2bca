"""Recurrent layers: ``RNN``, ``GRU``, ``LSTM`` and their one-step cells, with PyTorch's
parameter names, layout (gate order i, f, g, o for LSTM and r, z, n for GRU), shapes and
initialisation, so a ``state_dict`` maps one to one.

Built from differentiable ops (``addmm``, ``sigmoid``, ``tanh``, ``stack``, ``cat``), so
reverse, forward and higher-order differentiation all work.  Per layer and direction the
input projections of all time steps are one matrix product; each time step adds one
product with the hidden state.
"""
import math
import numbers
import warnings
from typing import TYPE_CHECKING, Any

from .._creation import empty, zeros
from .._dtypes import dtype
from .._tensor import Tensor
from ..ops import activation as ACT, unary as UN
from ..ops.index import index_select
from ..ops.matmul import addmm, mm
from ..ops.shape import cat, stack
from . import init
from .module import Module
from .parameter import Parameter
from ._losses import dropout
from .utils.rnn import PackedSequence

__all__ = ["RNNBase", "RNN", "GRU", "LSTM", "RNNCellBase", "RNNCell", "GRUCell", "LSTMCell"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "GRU": 3, "LSTM": 4}


# --- one time step per mode (x_proj: the input projection of this step, biases included
# as described in _project) -----------------------------------------------------------------

def _rnn_step(act):
    def step(x_proj, state, w_hh_t, b_hh):
        return act(addmm(x_proj, state, w_hh_t))
    return step


def _gru_step(x_proj, h, w_hh_t, b_hh):
    hs = h.shape[-1]
    h_proj = mm(h, w_hh_t) if b_hh is None else addmm(b_hh, h, w_hh_t)
    rz = ACT.sigmoid(x_proj[:, :2 * hs] + h_proj[:, :2 * hs])
    n = UN.tanh(x_proj[:, 2 * hs:] + rz[:, :hs] * h_proj[:, 2 * hs:])
    return n + rz[:, hs:] * (h - n)            # = (1 - z) * n + z * h


def _lstm_step(x_proj, state, w_hh_t, b_hh, w_hr_t=None):
    h, c = state
    hs = c.shape[-1]
    gates = addmm(x_proj, h, w_hh_t)
    s = ACT.sigmoid(gates)
    c = s[:, hs:2 * hs] * c + s[:, :hs] * UN.tanh(gates[:, 2 * hs:3 * hs])
    h = s[:, 3 * hs:] * UN.tanh(c)
    return (h, c) if w_hr_t is None else (mm(h, w_hr_t), c)     # proj_size: h = W_hr h


_STEPS = {"RNN_TANH": _rnn_step(UN.tanh), "RNN_RELU": _rnn_step(ACT.relu), "GRU": _gru_step,
          "LSTM": _lstm_step}


def _project(mode, x2d, w_ih, b_ih, b_hh):
    """Input projections ``x @ w_ih.T`` (rows: all time steps and batch entries at once)
    with ``b_ih``; for RNN and LSTM also ``b_hh`` (it adds to the same pre-activation),
    for GRU ``b_hh`` stays with the hidden projection (``r * (W_hn h + b_hn)``)."""
    if b_ih is None:
        return mm(x2d, w_ih.t())
    bias = b_ih if mode == "GRU" else b_ih + b_hh
    return addmm(bias, x2d, w_ih.t())


def _per_step(proj):
    """The T pieces (B, G) of the input projections (T, B, G).  Cut in blocks of about
    sqrt(T) steps first: a piece's gradient is then scattered into its block instead of
    into the whole (T, B, G) array, so backward moves O(T^1.5 B G) numbers, not
    O(T^2 B G)."""
    steps = proj.shape[0]
    block = math.isqrt(steps - 1) + 1 if steps > 1 else 1          # ceil(sqrt(T))
    if block * 2 > steps:
        return proj.unbind(0)
    return [p for chunk in proj.split(block, 0) for p in chunk.unbind(0)]


def _hidden(state, mode):
    return state[0] if mode == "LSTM" else state


def _check_dims(name, x, hx, mode):
    """PyTorch's checks of input and initial-state ranks; returns is_batched."""
    if x.dim() not in (2, 3):
        got = f"{x.dim()}D tensor" if name == "RNN" else f"{x.dim()}D"
        raise ValueError(f"{name}: Expected input to be 2D or 3D, got {got} instead; pass "
                         f"(seq_len, batch, input_size) ((batch, seq_len, input_size) with "
                         f"batch_first=True) or an unbatched (seq_len, input_size)")
    batched = x.dim() == 3
    if hx is None:
        return batched
    want = 3 if batched else 2
    what = "batched 3-D" if batched else "unbatched 2-D"
    if mode == "LSTM":
        if hx[0].dim() != want or hx[1].dim() != want:
            raise RuntimeError(f"For {what} input, hx and cx should also be {want}-D but got "
                               f"({hx[0].dim()}-D, {hx[1].dim()}-D) tensors")
    elif hx.dim() != want:
        raise RuntimeError(f"For {what} input, hx should also be {want}-D but got "
                           f"{hx.dim()}-D tensor")
    return batched


def _check_state_dtype(x, h):
    if isinstance(h, Tensor) and h.dtype != x.dtype:
        raise RuntimeError(f"Input and hidden tensors are not the same dtype, found input tensor "
                           f"with {x.dtype} and hidden tensor with {h.dtype}; convert the "
                           f"state, e.g. h0.to({x.dtype})")


class RNNBase(Module):
    """Shared machinery of ``RNN``, ``GRU`` and ``LSTM`` (parameters, checks, the loop).

    >>> from chainrule import nn
    >>> nn.GRU(3, 4, num_layers=2).weight_hh_l1.shape
    torch.Size([12, 4])
    """

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device: Any = None,
                 dtype: dtype | None = None) -> None:
        super().__init__()
        if (not isinstance(dropout, numbers.Number) or isinstance(dropout, bool)
                or not 0 <= dropout <= 1):
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             "probability of an element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so "
                          "non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}", stacklevel=3)
        for arg, value in (("bias", bias), ("batch_first", batch_first)):
            if not isinstance(value, bool):
                raise TypeError(f"{arg} should be of type bool, got: {type(value).__name__}")
        for arg, value in (("input_size", input_size), ("hidden_size", hidden_size)):
            if not isinstance(value, int):
                raise TypeError(f"{arg} should be of type int, got: {type(value).__name__}")
            if value <= 0:
                raise ValueError(f"{arg} must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable "
                             "projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if proj_size and mode != "LSTM":
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if mode not in _GATES:
            raise ValueError("Unrecognized RNN mode: " + mode)
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        gate_size = _GATES[mode] * hidden_size
        num_directions = 2 if bidirectional else 1
        real_hidden = proj_size if proj_size > 0 else hidden_size
        self._flat_weights_names = []
        self._all_weights = []
        for layer in range(num_layers):
            for direction in range(num_directions):
                layer_input = input_size if layer == 0 else real_hidden * num_directions
                shapes = [(gate_size, layer_input), (gate_size, real_hidden)]
                names = ["weight_ih_l{}{}", "weight_hh_l{}{}"]
                if bias:
                    shapes += [(gate_size,), (gate_size,)]
                    names += ["bias_ih_l{}{}", "bias_hh_l{}{}"]
                if proj_size > 0:
                    shapes.append((proj_size, hidden_size))
                    names.append("weight_hr_l{}{}")
                suffix = "_reverse" if direction == 1 else ""
                names = [n.format(layer, suffix) for n in names]
                for n, shape in zip(names, shapes):
                    setattr(self, n, Parameter(empty(*shape, dtype=dtype, device=device)))
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every weight and bias from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def flatten_parameters(self) -> None:
        """Does nothing (PyTorch compacts cuDNN weights here)."""

    @property
    def _flat_weights(self):
        return [getattr(self, n) for n in self._flat_weights_names]

    @property
    def all_weights(self) -> list[list[Parameter]]:
        """The parameters, one list per layer and direction."""
        return [[getattr(self, n) for n in names] for names in self._all_weights]

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    # --- forward --------------------------------------------------------------------------
    def _check_input(self, x, batch):
        if not isinstance(x, Tensor):
            raise TypeError(f"{type(self).__name__}: input must be a Tensor or a "
                            f"PackedSequence, got {type(x).__name__}")
        w = self.weight_ih_l0
        if x.dtype != w.dtype:
            raise ValueError(f"RNN input dtype ({x.dtype}) does not match weight dtype "
                             f"({w.dtype}). Convert input: input.to({w.dtype}), or convert "
                             f"model: model.to({x.dtype})")
        if x.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {x.shape[-1]}")

    def _check_hidden(self, h, expected, msg="Expected hidden size {}, got {}"):
        if tuple(h.shape) != expected:
            raise RuntimeError(msg.format(expected, list(h.shape)))

    def _step_fn(self, params):
        """One time step of this layer and direction (LSTM with proj_size: projected h)."""
        if not self.proj_size:
            return _STEPS[self.mode]
        w_hr_t = params[-1].t()

        def step(p, s, w, b):
            return _lstm_step(p, s, w, b, w_hr_t)
        return step

    def _run_packed(self, data, sizes, hx):
        """data: a PackedSequence's (sum(sizes), input_size) rows, time step after time step,
        ``sizes[t]`` running sequences at step t (longest first); hx: the initial state(s)
        (L*D, B, H) each, in the packed (sorted) order.  A sequence's final state is its
        state after its last step (forward) or after step 0 (reverse, which starts each
        sequence at its last step from its initial state).  Returns the last layer's output
        rows and the final state(s)."""
        lstm = self.mode == "LSTM"
        num_directions = 2 if self.bidirectional else 1
        offsets = [0]
        for b in sizes:
            offsets.append(offsets[-1] + b)
        steps = len(sizes)
        finals_h, finals_c = [], []
        layer_in = data
        for layer in range(self.num_layers):
            outs = []
            for direction in range(num_directions):
                k = layer * num_directions + direction
                params = self.all_weights[k]
                w_ih, w_hh = params[0], params[1]
                b_ih, b_hh = (params[2], params[3]) if self.bias else (None, None)
                proj = _project(self.mode, layer_in, w_ih, b_ih, b_hh)
                step = self._step_fn(params)
                w_hh_t = w_hh.t()
                init = (hx[0][k], hx[1][k]) if lstm else (hx[k],)
                seq = [None] * steps
                if direction == 0:
                    state = init
                    for t in range(steps):
                        b = sizes[t]
                        new = step(proj[offsets[t]:offsets[t + 1]],
                                   tuple(s[:b] for s in state) if lstm else state[0][:b],
                                   w_hh_t, b_hh)
                        new = new if lstm else (new,)
                        seq[t] = new[0]
                        if b < state[0].shape[0]:      # the sequences that ended keep theirs
                            new = tuple(cat([n, s[b:]], 0) for n, s in zip(new, state))
                        state = new
                else:
                    state = None
                    for t in range(steps - 1, -1, -1):
                        b = sizes[t]
                        have = 0 if state is None else state[0].shape[0]
                        if b > have:                 # sequences whose last step is t start
                            fresh = tuple(s[have:b] for s in init)
                            state = fresh if state is None else \
                                tuple(cat([s, f], 0) for s, f in zip(state, fresh))
                        new = step(proj[offsets[t]:offsets[t + 1]],
                                   state if lstm else state[0], w_hh_t, b_hh)
                        state = new if lstm else (new,)
                        seq[t] = state[0]
                outs.append(cat(seq, 0))
                finals_h.append(state[0])
                if lstm:
                    finals_c.append(state[1])
            layer_in = outs[0] if num_directions == 1 else cat(outs, 1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_in = dropout(layer_in, self.dropout, True)
        h_n = stack(finals_h, 0)
        return layer_in, ((h_n, stack(finals_c, 0)) if lstm else h_n)

    def _forward_packed(self, packed, hx):
        mode = self.mode
        data, batch_sizes, sorted_indices, unsorted_indices = packed
        if not isinstance(data, Tensor) or data.dim() != 2:
            raise RuntimeError(f"input must have 2 dimensions, got "
                               f"{data.dim() if isinstance(data, Tensor) else data}")
        self._check_input(data, None)
        sizes = [int(b) for b in batch_sizes._data]
        batch = sizes[0]
        expected = ((2 if self.bidirectional else 1) * self.num_layers, batch,
                    self.hidden_size)
        expected_h = expected[:2] + (self.proj_size or self.hidden_size,)
        lstm = mode == "LSTM"
        if hx is None:
            h0 = zeros(*expected_h, dtype=data.dtype)
            hx = (h0, zeros(*expected, dtype=data.dtype) if self.proj_size else h0) \
                if lstm else h0
        else:
            for h in (hx if lstm else (hx,)):
                _check_state_dtype(data, h)
            if sorted_indices is not None:           # into the packed (sorted) order
                hx = tuple(index_select(h, 1, sorted_indices) for h in hx) if lstm \
                    else index_select(hx, 1, sorted_indices)
            if lstm:
                self._check_hidden(hx[0], expected_h, "Expected hidden[0] size {}, got {}")
                self._check_hidden(hx[1], expected, "Expected hidden[1] size {}, got {}")
            else:
                self._check_hidden(hx, expected)
        out, state = self._run_packed(data, sizes, hx)
        if unsorted_indices is not None:
            state = tuple(index_select(h, 1, unsorted_indices) for h in state) if lstm \
                else index_select(state, 1, unsorted_indices)
        return PackedSequence(out, batch_sizes, sorted_indices, unsorted_indices), state

    def _run(self, x, hx):
        """x: (T, B, input_size) time-major; hx: the initial state(s), (L*D, B, H) each.
        Returns the last layer's output (T, B, D*H) and the final state(s)."""
        mode = self.mode
        lstm = mode == "LSTM"
        num_directions = 2 if self.bidirectional else 1
        steps, batch = x.shape[0], x.shape[1]
        finals_h, finals_c = [], []
        layer_in = x
        for layer in range(self.num_layers):
            x2d = layer_in.reshape(steps * batch, layer_in.shape[2])
            outs = []
            for direction in range(num_directions):
                k = layer * num_directions + direction
                params = self.all_weights[k]
                w_ih, w_hh = params[0], params[1]
                b_ih, b_hh = (params[2], params[3]) if self.bias else (None, None)
                step = self._step_fn(params)
                proj = _project(mode, x2d, w_ih, b_ih, b_hh)
                proj = _per_step(proj.reshape(steps, batch, proj.shape[1]))
                state = (hx[0][k], hx[1][k]) if lstm else hx[k]
                w_hh_t = w_hh.t()
                seq = [None] * steps
                order = range(steps - 1, -1, -1) if direction else range(steps)
                for t in order:
                    state = step(proj[t], state, w_hh_t, b_hh)
                    seq[t] = _hidden(state, mode)
                outs.append(stack(seq, 0))
                finals_h.append(_hidden(state, mode))
                if lstm:
                    finals_c.append(state[1])
            layer_in = outs[0] if num_directions == 1 else cat(outs, 2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_in = dropout(layer_in, self.dropout, True)
        h_n = stack(finals_h, 0)
        return layer_in, ((h_n, stack(finals_c, 0)) if lstm else h_n)

    def forward(self, input: Tensor | PackedSequence,
                hx: Tensor | tuple[Tensor, Tensor] | None = None) -> tuple[Any, Any]:
        mode = self.mode
        if isinstance(input, PackedSequence):
            return self._forward_packed(input, hx)
        name = {"GRU": "GRU", "LSTM": "LSTM"}.get(mode, "RNN")
        if not isinstance(input, Tensor):
            self._check_input(input, None)
        batched = _check_dims(name, input, hx, mode)
        x = input
        if not batched:
            x = x.unsqueeze(0 if self.batch_first else 1)
            if hx is not None:
                hx = (hx[0].unsqueeze(1), hx[1].unsqueeze(1)) if mode == "LSTM" \
                    else hx.unsqueeze(1)
        if self.batch_first:
            x = x.transpose(0, 1)
        self._check_input(x, None)
        if x.shape[0] == 0:
            raise RuntimeError("Expected sequence length to be larger than 0 in RNN (got an "
                               f"input of shape {list(input.shape)})")
        for h in ((hx,) if mode != "LSTM" else hx) if hx is not None else ():
            _check_state_dtype(x, h)
        expected = ((2 if self.bidirectional else 1) * self.num_layers, x.shape[1],
                    self.hidden_size)
        expected_h = expected[:2] + (self.proj_size or self.hidden_size,)
        if hx is None:
            h0 = zeros(*expected_h, dtype=x.dtype, device=x.device)
            hx = (h0, zeros(*expected, dtype=x.dtype, device=x.device) if self.proj_size
                  else h0) if mode == "LSTM" else h0
        elif mode == "LSTM":
            self._check_hidden(hx[0], expected_h, "Expected hidden[0] size {}, got {}")
            self._check_hidden(hx[1], expected, "Expected hidden[1] size {}, got {}")
        else:
            self._check_hidden(hx, expected)
        out, state = self._run(x, hx)
        if self.batch_first:
            out = out.transpose(0, 1)
        if not batched:
            out = out.squeeze(0 if self.batch_first else 1)
            state = (state[0].squeeze(1), state[1].squeeze(1)) if mode == "LSTM" \
                else state.squeeze(1)
        return out, state

    if TYPE_CHECKING:                 # calling the layer is calling forward
        __call__ = forward


class RNN(RNNBase):
    """A multi-layer Elman RNN: ``h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)``
    (``nonlinearity='relu'`` for ReLU).  ``forward(input, h0=None)`` returns
    ``(output, h_n)``: output (L, N, D*H) (``batch_first``: (N, L, D*H)), h_n
    (D*num_layers, N, H); unbatched input (L, H_in) gives unbatched results.

    >>> import chainrule as torch
    >>> rnn = torch.nn.RNN(4, 8, num_layers=2)
    >>> out, h_n = rnn(torch.zeros(5, 3, 4))
    >>> out.shape, h_n.shape
    (torch.Size([5, 3, 8]), torch.Size([2, 3, 8]))
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            self.__dict__["nonlinearity"] = args[3]
            args = args[:3] + args[4:]
        else:
            self.__dict__["nonlinearity"] = kwargs.pop("nonlinearity", "tanh")
        if self.nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif self.nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{self.nonlinearity}'. Select from 'tanh' "
                             f"or 'relu'.")
        super().__init__(mode, *args, **kwargs)


class GRU(RNNBase):
    """A multi-layer gated recurrent unit (gate order r, z, n as PyTorch)::

        r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
        z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
        n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
        h' = (1 - z) * n + z * h

    Returns ``(output, h_n)`` with ``RNN``'s shapes.

    >>> import chainrule as torch
    >>> gru = torch.nn.GRU(4, 8, batch_first=True, bidirectional=True)
    >>> out, h_n = gru(torch.zeros(3, 5, 4))
    >>> out.shape, h_n.shape, gru.weight_ih_l0_reverse.shape
    (torch.Size([3, 5, 16]), torch.Size([2, 3, 8]), torch.Size([24, 4]))
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)


class LSTM(RNNBase):
    """A multi-layer long short-term memory RNN (gate order i, f, g, o as PyTorch)::

        i, f, o = sigmoid(...), g = tanh(...)
        c' = f * c + i * g,  h' = o * tanh(c')

    ``forward(input, (h0, c0)=None)`` returns ``(output, (h_n, c_n))``.  With
    ``proj_size`` > 0 the hidden state is projected, ``h' = W_hr (o * tanh(c'))``
    (``weight_hr_l{k}`` of shape (proj_size, hidden_size)): output and h have proj_size
    features, c keeps hidden_size.

    >>> import chainrule as torch
    >>> lstm = torch.nn.LSTM(4, 8)
    >>> out, (h_n, c_n) = lstm(torch.zeros(5, 3, 4))
    >>> out.shape, h_n.shape, c_n.shape
    (torch.Size([5, 3, 8]), torch.Size([1, 3, 8]), torch.Size([1, 3, 8]))
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__("LSTM", *args, **kwargs)


# --- cells --------------------------------------------------------------------------------

class RNNCellBase(Module):
    """Shared parameters of the one-step cells: ``weight_ih`` (G*H, input_size),
    ``weight_hh`` (G*H, H), ``bias_ih``, ``bias_hh`` (G*H), all from U(-1/sqrt(H), 1/sqrt(H)).

    >>> from chainrule import nn
    >>> nn.LSTMCell(3, 2).weight_ih.shape
    torch.Size([8, 3])
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int,
                 device: Any = None, dtype: dtype | None = None) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        g = num_chunks * hidden_size
        self.weight_ih = Parameter(empty(g, input_size, dtype=dtype, device=device))
        self.weight_hh = Parameter(empty(g, hidden_size, dtype=dtype, device=device))
        if bias:
            self.bias_ih = Parameter(empty(g, dtype=dtype, device=device))
            self.bias_hh = Parameter(empty(g, dtype=dtype, device=device))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def reset_parameters(self) -> None:
        """Every weight and bias from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def _prepare(self, input, states):
        """PyTorch's rank and size checks; returns (batched, 2-D input, 2-D states)."""
        name = type(self).__name__
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: input must be a Tensor, got {type(input).__name__}")
        if input.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D "
                             f"instead")
        for i, s in enumerate(states):
            if s is not None and s.dim() not in (1, 2):
                what = f"hx[{i}]" if name == "LSTMCell" else "hidden"
                raise ValueError(f"{name}: Expected {what} to be 1D or 2D, got {s.dim()}D "
                                 f"instead")
        batched = input.dim() == 2
        x = input if batched else input.unsqueeze(0)
        if x.shape[1] != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {x.shape[1]} expected "
                               f"{self.input_size}")
        out = []
        for i, s in enumerate(states):
            _check_state_dtype(x, s)
            if s is None:
                s = zeros(x.shape[0], self.hidden_size, dtype=x.dtype, device=x.device)
            elif not batched:
                s = s.unsqueeze(0)
            if s.shape[0] != x.shape[0]:
                raise RuntimeError(f"Input batch size {x.shape[0]} doesn't match hidden{i} "
                                   f"batch size {s.shape[0]}")
            if s.shape[1] != self.hidden_size:
                raise RuntimeError(f"hidden{i} has inconsistent hidden_size: got "
                                   f"{s.shape[1]}, expected {self.hidden_size}")
            out.append(s)
        return batched, x, out

    def _step(self, mode, x, state):
        proj = _project(mode, x, self.weight_ih, self.bias_ih, self.bias_hh)
        return _STEPS[mode](proj, state, self.weight_hh.t(), self.bias_hh)


class RNNCell(RNNCellBase):
    """One Elman RNN step: ``h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)`` (or ReLU).

    >>> import chainrule as torch
    >>> cell = torch.nn.RNNCell(3, 4)
    >>> cell(torch.zeros(2, 3)).shape, cell(torch.zeros(3)).shape
    (torch.Size([2, 4]), torch.Size([4]))
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device: Any = None,
                 dtype: dtype | None = None) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device,
                         dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        batched, x, (h,) = self._prepare(input, (hx,))
        if self.nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif self.nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        h = self._step(mode, x, h)
        return h if batched else h.squeeze(0)

    if TYPE_CHECKING:                 # calling the layer is calling forward
        __call__ = forward


class GRUCell(RNNCellBase):
    """One GRU step (gate order r, z, n; see ``GRU``); returns ``h'``.

    >>> import chainrule as torch
    >>> cell = torch.nn.GRUCell(3, 4)
    >>> cell(torch.zeros(2, 3), torch.zeros(2, 4)).shape
    torch.Size([2, 4])
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 device: Any = None, dtype: dtype | None = None) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device,
                         dtype=dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        batched, x, (h,) = self._prepare(input, (hx,))
        h = self._step("GRU", x, h)
        return h if batched else h.squeeze(0)

    if TYPE_CHECKING:                 # calling the layer is calling forward
        __call__ = forward


class LSTMCell(RNNCellBase):
    """One LSTM step (gate order i, f, g, o; see ``LSTM``); returns ``(h', c')``.

    >>> import chainrule as torch
    >>> cell = torch.nn.LSTMCell(3, 4)
    >>> h, c = cell(torch.zeros(2, 3))
    >>> h.shape, c.shape
    (torch.Size([2, 4]), torch.Size([2, 4]))
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 device: Any = None, dtype: dtype | None = None) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device,
                         dtype=dtype)

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None
                ) -> tuple[Tensor, Tensor]:
        states = (None, None) if hx is None else (hx[0], hx[1])
        batched, x, (h, c) = self._prepare(input, states)
        h, c = self._step("LSTM", x, (h, c))
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))

    if TYPE_CHECKING:                 # calling the layer is calling forward
        __call__ = forward
