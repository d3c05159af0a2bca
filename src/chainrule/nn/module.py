"""``Module``: the base class of layers and models (PyTorch's ``torch.nn.Module``).

A module holds parameters, buffers and submodules in three ordered dicts, filled by
plain attribute assignment::

    self.weight = nn.Parameter(...)   # -> _parameters
    self.block = nn.Linear(2, 3)      # -> _modules
    self.register_buffer("mean", t)   # -> _buffers
"""
import collections
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Self

from .._backend import backend_of
from .._device import check_target, device as device_cls
from .._dtypes import float16, float32, float64, to_dtype
from .._tensor import Tensor
from .._grad_mode import SHARED, announced, no_grad, notify
from .parameter import Parameter
from .._methods import _LEGACY, parse_to

__all__ = ["Module"]

_IncompatibleKeys = collections.namedtuple("_IncompatibleKeys",
                                           ["missing_keys", "unexpected_keys"])


def _addindent(s, n):
    lines = s.split("\n")
    if len(lines) == 1:
        return s
    return lines[0] + "\n" + "\n".join(" " * n + line for line in lines[1:])


def _uninit(t):
    """Whether ``t`` is an uninitialised parameter or buffer (of a lazy module)."""
    return getattr(type(t), "_uninitialized", False)


def _legacy_type(t):
    return _LEGACY.get(t._data.dtype.name, "torch.Tensor")


