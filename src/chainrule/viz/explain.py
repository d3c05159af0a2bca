"""Step-by-step accumulation tables: ``chainrule.explain``.

``explain(f, *inputs)`` runs ``f`` once while ``record()`` notes every op, then shows

* the forward evaluation: one row per elementary step ``v1 = dot(w, x)``, with its value;
* reverse accumulation: the adjoint (``dL/dv``) of every intermediate in reverse order,
  each obtained from its uses through the local derivative of the step that used it;
* forward accumulation: one pass per input element, the tangent of every intermediate;
* what each mode cost: passes, multiplications by local-derivative entries, and the
  bytes of values reverse mode had to keep for its backward pass.

All numbers come from the engine: adjoints are the gradients the reverse-mode engine
sends into each node (captured with pre-hooks during ``autograd.grad``), contributions
along each edge are the node's own VJP (``node(adjoint)``), tangents are read from the
engine's forward mode (``forward_ad.make_dual``/``unpack_dual``), and local derivatives
are the node's VJP applied to unit vectors (rows of the local Jacobian).
"""
import html as _html
import inspect
import unicodedata

import numpy as np

from .._creation import tensor
from .._dtypes import float64
from .._tensor import Tensor, wrap
from ..autograd.engine import grad as _grad
from .._grad_mode import enable_grad, no_grad
from . import _fmt
from ._trace import record
from ..autograd import forward_ad

__all__ = ["explain", "Report"]

MAX_ELEMENTS = 256      # explain is for small, readable examples
MAX_WORK = 50_000       # input elements x passes one explain call may compute


def check_work(numels, wrt_numels, mode):
    """Refuse (``ValueError``) before computing anything when the tables would take more
    than ``MAX_WORK`` element-passes: all input elements times the number of passes (one
    reverse pass; one forward pass per element of each input differentiated against).

    >>> from chainrule.viz.explain import check_work
    >>> check_work([3, 1, 3, 1], [3, 1], "both")      # 8 elements x 5 passes
    40
    """
    passes = ((1 if mode in ("reverse", "both") else 0)
              + (sum(wrt_numels) if mode in ("forward", "both") else 0))
    work = sum(numels) * passes
    if work > MAX_WORK:
        raise ValueError(
            f"explain: too much work for a readable explanation: {len(numels)} input(s) "
            f"with {sum(numels)} elements in all, over {passes} pass(es) "
            f"({'1 reverse + ' if mode == 'both' else ''}"
            f"{'one forward pass per differentiated element' if mode != 'reverse' else 'reverse'}"
            f") = {work} element-passes; at most {MAX_WORK}. Use fewer or shorter inputs, "
            f"differentiate with respect to fewer of them (wrt / --wrt), or reverse mode only "
            f"(mode='reverse' / --mode reverse: one pass)")
    return work
_HIDDEN_PARAMS = {"shape", "src", "vshape", "shapes"}     # bookkeeping for the rules


def _dot(name):
    """Tangent notation: ``w`` -> ``ẇ`` (a combining dot over the first letter)."""
    return name[:1] + "\u0307" + name[1:] if name else name


def _width(s):
    """Printed width: combining marks (the dot of a tangent) take no column."""
    return sum(not unicodedata.combining(ch) for ch in str(s))


def _pad(s, w):
    s = str(s)
    return s + " " * (w - _width(s))


class Table:
    """A titled table of strings (rendered as text, Markdown or HTML)."""

    def __init__(self, title, headers, rows, note=None):
        self.title, self.headers, self.rows, self.note = title, headers, rows, note

    def text(self):
        cols = [self.headers] + self.rows
        widths = [max(_width(r[i]) for r in cols) for i in range(len(self.headers))]
        line = "  ".join("-" * w for w in widths)
        out = [self.title, line,
               "  ".join(_pad(h, w) for h, w in zip(self.headers, widths)).rstrip(), line]
        for r in self.rows:
            out.append("  ".join(_pad(c, w) for c, w in zip(r, widths)).rstrip())
        if self.note:
            out.append(self.note)
        return "\n".join(out)

    def markdown(self):
        def cell(c):
            return str(c).replace("|", "\\|") or " "
        out = [f"**{self.title}**", "", "| " + " | ".join(self.headers) + " |",
               "|" + "|".join("---" for _ in self.headers) + "|"]
        out += ["| " + " | ".join(cell(c) for c in r) + " |" for r in self.rows]
        if self.note:
            out += ["", self.note]
        return "\n".join(out)

    def html(self):
        e = _html.escape
        out = [f"<h4>{e(self.title)}</h4>", "<table>",
               "<tr>" + "".join(f"<th>{e(h)}</th>" for h in self.headers) + "</tr>"]
        out += ["<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in r) + "</tr>"
                for r in self.rows]
        out.append("</table>")
        if self.note:
            out.append(f"<p>{e(self.note)}</p>")
        return "\n".join(out)


