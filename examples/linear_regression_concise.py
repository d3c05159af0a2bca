"""Linear regression, concisely: ``TensorDataset`` + ``DataLoader``, ``nn.Linear``,
``nn.MSELoss`` and ``optim.SGD``.

Run:  python examples/linear_regression_concise.py
"""
import chainrule as torch
from chainrule import nn
from chainrule.utils import data


def synthetic_data(w, b, num_examples):
    """y = Xw + b + noise, with X ~ N(0, 1) and noise ~ N(0, 0.01**2)."""
    X = torch.normal(0, 1, (num_examples, len(w)))
    y = torch.matmul(X, w) + b
    y += torch.normal(0, 0.01, y.shape)
    return X, y.reshape((-1, 1))


def load_array(data_arrays, batch_size, is_train=True, seed=0):
    """A data loader over tensors (shuffled with a seeded generator when training)."""
    dataset = data.TensorDataset(*data_arrays)
    return data.DataLoader(dataset, batch_size, shuffle=is_train,
                           generator=torch.Generator().manual_seed(seed))


def main(num_epochs=3, lr=0.03, batch_size=10, seed=0, verbose=True):
    torch.manual_seed(seed)
    true_w = torch.tensor([2, -3.4])
    true_b = 4.2
    features, labels = synthetic_data(true_w, true_b, 1000)
    data_iter = load_array((features, labels), batch_size, seed=seed)

    net = nn.Sequential(nn.Linear(2, 1))
    net[0].weight.data.normal_(0, 0.01)
    net[0].bias.data.fill_(0)
    loss = nn.MSELoss()
    trainer = torch.optim.SGD(net.parameters(), lr=lr)
    for epoch in range(num_epochs):
        for X, y in data_iter:
            l = loss(net(X), y)
            trainer.zero_grad()
            l.backward()
            trainer.step()
        l = loss(net(features), labels)
        if verbose:
            print(f"epoch {epoch + 1}, loss {float(l):f}")
    w = net[0].weight.data
    b = net[0].bias.data
    w_error = true_w - w.reshape(true_w.shape)
    b_error = true_b - b
    if verbose:
        print("error in estimating w:", w_error)
        print("error in estimating b:", b_error)
    assert float(w_error.abs().max()) < 0.01, w_error
    assert float(b_error.abs().max()) < 0.01, b_error
    return {"w": w.reshape(-1).tolist(), "b": b.item(), "loss": float(l)}


if __name__ == "__main__":
    main()
