"""The rule table: every op's forward, VJP and JVP, one module per family."""
from . import _core, arithmetic, rounding, comparison, unary, special, copies  # noqa: F401
from . import index, scatter, shape, split, flip_roll, repeat, pad, reduce  # noqa: F401
from . import matmul, einsum, diagonals, linalg_norms, decompositions  # noqa: F401
from . import activation, scan, stats, sorting, loss  # noqa: F401
from . import blocks, conv, pool  # noqa: F401
from ._core import OPS, NF, PUBLIC, TF, Op, defop  # noqa: F401