class Report:
    """What ``explain`` found.  ``str(report)`` is plain text; ``to_markdown()`` and
    ``to_html()`` give the same tables in those formats.

    Attributes: ``value`` (output ndarray), ``gradients`` (``{input name: ndarray}``, the
    engine's), ``steps`` (``[(name, expression, value ndarray)]``), ``adjoints``
    (``{variable: ndarray}``), ``passes`` (forward mode: ``[(seed label,
    {variable: tangent ndarray})]``), ``cost`` (``{"reverse": {...}, "forward": {...}}``)
    and ``tables`` (the ``Table`` objects printed).

    >>> import chainrule as torch
    >>> from chainrule import viz
    >>> report = viz.explain(lambda a: (a * a).sum(), torch.tensor([1., 2.]))
    >>> float(report.value), report.gradients['a']
    (5.0, array([2., 4.], dtype=float32))
    """

    def __init__(self):
        self.tables = []
        self.value = None
        self.gradients = {}
        self.steps = []
        self.adjoints = {}
        self.passes = []
        self.cost = {}
        self.mode = None

    def __str__(self):
        return "\n\n".join(t.text() for t in self.tables) + "\n"

    def __repr__(self):
        return str(self)

    def to_markdown(self):
        """The report as Markdown tables."""
        return "\n\n".join(t.markdown() for t in self.tables) + "\n"

    def to_html(self):
        """The report as an HTML fragment (one ``<table>`` per section)."""
        return "<div class=\"chainrule-explain\">\n" + "\n".join(
            t.html() for t in self.tables) + "\n</div>\n"

    def _repr_html_(self):
        return self.to_html()


def _jac_text(J, in_shape, out_size):
    """How to show a local Jacobian ``J`` (out_size x in_size)."""
    if out_size == 1:
        return _fmt.array(J.reshape(in_shape) if J.size else J)
    n = J.shape[1]
    if n == out_size and not np.count_nonzero(J - np.diag(np.diag(J))):
        return "diag(" + _fmt.array(np.diag(J)) + ")"
    return _fmt.array(J, max_items=36)


