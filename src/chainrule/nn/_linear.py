"""``nn.functional.linear``: an affine map recorded as PyTorch records it.  (Its own
module, below ``nn.functional`` and the layers that use it.)"""
from .._tensor import Tensor as _Tensor
from ..ops.matmul import addmm as _addmm, matmul as _matmul, mm as _mm

__all__ = ["linear"]


def linear(input, weight, bias=None):
    """``input @ weight.T + bias`` (``weight`` of shape (out_features, in_features)),
    recorded as PyTorch records it: an ``addmm`` node for a matrix input with a bias, an
    ``mm`` without, and a view around either for other input ranks.

    >>> import chainrule as torch
    >>> torch.nn.functional.linear(torch.ones(2, 3), torch.ones(4, 3), torch.zeros(4))
    tensor([[3., 3., 3., 3.],
            [3., 3., 3., 3.]])
    """
    if not isinstance(input, _Tensor) or not isinstance(weight, _Tensor):
        raise TypeError(f"linear(): argument 'input' and 'weight' must be Tensors, got "
                        f"{type(input).__name__} and {type(weight).__name__}")
    if weight.ndim != 2 or input.ndim == 0:
        r = _matmul(input, weight.t())      # (matmul's own errors for these shapes)
        return r if bias is None else r + bias
    wt = weight.t()
    nd = input.ndim
    if nd == 2:
        return _mm(input, wt) if bias is None else _addmm(bias, input, wt)
    if bias is None:
        return _matmul(input, wt) if nd > 1 else _mm(input.unsqueeze(0), wt).squeeze(0)
    flat = input.view(1, -1) if nd == 1 else input.reshape(-1, input.shape[-1])
    out = _addmm(bias, flat, wt)
    return out.view(-1) if nd == 1 else out.view(*input.shape[:-1], out.shape[-1])
