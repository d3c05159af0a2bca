"""Convolution, unfold/fold and pooling against PyTorch and finite differences: value,
VJP, JVP, second order (float64) and float32 preservation, via the op-table harness;
plus torch's tie-breaking of max pooling, unbatched inputs and error messages.

Convolutions are one op each (``convolution``, ``convolution_transpose``) whose rules are
compositions of ``im2col``/``col2im`` (linear primitives, each the other's transpose),
``cols_to_image``/``image_to_cols`` (layout moves) and matmul; pooling is one op per 2-D
kind (the 1-D forms run it on an unsqueezed input, as PyTorch)."""
import numpy as np
import pytest
import torch

import chainrule as cr
from oplib import OpCase, table_tests


def F(m):
    return m.nn.functional


CONV = ("convolution", "im2col", "cols_to_image")
CONVT = ("convolution_transpose", "image_to_cols", "col2im")

CASES = [
    OpCase("conv2d_plain", lambda m, x, w, b: F(m).conv2d(x, w, b),
           [(2, 3, 5, 4), (4, 3, 3, 2), (4,)], op=CONV),
    OpCase("conv2d_stride_pad", lambda m, x, w: F(m).conv2d(x, w, stride=2, padding=1),
           [(1, 2, 6, 5), (3, 2, 3, 3)], op=CONV),
    OpCase("conv2d_stride_pair_pad_pair",
           lambda m, x, w, b: F(m).conv2d(x, w, b, stride=(1, 2), padding=(2, 0)),
           [(2, 2, 4, 7), (2, 2, 2, 3), (2,)], op=CONV),
    OpCase("conv2d_dilation", lambda m, x, w: F(m).conv2d(x, w, dilation=(2, 1), padding=1),
           [(1, 2, 6, 5), (2, 2, 3, 2)], op=CONV),
    OpCase("conv2d_groups", lambda m, x, w, b: F(m).conv2d(x, w, b, groups=2, stride=(2, 1)),
           [(2, 4, 5, 5), (6, 2, 2, 3), (6,)], op=CONV),
    OpCase("conv2d_depthwise", lambda m, x, w: F(m).conv2d(x, w, groups=3, padding=1),
           [(1, 3, 4, 4), (3, 1, 3, 3)], op=CONV),
    OpCase("conv2d_same_odd", lambda m, x, w: F(m).conv2d(x, w, padding="same"),
           [(1, 2, 5, 4), (2, 2, 3, 3)], op=CONV),
    OpCase("conv2d_same_even", lambda m, x, w, b: F(m).conv2d(x, w, b, padding="same"),
           [(2, 2, 5, 4), (3, 2, 4, 2), (3,)], op=CONV),
    OpCase("conv2d_same_even_dilated",
           lambda m, x, w: F(m).conv2d(x, w, padding="same", dilation=(1, 3)),
           [(1, 2, 5, 7), (2, 2, 2, 2)], op=CONV),
    OpCase("conv2d_valid", lambda m, x, w: F(m).conv2d(x, w, padding="valid"),
           [(1, 1, 4, 4), (2, 1, 2, 2)], op=CONV),
    OpCase("conv2d_unbatched", lambda m, x, w, b: F(m).conv2d(x, w, b, padding=1),
           [(2, 4, 3), (3, 2, 3, 3), (3,)], op=CONV),
    # 16 channels, stride 2 (the input gradient through col2im)
    OpCase("conv2d_many_channels", lambda m, x, w: F(m).conv2d(x, w, stride=2, padding=1),
           [(1, 16, 4, 5), (2, 16, 3, 3)], op=CONV),
    OpCase("conv1d_plain", lambda m, x, w, b: F(m).conv1d(x, w, b),
           [(2, 3, 7), (4, 3, 3), (4,)], op=CONV),
    OpCase("conv1d_stride_dil_groups",
           lambda m, x, w: F(m).conv1d(x, w, stride=2, dilation=2, padding=2, groups=2),
           [(2, 4, 9), (4, 2, 3)], op=CONV),
    OpCase("conv1d_same_even", lambda m, x, w: F(m).conv1d(x, w, padding="same"),
           [(1, 2, 6), (3, 2, 4)], op=CONV),
    OpCase("conv1d_unbatched", lambda m, x, w: F(m).conv1d(x, w), [(3, 6), (2, 3, 2)],
           op=CONV),
    OpCase("conv_transpose2d_plain", lambda m, x, w, b: F(m).conv_transpose2d(x, w, b),
           [(2, 3, 3, 4), (3, 2, 2, 3), (2,)], op=CONVT),
    OpCase("conv_transpose2d_stride_pad_outpad",
           lambda m, x, w: F(m).conv_transpose2d(x, w, stride=2, padding=1, output_padding=1),
           [(1, 2, 3, 3), (2, 3, 3, 3)], op=CONVT),
    OpCase("conv_transpose2d_groups_dilation",
           lambda m, x, w, b: F(m).conv_transpose2d(x, w, b, stride=(1, 2), groups=2,
                                                    dilation=(2, 1), output_padding=(1, 1)),
           [(2, 4, 3, 3), (4, 1, 2, 2), (2,)], op=CONVT),
    OpCase("conv_transpose2d_unbatched",
           lambda m, x, w: F(m).conv_transpose2d(x, w, stride=2), [(2, 3, 2), (2, 2, 2, 2)],
           op=CONVT),
    OpCase("conv_transpose2d_many_channels",
           lambda m, x, w: F(m).conv_transpose2d(x, w, stride=2, padding=(0, 1)),
           [(1, 2, 3, 3), (2, 16, 2, 3)], op=CONVT),
    OpCase("conv_transpose1d", lambda m, x, w, b: F(m).conv_transpose1d(x, w, b, stride=3,
                                                                         padding=1),
           [(2, 2, 4), (2, 3, 3), (3,)], op=CONVT),
    OpCase("unfold_plain", lambda m, x: F(m).unfold(x, 2), [(2, 3, 4, 3)], op="im2col"),
    OpCase("unfold_all_args", lambda m, x: F(m).unfold(x, (2, 3), dilation=(2, 1), padding=1,
                                                        stride=(1, 2)),
           [(1, 2, 5, 6)], op="im2col"),
    OpCase("unfold_unbatched", lambda m, x: F(m).unfold(x, 2, stride=2), [(2, 4, 4)],
           op="im2col"),
    OpCase("fold_plain", lambda m, x: F(m).fold(x, (4, 3), 2), [(2, 12, 6)], op="col2im"),
    OpCase("fold_all_args", lambda m, x: F(m).fold(x, (5, 6), (2, 3), dilation=(2, 1),
                                                    padding=1, stride=(1, 2)),
           [(1, 12, 15)], op="col2im"),
    OpCase("fold_unbatched", lambda m, x: F(m).fold(x, 4, 2, stride=2), [(8, 4)],
           op="col2im"),
    # pooling (random inputs: no ties; ties are tested below)
    OpCase("max_pool2d_plain", lambda m, x: F(m).max_pool2d(x, 2), [(2, 3, 4, 6)],
           op="max_pool2d_with_indices"),
    OpCase("max_pool2d_overlap_pad",
           lambda m, x: F(m).max_pool2d(x, 3, stride=1, padding=1), [(1, 2, 4, 5)],
           op="max_pool2d_with_indices"),
    OpCase("max_pool2d_ceil_dilation",
           lambda m, x: F(m).max_pool2d(x, (2, 3), stride=2, dilation=(2, 1), padding=1,
                                        ceil_mode=True), [(2, 1, 6, 7)], op="max_pool2d_with_indices"),
    OpCase("max_pool2d_unbatched", lambda m, x: F(m).max_pool2d(x, 2, stride=1),
           [(2, 3, 3)], op="max_pool2d_with_indices"),
    OpCase("max_pool1d", lambda m, x: F(m).max_pool1d(x, 3, stride=2, padding=1,
                                                      ceil_mode=True), [(2, 3, 8)],
           op="max_pool2d_with_indices"),
    OpCase("avg_pool2d_plain", lambda m, x: F(m).avg_pool2d(x, 2), [(2, 3, 4, 6)],
           op="avg_pool2d"),
    OpCase("avg_pool2d_pad_ceil",
           lambda m, x: F(m).avg_pool2d(x, 3, stride=2, padding=1, ceil_mode=True),
           [(1, 2, 6, 5)], op="avg_pool2d"),
    OpCase("avg_pool2d_exclude_pad",
           lambda m, x: F(m).avg_pool2d(x, (3, 2), stride=(2, 1), padding=1, ceil_mode=True,
                                        count_include_pad=False), [(1, 2, 6, 5)],
           op="avg_pool2d"),
    OpCase("avg_pool2d_divisor", lambda m, x: F(m).avg_pool2d(x, 2, divisor_override=3),
           [(3, 4, 4)], op="avg_pool2d"),
    OpCase("avg_pool1d", lambda m, x: F(m).avg_pool1d(x, 3, stride=2, padding=1,
                                                      count_include_pad=False), [(2, 3, 8)],
           op="avg_pool2d"),
    OpCase("adaptive_avg_pool2d", lambda m, x: F(m).adaptive_avg_pool2d(x, (3, 2)),
           [(2, 3, 7, 5)], op="adaptive_avg_pool2d"),
    OpCase("adaptive_avg_pool2d_none", lambda m, x: F(m).adaptive_avg_pool2d(x, (None, 3)),
           [(3, 4, 5)], op="adaptive_avg_pool2d"),
    OpCase("adaptive_avg_pool1d", lambda m, x: F(m).adaptive_avg_pool1d(x, 3), [(2, 2, 7)],
           op="adaptive_avg_pool2d"),
    OpCase("adaptive_max_pool2d", lambda m, x: F(m).adaptive_max_pool2d(x, (3, 2)),
           [(2, 3, 7, 5)], op="adaptive_max_pool2d"),
    OpCase("adaptive_max_pool1d", lambda m, x: F(m).adaptive_max_pool1d(x, 4), [(2, 2, 7)],
           op="adaptive_max_pool2d"),
    OpCase("avg_pool1d_unbatched", lambda m, x: F(m).avg_pool1d(x, 2), [(3, 6)],
           op="avg_pool2d"),
    OpCase("max_pool1d_unbatched", lambda m, x: F(m).max_pool1d(x, 2), [(3, 6)],
           op="max_pool2d_with_indices"),
    OpCase("adaptive_max_pool2d_unbatched", lambda m, x: F(m).adaptive_max_pool2d(x, 2),
           [(2, 5, 3)], op="adaptive_max_pool2d"),
    OpCase("adaptive_avg_pool2d_to_1x1", lambda m, x: F(m).adaptive_avg_pool2d(x, 1),
           [(2, 3, 4, 5)], op="mean"),
]

