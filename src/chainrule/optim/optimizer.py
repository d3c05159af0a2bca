"""``Optimizer``: parameter groups, per-parameter state, ``zero_grad``, ``state_dict``.

Updates run on the parameters' NumPy arrays in place (the equivalent of PyTorch's
``torch.no_grad()`` updates), bumping each parameter's version counter.
"""
import copy
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from .._tensor import Tensor, wrap
from ..nn.module import zero_grads
from .._grad_mode import announced, enable_grad

__all__ = ["Optimizer", "required"]


class _Required:
    def __repr__(self):
        return "<required parameter>"


required = _Required()

# what an optimiser takes: tensors, (name, tensor) pairs (``named_parameters()``) or dicts of
# options, each with its own "params"
Params = Iterable[Tensor] | Iterable[tuple[str, Tensor]] | Iterable[dict[str, Any]]
# a closure re-evaluates the model and returns the loss
Closure = Callable[[], Tensor | float]


class Optimizer:
    """Base class: holds ``param_groups`` (a list of dicts, each with ``'params'`` and its
    own options) and ``state`` (a dict from parameter to its state dict).

    >>> import chainrule as torch
    >>> w = torch.zeros(2, requires_grad=True)
    >>> b = torch.zeros(1, requires_grad=True)
    >>> opt = torch.optim.SGD([{'params': [w]}, {'params': [b], 'lr': 0.5}], lr=0.1)
    >>> [g['lr'] for g in opt.param_groups]
    [0.1, 0.5]
    """

    def __init__(self, params: Params, defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self.state = defaultdict(dict)
        self.param_groups = []
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            f"Tensors or dicts, but got {params.type()}")
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for g in groups:
            self.add_param_group(g)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own options (unset ones take the defaults)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs. "
                            "Please use a list instead.")
        else:
            params = list(params)
        params = [p[1] if isinstance(p, tuple) and len(p) == 2 else p for p in params]
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params "
                                f"is {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        group = dict(param_group)
        group["params"] = params
        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError(f"parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            group.setdefault(name, default)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if len({id(p) for p in params}) != len(params):
            import warnings
            warnings.warn("optimizer contains a parameter group with duplicate parameters; "
                          "in future, this will cause an error", UserWarning, stacklevel=3)
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    @announced
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all optimised parameters: to ``None`` (default) or to
        zeros in place."""
        for group in self.param_groups:
            zero_grads(group["params"], set_to_none)

    def step(self, closure: Closure | None = None) -> Tensor | float | None:
        raise NotImplementedError

    def _closure(self, closure):
        if closure is None:
            return None
        with enable_grad():
            return closure()

    # --- state dict -------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """``{'state': {index: state}, 'param_groups': [group options with 'params' as
        indices]}``; parameters are numbered in group order, as in PyTorch.  The state's
        tensors are references (save it with ``chainrule.save`` or copy it)."""
        index = {}
        groups = []
        for g in self.param_groups:
            packed = {k: v for k, v in g.items() if k != "params"}
            ids = []
            for p in g["params"]:
                if id(p) not in index:
                    index[id(p)] = len(index)
                ids.append(index[id(p)])
            packed["params"] = ids
            groups.append(packed)
        state = {index[id(p)]: s for p, s in self.state.items() if id(p) in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore options and state saved by ``state_dict()`` (tensors are copied and cast
        to the parameter's dtype, except ``'step'``)."""
        state_dict = copy.deepcopy(state_dict)
        groups, saved = self.param_groups, state_dict["param_groups"]
        if len(groups) != len(saved):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match "
                             "the size of optimizer's group")
        id_map = {}
        for g, s in zip(groups, saved):
            for i, p in zip(s["params"], g["params"]):
                id_map[i] = p
        state = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k not in id_map:
                continue
            p = id_map[k]
            state[p] = {name: _cast(p, name, value) for name, value in v.items()}
        self.state = state
        self.param_groups = [dict(s, params=g["params"]) for g, s in zip(groups, saved)]

    def __repr__(self) -> str:
        s = type(self).__name__ + " ("
        for i, g in enumerate(self.param_groups):
            s += f"\nParameter Group {i}"
            for key in sorted(g):
                if key != "params":
                    s += f"\n    {key}: {g[key]}"
        return s + "\n)"

    def __getstate__(self):
        # not the instance's step wrapper that an lr_scheduler installs (it refers to this
        # optimizer: a copy would step the original) nor its "has stepped" flag, as PyTorch
        return {k: v for k, v in self.__dict__.items() if k not in ("step", "_opt_called")}

    def __setstate__(self, state):
        self.__dict__.update(state)


def _cast(param, name, value):
    if isinstance(value, Tensor):
        if name == "step":
            return wrap(value._data.copy())
        return wrap(value._data.astype(param._data.dtype, copy=True))
    return value


def hyper(value: float | Tensor) -> float:
    """A hyperparameter as a Python number: PyTorch accepts 0-d tensors for ``lr`` and the
    like; the update arithmetic works on NumPy arrays, where a Tensor operand would not
    compute in place."""
    return value.item() if isinstance(value, Tensor) else value
