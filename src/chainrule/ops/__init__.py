"""The rule table: every op's forward, VJP and JVP, one module per family."""
from . import _core, elementwise, index, linalg, reduce, shape  # noqa: F401
from . import unary, activation, scan, stats, sorting, loss  # noqa: F401
from . import index_more, linalg_more  # noqa: F401
from . import conv, pool  # noqa: F401
from ._core import OPS, NF, TF, Op, apply, defop  # noqa: F401