test_value, test_vjp, test_jvp, test_second_order, test_float32 = table_tests(CASES)


def _both(fn, *arrays):
    """fn on chainrule and torch tensors made from ``arrays``; outputs and gradients of
    the sum of outputs times a fixed random weight."""
    res = []
    rng = np.random.default_rng(1)
    for m in (cr, torch):
        xs = [m.tensor(a, requires_grad=True) for a in arrays]
        out = fn(m, *xs)
        vals = out if isinstance(out, tuple) else (out,)
        v = rng.standard_normal(tuple(vals[0].shape))
        (vals[0] * m.tensor(v)).sum().backward()
        rng = np.random.default_rng(1)
        res.append(([o.detach().numpy() for o in vals], [x.grad.numpy() for x in xs]))
    return res


@pytest.mark.parametrize("make", [np.ones, lambda s: np.round(np.random.default_rng(0)
                                                               .standard_normal(s))],
                         ids=["all_equal", "rounded"])
@pytest.mark.parametrize("call", [
    lambda m, x: F(m).max_pool2d(x, 2, return_indices=True),
    lambda m, x: F(m).max_pool2d(x, 3, stride=1, padding=1, return_indices=True),
    lambda m, x: F(m).max_pool2d(x, 3, stride=2, ceil_mode=True, return_indices=True),
    lambda m, x: F(m).max_pool2d(x, 2, stride=1, dilation=2, return_indices=True),
    lambda m, x: F(m).adaptive_max_pool2d(x, (3, 4), return_indices=True),
    lambda m, x: F(m).max_pool1d(x[0], 3, stride=2, padding=1, return_indices=True),
])
def test_max_pool_ties_follow_torch(make, call):
    # torch takes the first maximum in window scan order: same indices, same gradient
    (oc, gc), (ot, gt) = _both(call, make((2, 3, 6, 7)))
    np.testing.assert_array_equal(oc[1], ot[1])
    np.testing.assert_allclose(oc[0], ot[0])
    np.testing.assert_allclose(gc[0], gt[0], atol=1e-12)


