"""Safe formulas for the command line: ``"0.5*(dot(w, x) + b - y)**2"``.

A formula is parsed with Python's ``ast`` module and checked against a whitelist before
anything runs: numbers, names of the given inputs, ``+ - * / **``, unary ``-``/``+``,
parentheses, and calls (positional arguments only) of a fixed set of chainrule functions.
Everything else -- attribute access, subscripts, imports, lambdas, comprehensions,
strings, keywords, unknown names, ``eval``/``exec``/``open``, over-long or too deeply
nested input -- is refused with ``FormulaError`` before evaluation.  Evaluation walks
the checked tree itself (no ``eval``/``exec``/``compile``).
"""
import ast

import chainrule
import chainrule.nn.functional as F

__all__ = ["FormulaError", "parse", "evaluate", "FUNCTIONS", "MAX_LENGTH", "MAX_DEPTH"]

MAX_LENGTH = 500
MAX_DEPTH = 32

#: the functions a formula may call, by name -> chainrule attribute
FUNCTIONS = ("dot", "sum", "mean", "exp", "log", "sin", "cos", "tan", "tanh", "sigmoid",
             "relu", "sqrt", "abs", "norm", "matmul", "maximum", "minimum", "square",
             "log1p", "expm1", "softplus", "prod", "max", "min")

_ALL_TENSOR_ARGS = ("dot", "matmul", "maximum", "minimum")

_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}


class FormulaError(ValueError):
    """A formula that is not allowed (or not valid); the message says why."""


def _where(node):
    col = getattr(node, "col_offset", None)
    return f" (at column {col + 1})" if col is not None else ""


def parse(text, names):
    """Parse and check ``text``; return the checked ``ast.Expression``.

    ``names``: the input names the formula may use.  Raises ``FormulaError``.

    >>> parse("dot(w, x) + b", ["w", "x", "b"]).body.__class__.__name__
    'BinOp'
    >>> parse("w.__class__", ["w"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    chainrule.viz.formula.FormulaError: not allowed in a formula: attribute access (w.__class__) ...
    """
    if not isinstance(text, str):
        raise FormulaError("the formula must be a string")
    if len(text) > MAX_LENGTH:
        raise FormulaError(f"the formula is {len(text)} characters long; at most {MAX_LENGTH} "
                           f"are allowed")
    if not text.strip():
        raise FormulaError("the formula is empty")
    # bound nesting before handing the text to the parser
    depth = best = 0
    for ch in text:
        if ch in "([{":
            depth += 1
            best = max(best, depth)
        elif ch in ")]}":
            depth -= 1
    if best > MAX_DEPTH:
        raise FormulaError(f"the formula nests brackets {best} deep; at most {MAX_DEPTH} levels "
                           f"are allowed")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as e:
        raise FormulaError(f"the formula is not a valid expression: {e.msg} "
                           f"(at column {e.offset})") from None
    except (RecursionError, MemoryError, ValueError):
        raise FormulaError("the formula is too complex to parse") from None
    _check(tree.body, set(names), 0)
    return tree


def _refuse(what, node):
    return FormulaError(f"not allowed in a formula: {what}{_where(node)}; use only numbers, "
                        f"input names, + - * / **, parentheses and the functions "
                        f"{', '.join(FUNCTIONS)}")


def _check(node, names, depth):
    if depth > MAX_DEPTH:
        raise FormulaError(f"the formula nests more than {MAX_DEPTH} levels deep")
    if isinstance(node, ast.Constant):
        v = node.value
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise _refuse(f"the constant {v!r}" if not isinstance(v, str) else "a string", node)
        if isinstance(v, int) and abs(v) > 2 ** 53:
            raise FormulaError(f"the number {str(v)[:20]}... is too large{_where(node)}; write "
                               f"it as a float (e.g. 1e30)")
        return
    if isinstance(node, ast.Name):
        if node.id not in names:
            if node.id in FUNCTIONS:
                raise FormulaError(f"{node.id} is a function: call it, e.g. {node.id}(x)"
                                   f"{_where(node)}")
            known = ", ".join(sorted(names)) or "none"
            raise FormulaError(f"unknown name {node.id!r}{_where(node)}; the inputs are: "
                               f"{known} (give each as name=value)")
        return
    if isinstance(node, ast.BinOp):
        if type(node.op) not in _BINOPS:
            raise _refuse(f"the operator {type(node.op).__name__}", node)
        _check(node.left, names, depth + 1)
        _check(node.right, names, depth + 1)
        return
    if isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, (ast.USub, ast.UAdd)):
            raise _refuse(f"the operator {type(node.op).__name__}", node)
        _check(node.operand, names, depth + 1)
        return
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name):
            raise _refuse("calling anything but a listed function by name", node)
        fname = node.func.id
        if fname not in FUNCTIONS:
            raise _refuse(f"calling {fname!r}", node)
        if node.keywords:
            raise _refuse(f"keyword arguments in {fname}(...)", node)
        if not node.args or len(node.args) > 3:
            raise FormulaError(f"{fname}(...) takes 1 to 3 positional arguments{_where(node)}")
        for a in node.args:
            if isinstance(a, ast.Starred):
                raise _refuse("*arguments", a)
            _check(a, names, depth + 1)
        return
    kinds = {ast.Attribute: "attribute access", ast.Subscript: "subscripting",
             ast.Lambda: "a lambda", ast.ListComp: "a comprehension",
             ast.SetComp: "a comprehension", ast.DictComp: "a comprehension",
             ast.GeneratorExp: "a generator expression", ast.List: "a list",
             ast.Tuple: "a tuple", ast.Dict: "a dict", ast.Set: "a set",
             ast.Compare: "a comparison", ast.BoolOp: "and/or", ast.IfExp: "if/else",
             ast.JoinedStr: "a string", ast.NamedExpr: "an assignment (:=)",
             ast.Await: "await", ast.Starred: "*unpacking"}
    what = kinds.get(type(node), f"the syntax {type(node).__name__}")
    if isinstance(node, ast.Attribute):
        try:
            what = f"attribute access ({ast.unparse(node)})"
        except Exception:       # noqa: BLE001
            pass
    raise _refuse(what, node)


def evaluate(tree, env):
    """Evaluate a tree returned by ``parse`` with ``env`` ``{name: Tensor}``."""
    funcs = {n: getattr(chainrule, n, None) or getattr(F, n, None) for n in FUNCTIONS}

    def ev(node):
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            return env[node.id]
        if isinstance(node, ast.UnaryOp):
            v = ev(node.operand)
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.BinOp):
            a, b = ev(node.left), ev(node.right)
            op = type(node.op)
            if not isinstance(a, chainrule.Tensor) and not isinstance(b, chainrule.Tensor):
                a = chainrule.tensor(a, dtype=chainrule.float64)
            if op is ast.Add:
                return a + b
            if op is ast.Sub:
                return a - b
            if op is ast.Mult:
                return a * b
            if op is ast.Div:
                return a / b
            return a ** b
        if isinstance(node, ast.Call):
            fn = funcs.get(node.func.id)
            if fn is None:
                raise FormulaError(f"{node.func.id} is not available in this chainrule build")
            args = [ev(a) for a in node.args]
            convert = len(args) if node.func.id in _ALL_TENSOR_ARGS else 1
            args = [chainrule.tensor(float(a), dtype=chainrule.float64)
                    if i < convert and not isinstance(a, chainrule.Tensor) else a
                    for i, a in enumerate(args)]
            return fn(*args)
        raise FormulaError("unexpected syntax")       # unreachable after parse()
    return ev(tree.body)
