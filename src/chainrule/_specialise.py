"""Specialised copies of a hot function, generated from its one source.

The op recording path (``ops._core._run``) and the backward walk (``autograd.engine._walk``)
are each written once, for every case.  Their hottest cases (an op on one tensor, a tensor
with a number, two tensors; a plain ``loss.backward()``) are served by copies in which some
local names are fixed to constants and the branches those constants decide are folded away
-- the same code, minus the tests the case makes unnecessary.  The copies are compiled from
the function's own source, keep its file name and line numbers (tracebacks point at the
source), and run in its module's globals.

>>> def f(x, fast):
...     if fast:
...         return x + 1
...     return x - 1
>>> f_fast = specialise(f, "f_fast", fast=True)
>>> f_fast(1, None)
2
"""
import ast
import linecache
import marshal
import os
import sys
import textwrap
import zlib

__all__ = ["specialise"]

_FOLDABLE = (bool, int, type(None), tuple)


def specialise(fn, name, inline=None, **consts):
    """A copy of ``fn`` named ``name`` in which each local name in ``consts`` is the given
    constant: loads of it become the constant, assignments to it are dropped, and ``if``
    statements, conditional expressions, ``not``, comparisons and leading ``and``/``or``
    operands that become constant are folded (``x and False`` too, in an ``if`` test:
    the conditions folded are free of side effects).  The copy takes the same arguments.

    ``inline``: ``{name: (template, consts[, options])}``: a call of ``name`` is replaced
    by the body of ``template`` specialised with ``consts`` -- a call inlined, for a
    template whose parameters have the caller's names (or are fixed by ``consts``).  The
    call is a statement ``return name(...)``, or ``x = name(...)`` for a template whose
    only ``return`` is its last statement.  ``options``: ``bound`` (names the caller has
    already bound to what the template would assign them: those assignments are dropped)
    and ``clear`` (template locals set to ``None`` after the inlined body, so that the
    caller's frame keeps no references a call would have dropped).

    After the folding, a local assigned a constant (or one of two constants, ``x = 1 if t
    else 2``) is propagated to the reads that must see that assignment (same block, later;
    not across a loop or ``try`` that assigns it), and comparisons it decides are folded.
    Assignments of a name to a name, constant or attribute that nothing reads after the
    folding are dropped."""
    inline = inline or {}
    key, path = _cache_key(fn, name, inline, consts)
    code = _load(key, path)
    if code is None:
        tree = ast.Module(body=[transformed(fn, name, inline, consts)], type_ignores=[])
        ast.fix_missing_locations(tree)
        code = compile(tree, fn.__code__.co_filename, "exec")
        _store(key, path, code)
    space = {}
    exec(code, fn.__globals__, space)
    out = space[name]
    out.__qualname__ = name
    out.__module__ = fn.__module__
    out.__doc__ = fn.__doc__ if name == fn.__name__ else \
        f"{fn.__name__} specialised for {consts} (generated; see chainrule._specialise)"
    return out


def transformed(fn, name, inline, consts):
    """The definition of ``specialise``'s copy, as an AST (``ast.unparse`` shows it)."""
    func = _parse(fn)
    func.name = name
    func.decorator_list = []
    func.body = _Folder(consts, inline).fold_block(func.body)
    for _ in range(3):              # what the folding fixed, propagated and folded again
        if not _Propagate().block(func.body, {}):
            break
        func.body = _Folder({}).fold_block(func.body)
    _drop_dead_stores(func)
    return func


# Generated code is kept beside the module's bytecode (``__pycache__``), like a ``.pyc``:
# parsing, folding and compiling the copies costs ~40 ms, paid once per source version.
# The key covers the sources involved (this module's too), the constants and the Python
# version, so a change to any of them makes a new entry.

def _source(fn):
    code = fn.__code__
    first = code.co_firstlineno
    last = max(end for _, end, _, _ in code.co_positions() if end is not None)
    return first, "".join(linecache.getlines(code.co_filename)[first - 1:last])


