"""Attention: ``nn.MultiheadAttention`` (PyTorch's parameters ``in_proj_weight``,
``in_proj_bias``, ``out_proj``; masks, ``kdim``/``vdim``, ``batch_first``) and
``nn.functional.scaled_dot_product_attention``, composites of differentiable ops
(``linear``, ``matmul``/``bmm``, ``softmax``), so every mode and order of differentiation
works.
"""
import math
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from .._backend import like_device
from .._creation import empty, zeros
from .._dtypes import dtype
from .._tensor import Tensor, wrap
from ..ops.activation import softmax
from ..ops.matmul import bmm, matmul
from ..ops.pad import pad
from ..ops.repeat import repeat_interleave
from ..ops.shape import cat
from . import init
from ._linear import linear
from ._losses import dropout
from .layers import Linear
from .module import Module
from .parameter import Parameter

__all__ = ["MultiheadAttention", "scaled_dot_product_attention"]


def _additive_mask(mask, name, np_dtype):
    """A bool mask (True: masked out) as 0 / -inf of ``np_dtype``; a float mask as it is."""
    if mask is None:
        return None
    if not isinstance(mask, Tensor):
        raise TypeError(f"MultiheadAttention: {name} must be a Tensor or None, got "
                        f"{type(mask).__name__}")
    kind = mask._data.dtype.kind
    if kind == "b":
        return wrap(np.where(mask._data, -np.inf, 0).astype(np_dtype))
    if kind != "f":
        raise AssertionError(f"only bool and floating types of {name} are supported (got "
                             f"{mask.dtype}); pass a bool mask (True = masked out) or a "
                             f"float mask added to the scores")
    return mask


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor,
                                 attn_mask: Tensor | None = None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """``softmax(query @ key^T * scale + mask) @ value`` over the last two dimensions
    (``scale`` defaults to ``1/sqrt(E)``).  A bool ``attn_mask`` says which positions take
    part (True: attend), a float one is added to the scores; ``is_causal`` masks the upper
    triangle; ``dropout_p`` drops attention weights (always, as PyTorch's functional form).

    >>> import chainrule as torch
    >>> q = k = v = torch.ones(1, 2, 3, 4)
    >>> torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True).shape
    torch.Size([1, 2, 3, 4])
    """
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise TypeError(f"scaled_dot_product_attention(): argument '{name}' must be "
                            f"Tensor, not {type(t).__name__}")
    if query.dim() < 2 or key.dim() < 2 or value.dim() < 2:
        raise RuntimeError(f"scaled_dot_product_attention: query, key and value must be at "
                           f"least 2-D (..., L, E), got {query.dim()}-D, {key.dim()}-D and "
                           f"{value.dim()}-D")
    if query.dtype != key.dtype or query.dtype != value.dtype:
        raise RuntimeError(f"Expected query, key, and value to have the same dtype, but got "
                           f"query.dtype: {query.dtype} key.dtype: {key.dtype} and "
                           f"value.dtype: {value.dtype} instead.")
    L, S = query.shape[-2], key.shape[-2]
    factor = 1 / math.sqrt(query.shape[-1]) if scale is None else scale
    bias = None
    if is_causal:
        if attn_mask is not None:
            raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be "
                               "set when is_causal=True; pass one of them")
        causal = ~np.tril(np.ones((L, S), bool))
        bias = wrap(like_device(query._data, np.where(causal, -np.inf, 0)
                                .astype(query._data.dtype)))
    elif attn_mask is not None:
        if attn_mask._data.dtype.kind == "b":
            bias = wrap(np.where(attn_mask._data, 0, -np.inf).astype(query._data.dtype))
        else:
            bias = attn_mask
    if enable_gqa and key.dim() >= 3 and key.shape[-3] != query.shape[-3]:
        key = repeat_interleave(key, query.shape[-3] // key.shape[-3], -3)
        value = repeat_interleave(value, query.shape[-3] // value.shape[-3], -3)
    weight = matmul(query, key.transpose(-2, -1)) * factor
    if bias is not None:
        weight = weight + bias
    weight = softmax(weight, -1)
    if dropout_p > 0.0:
        weight = dropout(weight, dropout_p, True)
    return matmul(weight, value)


class NonDynamicallyQuantizableLinear(Linear):
    """``MultiheadAttention.out_proj``: a ``Linear`` under PyTorch's class name (so the
    module prints as PyTorch's).

    >>> from chainrule.nn.attention import NonDynamicallyQuantizableLinear
    >>> NonDynamicallyQuantizableLinear(4, 4)
    NonDynamicallyQuantizableLinear(in_features=4, out_features=4, bias=True)
    """


class MultiheadAttention(Module):
    """Multi-head attention as PyTorch's: ``forward(query, key, value, key_padding_mask=None,
    need_weights=True, attn_mask=None, average_attn_weights=True, is_causal=False)``
    returns ``(attn_output, attn_weights)``; shapes (L, N, E) (``batch_first``: (N, L, E))
    or unbatched (L, E).  Bool masks are True where attention is *not* allowed; float masks
    are added to the scores.  Parameters: ``in_proj_weight`` (3E, E) (or ``q_proj_weight``,
    ``k_proj_weight``, ``v_proj_weight`` when ``kdim``/``vdim`` differ from E),
    ``in_proj_bias`` (3E), ``out_proj`` (a Linear), optional ``bias_k``/``bias_v``.

    >>> import chainrule as torch
    >>> mha = torch.nn.MultiheadAttention(8, 2, batch_first=True)
    >>> x = torch.ones(3, 5, 8)
    >>> out, w = mha(x, x, x, key_padding_mask=torch.zeros(3, 5, dtype=torch.bool))
    >>> out.shape, w.shape
    (torch.Size([3, 5, 8]), torch.Size([3, 5, 5]))
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0,
                 bias: bool = True, add_bias_kv: bool = False, add_zero_attn: bool = False,
                 kdim: int | None = None, vdim: int | None = None, batch_first: bool = False,
                 device: Any = None, dtype: dtype | None = None) -> None:
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"embed_dim and num_heads must be greater than 0, got "
                             f"embed_dim={embed_dim} and num_heads={num_heads} instead")
        super().__init__()
        kw = dict(dtype=dtype, device=device)
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != self.embed_dim:
            raise AssertionError("embed_dim must be divisible by num_heads")
        if not self._qkv_same_embed_dim:
            self.q_proj_weight = Parameter(empty(embed_dim, embed_dim, **kw))
            self.k_proj_weight = Parameter(empty(embed_dim, self.kdim, **kw))
            self.v_proj_weight = Parameter(empty(embed_dim, self.vdim, **kw))
            self.register_parameter("in_proj_weight", None)
        else:
            self.in_proj_weight = Parameter(empty(3 * embed_dim, embed_dim, **kw))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(empty(3 * embed_dim, **kw))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias, **kw)
        if add_bias_kv:
            self.bias_k = Parameter(empty(1, 1, embed_dim, **kw))
            self.bias_v = Parameter(empty(1, 1, embed_dim, **kw))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self):
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
        if self.bias_v is not None:
            init.xavier_normal_(self.bias_v)

    def forward(self, query: Tensor, key: Tensor, value: Tensor,
                key_padding_mask: Tensor | None = None, need_weights: bool = True,
                attn_mask: Tensor | None = None, average_attn_weights: bool = True,
                is_causal: bool = False) -> tuple[Tensor, Tensor | None]:
        for name, t in (("query", query), ("key", key), ("value", value)):
            if not isinstance(t, Tensor):
                raise TypeError(f"MultiheadAttention: {name} must be a Tensor, got "
                                f"{type(t).__name__}")
        batched = _shape_check(query, key, value, key_padding_mask, attn_mask, self.num_heads)
        if batched and self.batch_first:
            query, key, value = (t.transpose(1, 0) for t in (query, key, value))
        if not batched:
            query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.unsqueeze(0)
        out, weights = self._attend(query, key, value, key_padding_mask, need_weights,
                                    attn_mask, average_attn_weights, is_causal)
        if not batched:
            out = out.squeeze(1)
            if weights is not None:
                weights = weights.squeeze(0)
        elif self.batch_first:
            out = out.transpose(1, 0)
        return out, weights

    if TYPE_CHECKING:                 # calling the layer is calling forward
        __call__ = forward

    def _attend(self, query, key, value, key_padding_mask, need_weights, attn_mask,
                average_attn_weights, is_causal):
        tgt_len, bsz, embed_dim = query.shape
        src_len = key.shape[0]
        heads, head_dim = self.num_heads, self.head_dim
        np_dtype = query._data.dtype
        if (key_padding_mask is not None and attn_mask is not None
                and key_padding_mask.dtype != attn_mask.dtype):
            warnings.warn("Support for mismatched key_padding_mask and attn_mask is deprecated. "
                          "Use same type for both instead.", stacklevel=4)
        key_padding_mask = _additive_mask(key_padding_mask, "key_padding_mask",
                                          np_dtype)
        if is_causal and attn_mask is None:
            raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use "
                               "the Transformer module method `generate_square_subsequent_mask`"
                               " to create this mask.")
        attn_mask = _additive_mask(attn_mask, "attn_mask", np_dtype)
        if embed_dim != self.embed_dim:
            raise AssertionError(f"was expecting embedding dimension of {self.embed_dim}, but "
                                 f"got {embed_dim}")
        if self._qkv_same_embed_dim:
            if tuple(key.shape) != tuple(value.shape):
                raise AssertionError(f"key shape {key.shape} does not match value shape "
                                     f"{value.shape}")
            w_q, w_k, w_v = self.in_proj_weight.chunk(3)
        else:
            if tuple(key.shape[:2]) != tuple(value.shape[:2]):
                raise AssertionError(f"key's sequence and batch dims {key.shape[:2]} do not "
                                     f"match value's {value.shape[:2]}")
            w_q, w_k, w_v = self.q_proj_weight, self.k_proj_weight, self.v_proj_weight
        b = self.in_proj_bias
        b_q, b_k, b_v = (None, None, None) if b is None else b.chunk(3)
        q, k, v = linear(query, w_q, b_q), linear(key, w_k, b_k), linear(value, w_v, b_v)
        if attn_mask is not None:
            if attn_mask.dim() == 2:
                if tuple(attn_mask.shape) != (tgt_len, src_len):
                    raise RuntimeError(f"The shape of the 2D attn_mask is {attn_mask.shape}, but "
                                       f"should be {(tgt_len, src_len)}.")
                attn_mask = attn_mask.unsqueeze(0)
            elif attn_mask.dim() == 3:
                if tuple(attn_mask.shape) != (bsz * heads, tgt_len, src_len):
                    raise RuntimeError(f"The shape of the 3D attn_mask is {attn_mask.shape}, but "
                                       f"should be {(bsz * heads, tgt_len, src_len)}.")
            else:
                raise RuntimeError(f"attn_mask's dimension {attn_mask.dim()} is not supported")
        if self.bias_k is not None and self.bias_v is not None:
            k = cat([k, self.bias_k.repeat(1, bsz, 1)])
            v = cat([v, self.bias_v.repeat(1, bsz, 1)])
            if attn_mask is not None:
                attn_mask = pad(attn_mask, (0, 1))
            if key_padding_mask is not None:
                key_padding_mask = pad(key_padding_mask, (0, 1))
        q = q.reshape(tgt_len, bsz * heads, head_dim).transpose(0, 1)
        k = k.reshape(k.shape[0], bsz * heads, head_dim).transpose(0, 1)
        v = v.reshape(v.shape[0], bsz * heads, head_dim).transpose(0, 1)
        if self.add_zero_attn:
            z = zeros(bsz * heads, 1, head_dim, dtype=k.dtype)
            k, v = cat([k, z], 1), cat([v, z], 1)
            if attn_mask is not None:
                attn_mask = pad(attn_mask, (0, 1))
            if key_padding_mask is not None:
                key_padding_mask = pad(key_padding_mask, (0, 1))
        src_len = k.shape[1]
        if key_padding_mask is not None:
            for i, want in enumerate((bsz, src_len)):
                if key_padding_mask.shape[i] != want:
                    raise AssertionError(f"Expected key_padded_mask.shape[{i}] to be {want}, "
                                         f"but got {key_padding_mask.shape[i]} (the mask is "
                                         f"(batch, source length), True where a key is "
                                         f"padding)")
            key_padding_mask = key_padding_mask.reshape(bsz, 1, 1, src_len) \
                .expand(-1, heads, -1, -1).reshape(bsz * heads, 1, src_len)
            attn_mask = key_padding_mask if attn_mask is None else attn_mask + key_padding_mask
        scores = bmm(q * math.sqrt(1.0 / head_dim), k.transpose(-2, -1))
        if attn_mask is not None:
            scores = scores + attn_mask
        weights = softmax(scores, -1)
        if self.dropout > 0.0 and self.training:
                weights = dropout(weights, self.dropout, True)
        out = bmm(weights, v).transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
        out = linear(out, self.out_proj.weight, self.out_proj.bias)
        out = out.reshape(tgt_len, bsz, out.shape[1])
        if not need_weights:
            return out, None
        weights = weights.reshape(bsz, heads, tgt_len, src_len)
        if average_attn_weights:
            weights = weights.mean(dim=1)
        return out, weights


def _shape_check(query, key, value, key_padding_mask, attn_mask, num_heads):
    """PyTorch's rank checks of MultiheadAttention's arguments; returns is_batched."""
    def dim(t):
        return t.dim()
    if query.dim() == 3:
        if key.dim() != 3 or value.dim() != 3:
            raise AssertionError(f"For batched (3-D) `query`, expected `key` and `value` to be "
                                 f"3-D but found {dim(key)}-D and {dim(value)}-D tensors "
                                 f"respectively")
        if key_padding_mask is not None and key_padding_mask.dim() != 2:
            raise AssertionError(f"For batched (3-D) `query`, expected `key_padding_mask` to "
                                 f"be `None` or 2-D but found {dim(key_padding_mask)}-D tensor "
                                 f"instead")
        if attn_mask is not None and attn_mask.dim() not in (2, 3):
            raise AssertionError(f"For batched (3-D) `query`, expected `attn_mask` to be "
                                 f"`None`, 2-D or 3-D but found {dim(attn_mask)}-D tensor "
                                 f"instead")
        return True
    if query.dim() == 2:
        if key.dim() != 2 or value.dim() != 2:
            raise AssertionError(f"For unbatched (2-D) `query`, expected `key` and `value` to "
                                 f"be 2-D but found {dim(key)}-D and {dim(value)}-D tensors "
                                 f"respectively")
        if key_padding_mask is not None and key_padding_mask.dim() != 1:
            raise AssertionError(f"For unbatched (2-D) `query`, expected `key_padding_mask` to "
                                 f"be `None` or 1-D but found {dim(key_padding_mask)}-D tensor "
                                 f"instead")
        if attn_mask is not None:
            if attn_mask.dim() not in (2, 3):
                raise AssertionError(f"For unbatched (2-D) `query`, expected `attn_mask` to be "
                                     f"`None`, 2-D or 3-D but found {dim(attn_mask)}-D tensor "
                                     f"instead")
            if attn_mask.dim() == 3:
                expected = (num_heads, query.shape[0], key.shape[0])
                if tuple(attn_mask.shape) != expected:
                    raise AssertionError(f"Expected `attn_mask` shape to be {expected} but got "
                                         f"{attn_mask.shape}")
        return False
    raise AssertionError(f"query should be unbatched 2D or batched 3D tensor but received "
                         f"{query.dim()}-D query tensor")
