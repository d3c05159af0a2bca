"""Weight decay from scratch: high-dimensional linear regression with 20 training examples
and 200 features overfits; an L2 penalty ``lambd * ||w||^2 / 2`` added to the loss fixes it.

Run:  python examples/weight_decay_scratch.py
"""
import chainrule as torch
from chainrule.utils import data

N_TRAIN, N_TEST, NUM_INPUTS, BATCH_SIZE = 20, 100, 200, 5


def synthetic_data(w, b, num_examples):
    X = torch.normal(0, 1, (num_examples, len(w)))
    y = torch.matmul(X, w) + b
    y += torch.normal(0, 0.01, y.shape)
    return X, y.reshape((-1, 1))


def init_params():
    w = torch.normal(0, 1, size=(NUM_INPUTS, 1), requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    return [w, b]


def l2_penalty(w):
    return torch.sum(w.pow(2)) / 2


def linreg(X, w, b):
    return torch.matmul(X, w) + b


def squared_loss(y_hat, y):
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2


def sgd(params, lr, batch_size):
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()


def evaluate_loss(net, data_iter, loss):
    total, n = 0.0, 0
    with torch.no_grad():
        for X, y in data_iter:
            total += float(loss(net(X), y).sum())
            n += y.numel()
    return total / n


def train(lambd, num_epochs=100, lr=0.003, seed=0, verbose=True):
    """Train with penalty weight ``lambd``; returns (train loss, test loss, ||w||)."""
    torch.manual_seed(seed)
    true_w, true_b = torch.ones((NUM_INPUTS, 1)) * 0.01, 0.05
    train_data = synthetic_data(true_w, true_b, N_TRAIN)
    test_data = synthetic_data(true_w, true_b, N_TEST)
    train_iter = data.DataLoader(data.TensorDataset(*train_data), BATCH_SIZE, shuffle=True,
                                 generator=torch.Generator().manual_seed(seed))
    test_iter = data.DataLoader(data.TensorDataset(*test_data), BATCH_SIZE)
    w, b = init_params()

    def net(X):
        return linreg(X, w, b)
    loss = squared_loss
    for epoch in range(num_epochs):
        for X, y in train_iter:
            # the L2 norm penalty term is added to the loss
            l = loss(net(X), y) + lambd * l2_penalty(w)
            l.sum().backward()
            sgd([w, b], lr, BATCH_SIZE)
    result = (evaluate_loss(net, train_iter, loss), evaluate_loss(net, test_iter, loss),
              float(torch.norm(w)))
    if verbose:
        print(f"lambd={lambd}: train loss {result[0]:.4g}, test loss {result[1]:.4g}, "
              f"L2 norm of w {result[2]:.4f}")
    return result


def main(num_epochs=100, verbose=True):
    plain = train(0, num_epochs, verbose=verbose)
    decayed = train(3, num_epochs, verbose=verbose)
    # without decay the model fits the 20 training points but not the test set
    assert plain[0] < 0.1 * plain[1], plain
    # weight decay shrinks w and generalises better
    assert decayed[2] < 0.5 * plain[2], (plain, decayed)
    assert decayed[1] < 0.5 * plain[1], (plain, decayed)
    return {"no_decay": plain, "decay": decayed}


if __name__ == "__main__":
    main()