def _cache_key(fn, name, inline, consts):
    """What the copy is made from, as text: the entry is used only when all of it matches
    (the file name carries its checksum)."""
    parts = [sys.version, "".join(linecache.getlines(__file__)), repr(_source(fn)), name,
             repr(sorted(consts.items()))]
    for key in sorted(inline):
        template, *rest = inline[key]
        parts.append(f"{key}{_source(template)!r}{rest!r}")
    key = "\0".join(parts)
    here = os.path.dirname(fn.__code__.co_filename)
    module = fn.__module__.rpartition(".")[2]
    return key, os.path.join(here, "__pycache__", f"{module}.{name}."
                             f"{zlib.crc32(key.encode()):08x}.specialised")


def _load(key, path):
    try:
        with open(path, "rb") as f:
            stored, code = marshal.load(f)
    except (OSError, EOFError, ValueError, TypeError):
        return None
    return code if stored == key else None


def _store(key, path, code):
    """Keep ``code`` for the next import (quietly skipped where the package is read-only
    or bytecode writing is off); older entries of the same function are removed."""
    if sys.dont_write_bytecode:
        return
    folder, file = os.path.split(path)
    prefix = file.rsplit(".", 2)[0] + "."
    try:
        os.makedirs(folder, exist_ok=True)
        for old in os.listdir(folder):
            if old.startswith(prefix) and old.endswith(".specialised"):
                os.remove(os.path.join(folder, old))
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "wb") as f:
            marshal.dump((key, code), f)
        os.replace(tmp, path)
    except OSError:
        pass


def _parse(fn):
    """``fn``'s definition as an AST with the file's line numbers.  The lines come from
    the code object's own positions (``inspect.getsource`` tokenizes the file: about ten
    times slower, paid at every import)."""
    first, text = _source(fn)
    tree = ast.parse(textwrap.dedent(text))
    ast.increment_lineno(tree, first - 1)
    return tree.body[0]


def _const(node):
    return isinstance(node, ast.Constant)