@pytest.mark.parametrize("call", [
    lambda m, x: F(m).max_pool2d(x, 2, stride=1, return_indices=True),
    lambda m, x: F(m).adaptive_max_pool2d(x, (2, 3), return_indices=True),
])
def test_max_pool_nan_index_follows_torch(call):
    # a window holding NaN yields NaN at its last NaN, as PyTorch's kernels
    x = np.arange(20.).reshape(1, 1, 4, 5)
    x[0, 0, 1, 1] = x[0, 0, 1, 2] = x[0, 0, 2, 1] = np.nan
    (oc, gc), (ot, gt) = _both(call, x)
    np.testing.assert_array_equal(oc[1], ot[1])
    np.testing.assert_array_equal(np.isnan(gc[0]), np.isnan(gt[0]))


@pytest.mark.parametrize("x,args", [
    ([[[-0.5, 0.3, 0.2]]], (2, 1, 1, 2, True)),         # last window all padding but one
    ([[[-0.5]]], (2, 1, 1, 2, True)),                   # a window of padding only
    ([[[-np.inf, -np.inf]]], (3, 1, 1, 1, False)),      # all -inf: first input position
    ([[[1.0, -np.inf, -np.inf, 2.0]]], (3, 2, 1, 1, False)),
    ([[[0.5, -1.0, 2.0, 0.3]]], (3, 3, 1, 2, True)),     # empty window, index inside
])
def test_max_pool_padding_only_windows_follow_torch(x, args):
    # regression: the window's maximum was looked for among the padding too, so a window
    # of -inf values chose a padding position and a dilated window over padding only read
    # x[-1] (NumPy's wrap-around) instead of giving -inf with torch's index (whose input
    # element, when inside the input, gets the gradient in torch)
    (oc, gc), (ot, gt) = _both(lambda m, t: F(m).max_pool1d(t, *args[:4], ceil_mode=args[4],
                                                            return_indices=True),
                               np.array(x))
    np.testing.assert_array_equal(oc[1], ot[1])
    np.testing.assert_array_equal(oc[0], ot[0])
    np.testing.assert_array_equal(gc[0], gt[0])