def _input_names(f, n, names):
    if names is not None:
        if isinstance(names, str):
            names = [s.strip() for s in names.split(",")]
        names = [str(s) for s in names]
        if len(names) not in (n, n + 1):
            raise ValueError(f"explain: got {len(names)} names for {n} inputs; pass one name "
                             f"per input (and optionally one more for the output)")
        return names[:n], (names[n] if len(names) > n else None)
    try:
        params = [p for p in inspect.signature(f).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        if len(params) >= n:
            return [p.name for p in params[:n]], None
    except (TypeError, ValueError):
        pass
    return [f"x{i + 1}" for i in range(n)], None


def _as_input(x, name):
    if isinstance(x, Tensor):
        t = x.detach().clone()
    else:
        t = tensor(x, dtype=float64)
    if not t.is_floating_point():
        t = t.to(float64)
    if t.numel() > MAX_ELEMENTS:
        raise ValueError(f"explain: input {name!r} has {t.numel()} elements; explain is for "
                         f"small examples (at most {MAX_ELEMENTS} elements per tensor)")
    return t


def explain(f, *inputs, mode="reverse", wrt=None, names=None):
    """Trace ``f(*inputs)`` and explain how its derivatives are accumulated.

    ``mode``: ``"reverse"`` (adjoints, one backward pass), ``"forward"`` (one tangent pass
    per input element) or ``"both"``.  ``wrt``: names (or positions) of the inputs to
    differentiate with respect to (default: all).  ``names``: input names (default: the
    parameter names of ``f``); one extra name names the output (default ``out``).
    Inputs may be Tensors, numbers or lists (made float64 tensors).

    >>> import chainrule as torch
    >>> def loss(w, b, x, y):
    ...     return 0.5 * (torch.dot(w, x) + b - y) ** 2
    >>> r = torch.explain(loss, [1., 1., 1.], 1., [2., 1., 3.], 10., wrt=["w", "b"],
    ...                   names=["w", "b", "x", "y", "L"])
    >>> r.value, r.gradients["w"], r.gradients["b"]
    (array(4.5), array([-6., -3., -9.]), array(-3.))
    >>> r.cost["forward"]["passes"], r.cost["reverse"]["passes"]
    (4, 1)
    """
    if mode not in ("reverse", "forward", "both"):
        raise ValueError(f"explain: mode must be 'reverse', 'forward' or 'both', got {mode!r}")
    if not inputs:
        raise ValueError("explain: pass the inputs to evaluate f at, e.g. explain(f, x)")
    in_names, out_name = _input_names(f, len(inputs), names)
    if len(set(in_names)) != len(in_names):
        raise ValueError(f"explain: input names must differ, got {in_names}")
    xs = [_as_input(x, n) for x, n in zip(inputs, in_names)]
    wrt_idx = _wrt_indices(wrt, in_names)
    check_work([x.numel() for x in xs], [xs[i].numel() for i in wrt_idx], mode)
    for i in wrt_idx:
        xs[i].requires_grad_(True)

    with enable_grad(), record() as rec:
        out = f(*xs)
    if not isinstance(out, Tensor):
        raise TypeError(f"explain: f must return a Tensor, got {type(out).__name__}")
    if out.numel() > MAX_ELEMENTS:
        raise ValueError(f"explain: the output has {out.numel()} elements; explain is for "
                         f"small examples")
    if mode in ("reverse", "both") and out.numel() != 1:
        raise ValueError(f"explain: reverse accumulation needs a scalar output, got shape "
                         f"{list(out.shape)}; reduce it (e.g. .sum()) or use mode='forward'")
    if not out.requires_grad:
        wrt_names = ", ".join(in_names[i] for i in wrt_idx)
        raise ValueError(f"explain: the output does not depend on the inputs to differentiate "
                         f"({wrt_names}), so every derivative is 0; use them in f or change wrt")
    steps = _relevant(rec.events, out)
    _check_traced(steps, out)
    ex = _Explainer(xs, in_names, out_name or "out", wrt_idx, steps, out)
    ex.forward_table()
    ex.local_jacobians()
    if mode in ("reverse", "both"):
        ex.reverse()
    if mode in ("forward", "both"):
        ex.forward_passes(f, forward_ad)
    ex.cost_table(mode)
    ex.report.mode = mode
    return ex.report


def _wrt_indices(wrt, in_names):
    if wrt is None:
        return list(range(len(in_names)))
    if isinstance(wrt, (str, int)):
        wrt = [s.strip() for s in wrt.split(",")] if isinstance(wrt, str) else [wrt]
    idx = []
    for w in wrt:
        if isinstance(w, int) and not isinstance(w, bool):
            if not 0 <= w < len(in_names):
                raise ValueError(f"explain: wrt position {w} is out of range for "
                                 f"{len(in_names)} inputs")
            idx.append(w)
        elif w in in_names:
            idx.append(in_names.index(w))
        else:
            raise ValueError(f"explain: wrt names an unknown input {w!r}; the inputs are "
                             f"{', '.join(in_names)}")
    return sorted(set(idx))


def _check_traced(steps, out):
    """Every op node behind ``out`` must be a recorded step (else the tables would skip
    work): say so instead of printing incomplete tables."""
    traced = {ev.result.grad_fn for ev in steps}
    seen, stack = set(), [out.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or node in seen or hasattr(node, "variable"):
            continue
        seen.add(node)
        if node not in traced:
            raise RuntimeError(
                f"explain: the graph node {node.name()} was created outside the "
                f"traced call of f (or by an op that bypasses chainrule.ops._core.apply); "
                f"compute everything from f's own inputs inside f")
        stack.extend(n for n, _ in node.next_functions)


def _relevant(events, out):
    """The recorded events that ``out`` depends on, in execution order."""
    producer = {}
    for i, ev in enumerate(events):
        producer[id(ev.result)] = i
    keep, stack = set(), [out]
    while stack:
        t = stack.pop()
        i = producer.get(id(t))
        if i is None or i in keep:
            continue
        keep.add(i)
        stack.extend(a for a in events[i].args if isinstance(a, Tensor))
    return [events[i] for i in sorted(keep)]


class _Explainer:
    def __init__(self, xs, in_names, out_name, wrt_idx, steps, out):
        self.xs, self.in_names, self.wrt_idx = xs, in_names, wrt_idx
        self.steps, self.out = steps, out
        self.report = Report()
        self.report.value = np.array(out._data, copy=True)
        self.name_of = {id(x): n for x, n in zip(xs, in_names)}
        self.step_names = []
        for k, ev in enumerate(steps, 1):
            name = out_name if ev.result is out else f"v{k}"
            self.step_names.append(name)
            self.name_of[id(ev.result)] = name
        self.out_name = out_name if steps else self.name_of.get(id(out), out_name)
        self.consts = []

    def arg_text(self, a):
        if not isinstance(a, Tensor):
            return _fmt.num(a) if isinstance(a, (int, float, bool, np.number)) else repr(a)
        n = self.name_of.get(id(a))
        if n is not None:
            return n
        if a.numel() <= 4:
            return _fmt.array(a._data)
        n = f"c{len(self.consts) + 1}"
        self.consts.append((n, a))
        self.name_of[id(a)] = n
        return n

    def forward_table(self):
        rows = []
        for i, (x, n) in enumerate(zip(self.xs, self.in_names)):
            role = "input (wrt)" if i in self.wrt_idx else "input (constant)"
            rows.append(("", n, role, "", _fmt.shape(x.shape), _fmt.array(x._data)))
        for k, (ev, name) in enumerate(zip(self.steps, self.step_names), 1):
            args = ", ".join(self.arg_text(a) for a in ev.args)
            params = ", ".join(f"{p}={v!r}" for p, v in ev.params.items()
                               if not isinstance(v, np.ndarray) and v is not None
                               and v is not False and p not in _HIDDEN_PARAMS)
            expr = f"{ev.name}({args}{', ' + params if params else ''})"
            node = ev.result.grad_fn
            op = node.name() if node is not None else "(constant)"
            if not ev.grad_enabled:
                op = "(no_grad)"
            rows.append((str(k), name, expr, op, _fmt.shape(ev.result.shape),
                         _fmt.array(ev.result._data)))
            self.report.steps.append((name, expr, np.array(ev.result._data, copy=True)))
        note = "; ".join(f"{n} = {_fmt.array(t._data)}" for n, t in self.consts) or None
        self.report.tables.append(Table(
            "Forward evaluation (one row per elementary step)",
            ["step", "variable", "computed as", "graph node", "shape", "value"], rows,
            note and "constants: " + note))

    def local_jacobians(self):
        """``self.jac[(k, i)]``: Jacobian (out_size x in_size) of step k w.r.t. argument i,
        from the node's VJP applied to each unit vector."""
        self.jac = {}
        self.edges = []            # (step k, arg i, input tensor) for differentiable edges
        saved_ids, self.saved_inputs_bytes, self.saved_inter_bytes = set(), 0, 0
        input_ids = {id(x._data) for x in self.xs}
        for k, ev in enumerate(self.steps):
            node = ev.result.grad_fn
            if node is None:
                continue
            for t in node.saved_tensors:
                if id(t._data) in saved_ids:
                    continue
                saved_ids.add(id(t._data))
                if id(t._data) in input_ids:
                    self.saved_inputs_bytes += t._data.nbytes
                else:
                    self.saved_inter_bytes += t._data.nbytes
            m = ev.result.numel()
            diff = [i for i, (nxt, _) in enumerate(node.next_functions) if nxt is not None]
            rows = {i: [] for i in diff}
            for j in range(m):
                e = np.zeros(m, dtype=ev.result._data.dtype)
                e[j] = 1
                parts = node(wrap(e.reshape(ev.result._data.shape)))
                for i in diff:
                    p = parts[i]
                    rows[i].append(np.zeros(ev.args[i]._data.size) if p is None
                                   else np.asarray(p._data, dtype=np.float64).ravel())
            for i in diff:
                self.jac[(k, i)] = np.array(rows[i]).reshape(m, -1)
                self.edges.append((k, i, ev.args[i]))

    def _jtext(self, k, i):
        ev = self.steps[k]
        return _jac_text(self.jac[(k, i)], ev.args[i]._data.shape, ev.result.numel())

    def _local_name(self, k, i):
        ev = self.steps[k]
        a = ev.args[i]
        same = [j for j, b in enumerate(ev.args) if b is a]
        suffix = f" [arg {i + 1}]" if len(same) > 1 else ""
        return f"∂{self.step_names[k]}/∂{self.name_of.get(id(a), '?')}{suffix}"

    def reverse(self):
        captured = {}
        handles = []
        nodes = {}
        for k, ev in enumerate(self.steps):
            node = ev.result.grad_fn
            if node is not None:
                nodes[k] = node

                def hook(g, k=k):
                    captured[k] = np.array(g._data, copy=True)
                handles.append(node.register_prehook(hook))
        wrt = [self.xs[i] for i in self.wrt_idx]
        try:
            grads = _grad(self.out, wrt, retain_graph=True,
                          allow_unused=True)
        finally:
            for h in handles:
                h.remove()
        L = self.out_name
        adj = {}
        for k in captured:
            adj[self.step_names[k]] = captured[k]
        for i, g in zip(self.wrt_idx, grads):
            x = self.xs[i]
            adj[self.in_names[i]] = (np.zeros_like(x._data) if g is None
                                     else np.array(g._data, copy=True))
            self.report.gradients[self.in_names[i]] = adj[self.in_names[i]]
        self.report.adjoints = adj

        # uses of each variable: (step k, arg i); contributions via the node's VJP
        uses = {}
        for k, i, a in self.edges:
            uses.setdefault(id(a), []).append((k, i))
        contrib = {}
        mults = 0
        for k, node in nodes.items():
            if k not in captured:
                continue
            parts = node(wrap(captured[k]))
            for kk, i, a in self.edges:
                if kk == k and parts[i] is not None:
                    contrib[(k, i)] = parts[i]._data
                    mults += int(np.count_nonzero(self.jac[(k, i)]))
        self.reverse_mults = mults

        rows = []
        variables = [(self.step_names[k], ev.result) for k, ev in enumerate(self.steps)
                     if ev.result.grad_fn is not None]
        variables.reverse()
        variables += [(self.in_names[i], self.xs[i]) for i in self.wrt_idx]
        for name, t in variables:
            if t is self.out:
                rows.append((f"∂{L}/∂{name}", _fmt.array(adj.get(name, 1.0)),
                             "seed (1)", "", ""))
                continue
            terms, locs = [], []
            for k, i in uses.get(id(t), []):
                if (k, i) not in contrib:
                    continue
                terms.append(f"∂{L}/∂{self.step_names[k]} · {self._local_name(k, i)}")
                locs.append(f"{self._local_name(k, i)} = {self._jtext(k, i)}")
            via = ", ".join(sorted({type(self.steps[k].result.grad_fn).__name__
                                    for k, i in uses.get(id(t), []) if (k, i) in contrib}))
            value = adj.get(name)
            rows.append((f"∂{L}/∂{name}", "(not needed)" if value is None
                         else _fmt.array(value), " + ".join(terms) or "(unused: 0)",
                         "; ".join(locs), via))
        self.report.tables.append(Table(
            f"Reverse accumulation (1 backward pass from {L}; adjoints in reverse order)",
            ["adjoint", "value", "computed as", "local derivative used", "node"], rows,
            "Each adjoint sums, over every use of the variable, the adjoint of the step that "
            "used it times that step's local derivative (vector-Jacobian product)."))

    def forward_passes(self, f, forward_ad):
        passes = []
        mults = 0
        ref_names = [ev.name for ev in self.steps]
        for i in self.wrt_idx:
            x = self.xs[i]
            for j in range(x.numel()):
                seed = np.zeros(x.numel(), dtype=x._data.dtype)
                seed[j] = 1
                seed = seed.reshape(x._data.shape)
                where = ", ".join(str(int(d)) for d in np.unravel_index(j, x._data.shape))
                label = self.in_names[i] + (f"[{where}]" if x.ndim else "")
                with forward_ad.dual_level():
                    plain = [y.detach() for y in self.xs]
                    plain[i] = forward_ad.make_dual(plain[i], tensor(seed))
                    with no_grad(), record() as rec:
                        out = f(*plain)
                    steps = _relevant(rec.events, out)
                    if [ev.name for ev in steps] != ref_names:
                        raise RuntimeError(
                            "explain: f ran different ops in a forward-mode pass than in the "
                            "first run; explain needs f to compute the same steps every time "
                            "(no randomness or value-dependent branching on tangents)")
                    tangents = {}
                    for k, ev in enumerate(steps):
                        tan = forward_ad.unpack_dual(ev.result).tangent
                        tangents[self.step_names[k]] = (None if tan is None
                                                        else np.array(tan._data, copy=True))
                has = {self.in_names[i]}
                for k, ev in enumerate(self.steps):
                    if tangents.get(self.step_names[k]) is not None:
                        has.add(self.step_names[k])
                for k, ii, a in self.edges:
                    if self.name_of.get(id(a)) in has:
                        mults += int(np.count_nonzero(self.jac[(k, ii)]))
                passes.append((label, tangents, seed))
        self.forward_mults = mults
        self.report.passes = [(label, t) for label, t, _ in passes]
        for label, tangents, seed in passes:
            src = label.split("[")[0]
            rows = [(_dot(src), _fmt.array(seed), f"seed: direction {label}", "")]
            for k, ev in enumerate(self.steps):
                name = self.step_names[k]
                tan = tangents.get(name)
                terms, locs = [], []
                for kk, i, a in self.edges:
                    if kk != k:
                        continue
                    an = self.name_of.get(id(a), "?")
                    if an == src or tangents.get(an) is not None:
                        terms.append(f"{self._local_name(k, i)} · {_dot(an)}")
                        locs.append(f"{self._local_name(k, i)} = {self._jtext(k, i)}")
                how = " + ".join(terms) or "(constant)"
                if not terms and tan is not None:
                    how = ("(not recorded for reverse mode, e.g. no_grad; forward mode still "
                           "propagates its tangent, as PyTorch does)")
                rows.append((_dot(name), "0 (no tangent)" if tan is None else _fmt.array(tan),
                             how, "; ".join(locs)))
            self.report.tables.append(Table(
                f"Forward accumulation, pass for {label} (tangents {_dot('v')} = dv/d{label})",
                ["tangent", "value", "computed as", "local derivative used"], rows))

    def cost_table(self, mode):
        n_in = sum(self.xs[i].numel() for i in self.wrt_idx)
        rep = self.report
        rep.cost["reverse"] = {
            "passes": 1, "multiplications": getattr(self, "reverse_mults", None),
            "saved_bytes": self.saved_inter_bytes + self.saved_inputs_bytes,
            "saved_intermediate_bytes": self.saved_inter_bytes,
            "saved_input_bytes": self.saved_inputs_bytes}
        rep.cost["forward"] = {"passes": n_in,
                               "multiplications": getattr(self, "forward_mults", None),
                               "saved_bytes": 0}
        rows = []
        if mode in ("reverse", "both"):
            rows.append(("reverse", "1 (one per output element)",
                         str(self.reverse_mults),
                         f"{_fmt.nbytes(self.saved_inter_bytes)} of intermediates + "
                         f"{_fmt.nbytes(self.saved_inputs_bytes)} of inputs"))
        fwd_mults = str(self.forward_mults) if mode in ("forward", "both") else "-"
        rows.append(("forward", f"{n_in} (one per input element)", fwd_mults,
                     "0 B (nothing kept for later)"))
        rep.tables.append(Table(
            "Cost", ["mode", "passes", "multiplications", "values kept for the backward pass"],
            rows,
            "Multiplications: one per nonzero local-derivative entry applied (forward mode: "
            "in every pass, on each edge whose input carries a tangent).  Reverse mode needs "
            "one pass per output element, forward mode one per input element."))
