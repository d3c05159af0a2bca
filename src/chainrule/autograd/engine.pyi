# Types of the public functions of chainrule.autograd.engine (written by hand: the module
# itself is being reworked; tests/typing/test_stubs.py checks these parameters against
# the runtime functions).  Other names of the module are typed Any.
from collections.abc import Sequence
from typing import Any, Literal, overload

from .._tensor import Tensor

_Tensors = Tensor | Sequence[Tensor]


def backward(tensors: _Tensors, grad_tensors: _Tensors | None = ...,
             retain_graph: bool | None = ..., create_graph: bool = ...,
             inputs: _Tensors | None = ...) -> None: ...


@overload
def grad(outputs: _Tensors, inputs: _Tensors, grad_outputs: _Tensors | None = ...,
         retain_graph: bool | None = ..., create_graph: bool = ..., only_inputs: bool = ...,
         allow_unused: Literal[False] | None = ..., is_grads_batched: bool = ...,
         materialize_grads: bool = ...) -> tuple[Tensor, ...]: ...
@overload
def grad(outputs: _Tensors, inputs: _Tensors, grad_outputs: _Tensors | None = ...,
         retain_graph: bool | None = ..., create_graph: bool = ..., only_inputs: bool = ...,
         allow_unused: bool | None = ..., is_grads_batched: bool = ...,
         materialize_grads: bool = ...) -> tuple[Tensor | None, ...]: ...


def __getattr__(name: str) -> Any: ...
