"""Dropout from scratch: a ``dropout_layer`` that zeroes activations with probability ``p``
and rescales the rest by ``1/(1-p)``, used in an MLP on the digits data only in training.

Run:  python examples/dropout_scratch.py
"""
import chainrule as torch
from chainrule import nn

from digits_utils import load_digits_loaders, train


def dropout_layer(X, dropout):
    assert 0 <= dropout <= 1
    if dropout == 1:             # every element is dropped
        return torch.zeros_like(X)
    mask = (torch.rand(X.shape) > dropout).float()
    return mask * X / (1.0 - dropout)


class Net(nn.Module):
    def __init__(self, num_inputs, num_outputs, num_hiddens1, num_hiddens2, dropout1,
                 dropout2, is_training=True):
        super().__init__()
        self.num_inputs = num_inputs
        self.training = is_training
        self.lin1 = nn.Linear(num_inputs, num_hiddens1)
        self.lin2 = nn.Linear(num_hiddens1, num_hiddens2)
        self.lin3 = nn.Linear(num_hiddens2, num_outputs)
        self.relu = nn.ReLU()
        self.dropout1, self.dropout2 = dropout1, dropout2

    def forward(self, X):
        H1 = self.relu(self.lin1(X.reshape((-1, self.num_inputs))))
        if self.training:        # dropout only while training
            H1 = dropout_layer(H1, self.dropout1)
        H2 = self.relu(self.lin2(H1))
        if self.training:
            H2 = dropout_layer(H2, self.dropout2)
        return self.lin3(H2)


def main(num_epochs=10, lr=0.2, batch_size=16, seed=0, show_progress=True, verbose=True):
    torch.manual_seed(seed)
    X = torch.arange(16, dtype=torch.float32).reshape((2, 8))
    if verbose:
        print(dropout_layer(X, 0.))
        print(dropout_layer(X, 0.5))
        print(dropout_layer(X, 1.))
    assert (dropout_layer(X, 0.) == X).all()
    assert (dropout_layer(X, 1.) == 0).all()
    half = dropout_layer(X, 0.5)
    assert ((half == 0) | (half == 2 * X)).all()

    net = Net(64, 10, 128, 64, dropout1=0.2, dropout2=0.5)
    train_iter, test_iter = load_digits_loaders(batch_size, seed)
    loss = nn.CrossEntropyLoss(reduction="none")
    trainer = torch.optim.SGD(net.parameters(), lr=lr)
    history = train(net, train_iter, test_iter, loss, num_epochs, trainer, show_progress)
    if verbose:
        print(f"dropout MLP: test accuracy {history['test_acc'][-1]:.3f}")
    assert history["test_acc"][-1] >= 0.9, history["test_acc"]
    return history


if __name__ == "__main__":
    main()