@pytest.mark.parametrize("shape,args", [
    ((1, 1, 1), dict(kernel_size=2, stride=1, padding=1, dilation=2, ceil_mode=True)),
    ((1, 2, 5, 1), dict(kernel_size=2, stride=3, padding=1, dilation=2)),
    ((2, 3, 1, 3), dict(kernel_size=(2, 1), stride=1, padding=(1, 0), dilation=(2, 1))),
])
def test_max_pool_windows_in_padding_only_are_one_node_as_torch(shape, args):
    # regression: a window lying entirely in padding made the result a masked_fill plus an
    # add (AddBackward0) instead of torch's single MaxPool2DWithIndicesBackward0 node, and
    # in 2-D its gradient was dropped when torch's flat index h * W + w (w past the row's
    # end) still lies inside the input
    x = np.random.default_rng(0).standard_normal(shape)
    res = []
    for m in (torch, cr):
        t = m.tensor(x, requires_grad=True)
        pool = F(m).max_pool1d if len(shape) == 3 else F(m).max_pool2d
        out, idx = pool(t, **args, return_indices=True)
        names = [out.grad_fn.name()] + [n.name() for n, _ in out.grad_fn.next_functions
                                        if n is not None]
        grads = None
        if int(idx.max()) < int(np.prod(shape[2:])):   # (torch writes out of bounds otherwise)
            w = m.tensor(np.arange(1.0, out.numel() + 1).reshape(tuple(out.shape)))
            (out * w).sum().backward()
            grads = t.grad.numpy()
        res.append((out.detach().numpy(), idx.numpy(), names, grads))
    (ot, it, nt, gt), (oc, ic, nc, gc) = res
    assert np.isneginf(ot).any()
    np.testing.assert_array_equal(oc, ot)
    np.testing.assert_array_equal(ic, it)
    assert nc == [n.replace("torch::autograd::", "") for n in nt]
    assert (gt is None) == (gc is None)
    if gt is not None:
        np.testing.assert_array_equal(gc, gt)


def test_max_pool_indices_dtype_and_unbatched():
    out, idx = cr.nn.functional.max_pool2d(cr.arange(16.).reshape(1, 4, 4), 2,
                                           return_indices=True)
    assert idx.dtype == cr.int64 and idx.tolist() == [[[5, 7], [13, 15]]]
    assert out.shape == (1, 2, 2)


def test_max_pool_second_order_is_routing():
    # d/dx of <grad_x(sum(v * pool(x))), u> is zero; the gradient of the gradient wrt v is
    # u read at the chosen positions (linear in g)
    x = cr.tensor(np.random.default_rng(0).standard_normal((1, 1, 4, 4)), requires_grad=True)
    v = cr.ones(1, 1, 2, 2, dtype=cr.float64, requires_grad=True)
    (g,) = cr.autograd.grad((cr.nn.functional.max_pool2d(x, 2) * v).sum(), x,
                            create_graph=True)
    u = cr.arange(16., dtype=cr.float64).reshape(1, 1, 4, 4)
    gx, gv = cr.autograd.grad((g * u).sum(), (x, v), allow_unused=True)
    assert gx is None or float(gx.abs().sum()) == 0.0
    _, idx = cr.nn.functional.max_pool2d(x, 2, return_indices=True)
    assert gv.flatten().tolist() == [float(i) for i in idx.flatten().tolist()]


