"""Linear regression from scratch: synthetic data, a hand-written data iterator, the model,
the squared loss and minibatch SGD with in-place updates under ``no_grad``.

Run:  python examples/linear_regression_scratch.py
"""
import chainrule as torch


def synthetic_data(w, b, num_examples):
    """y = Xw + b + noise, with X ~ N(0, 1) and noise ~ N(0, 0.01**2)."""
    X = torch.normal(0, 1, (num_examples, len(w)))
    y = torch.matmul(X, w) + b
    y += torch.normal(0, 0.01, y.shape)
    return X, y.reshape((-1, 1))


def data_iter(batch_size, features, labels):
    """Minibatches of the examples in a random order."""
    num_examples = len(features)
    indices = torch.randperm(num_examples)
    for i in range(0, num_examples, batch_size):
        batch_indices = indices[i: min(i + batch_size, num_examples)]
        yield features[batch_indices], labels[batch_indices]


def linreg(X, w, b):
    """The linear regression model."""
    return torch.matmul(X, w) + b


def squared_loss(y_hat, y):
    """Squared loss (one value per example)."""
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2


def sgd(params, lr, batch_size):
    """Minibatch stochastic gradient descent, in place."""
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()


def main(num_epochs=3, lr=0.03, batch_size=10, seed=0, verbose=True):
    torch.manual_seed(seed)
    true_w = torch.tensor([2, -3.4])
    true_b = 4.2
    features, labels = synthetic_data(true_w, true_b, 1000)

    w = torch.normal(0, 0.01, size=(2, 1), requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    net, loss = linreg, squared_loss
    for epoch in range(num_epochs):
        for X, y in data_iter(batch_size, features, labels):
            l = loss(net(X, w, b), y)      # minibatch loss, shape (batch_size, 1)
            l.sum().backward()             # gradient of the summed loss w.r.t. w and b
            sgd([w, b], lr, batch_size)
        with torch.no_grad():
            train_l = loss(net(features, w, b), labels)
            if verbose:
                print(f"epoch {epoch + 1}, loss {float(train_l.mean()):f}")
    w_error = true_w - w.reshape(true_w.shape)
    b_error = true_b - b
    if verbose:
        print(f"error in estimating w: {w_error.detach()}")
        print(f"error in estimating b: {b_error.detach()}")
    assert float(w_error.abs().max()) < 0.01, w_error
    assert float(b_error.abs().max()) < 0.01, b_error
    return {"w": w.detach().reshape(-1).tolist(), "b": b.item(),
            "loss": float(train_l.mean())}


if __name__ == "__main__":
    main()
