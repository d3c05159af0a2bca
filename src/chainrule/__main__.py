"""Command line: ``python -m chainrule demo`` and ``python -m chainrule explain ...``."""
import argparse
import keyword
import sys

import chainrule
from .viz.formula import evaluate, FormulaError, FUNCTIONS, parse
from .viz.explain import check_work, MAX_ELEMENTS
from . import __version__, viz
from .demo import main as demo_main

EXPLAIN_EXAMPLE = ('python -m chainrule explain "0.5*(dot(w, x) + b - y)**2" '
                   'w=1,1,1 b=1 x=2,1,3 y=10 --wrt w,b')


class CliError(Exception):
    """A user error: printed on stderr, exit status 2."""


def _parse_inputs(items):
    """``["w=1,1,1", "b=1"]`` -> ``{"w": [1.0, 1.0, 1.0], "b": 1.0}`` (order kept)."""
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep:
            raise CliError(f"input {item!r} is not of the form name=value (e.g. w=1,2,3 or b=1)")
        if not name.isidentifier() or keyword.iskeyword(name) or name.startswith("_"):
            raise CliError(f"input name {name!r} is not allowed: use letters, digits and _ "
                           f"(not starting with _ or a digit)")
        if name in FUNCTIONS:
            raise CliError(f"input name {name!r} is the name of a function; pick another name")
        if name in out:
            raise CliError(f"input {name!r} is given twice")
        parts = [p.strip() for p in value.split(",")]
        if len(parts) > MAX_ELEMENTS:
            raise CliError(f"input {name!r} has {len(parts)} elements; at most {MAX_ELEMENTS}")
        try:
            nums = [float(p) for p in parts]
        except ValueError:
            raise CliError(f"input {name}={value!r}: expected a number or a comma-separated list "
                           f"of numbers, e.g. {name}=1 or {name}=1,2,3") from None
        out[name] = nums[0] if len(parts) == 1 else nums
    return out


def explain_command(args, stdout=None, stderr=None):
    """Run ``python -m chainrule explain``; returns the exit status."""
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    try:
        values = _parse_inputs(args.inputs)
        if not values:
            raise CliError("give the inputs as name=value, e.g. " + EXPLAIN_EXAMPLE)
        tree = parse(args.formula, list(values))
        names = list(values)
        wrt = None
        if args.wrt:
            wrt = [w.strip() for w in args.wrt.split(",") if w.strip()]
            unknown = [w for w in wrt if w not in values]
            if unknown:
                raise CliError(f"--wrt names unknown inputs {', '.join(unknown)}; the inputs "
                               f"are {', '.join(names)}")

        def numel(v):
            return len(v) if isinstance(v, list) else 1
        try:                    # the total work, refused before anything is computed
            check_work([numel(v) for v in values.values()],
                       [numel(values[n]) for n in (wrt or names)], args.mode)
        except ValueError as e:
            raise CliError(str(e).removeprefix("explain: ")) from None
    except (CliError, FormulaError) as e:
        print(f"chainrule explain: error: {e}", file=stderr)
        return 2


    def f(*tensors):
        return evaluate(tree, dict(zip(names, tensors)))

    try:
        report = viz.explain(f, *values.values(), mode=args.mode, wrt=wrt,
                             names=names + ["out"])
    except (ValueError, TypeError, RuntimeError, ArithmeticError, IndexError) as e:
        print(f"chainrule explain: error: the formula could not be evaluated: {e}",
              file=stderr)
        return 1
    text = {"text": str, "markdown": lambda r: r.to_markdown(),
            "html": lambda r: r.to_html()}[args.format](report)
    print(f"formula: {args.formula}", file=stdout)
    print(text, file=stdout)
    if args.graph:
        return _draw(f, values, names, wrt, args.graph, stdout, stderr)
    return 0


def _draw(f, values, names, wrt, path, stdout, stderr):
    xs = [chainrule.tensor(v, dtype=chainrule.float64) for v in values.values()]
    for n, x in zip(names, xs):
        if wrt is None or n in wrt:
            x.requires_grad_(True)
    with viz.record() as rec:
        out = f(*xs)
    params = dict(zip(names, xs))
    params["out"] = out
    if not out.requires_grad:
        print("chainrule explain: nothing to draw (no input requires grad)", file=stderr)
        return 1
    g = viz.graph(out, params=params, trace=rec, show_values=True, show_grads=True)
    try:
        g.render(path)
    except viz.ExecutableNotFound as e:
        print(f"chainrule explain: cannot draw the graph: {e}", file=stderr)
        return 1
    except (ValueError, RuntimeError, OSError) as e:
        print(f"chainrule explain: cannot draw the graph: {e}", file=stderr)
        return 1
    print(f"graph written to {path}", file=stdout)
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m chainrule",
                                     description="chainrule: automatic differentiation on NumPy")
    parser.add_argument("--version", action="version", version=f"chainrule {__version__}")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("demo", help="walk through the autograd chapter of Dive into Deep Learning")
    ex = sub.add_parser(
        "explain", help="show forward/reverse accumulation tables for a formula",
        description="Evaluate a formula over named inputs and print, step by step, how "
                    "reverse and/or forward mode accumulate its derivatives.",
        epilog="example: " + EXPLAIN_EXAMPLE + "   (a formula starting with '-' goes "
               "after '--': explain -- \"-sum(w)\" w=1,2)")
    ex.add_argument("formula", help="e.g. \"0.5*(dot(w, x) + b - y)**2\": numbers, input "
                                    "names, + - * / **, parentheses and functions like dot, "
                                    "sum, exp, log, sin, tanh, sigmoid, relu, sqrt, norm")
    ex.add_argument("inputs", nargs="*", help="name=value: a number (scalar) or a "
                                               "comma-separated list (vector), e.g. w=1,1,1")
    ex.add_argument("--wrt", help="comma-separated inputs to differentiate with respect to "
                                  "(default: all)")
    ex.add_argument("--mode", choices=("reverse", "forward", "both"), default="both",
                    help="which accumulation tables to print (default: both)")
    ex.add_argument("--format", choices=("text", "markdown", "html"), default="text")
    ex.add_argument("--graph", metavar="FILE", help="also draw the computation graph "
                                                    "(.svg, .png or .pdf; needs Graphviz)")
    args = parser.parse_args(argv)
    if args.command == "demo":
        demo_main()
        return 0
    if args.command == "explain":
        return explain_command(args)
    parser.print_help()
    return 0


def _run():
    try:
        return main()
    except BrokenPipeError:          # output piped into `head` and closed: not an error
        import os
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(_run())