def test_conv_grad_fn_names():
    x = cr.ones(1, 1, 4, 4, requires_grad=True)
    w = cr.ones(2, 1, 3, 3)
    for b in (None, cr.ones(2)):
        assert cr.nn.functional.conv2d(x, w, b).grad_fn.name() == "ConvolutionBackward0"
    assert cr.nn.functional.conv2d(cr.ones(1, 2, 4, 4, requires_grad=True), w, cr.ones(2),
                                   groups=2).grad_fn.name() == "ConvolutionBackward0"
    assert cr.nn.functional.unfold(x, 2).grad_fn.name() == "Im2ColBackward0"
    assert cr.nn.functional.fold(cr.ones(1, 4, 4, requires_grad=True), 3, 2).grad_fn.name() \
        == "Col2ImBackward0"


ERRORS = [
    (lambda m: F(m).conv2d(m.ones(2, 3, 8, 8), m.ones(6, 1, 5, 5)), "expected input[2, 3, 8, 8] "
     "to have 1 channels, but got 3 channels instead"),
    (lambda m: F(m).conv2d(m.ones(2, 1, 3, 3), m.ones(6, 1, 5, 5)),
     "Kernel size can't be greater than actual input size"),
    (lambda m: F(m).conv2d(m.ones(8, 8), m.ones(6, 1, 5, 5)),
     "Expected 3D (unbatched) or 4D (batched) input to conv2d, but got input of size: [8, 8]"),
    (lambda m: F(m).conv2d(m.ones(2, 3, 8, 8), m.ones(6, 3, 3, 3), groups=2),
     "Given groups=2, weight of size [6, 3, 3, 3], expected input[2, 3, 8, 8] to have 6 "
     "channels"),
    (lambda m: F(m).conv2d(m.ones(1, 1, 8, 8), m.ones(1, 1, 3, 3), padding="same", stride=2),
     "padding='same' is not supported for strided convolutions"),
    (lambda m: F(m).conv2d(m.ones(1, 1, 8, 8), m.ones(1, 1, 3, 3), padding="foo"),
     "Invalid padding string: 'foo'"),
    (lambda m: F(m).conv2d(m.ones(1, 3, 8, 8), m.ones(6, 3, 3, 3), m.ones(5)),
     "expected bias to be 1-dimensional with 6 elements, but got bias of size [5]"),
    (lambda m: F(m).conv_transpose2d(m.ones(2, 3, 8, 8), m.ones(4, 2, 3, 3)),
     "Given transposed=1, weight of size [4, 2, 3, 3], expected input[2, 3, 8, 8] to have 4 "
     "channels, but got 3 channels instead"),
    (lambda m: F(m).conv_transpose2d(m.ones(1, 3, 4, 4), m.ones(3, 2, 3, 3), stride=2,
                                     output_padding=2),
     "output padding must be smaller than either stride or dilation"),
    (lambda m: F(m).max_pool2d(m.ones(1, 1, 4, 4), 3, padding=2),
     "pad should be at most half of effective kernel size, but got pad=2, kernel_size=3 and "
     "dilation=1"),
    # max pooling also checks the padding against the kernel itself, dilated or not
    (lambda m: F(m).max_pool2d(m.ones(1, 1, 6, 6), (2, 3), padding=(1, 2), dilation=2),
     "pad should be smaller than or equal to half of kernel size, but got padW = 2, padH = 1, "
     "kW = 3, kH = 2"),
    (lambda m: F(m).max_pool1d(m.ones(1, 6), 3, padding=2, dilation=2),
     "max_pool1d() padding should be at most half of kernel size, but got padding=2 and "
     "kernel_size=3"),
    (lambda m: F(m).avg_pool2d(m.ones(1, 1, 2, 2), 3), "Output size is too small"),
    # a 1-D input is shown as (C, 1, L), as PyTorch's 2-D kernels see it; max_pool1d
    # without indices runs PyTorch's own 1-D kernel and its messages
    (lambda m: F(m).avg_pool1d(m.ones(1, 2), 3),
     "Given input size: (1x1x2). Calculated output size: (1x1x0). Output size is too small"),
    (lambda m: F(m).max_pool1d(m.ones(2, 2), 3, dilation=3, return_indices=True),
     "Given input size: (2x1x2). Calculated output size: (2x1x-1). Output size is too small"),
    (lambda m: F(m).max_pool1d(m.ones(1, 2), 3, dilation=3),
     "max_pool1d() Invalid computed output size: -1"),
    (lambda m: F(m).max_pool1d(m.ones(1, 6), 3, padding=2, dilation=2, return_indices=True),
     "pad should be smaller than or equal to half of kernel size, but got padW = 2, padH = 0, "
     "kW = 3, kH = 1"),
    (lambda m: F(m).max_pool2d(m.ones(1, 1, 4, 4), 2, stride=0), "stride should not be zero"),
    (lambda m: F(m).unfold(m.ones(1, 1, 2, 2), 3),
     "calculated shape of the array of sliding blocks as (0, 0), but its components must be "
     "at least one"),
    (lambda m: F(m).adaptive_avg_pool2d(m.ones(4, 4), 2),
     "adaptive_avg_pool2d(): Expected 3D or 4D tensor"),
]