class _Folder(ast.NodeTransformer):
    def __init__(self, consts, inline=None, bound=()):
        self.consts = consts
        self.inline = inline or {}
        self.bound = bound

    def _inlined(self, call):
        """The folded body of the template ``call`` names, or None when it names none."""
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and
                call.func.id in self.inline):
            return None
        template, consts, *options = self.inline[call.func.id]
        options = options[0] if options else {}
        func = _parse(template)
        names = [a.arg for a in func.args.args]
        for param, arg in zip(names, call.args):
            if param not in consts and not (isinstance(arg, ast.Name) and arg.id == param):
                raise ValueError(f"cannot inline {call.func.id}: argument for {param!r} "
                                 f"is not the caller's {param!r}")
        body = func.body
        if body and isinstance(body[0], ast.Expr) and _const(body[0].value):
            body = body[1:]                     # (the docstring)
        folder = _Folder({**self.consts, **consts}, self.inline,
                         bound=options.get("bound", ()))
        return folder.fold_block(body), options.get("clear", ())

    def visit_Return(self, node):
        inlined = self._inlined(node.value)
        if inlined is not None:
            # the function ends with this body: what it does not read is dead
            holder = ast.FunctionDef(name="_", args=None, body=inlined[0], decorator_list=[])
            _drop_dead_stores(holder)
            return holder.body
        self.generic_visit(node)
        return node

    def _assign_inlined(self, node):
        """``x = template(...)``: the template's body with its final ``return v`` turned
        into ``x = v``, then its ``clear`` locals set to None."""
        inlined = self._inlined(node.value)
        if inlined is None:
            return None
        body, clear = inlined
        last = body[-1]
        if not isinstance(last, ast.Return) or \
                any(isinstance(n, ast.Return) for s in body[:-1] for n in ast.walk(s)):
            raise ValueError(f"cannot inline {node.value.func.id} into an assignment: its "
                             f"only return must be its last statement")
        out = body[:-1]
        if not (len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) and
                isinstance(last.value, ast.Name) and last.value.id == node.targets[0].id):
            out.append(ast.copy_location(ast.Assign(targets=node.targets, value=last.value),
                                         last))     # (not ``x = x``)
        if clear:
            out.append(ast.copy_location(ast.Assign(
                targets=[ast.Name(c, ast.Store()) for c in clear],
                value=ast.Constant(None)), last))
        return out

    def fold_block(self, stmts):
        out = []
        for s in stmts:
            r = self.visit(s)
            if r is None:
                continue
            out.extend(r if isinstance(r, list) else [r])
        return out or [ast.Pass()]

    def visit_Name(self, node):
        if isinstance(node.ctx, ast.Load) and node.id in self.consts:
            return ast.copy_location(ast.Constant(self.consts[node.id]), node)
        return node

    def visit_Attribute(self, node):
        # ``consts`` may fix an attribute of a local too: ``{"op.save_out": True}``
        if isinstance(node.ctx, ast.Load) and isinstance(node.value, ast.Name):
            key = f"{node.value.id}.{node.attr}"
            if key in self.consts:
                return ast.copy_location(ast.Constant(self.consts[key]), node)
        self.generic_visit(node)
        return node

    def visit_Subscript(self, node):
        self.generic_visit(node)
        if isinstance(node.ctx, ast.Load) and _const(node.value) and _const(node.slice) \
                and isinstance(node.value.value, tuple) and isinstance(node.slice.value, int) \
                and -len(node.value.value) <= node.slice.value < len(node.value.value):
            return ast.copy_location(ast.Constant(node.value.value[node.slice.value]), node)
        return node

    def visit_Assign(self, node):
        if all(isinstance(t, ast.Name) and t.id in self.consts for t in node.targets):
            return None                 # a fixed name is not assigned
        if self.bound and all(_names(t) and set(_names(t)) <= set(self.bound)
                              for t in node.targets):
            return None                 # the caller has bound these already
        inlined = self._assign_inlined(node)
        if inlined is not None:
            return inlined
        node.value = self.visit(node.value)
        return node

    def visit_BinOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, ast.Add) and _const(node.right) and node.right.value == ():
            return node.left            # ``t + ()``
        return node

    def visit_If(self, node):
        node.test = _truth(self.visit(node.test))
        t = node.test
        if isinstance(t, ast.BoolOp) and isinstance(t.op, ast.And) and \
                any(_const(v) and not v.value for v in t.values):
            node.test = ast.copy_location(ast.Constant(False), t)
        if _const(node.test):
            branch = node.body if node.test.value else node.orelse
            return self.fold_block(branch) if branch else None
        node.body = self.fold_block(node.body)
        node.orelse = self.fold_block(node.orelse) if node.orelse else []
        return node

    def visit_While(self, node):
        node.test = self.visit(node.test)
        node.body = self.fold_block(node.body)
        node.orelse = self.fold_block(node.orelse) if node.orelse else []
        return node

    def visit_For(self, node):
        node.iter = self.visit(node.iter)
        node.body = self.fold_block(node.body)
        node.orelse = self.fold_block(node.orelse) if node.orelse else []
        return node

    def visit_Try(self, node):
        node.body = self.fold_block(node.body)
        node.handlers = [self.visit(h) for h in node.handlers]
        node.orelse = self.fold_block(node.orelse) if node.orelse else []
        node.finalbody = self.fold_block(node.finalbody) if node.finalbody else []
        return node

    def visit_ExceptHandler(self, node):
        node.body = self.fold_block(node.body)
        return node

    def visit_IfExp(self, node):
        self.generic_visit(node)
        node.test = _truth(node.test)
        if _const(node.test):
            return node.body if node.test.value else node.orelse
        return node

    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, ast.Not) and _const(node.operand):
            return ast.copy_location(ast.Constant(not node.operand.value), node)
        return node

    def visit_Compare(self, node):
        self.generic_visit(node)
        if len(node.ops) == 1 and _const(node.left) and _const(node.comparators[0]):
            a, b = node.left.value, node.comparators[0].value
            op = node.ops[0]
            table = {ast.Eq: lambda: a == b, ast.NotEq: lambda: a != b,
                     ast.Is: lambda: a is b, ast.IsNot: lambda: a is not b,
                     ast.Lt: lambda: a < b, ast.LtE: lambda: a <= b,
                     ast.Gt: lambda: a > b, ast.GtE: lambda: a >= b,
                     ast.In: lambda: a in b, ast.NotIn: lambda: a not in b}
            if isinstance(op, (ast.In, ast.NotIn)) and not isinstance(b, tuple):
                return node
            if type(op) in table:
                return ast.copy_location(ast.Constant(table[type(op)]()), node)
        return node

    def visit_BoolOp(self, node):
        self.generic_visit(node)
        values = list(node.values)
        is_and = isinstance(node.op, ast.And)
        # leading constants only: ``True and x`` is ``x``, ``False and x`` is ``False``
        # (and the same for ``or``), whatever ``x`` is
        while values and _const(values[0]):
            v = values[0].value
            if bool(v) == is_and:       # does not decide: drop it
                values.pop(0)
                if not values:
                    return ast.copy_location(ast.Constant(v), node)
            else:                       # decides: the result is this operand
                return ast.copy_location(ast.Constant(v), node)
        if len(values) == 1:
            return values[0]
        node.values = values
        return node


