"""Shared helpers of the digits examples: scikit-learn's bundled handwritten digits
(1,797 8x8 images, no download), a fixed train/test split, data loaders, accuracy, and a
loss/accuracy plot.  Needs the ``examples`` extra: ``pip install chainrule[examples]``."""
import numpy as np

import chainrule as torch
from chainrule.utils import data


def load_digits_tensors(test_size=0.2, seed=0):
    """``(X_train, y_train, X_test, y_test)``: images scaled to [0, 1] as float32 tensors of
    shape (n, 8, 8), labels as int64; a stratified split fixed by ``seed``."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    digits = load_digits()
    X = (digits.images / 16.0).astype(np.float32)
    y = digits.target.astype(np.int64)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=test_size, random_state=seed,
                                              stratify=y)
    return (torch.from_numpy(X_tr), torch.from_numpy(y_tr), torch.from_numpy(X_te),
            torch.from_numpy(y_te))


def load_digits_loaders(batch_size, seed=0):
    """Training loader (shuffled with a seeded generator) and test loader."""
    X_tr, y_tr, X_te, y_te = load_digits_tensors(seed=seed)
    train = data.DataLoader(data.TensorDataset(X_tr, y_tr), batch_size, shuffle=True,
                            generator=torch.Generator().manual_seed(seed))
    test = data.DataLoader(data.TensorDataset(X_te, y_te), batch_size)
    return train, test


def accuracy(y_hat, y):
    """Number of correct predictions."""
    return float((y_hat.argmax(dim=1) == y).sum())


def evaluate_accuracy(net, data_iter):
    """Accuracy of ``net`` over a data loader (eval mode and no_grad for Modules)."""
    if isinstance(net, torch.nn.Module):
        net.eval()
    correct = total = 0
    with torch.no_grad():
        for X, y in data_iter:
            correct += accuracy(net(X), y)
            total += y.numel()
    if isinstance(net, torch.nn.Module):
        net.train()
    return correct / total


def train_epoch(net, train_iter, loss, updater, batch_size=None, progress=None):
    """One epoch; ``updater`` is an optimizer or a from-scratch ``updater(batch_size)``.
    Returns (mean training loss, training accuracy)."""
    if isinstance(net, torch.nn.Module):
        net.train()
    total_loss = correct = n = 0.0
    for X, y in train_iter:
        y_hat = net(X)
        l = loss(y_hat, y)
        if isinstance(updater, torch.optim.Optimizer):
            updater.zero_grad()
            l.mean().backward()
            updater.step()
        else:
            l.sum().backward()
            updater(X.shape[0])
        total_loss += float(l.sum())
        correct += accuracy(y_hat, y)
        n += y.numel()
        if progress is not None:
            progress.set_postfix(loss=f"{total_loss / n:.4f}", refresh=False)
            progress.update(1)
    return total_loss / n, correct / n


def train(net, train_iter, test_iter, loss, num_epochs, updater, show_progress=True):
    """Train for ``num_epochs`` with a tqdm progress bar per epoch; returns the history
    ``{'train_loss': [...], 'train_acc': [...], 'test_acc': [...]}``."""
    from tqdm.auto import tqdm       # a widget in notebooks, a text bar in a terminal
    history = {"train_loss": [], "train_acc": [], "test_acc": []}
    for epoch in range(num_epochs):
        with tqdm(total=len(train_iter), desc=f"epoch {epoch + 1}/{num_epochs}",
                  disable=not show_progress, leave=True) as bar:
            train_loss, train_acc = train_epoch(net, train_iter, loss, updater, progress=bar)
            test_acc = evaluate_accuracy(net, test_iter)
            bar.set_postfix(loss=f"{train_loss:.4f}", train_acc=f"{train_acc:.3f}",
                            test_acc=f"{test_acc:.3f}")
        history["train_loss"].append(train_loss)
        history["train_acc"].append(train_acc)
        history["test_acc"].append(test_acc)
    return history


def plot_history(history, path, title):
    """Save the loss and accuracy curves as a PNG (matplotlib's Agg backend)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    epochs = range(1, len(history["train_loss"]) + 1)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.5))
    ax1.plot(epochs, history["train_loss"], "o-", label="train loss")
    ax1.set_xlabel("epoch")
    ax1.set_ylabel("cross-entropy loss")
    ax1.legend()
    ax1.grid(alpha=0.3)
    ax2.plot(epochs, history["train_acc"], "o-", label="train accuracy")
    ax2.plot(epochs, history["test_acc"], "s--", label="test accuracy")
    ax2.set_xlabel("epoch")
    ax2.set_ylabel("accuracy")
    ax2.legend()
    ax2.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def output_dir():
    """The folder the examples write their pictures to: ``examples/output/`` beside the
    scripts (or ``$CHAINRULE_EXAMPLES_OUTPUT``), never the current directory; made if
    missing."""
    import os
    path = os.environ.get("CHAINRULE_EXAMPLES_OUTPUT") or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "output")
    os.makedirs(path, exist_ok=True)
    return path