@pytest.mark.parametrize("call,text", ERRORS)
def test_errors_match_torch(call, text):
    with pytest.raises(RuntimeError) as t_err:
        call(torch)
    with pytest.raises(RuntimeError, match=None) as c_err:
        call(cr)
    assert text in str(t_err.value), str(t_err.value)      # the gist is torch's
    assert text in str(c_err.value), str(c_err.value)


@pytest.mark.parametrize("call", [
    lambda m, x: F(m).max_pool2d(x, 2), lambda m, x: F(m).avg_pool2d(x, 2),
    lambda m, x: F(m).adaptive_avg_pool2d(x, 3), lambda m, x: F(m).adaptive_max_pool2d(x, 3),
    lambda m, x: F(m).max_pool1d(x[0], 2), lambda m, x: F(m).avg_pool1d(x[0], 2),
    lambda m, x: F(m).adaptive_avg_pool2d(x, 1)])
def test_pooling_input_changed_in_place_before_backward_as_torch(call):
    # PyTorch's pooling nodes save the input: an in-place change raises at backward
    # (adaptive average pooling to 1x1 is a mean, which does not save it)
    outcome = []
    for m in (torch, cr):
        x = m.ones(2, 3, 6, 6, requires_grad=True) * 1
        y = call(m, x)
        with m.no_grad():
            x.add_(1)
        try:
            y.sum().backward()
            outcome.append("ok")
        except RuntimeError as e:
            assert "modified by an inplace operation" in str(e)
            outcome.append("raises")
    assert outcome[0] == outcome[1]


CONV_CALLS = {
    "conv2d": (lambda m, x, w, b: F(m).conv2d(x, w, b, padding=1),
               (2, 3, 5, 5), (4, 3, 3, 3), (4,)),
    "conv2d_1x1_groups": (lambda m, x, w, b: F(m).conv2d(x, w, b, groups=3),
                          (2, 3, 4, 4), (6, 1, 1, 1), (6,)),
    "conv2d_unbatched": (lambda m, x, w, b: F(m).conv2d(x[0], w, b, stride=2),
                         (2, 3, 5, 5), (4, 3, 2, 2), (4,)),
    "conv1d": (lambda m, x, w, b: F(m).conv1d(x, w, b), (2, 3, 7), (4, 3, 3), (4,)),
    "conv_transpose2d": (lambda m, x, w, b: F(m).conv_transpose2d(x, w, b, stride=2),
                         (2, 3, 4, 4), (3, 4, 3, 3), (4,)),
    "conv_transpose2d_groups": (lambda m, x, w, b: F(m).conv_transpose2d(x, w, b, groups=3),
                                (2, 3, 4, 4), (3, 2, 2, 2), (6,)),
    "conv_transpose1d": (lambda m, x, w, b: F(m).conv_transpose1d(x, w, b),
                         (2, 3, 4), (3, 4, 3), (4,)),
}


@pytest.mark.parametrize("requires", [(True, True, True), (True, False, False),
                                      (False, True, False), (False, False, True)])
