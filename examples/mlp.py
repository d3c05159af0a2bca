"""A multilayer perceptron (one hidden layer of 256 ReLU units) on scikit-learn's
handwritten digits, from scratch and concisely.  Shows a tqdm progress bar per epoch and
saves the loss/accuracy curves as a PNG; reaches >= 95 % test accuracy on the fixed split.

Run:  python examples/mlp.py [scratch|concise]
"""
import os
import sys

import chainrule as torch
from chainrule import nn

from digits_utils import load_digits_loaders, output_dir, plot_history, train

NUM_INPUTS, NUM_HIDDENS, NUM_OUTPUTS = 64, 256, 10


# --- from scratch ---------------------------------------------------------------------------

def relu(X):
    a = torch.zeros_like(X)
    return torch.max(X, a)


def scratch(num_epochs=15, lr=0.2, batch_size=16, seed=0, show_progress=True, plot=None):
    torch.manual_seed(seed)
    train_iter, test_iter = load_digits_loaders(batch_size, seed)
    W1 = nn.Parameter(torch.randn(NUM_INPUTS, NUM_HIDDENS) * 0.01)
    b1 = nn.Parameter(torch.zeros(NUM_HIDDENS))
    W2 = nn.Parameter(torch.randn(NUM_HIDDENS, NUM_OUTPUTS) * 0.01)
    b2 = nn.Parameter(torch.zeros(NUM_OUTPUTS))
    params = [W1, b1, W2, b2]

    def net(X):
        X = X.reshape((-1, NUM_INPUTS))
        H = relu(X @ W1 + b1)          # '@' is matrix multiplication
        return H @ W2 + b2

    loss = nn.CrossEntropyLoss(reduction="none")
    updater = torch.optim.SGD(params, lr=lr)
    history = train(net, train_iter, test_iter, loss, num_epochs, updater, show_progress)
    if plot:
        plot_history(history, plot, "MLP from scratch (digits)")
    return history


# --- concise -------------------------------------------------------------------------------

def concise(num_epochs=15, lr=0.2, batch_size=16, seed=0, show_progress=True, plot=None):
    torch.manual_seed(seed)
    train_iter, test_iter = load_digits_loaders(batch_size, seed)
    net = nn.Sequential(nn.Flatten(),
                        nn.Linear(NUM_INPUTS, NUM_HIDDENS),
                        nn.ReLU(),
                        nn.Linear(NUM_HIDDENS, NUM_OUTPUTS))

    def init_weights(m):
        if type(m) is nn.Linear:
            nn.init.normal_(m.weight, std=0.01)
    net.apply(init_weights)
    loss = nn.CrossEntropyLoss(reduction="none")
    trainer = torch.optim.SGD(net.parameters(), lr=lr)
    history = train(net, train_iter, test_iter, loss, num_epochs, trainer, show_progress)
    if plot:
        plot_history(history, plot, "MLP, concise (digits)")
    return history


def main(variant="both", num_epochs=15, show_progress=True, out_dir=None):
    out_dir = out_dir or output_dir()
    results = {}
    for name, fn in (("scratch", scratch), ("concise", concise)):
        if variant in (name, "both"):
            path = os.path.join(out_dir, f"mlp_{name}.png")
            h = fn(num_epochs=num_epochs, show_progress=show_progress, plot=path)
            print(f"MLP ({name}): test accuracy {h['test_acc'][-1]:.4f}; curves in {path}")
            assert h["test_acc"][-1] >= 0.95, h["test_acc"]
            results[name] = h
    return results


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "both")
