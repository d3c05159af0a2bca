"""``chainrule.optim``: optimisers with PyTorch's names and update formulas.

>>> import chainrule as torch
>>> w = torch.tensor([3.0], requires_grad=True)
>>> opt = torch.optim.SGD([w], lr=0.25)
>>> for _ in range(3):
...     opt.zero_grad()
...     loss = (w ** 2).sum()
...     loss.backward()
...     opt.step()
>>> w
tensor([0.3750], requires_grad=True)

Schedulers are in ``chainrule.optim.lr_scheduler`` (``StepLR``, ``CosineAnnealingLR`` ...).
"""
from . import lr_scheduler  # noqa: F401
from .adam import Adam, AdamW  # noqa: F401
from .optimizer import Optimizer  # noqa: F401
from .adaptive import Adadelta, Adagrad, RMSprop  # noqa: F401
from .sgd import SGD  # noqa: F401

# the public names (a type checker re-exports only these from the package)
__all__ = ["Adadelta", "Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop", "SGD",
           "lr_scheduler"]