@pytest.mark.parametrize("changed", [0, 1, 2])
@pytest.mark.parametrize("name", sorted(CONV_CALLS))
def test_conv_inputs_changed_in_place_before_backward_as_torch(name, changed, requires):
    # PyTorch's convolution node saves the input and the weight (whichever needs a
    # gradient), not the bias: changing the input or the weight in place before backward
    # raises, changing the bias does not (and the gradients are those of the forward)
    call, *shapes = CONV_CALLS[name]
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) for s in shapes]
    outcome, grads = [], []
    for m in (torch, cr):
        leaves = [m.tensor(a, requires_grad=r) for a, r in zip(arrays, requires)]
        x, w, b = leaves
        x = x * 1 if requires[0] else x           # an input changed in place must not be
        y = call(m, x, w, b)                      # a leaf that requires grad
        with m.no_grad():
            (x, w, b)[changed].mul_(2.0)
        try:
            (y * y).sum().backward()
            outcome.append("ok")
            grads.append([None if t.grad is None else t.grad.numpy() for t in leaves])
        except RuntimeError as e:
            assert "modified by an inplace operation" in str(e)
            outcome.append("raises")
    assert outcome[0] == outcome[1], outcome
    if outcome[0] == "ok":
        for a, c in zip(*grads):
            assert (a is None) == (c is None)
            if a is not None:
                np.testing.assert_allclose(c, a, rtol=1e-10, atol=1e-12)


def test_conv_in_place_error_names_the_node_and_input():
    x = cr.ones(1, 2, 4, 4, requires_grad=True) * 1
    w = cr.ones(3, 2, 3, 3, requires_grad=True)
    y = F(cr).conv2d(x, w)
    with cr.no_grad():
        w.add_(1)
    with pytest.raises(RuntimeError, match=r"input 1 of ConvolutionBackward0, is at version 1; "
                                           r"expected version 0"):
        y.sum().backward()


@pytest.mark.parametrize("call,shapes", [
    # thousands of blocks (the weight gradient's product is summed in chunks of them),
    # stride 1 (the input gradient as a correlation with the flipped kernel), few
    # channels with short block rows (batch innermost)
    (lambda m, x, w, b: F(m).conv2d(x, w, b, padding=1), [(3, 2, 40, 41), (3, 2, 3, 3), (3,)]),
    (lambda m, x, w, b: F(m).conv2d(x, w, b, padding=1), [(2, 16, 6, 7), (17, 16, 3, 3), (17,)]),
    (lambda m, x, w, b: F(m).conv2d(x, w, b, stride=2), [(5, 3, 9, 9), (4, 3, 3, 2), (4,)]),
    (lambda m, x, w, b: F(m).conv_transpose2d(x, w, b, padding=1),
     [(2, 16, 5, 6), (16, 16, 3, 3), (16,)]),
    (lambda m, x, w, b: F(m).conv_transpose2d(x, w, b, stride=2, groups=2),
     [(3, 4, 40, 40), (4, 3, 2, 3), (6,)])])
def test_conv_larger_shapes_match_torch(call, shapes):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) for s in shapes]
    res = []
    for m in (torch, cr):
        ts = [m.tensor(a, requires_grad=True) for a in arrays]
        y = call(m, *ts)
        g = m.tensor(np.cos(np.arange(y.numel())).reshape(tuple(y.shape)))
        grads = m.autograd.grad(y, ts, g)
        res.append([y.detach().numpy()] + [t.numpy() for t in grads])
    for a, c in zip(*res):
        np.testing.assert_allclose(c, a, rtol=1e-10, atol=1e-10)


LAYOUT_CASES = [
    ("conv2d", dict(padding=1), (3, 4, 5, 6), (5, 4, 3, 3), True),
    ("conv2d", dict(stride=(2, 1), dilation=(1, 2), padding=(1, 2)), (2, 3, 7, 8),
     (4, 3, 2, 3), True),
    ("conv2d", dict(groups=2, padding=1), (2, 4, 5, 5), (6, 2, 3, 3), True),
    ("conv2d", dict(padding=(1, 2), dilation=(1, 2)), (2, 5, 5, 6), (3, 5, 3, 3), False),
    ("conv2d", dict(padding="same"), (0, 3, 5, 5), (2, 3, 3, 3), True),
    ("conv1d", dict(stride=2, padding=1), (3, 4, 9), (5, 4, 3), True),
    ("conv_transpose2d", dict(stride=2, padding=1, output_padding=1), (2, 3, 4, 5),
     (3, 4, 3, 3), True),
    ("conv_transpose2d", dict(groups=3, stride=(1, 2), dilation=(2, 1)), (2, 3, 4, 4),
     (3, 2, 2, 3), False),
    ("conv_transpose2d", dict(padding=1, dilation=2, output_padding=1), (2, 5, 4, 5),
     (5, 3, 3, 3), True),
    ("conv_transpose1d", dict(padding=3, dilation=3), (2, 4, 9), (4, 2, 3), True),
]


