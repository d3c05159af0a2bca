"""Softmax regression on scikit-learn's handwritten digits (8x8 images, 10 classes), from
scratch (hand-written softmax, cross entropy and SGD) and concisely (``nn.Linear`` +
``nn.CrossEntropyLoss`` + ``optim.SGD``).

Run:  python examples/softmax_regression.py [scratch|concise]
"""
import sys

import chainrule as torch
from chainrule import nn

from digits_utils import load_digits_loaders, output_dir, plot_history, train

NUM_INPUTS, NUM_OUTPUTS = 64, 10


# --- from scratch ---------------------------------------------------------------------------

def softmax(X):
    """Row-wise softmax (the textbook form: fine for the small logits here)."""
    X_exp = torch.exp(X)
    partition = X_exp.sum(1, keepdim=True)
    return X_exp / partition


def cross_entropy(y_hat, y):
    """-log of the predicted probability of the true class, per example."""
    return -torch.log(y_hat[range(len(y_hat)), y])


def scratch(num_epochs=10, lr=0.1, batch_size=32, seed=0, show_progress=True, plot=None):
    torch.manual_seed(seed)
    train_iter, test_iter = load_digits_loaders(batch_size, seed)
    W = torch.normal(0, 0.01, size=(NUM_INPUTS, NUM_OUTPUTS), requires_grad=True)
    b = torch.zeros(NUM_OUTPUTS, requires_grad=True)

    def net(X):
        return softmax(torch.matmul(X.reshape((-1, W.shape[0])), W) + b)

    def updater(batch_size):
        with torch.no_grad():
            for param in (W, b):
                param -= lr * param.grad / batch_size
                param.grad.zero_()

    history = train(net, train_iter, test_iter, cross_entropy, num_epochs, updater,
                    show_progress)
    if plot:
        plot_history(history, plot, "softmax regression from scratch (digits)")
    return history


# --- concise -------------------------------------------------------------------------------

def concise(num_epochs=10, lr=0.1, batch_size=32, seed=0, show_progress=True, plot=None):
    torch.manual_seed(seed)
    train_iter, test_iter = load_digits_loaders(batch_size, seed)
    net = nn.Sequential(nn.Flatten(), nn.Linear(NUM_INPUTS, NUM_OUTPUTS))

    def init_weights(m):
        if type(m) is nn.Linear:
            nn.init.normal_(m.weight, std=0.01)
    net.apply(init_weights)
    loss = nn.CrossEntropyLoss(reduction="none")
    trainer = torch.optim.SGD(net.parameters(), lr=lr)
    history = train(net, train_iter, test_iter, loss, num_epochs, trainer, show_progress)
    if plot:
        plot_history(history, plot, "softmax regression, concise (digits)")
    return history


def main(variant="both", num_epochs=10, show_progress=True, out_dir=None):
    import os
    out_dir = out_dir or output_dir()
    results = {}
    for name, fn in (("scratch", scratch), ("concise", concise)):
        if variant in (name, "both"):
            h = fn(num_epochs=num_epochs, show_progress=show_progress,
                   plot=os.path.join(out_dir, f"softmax_regression_{name}.png"))
            print(f"softmax regression ({name}): test accuracy {h['test_acc'][-1]:.3f}")
            assert h["test_acc"][-1] >= 0.9, h["test_acc"]
            results[name] = h
    return results


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "both")
