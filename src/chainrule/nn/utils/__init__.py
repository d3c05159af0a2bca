"""``chainrule.nn.utils``: gradient clipping (``clip_grad_norm_``, ``clip_grad_value_``) and
variable-length sequences (``rnn``: ``pack_padded_sequence`` & co.).

>>> import chainrule as torch
>>> w = torch.tensor([3.0, 4.0], requires_grad=True)
>>> (w * w).sum().backward()                    # grad (6, 8), norm 10
>>> torch.nn.utils.clip_grad_norm_([w], max_norm=1.0)
tensor(10.)
>>> w.grad
tensor([0.6000, 0.8000])
"""
from .clip_grad import clip_grad_norm_, clip_grad_value_  # noqa: F401
from . import rnn  # noqa: F401

__all__ = ["clip_grad_norm_", "clip_grad_value_", "rnn"]