@pytest.mark.parametrize("layout", ["knl", "kln", "lk"])
@pytest.mark.parametrize("case", range(len(LAYOUT_CASES)))
def test_conv_every_column_layout_matches_torch(monkeypatch, layout, case):
    # the layout is chosen by channel count and block-row length; here each one runs every
    # case: value, first and second derivatives ("lk" has no grouped form)
    from chainrule.ops import conv
    monkeypatch.setattr(conv, "_layout", lambda n, c, grid, groups:
                        layout if layout != "lk" or groups == 1 else "knl")
    name, kw, xs, ws, bias = LAYOUT_CASES[case]
    rng = np.random.default_rng(case)
    out_ch = ws[0] if name in ("conv1d", "conv2d") else ws[1] * kw.get("groups", 1)
    arrays = [rng.standard_normal(xs), rng.standard_normal(ws)] + (
        [rng.standard_normal(out_ch)] if bias else [])
    res = []
    for m in (torch, cr):
        ts = [m.tensor(a, requires_grad=True) for a in arrays]
        y = getattr(F(m), name)(*ts, **kw)
        gs = m.autograd.grad((y * y).sum(), ts, create_graph=True)
        gg = m.autograd.grad(sum((g * g).sum() for g in gs), ts)
        res.append([y.detach().numpy()] + [g.detach().numpy() for g in gs + gg])
    for a, c in zip(*res):
        np.testing.assert_allclose(c, a, rtol=1e-9, atol=1e-9)


def test_conv_columns_buffer_is_per_thread():
    # the convolution formulas build their columns in a reused per-thread buffer: threads
    # running convolutions of different sizes and dtypes at once get the sequential results
    import sys
    import threading
    rng = np.random.default_rng(0)
    jobs = [(rng.standard_normal((4, 8, 24, 20 + i)).astype(dt),
             rng.standard_normal((6, 8, 3, 3)))
            for i, dt in enumerate((np.float64, np.float32, np.float64))]

    def run(x, w):
        xt = cr.tensor(x, requires_grad=True)
        wt = cr.tensor(w.astype(x.dtype), requires_grad=True)
        y = F(cr).conv2d(xt, wt, padding=1)
        (y * y).sum().backward()
        return [y.detach().numpy(), xt.grad.numpy(), wt.grad.numpy()]

    expected = [run(*j) for j in jobs]
    results = [[] for _ in jobs]

    def worker(i):
        for _ in range(15):
            results[i].append(run(*jobs[i]))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(jobs))]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)             # (threads switch often)
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    for exp, got in zip(expected, results):
        assert len(got) == 15
        for r in got:
            for a, b in zip(exp, r):
                np.testing.assert_array_equal(b, a)


@pytest.mark.parametrize("layout", ["knl", "kln", "lk"])
def test_conv_gradients_are_contiguous_in_every_layout(monkeypatch, layout):
    # the gradients are laid out as their tensors, as in torch (the "lk" layout's weight
    # gradient comes out of its matmul permuted)
    from chainrule.ops import conv
    monkeypatch.setattr(conv, "_layout", lambda n, c, grid, groups: layout)
    for f, wshape in ((F(cr).conv2d, (4, 3, 3, 2)), (F(cr).conv_transpose2d, (3, 4, 3, 2))):
        x = cr.randn(2, 3, 5, 4, requires_grad=True)
        w = cr.randn(*wshape, requires_grad=True)
        f(x, w).sum().backward()
        assert x.grad._data.flags.c_contiguous and w.grad._data.flags.c_contiguous


def test_conv_columns_over_the_cap_are_not_kept(monkeypatch):
    # columns larger than SCRATCH_MAX_BYTES are fresh arrays: a thread keeps at most that
    # much between calls, and the results are the same either way
    from chainrule.ops import blocks as B
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 9, 9))
    w = rng.standard_normal((4, 3, 3, 3))
    want = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), padding=1).numpy()
    B._SCRATCH.buf = None
    monkeypatch.setattr(B, "SCRATCH_MAX_BYTES", 64)
    xt = cr.tensor(x, requires_grad=True)
    y = cr.nn.functional.conv2d(xt, cr.tensor(w), padding=1)
    y.sum().backward()
    assert getattr(B._SCRATCH, "buf", None) is None
    np.testing.assert_allclose(y.detach().numpy(), want, rtol=1e-12, atol=1e-12)
