"""grad_fn names of convolution, pooling and normalisation (functional and modules, 1-D and
2-D, batched and unbatched, train and eval, with and without bias/affine) and of packing
and padding sequences are PyTorch's:
``type(y.grad_fn).__name__`` of the output is the same in both libraries."""
import pytest
import torch

import chainrule as cr


def F(m):
    return m.nn.functional


def _x(m):
    return m.ones(2, 3, 8, 8).requires_grad_()


def _y(m):
    return m.ones(2, 3, 8).requires_grad_()


CALLS = {
    "conv2d": lambda m: F(m).conv2d(_x(m), m.ones(4, 3, 3, 3)),
    "conv2d_bias": lambda m: F(m).conv2d(_x(m), m.ones(4, 3, 3, 3), m.ones(4)),
    "conv2d_unbatched": lambda m: F(m).conv2d(_x(m)[0], m.ones(4, 3, 3, 3)),
    "conv1d": lambda m: F(m).conv1d(_y(m), m.ones(4, 3, 3)),
    "conv_transpose2d": lambda m: F(m).conv_transpose2d(_x(m), m.ones(3, 4, 3, 3)),
    "conv_transpose2d_bias": lambda m: F(m).conv_transpose2d(_x(m), m.ones(3, 4, 3, 3),
                                                             m.ones(4)),
    "conv_transpose1d": lambda m: F(m).conv_transpose1d(_y(m), m.ones(3, 4, 3)),
    "conv_transpose1d_unbatched": lambda m: F(m).conv_transpose1d(_y(m)[0], m.ones(3, 4, 3),
                                                                  m.ones(4)),
    "Conv2d_reflect": lambda m: m.nn.Conv2d(3, 2, 3, padding=1, padding_mode="reflect")(_x(m)),
    "ConvTranspose1d": lambda m: m.nn.ConvTranspose1d(3, 2, 3)(_y(m)),
    "LazyConv2d": lambda m: m.nn.LazyConv2d(2, 3)(_x(m)),
    "LazyConvTranspose2d": lambda m: m.nn.LazyConvTranspose2d(2, 3)(_x(m)),
    "max_pool2d": lambda m: F(m).max_pool2d(_x(m), 2),
    "max_pool2d_indices": lambda m: F(m).max_pool2d(_x(m), 3, 2, 1, return_indices=True)[0],
    "max_pool2d_unbatched": lambda m: F(m).max_pool2d(_x(m)[0], 2),
    "max_pool1d": lambda m: F(m).max_pool1d(_y(m), 2),
    "max_pool1d_unbatched": lambda m: F(m).max_pool1d(_y(m)[0], 2, return_indices=True)[0],
    "avg_pool2d": lambda m: F(m).avg_pool2d(_x(m), 2),
    "avg_pool2d_divisor": lambda m: F(m).avg_pool2d(_x(m), 3, 1, 1, divisor_override=2),
    "avg_pool2d_unbatched": lambda m: F(m).avg_pool2d(_x(m)[0], 2),
    "avg_pool1d": lambda m: F(m).avg_pool1d(_y(m), 2),
    "adaptive_avg_pool2d": lambda m: F(m).adaptive_avg_pool2d(_x(m), 3),
    "adaptive_avg_pool2d_1x1": lambda m: F(m).adaptive_avg_pool2d(_x(m), 1),
    "adaptive_avg_pool2d_unbatched": lambda m: F(m).adaptive_avg_pool2d(_x(m)[0], (2, None)),
    "adaptive_avg_pool1d": lambda m: F(m).adaptive_avg_pool1d(_y(m), 3),
    "adaptive_max_pool2d": lambda m: F(m).adaptive_max_pool2d(_x(m), 3),
    "adaptive_max_pool1d": lambda m: F(m).adaptive_max_pool1d(_y(m), 3),
    "MaxPool2d": lambda m: m.nn.MaxPool2d(2)(_x(m)),
    "AvgPool1d": lambda m: m.nn.AvgPool1d(2)(_y(m)),
    "AdaptiveAvgPool2d_1x1": lambda m: m.nn.AdaptiveAvgPool2d((1, 1))(_x(m)),
    "AdaptiveMaxPool1d": lambda m: m.nn.AdaptiveMaxPool1d(2)(_y(m)),
    "BatchNorm2d": lambda m: m.nn.BatchNorm2d(3)(_x(m)),
    "BatchNorm2d_eval": lambda m: m.nn.BatchNorm2d(3).eval()(_x(m)),
    "BatchNorm2d_no_affine": lambda m: m.nn.BatchNorm2d(3, affine=False)(_x(m)),
    "BatchNorm2d_no_affine_eval": lambda m: m.nn.BatchNorm2d(3, affine=False).eval()(_x(m)),
    "BatchNorm2d_no_bias": lambda m: m.nn.BatchNorm2d(3, bias=False)(_x(m)),
    "BatchNorm2d_untracked_eval": lambda m: m.nn.BatchNorm2d(
        3, track_running_stats=False).eval()(_x(m)),
    "BatchNorm1d": lambda m: m.nn.BatchNorm1d(3)(_y(m)),
    "BatchNorm1d_2d_eval": lambda m: m.nn.BatchNorm1d(3).eval()(_y(m)[:, :, 0]),
    "LazyBatchNorm2d": lambda m: m.nn.LazyBatchNorm2d()(_x(m)),
    "batch_norm": lambda m: F(m).batch_norm(_x(m), None, None, training=True),
    "batch_norm_eval": lambda m: F(m).batch_norm(_x(m), m.zeros(3), m.ones(3)),
    "batch_norm_eval_weight": lambda m: F(m).batch_norm(_x(m), m.zeros(3), m.ones(3),
                                                        m.ones(3)),
    "batch_norm_eval_bias": lambda m: F(m).batch_norm(_x(m), m.zeros(3), m.ones(3), None,
                                                      m.ones(3)),
    "LayerNorm": lambda m: m.nn.LayerNorm(8)(_x(m)),
    "LayerNorm_2dims": lambda m: m.nn.LayerNorm((8, 8))(_x(m)),
    "LayerNorm_no_affine": lambda m: m.nn.LayerNorm(8, elementwise_affine=False)(_x(m)),
    "LayerNorm_no_bias": lambda m: m.nn.LayerNorm(8, bias=False)(_x(m)),
    "layer_norm": lambda m: F(m).layer_norm(_x(m), (8,)),
    "GroupNorm": lambda m: m.nn.GroupNorm(1, 3)(_x(m)),
    "GroupNorm_no_affine": lambda m: m.nn.GroupNorm(3, 3, affine=False)(_x(m)),
    "GroupNorm_1d": lambda m: m.nn.GroupNorm(3, 3)(_y(m)),
    "group_norm": lambda m: F(m).group_norm(_x(m), 3),
    "pack_padded_sequence": lambda m: m.nn.utils.rnn.pack_padded_sequence(
        _y(m).permute(2, 0, 1), [8, 5]).data,
    "pack_padded_sequence_unsorted": lambda m: m.nn.utils.rnn.pack_padded_sequence(
        _y(m), m.tensor([2, 3]), batch_first=True, enforce_sorted=False).data,
    "pad_packed_sequence": lambda m: m.nn.utils.rnn.pad_packed_sequence(
        m.nn.utils.rnn.pack_padded_sequence(_y(m), [3, 2], batch_first=True))[0],
    "pad_packed_sequence_unsorted_batch_first": lambda m: m.nn.utils.rnn.pad_packed_sequence(
        m.nn.utils.rnn.pack_padded_sequence(_y(m), [2, 3], batch_first=True,
                                            enforce_sorted=False), batch_first=True)[0],
    "pad_sequence": lambda m: m.nn.utils.rnn.pad_sequence([_y(m)[0], _y(m)[1, :2]]),
    "pad_sequence_batch_first_left": lambda m: m.nn.utils.rnn.pad_sequence(
        [_y(m)[0], _y(m)[1, :2]], batch_first=True, padding_side="left"),
    "unfold": lambda m: F(m).unfold(_x(m), 2),
    "fold": lambda m: F(m).fold(_x(m).reshape(2, 12, 16), (5, 5), 2),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_grad_fn_name_is_torchs(name):
    ours = type(CALLS[name](cr).grad_fn).__name__
    theirs = type(CALLS[name](torch).grad_fn).__name__
    assert ours == theirs