def _truth(test):
    """A test whose truth alone matters (``if``, a conditional expression): constant
    operands that do not decide an ``and``/``or`` are dropped wherever they stand
    (``x and True`` is true exactly when ``x`` is), inside ``not`` and nested ``and``/``or``
    too (only their operands' truth matters there as well)."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        inner = _truth(test.operand)
        if _const(inner):
            return ast.copy_location(ast.Constant(not inner.value), test)
        test.operand = inner
        return test
    if not isinstance(test, ast.BoolOp):
        return test
    keep = isinstance(test.op, ast.And)         # the constant value that does not decide
    values = [v for v in map(_truth, test.values)
              if not (_const(v) and bool(v.value) == keep)]
    if not values:
        return ast.copy_location(ast.Constant(keep), test)
    if len(values) == 1:
        return values[0]
    test.values = values
    return test


def _stored(nodes):
    """Every name the statements ``nodes`` bind (any kind of store, nested blocks too)."""
    out = set()
    for s in nodes:
        for n in ast.walk(s):
            if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load):
                out.add(n.id)
            elif isinstance(n, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
                out.add(n.name)
            elif isinstance(n, ast.ExceptHandler) and n.name:
                out.add(n.name)
    return out


_UNKNOWN = object()


def _literal(node):
    """The value of a constant or a tuple of constants (``()``), else ``_UNKNOWN``."""
    if _const(node):
        return node.value
    if isinstance(node, ast.Tuple) and all(_const(e) for e in node.elts):
        return tuple(e.value for e in node.elts)
    return _UNKNOWN


class _Propagate(ast.NodeTransformer):
    """Locals known to hold one of a few constants (``env``: name -> frozenset of values),
    substituted where a read must see that assignment: a read of a name with one value
    becomes the constant; a comparison with a constant that every value decides alike
    becomes its result.  ``block`` returns whether anything changed."""

    def __init__(self):
        self.changed = False
        self.env = {}

    def block(self, stmts, env):
        for s in stmts:
            env = self.stmt(s, env)
        return self.changed

    def expr(self, node, env):
        self.env = env
        return self.visit(node)

    def stmt(self, s, env):
        if isinstance(s, ast.Assign):
            s.value = self.expr(s.value, env)
            env = {k: v for k, v in env.items() if k not in _stored([s])}
            t = s.targets[0]
            if len(s.targets) == 1 and isinstance(t, ast.Name):
                v = s.value
                if _literal(v) is not _UNKNOWN:
                    env[t.id] = frozenset([_literal(v)])
                elif isinstance(v, ast.IfExp) and _literal(v.body) is not _UNKNOWN and \
                        _literal(v.orelse) is not _UNKNOWN:
                    env[t.id] = frozenset([_literal(v.body), _literal(v.orelse)])
            return env
        if isinstance(s, ast.If):
            s.test = self.expr(s.test, env)
            a = self._sub(s.body, env)
            b = self._sub(s.orelse, env)
            return {k: a[k] | b[k] for k in a.keys() & b.keys()}
        if isinstance(s, (ast.For, ast.While, ast.Try, ast.With, ast.AsyncFor,
                          ast.AsyncWith)):
            # a loop or try may run its body again or leave it anywhere: what it assigns
            # is unknown inside and after it
            env = {k: v for k, v in env.items() if k not in _stored([s])}
            for field in ("iter", "test"):
                if getattr(s, field, None) is not None:
                    setattr(s, field, self.expr(getattr(s, field), env))
            for field in ("body", "orelse", "finalbody"):
                self._sub(getattr(s, field, None) or [], env)
            for h in getattr(s, "handlers", []):
                self._sub(h.body, env)
            return env
        if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return {k: v for k, v in env.items() if k not in _stored([s])}
        for field, value in ast.iter_fields(s):     # Return, Expr, AugAssign, ...
            if isinstance(value, ast.expr) and not (isinstance(s, ast.AugAssign) and
                                                    field == "target"):
                setattr(s, field, self.expr(value, env))
        return {k: v for k, v in env.items() if k not in _stored([s])}

    def _sub(self, stmts, env):
        env = dict(env)
        for s in stmts:
            env = self.stmt(s, env)
        return env

    def visit_Name(self, node):
        vals = self.env.get(node.id)
        if isinstance(node.ctx, ast.Load) and vals is not None and len(vals) == 1:
            self.changed = True
            return ast.copy_location(ast.Constant(next(iter(vals))), node)
        return node

    def visit_Compare(self, node):
        if len(node.ops) == 1:
            left, right = node.left, node.comparators[0]
            for name, other, swap in ((left, right, False), (right, left, True)):
                vals = self.env.get(name.id) if isinstance(name, ast.Name) else None
                if vals is None or len(vals) < 2 or not _const(other):
                    continue
                results = set()
                for v in vals:
                    a, b = (other, ast.Constant(v)) if swap else (ast.Constant(v), other)
                    folded = _Folder({}).visit(ast.Compare(left=a, ops=node.ops,
                                                           comparators=[b]))
                    results.add(folded.value if _const(folded) else _UNKNOWN)
                if len(results) == 1 and _UNKNOWN not in results:
                    self.changed = True
                    return ast.copy_location(ast.Constant(results.pop()), node)
        self.generic_visit(node)
        return node

    def visit_Lambda(self, node):
        return node                 # (its own scope)

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = visit_Lambda


def _names(target):
    """The names a plain or tuple assignment target binds (empty for anything else)."""
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, ast.Tuple) and all(isinstance(e, ast.Name) for e in target.elts):
        return [e.id for e in target.elts]
    return []


def _drop_dead_stores(func):
    """Drop ``name = <name, constant or attribute of a name>`` where nothing reads
    ``name`` (left behind when the reads were folded away).  A name also bound to
    anything else is kept: its ``= None`` may be what releases a reference."""
    read = set()
    pure_stores = set()         # ids of the Name targets of pure assignments
    for n in ast.walk(func):
        if isinstance(n, ast.Assign) and _pure(n.value):
            pure_stores.update(id(t) for t in n.targets if isinstance(t, ast.Name))
    blocks = []
    for n in ast.walk(func):
        if isinstance(n, ast.Name):
            if not isinstance(n.ctx, ast.Store) or id(n) not in pure_stores:
                read.add(n.id)
        elif isinstance(n, (ast.Global, ast.Nonlocal)):
            read.update(n.names)            # (a store others can see)
        for field in ("body", "orelse", "finalbody"):
            block = getattr(n, field, None)
            if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                blocks.append((n, field, block))
    for parent, field, block in blocks:
        kept = [s for s in block if not (
            isinstance(s, ast.Assign) and _pure(s.value) and
            all(isinstance(t, ast.Name) and t.id not in read for t in s.targets))]
        if len(kept) != len(block):
            setattr(parent, field, kept or [ast.Pass()])
    if func.args is not None:       # (not for an inlined body alone: it lacks its context)
        _drop_unread_after(func)


_BARRIERS = (ast.For, ast.AsyncFor, ast.While, ast.Try, ast.With, ast.AsyncWith, ast.Match) + \
    ((ast.TryStar,) if hasattr(ast, "TryStar") else ())


def _drop_unread_after(func):
    """Drop ``name = <pure>`` where no statement after it reads ``name`` -- a store that
    one copy inlined into the function no longer needs while another copy still reads the
    name (``_drop_dead_stores`` looks at the whole function).  Only straight-line code and
    ``if`` statements are followed: a store inside a loop, ``try`` or ``with`` is kept, as
    is one of a name that a nested function or comprehension reads, or that is ``global``
    or ``nonlocal``.  A store of ``None`` (which may be what releases a reference) goes
    only when the name is assigned again after it before anything reads it."""
    where = {}                  # id(statement) -> (parent, field, index)

    def index(node):
        for field in ("body", "orelse", "finalbody", "handlers"):
            block = getattr(node, field, None)
            if isinstance(block, list):
                for i, st in enumerate(block):
                    if isinstance(st, (ast.stmt, ast.excepthandler)):
                        where[id(st)] = (node, field, i)
                        index(st)
    index(func)
    nested = set()              # names read inside nested scopes (cells: kept)
    for n in ast.walk(func):
        if n is not func and isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda,
                                            ast.ListComp, ast.SetComp, ast.DictComp,
                                            ast.GeneratorExp)):
            nested.update(m.id for m in ast.walk(n) if isinstance(m, ast.Name))
        elif isinstance(n, (ast.Global, ast.Nonlocal)):
            nested.update(n.names)          # (a store others can see: kept)
    dead = []
    for st in ast.walk(func):
        if not (isinstance(st, ast.Assign) and _pure(st.value) and id(st) in where and
                all(isinstance(t, ast.Name) and t.id not in nested for t in st.targets)):
            continue
        node, inside = st, False
        while node is not func:
            node = where[id(node)][0]
            if isinstance(node, _BARRIERS):
                inside = True
                break
        if inside:
            continue
        # (``x = None`` after another binding of ``x`` may be what releases a reference)
        releases = isinstance(st.value, ast.Constant) and st.value.value is None and \
            any(_bound_before(st, t.id, where, func) for t in st.targets)
        if all(_unread_after(st, t.id, where, func, releases) for t in st.targets):
            dead.append(st)
    for st in dead:
        parent, field, _ = where[id(st)]
        block = [s for s in getattr(parent, field) if s is not st]
        setattr(parent, field, block or [ast.Pass()])


def _unread_after(st, name, where, func, need_kill):
    """Whether no statement that can run after ``st`` (outside loops and ``try``) reads
    ``name`` before assigning it again; with ``need_kill``, only when it is assigned again."""
    node = st
    while True:
        parent, field, i = where[id(node)]
        for later in getattr(parent, field)[i + 1:]:
            if _reads(later, name):
                return False
            if isinstance(later, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id == name for t in later.targets):
                return True                     # assigned again before any read
        if parent is func:
            return not need_kill
        node = parent                           # (an ``if``: its other branch is not next)


def _bound_before(st, name, where, func):
    """Whether ``name`` is a parameter or is bound by a statement before ``st`` in one
    of the blocks that hold it."""
    a = func.args
    if any(p.arg == name for p in a.posonlyargs + a.args + a.kwonlyargs) or \
            (a.vararg is not None and a.vararg.arg == name) or \
            (a.kwarg is not None and a.kwarg.arg == name):
        return True
    node = st
    while node is not func:
        parent, field, i = where[id(node)]
        for earlier in getattr(parent, field)[:i]:
            if _binds(earlier, name):
                return True
        node = parent
        if isinstance(node, ast.If) and _binds(ast.Expr(node.test), name):    # (a walrus)
            return True
    return False


def _binds(stmt, name):
    """Whether ``stmt`` can bind ``name`` for the code after it (an ``if`` branch that
    ends in ``return`` or ``raise`` binds nothing for what follows the ``if``)."""
    if isinstance(stmt, ast.If):
        return any(block and not isinstance(block[-1], (ast.Return, ast.Raise)) and
                   any(_binds(s, name) for s in block) for block in (stmt.body, stmt.orelse))
    return any(isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Store)
               for n in ast.walk(stmt))


def _reads(stmt, name):
    for n in ast.walk(stmt):
        if isinstance(n, ast.Name) and n.id == name and not isinstance(n.ctx, ast.Store):
            return True
        if isinstance(n, ast.AugAssign) and isinstance(n.target, ast.Name) and \
                n.target.id == name:
            return True
    return False


def _pure(v):
    """An expression without effects: a name, a constant, an attribute of a name, and
    tuples, ``is``/``is not`` tests, ``not``, ``and``/``or`` and conditional expressions
    of those."""
    if isinstance(v, (ast.Name, ast.Constant)):
        return True
    if isinstance(v, ast.Attribute):
        return isinstance(v.value, ast.Name)
    if isinstance(v, ast.Tuple):
        return all(_pure(e) for e in v.elts)
    if isinstance(v, ast.IfExp):
        return _pure(v.test) and _pure(v.body) and _pure(v.orelse)
    if isinstance(v, ast.Compare):
        return all(isinstance(o, (ast.Is, ast.IsNot)) for o in v.ops) and \
            _pure(v.left) and all(_pure(c) for c in v.comparators)
    if isinstance(v, ast.BoolOp):
        return all(_pure(e) for e in v.values)
    if isinstance(v, ast.UnaryOp):
        return isinstance(v.op, ast.Not) and _pure(v.operand)
    return False
