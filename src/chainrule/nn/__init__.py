"""``chainrule.nn``: layers, losses and parameters (PyTorch's names).

>>> import chainrule as torch
>>> from chainrule import nn
>>> net = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1))
>>> loss = nn.MSELoss()(net(torch.ones(3, 2)), torch.zeros(3, 1))
>>> loss.backward()
>>> net[0].weight.grad.shape
torch.Size([4, 2])
"""
from . import functional  # noqa: F401
from . import init  # noqa: F401
from . import utils  # noqa: F401
from .layers import (Dropout, Embedding, Flatten, Identity, Linear, LogSoftmax,  # noqa: F401
                     ModuleList, ReLU, Sequential, Sigmoid, Softmax, Tanh)
from .loss import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, L1Loss,  # noqa: F401
                   MSELoss, NLLLoss)
from .conv import (Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d, Fold,  # noqa: F401
                   Unfold)
from .pooling import (AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveMaxPool1d,  # noqa: F401
                      AdaptiveMaxPool2d, AvgPool1d, AvgPool2d, MaxPool1d, MaxPool2d)
from .module import Module  # noqa: F401
from .normalization import (BatchNorm1d, BatchNorm2d, Dropout2d, GroupNorm,  # noqa: F401
                            LayerNorm)
from .parameter import Parameter  # noqa: F401
from .rnn import GRU, GRUCell, LSTM, LSTMCell, RNN, RNNBase, RNNCell, RNNCellBase  # noqa: F401
from .attention import MultiheadAttention  # noqa: F401
from .lazy import (LazyBatchNorm1d, LazyBatchNorm2d, LazyConv1d, LazyConv2d,  # noqa: F401
                   LazyConvTranspose1d, LazyConvTranspose2d, LazyLinear,
                   UninitializedBuffer, UninitializedParameter)
from .parallel import DataParallel  # noqa: F401
from . import parallel  # noqa: F401

# the public names (a type checker re-exports only these from the package)
__all__ = ["AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveMaxPool1d",
           "AdaptiveMaxPool2d", "AvgPool1d", "AvgPool2d", "BCELoss",
           "BCEWithLogitsLoss", "BatchNorm1d", "BatchNorm2d", "Conv1d", "Conv2d",
           "ConvTranspose1d", "ConvTranspose2d", "CrossEntropyLoss", "DataParallel",
           "Dropout", "Dropout2d", "Embedding", "Flatten", "Fold", "GRU", "GRUCell",
           "GroupNorm", "Identity", "L1Loss", "LSTM", "LSTMCell", "LayerNorm",
           "LazyBatchNorm1d", "LazyBatchNorm2d", "LazyConv1d", "LazyConv2d",
           "LazyConvTranspose1d", "LazyConvTranspose2d", "LazyLinear", "Linear",
           "LogSoftmax", "MSELoss", "MaxPool1d", "MaxPool2d", "Module", "ModuleList",
           "MultiheadAttention", "NLLLoss", "Parameter", "RNN", "RNNBase", "RNNCell",
           "RNNCellBase", "ReLU", "Sequential", "Sigmoid", "Softmax", "Tanh", "Unfold",
           "UninitializedBuffer", "UninitializedParameter", "functional", "init",
           "parallel", "utils"]
