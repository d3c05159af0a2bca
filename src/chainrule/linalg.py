"""``chainrule.linalg``: PyTorch's ``torch.linalg`` names (norms, inverse, determinant,
solve, symmetric eigendecomposition).  The ops and their VJP/JVP rules live in
``chainrule.ops`` (``decompositions``, ``linalg_norms``, ``diagonals``, ``matmul``).

>>> import chainrule as torch
>>> A = torch.tensor([[2., 0.], [1., 1.]], requires_grad=True)
>>> torch.linalg.det(A)
tensor(2., grad_fn=<LinalgDetBackward0>)
>>> torch.linalg.solve(A, torch.tensor([4., 5.]))
tensor([2., 3.], grad_fn=<LinalgSolveExBackward0>)
"""
from .ops.matmul import matmul
from .ops.decompositions import LinAlgError, det, eigh, eigvalsh, inv, solve
from .ops.linalg_norms import matrix_norm, vector_norm
from .ops.linalg_norms import linalg_norm as norm
from .ops.diagonals import diagonal as _diagonal

__all__ = ["LinAlgError", "det", "diagonal", "eigh", "eigvalsh", "inv", "matmul",
           "matrix_norm", "norm", "solve", "vector_norm"]


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    """The diagonals of the matrices in the last two dimensions (``torch.linalg.diagonal``).

    >>> import chainrule as torch
    >>> torch.linalg.diagonal(torch.eye(2))
    tensor([1., 1.])
    """
    return _diagonal(A, offset, dim1, dim2)