class Module:
    """Base class for all layers and models: subclass it, assign parameters and
    submodules in ``__init__`` and define ``forward``.

    >>> import chainrule as torch
    >>> from chainrule import nn
    >>> class Net(nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.hidden = nn.Linear(4, 8)
    ...         self.out = nn.Linear(8, 2)
    ...     def forward(self, x):
    ...         return self.out(torch.relu(self.hidden(x)))
    >>> net = Net()
    >>> [name for name, _ in net.named_parameters()]
    ['hidden.weight', 'hidden.bias', 'out.weight', 'out.bias']
    >>> net(torch.ones(3, 4)).shape
    torch.Size([3, 2])
    """

    training: bool

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if args or kwargs:
            raise TypeError(f"{type(self).__name__}.__init__() got unexpected arguments; "
                            f"Module.__init__ takes none")
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = {}
        d["_buffers"] = {}
        d["_non_persistent_buffers_set"] = set()
        d["_modules"] = {}
        d["_forward_hooks"] = {}
        d["_forward_pre_hooks"] = {}

    # a subclass's forward may take and return anything; calling a module is typed by
    # its forward only where a layer says so (``__call__ = forward`` when type checking)
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function')

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if SHARED.observed:
            notify("module_called", self)
        for hook in list(self.__dict__.get("_forward_pre_hooks", {}).values()):
            r = hook(self, args)
            if r is not None:
                args = r if isinstance(r, tuple) else (r,)
        result = self.forward(*args, **kwargs)
        for hook in list(self.__dict__.get("_forward_hooks", {}).values()):
            r = hook(self, args, result)
            if r is not None:
                result = r
        return result

    def register_forward_hook(self, hook: Callable[..., Any]) -> "_Handle":
        """Call ``hook(module, args, output)`` after every forward (may replace the output).
        Returns a handle with ``remove()``."""
        return _Handle(self._forward_hooks, hook)

    def register_forward_pre_hook(self, hook: Callable[..., Any]) -> "_Handle":
        """Call ``hook(module, args)`` before every forward (may replace the args)."""
        return _Handle(self._forward_pre_hooks, hook)

    # --- attribute registration -----------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._remove_from(name, d, d["_buffers"], d["_modules"])
            params[name] = value
            return
        if params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{_legacy_type(value) if isinstance(value, Tensor) else type(value).__name__}' "
                                f"as parameter '{name}' (torch.nn.Parameter or None expected)")
            params[name] = None
            return
        modules = d.get("_modules")
        if isinstance(value, Module):
            if modules is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self._remove_from(name, d, d["_parameters"], d["_buffers"])
            modules[name] = value
            return
        if modules is not None and name in modules:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as child module "
                                f"'{name}' (torch.nn.Module or None expected)")
            modules[name] = None
            return
        buffers = d.get("_buffers")
        if buffers is not None and name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                                f"(torch.Tensor or None expected)")
            buffers[name] = value
            return
        object.__setattr__(self, name, value)

    @staticmethod
    def _remove_from(name, *dicts):
        for d in dicts:
            d.pop(name, None)

    def __getattr__(self, name: str) -> "Tensor | Module":
        d = self.__dict__
        for key in ("_parameters", "_buffers", "_modules"):
            store = d.get(key)
            if store is not None and name in store:
                return store[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        d = self.__dict__
        for key in ("_parameters", "_buffers", "_modules"):
            if name in d.get(key, ()):
                del d[key][name]
                d["_non_persistent_buffers_set"].discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self) -> list[str]:
        return sorted(set(object.__dir__(self)) | set(self._parameters) |
                      set(self._buffers) | set(self._modules))

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` (a ``Parameter`` or ``None``) under ``name``."""
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(f'parameter name must be a non-empty string without ".", got {name!r}')
        if hasattr(self, name) and name not in self._parameters:
            raise KeyError(f"attribute '{name}' already exists")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{type(param).__name__}' object to parameter "
                            f"'{name}' (torch.nn.Parameter or None required)")
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Register a tensor that is state but not a parameter (e.g. running statistics).
        Persistent buffers appear in ``state_dict()``.

        >>> import chainrule as torch
        >>> from chainrule import nn
        >>> m = nn.Module(); m.register_buffer("steps", torch.zeros(1))
        >>> list(m.state_dict())
        ['steps']
        """
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(f'buffer name must be a non-empty string without ".", got {name!r}')
        if hasattr(self, name) and name not in self._buffers:
            raise KeyError(f"attribute '{name}' already exists")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{type(tensor).__name__}' object to buffer "
                            f"'{name}' (torch Tensor or None required)")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name: str, module: "Module | None") -> None:
        """Register a child module under ``name``."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        if not isinstance(name, str) or "." in name or not name:
            raise KeyError(f'module name must be a non-empty string without ".", got {name!r}')
        self._modules[name] = module

    register_module = add_module

    def get_submodule(self, target: str) -> "Module":
        """The submodule at a dotted path such as ``"0.linear"``."""
        mod = self
        if target == "":
            return mod
        for item in target.split("."):
            if item not in mod._modules:
                raise AttributeError(f"{type(mod).__name__} has no attribute `{item}`")
            mod = mod._modules[item]
        return mod

    # --- traversal ------------------------------------------------------------------------
    def named_modules(self, memo: set[int] | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, "Module"]]:
        """``(name, module)`` for this module and all descendants (``''`` for self)."""
        if memo is None:
            memo = set()
        stack = [(prefix, self)]
        while stack:
            name, mod = stack.pop()
            if remove_duplicate:
                if id(mod) in memo:
                    continue
                memo.add(id(mod))
            yield name, mod
            children = [(name + ("." if name else "") + k, m)
                        for k, m in mod._modules.items() if m is not None]
            stack.extend(reversed(children))

    def modules(self) -> Iterator["Module"]:
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, "Module"]]:
        seen = set()
        for name, m in self._modules.items():
            if m is not None and id(m) not in seen:
                seen.add(id(m))
                yield name, m

    def children(self) -> Iterator["Module"]:
        for _, m in self.named_children():
            yield m

    def _named_members(self, key, prefix, recurse, remove_duplicate):
        mods = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        seen = set()
        for mprefix, mod in mods:
            for name, v in getattr(mod, key).items():
                if v is None:
                    continue
                if remove_duplicate:
                    if id(v) in seen:
                        continue
                    seen.add(id(v))
                yield (mprefix + ("." if mprefix else "") + name), v

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """``(dotted name, Parameter)`` pairs, submodules included when ``recurse``."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """All parameters (each once), in registration order.

        >>> from chainrule import nn
        >>> [tuple(p.shape) for p in nn.Linear(3, 2).parameters()]
        [(2, 3), (2,)]
        """
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # --- modes and gradients --------------------------------------------------------------
    def train(self, mode: bool = True) -> Self:
        """Set training mode (``Dropout`` drops) on this module and its descendants."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        for m in self.modules():
            m.__dict__["training"] = mode
        return self

    def eval(self) -> Self:
        """Set evaluation mode (same as ``train(False)``)."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Self:
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    @announced
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all parameters: to ``None`` (default) or to zeros."""
        zero_grads(self.parameters(), set_to_none)

    # --- state dict -----------------------------------------------------------------------
    def state_dict(self, *args: Any, destination: dict[str, Tensor] | None = None,
                   prefix: str = "", keep_vars: bool = False) -> dict[str, Tensor]:
        """An ordered dict from dotted names to parameters and persistent buffers
        (detached unless ``keep_vars``), sharing memory with the module.

        >>> from chainrule import nn
        >>> list(nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)).state_dict())
        ['0.weight', '0.bias', '2.weight', '2.bias']
        """
        if args:
            destination = args[0]
            if len(args) > 1:
                prefix = args[1]
        if destination is None:
            destination = collections.OrderedDict()
        # an uninitialised parameter or buffer (a lazy module's) is stored as it is
        for name, p in self._parameters.items():
            if p is not None:
                destination[prefix + name] = p if keep_vars or _uninit(p) else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = b if keep_vars or _uninit(b) else b.detach()
        for name, m in self._modules.items():
            if m is not None:
                m.state_dict(destination=destination, prefix=prefix + name + ".",
                             keep_vars=keep_vars)
        return destination

    def load_state_dict(self, state_dict: Mapping[str, Tensor], strict: bool = True,
                        assign: bool = False) -> "_Incompatible":
        """Copy parameters and buffers from ``state_dict`` into this module (in place).
        With ``strict`` (default), missing or unexpected keys raise ``RuntimeError``;
        shape mismatches always do.  Returns ``(missing_keys, unexpected_keys)``.

        >>> from chainrule import nn
        >>> a, b = nn.Linear(2, 2), nn.Linear(2, 2)
        >>> b.load_state_dict(a.state_dict())
        <All keys matched successfully>
        >>> bool((a.weight == b.weight).all())
        True
        """
        if not isinstance(state_dict, collections.abc.Mapping):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        missing, unexpected, errors = [], [], []
        expected = set()
        for mprefix, mod in self.named_modules(remove_duplicate=False):
            pre = mprefix + "." if mprefix else ""
            local = [(n, v, "_parameters") for n, v in mod._parameters.items()]
            local += [(n, v, "_buffers") for n, v in mod._buffers.items()
                      if n not in mod._non_persistent_buffers_set]
            for name, current, kind in local:
                if current is None:
                    continue
                key = pre + name
                expected.add(key)
                if key not in state_dict:
                    missing.append(key)
                    continue
                value = state_dict[key]
                if not isinstance(value, Tensor):
                    errors.append(f'While copying the parameter named "{key}", expected '
                                  f'torch.Tensor or Tensor-like object from checkpoint but '
                                  f'received {type(value)}')
                    continue
                if hasattr(current, "materialize"):      # an UninitializedParameter
                    current.materialize(value.shape, dtype=value.dtype)
                if value.shape != current.shape:
                    errors.append(f"size mismatch for {key}: copying a param with shape "
                                  f"{value.shape!r} from checkpoint, the shape in current "
                                  f"model is {current.shape!r}.")
                    continue
                if assign:
                    new = Parameter(value.detach(), current.requires_grad) \
                        if kind == "_parameters" else value
                    getattr(mod, kind)[name] = new
                else:
                    with no_grad():
                        current.copy_(value)
        for key in state_dict.keys():
            if key not in expected:
                unexpected.append(key)
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: {}. ".format(
                    ", ".join(f'"{k}"' for k in unexpected)))
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: {}. ".format(
                    ", ".join(f'"{k}"' for k in missing)))
        if errors:
            raise RuntimeError("Error(s) in loading state_dict for {}:\n\t{}".format(
                type(self).__name__, "\n\t".join(errors)))
        return _Incompatible(missing, unexpected)

    # --- conversion -----------------------------------------------------------------------
    def _apply(self, fn):
        for m in self.modules():
            for p in m._parameters.values():
                if p is None:
                    continue
                with no_grad():
                    new = fn(p)
                p.data = new
                if p.grad is not None:
                    p.grad = fn(p.grad)
            for k, b in m._buffers.items():
                if b is not None:
                    if _uninit(b):                   # stays uninitialised, new dtype
                        b.data = fn(b)
                    else:
                        m._buffers[k] = fn(b)
        return self

    def apply(self, fn: Callable[["Module"], object]) -> Self:
        """Call ``fn(module)`` on every submodule (children first) and on ``self``; returns
        ``self``.  Typical use: custom initialisation.

        >>> from chainrule import nn
        >>> def init(m):
        ...     if isinstance(m, nn.Linear):
        ...         nn.init.zeros_(m.bias)
        >>> net = nn.Sequential(nn.Linear(2, 2)).apply(init)
        >>> net[0].bias
        Parameter containing:
        tensor([0., 0.], requires_grad=True)
        """
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    def to(self, *args: Any, **kwargs: Any) -> Self:
        """Convert floating-point parameters and buffers to a dtype and/or move the module to
        a device, in place; returns ``self``.  Takes ``Tensor.to``'s forms:
        ``to(device)``, ``to(dtype)``, ``to(device, dtype)``, ``to(tensor)``.  Parameters
        stay the same objects (their data and gradients move); without a GPU a CUDA
        device raises PyTorch's CPU-build error when the module has parameters or buffers
        to move.

        >>> import chainrule as torch
        >>> net = torch.nn.Linear(2, 1)
        >>> net.to("cpu") is net, net.to(torch.device("cpu"), torch.float64).weight.dtype
        (True, torch.float64)
        """
        dev, dtype, _ = parse_to("to", args, kwargs)
        if dev is not None:
            try:
                target = check_target(dev)
            except AssertionError:
                # PyTorch moves tensor by tensor: a module without any has nothing to move
                if any(True for _ in self.parameters()) or any(True for _ in self.buffers()):
                    raise
            else:
                self._apply(lambda t: t if backend_of(t._data) is target else t.to(dev))
        if dtype is None:
            return self
        dtype = to_dtype(dtype)
        if not dtype.is_floating_point:
            raise TypeError(f"nn.Module.to only accepts floating point or complex dtypes, but "
                            f"got desired dtype={dtype}")
        return self._apply(lambda t: t.to(dtype) if t.is_floating_point() else t)

    def cuda(self, device: Any = None) -> Self:
        """Move the module's parameters and buffers to the CUDA GPU.  Without one (or
        without CuPy) this raises PyTorch's CPU-build error (``AssertionError``) when the
        module has parameters or buffers.

        >>> import chainrule as torch
        >>> if not torch.cuda.is_available():
        ...     try:
        ...         torch.nn.Linear(2, 1).cuda()
        ...     except AssertionError as e:
        ...         print(str(e).splitlines()[0])
        ... else:
        ...     print("Torch not compiled with CUDA enabled")
        Torch not compiled with CUDA enabled
        """
        # (a bare index is the current accelerator: PyTorch's RuntimeError without a GPU)
        return self.to("cuda" if device is None else device_cls(device))

    def double(self) -> Self:
        """Convert floating-point parameters and buffers to float64."""
        return self.to(float64)

    def float(self) -> Self:
        """Convert floating-point parameters and buffers to float32."""
        return self.to(float32)

    def half(self) -> Self:
        return self.to(float16)

    def cpu(self) -> Self:
        """Move the module's parameters and buffers to the CPU; returns ``self``.

        >>> import chainrule as torch
        >>> net = torch.nn.Linear(2, 1); net.cpu() is net
        True
        """
        return self.to("cpu")

    def type(self, dst_type: Any) -> Self:
        return self.to(dst_type)

    # --- printing -------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """Extra text inside the parentheses of this module's repr (override it)."""
        return ""

    def _get_name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({k}): " + _addindent(repr(m), 2) for k, m in self._modules.items()]
        lines = extra_lines + child_lines
        s = self._get_name() + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                s += extra_lines[0]
            else:
                s += "\n  " + "\n  ".join(lines) + "\n"
        return s + ")"


class _Incompatible(_IncompatibleKeys):
    __slots__ = ()

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


_Incompatible.__name__ = "_IncompatibleKeys"


class _Handle:
    _next = 0

    def __init__(self, store: dict[int, Callable[..., Any]], hook: Callable[..., Any]) -> None:
        _Handle._next += 1
        self.id = _Handle._next
        self.store = store
        store[self.id] = hook

    def remove(self) -> None:
        self.store.pop(self.id, None)


def zero_grads(params: Iterable[Tensor], set_to_none: bool = True) -> None:
    """Reset the ``.grad`` of every tensor in ``params``: to ``None``, or to zeros in place
    (detached first).  Shared by ``Module.zero_grad`` and ``Optimizer.zero_grad``."""
    for p in params:
        if p.grad is None:
            continue
        if set_to_none:
            p.grad = None
        else:
            g = p.grad
            if g.grad_fn is not None:
                g.detach_()
            else:
                g.requires_grad_(False)
            g.zero_()

