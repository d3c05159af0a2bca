"""A small typed chainrule program, as a learner would write it.

``tests/typing/test_typing.py`` checks it with ``mypy --strict`` (the stubs and the typed
sources must describe every call below) and runs it (``main`` returns what it computed).
"""
from __future__ import annotations

import chainrule as torch
from chainrule import Tensor, nn, optim
from chainrule.utils.data import DataLoader, TensorDataset


class TwoLayer(nn.Module):
    """A tiny regression net: Linear -> Tanh -> Linear."""

    def __init__(self, n_in: int, n_hidden: int) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Linear(n_in, n_hidden), nn.Tanh())
        self.head = nn.Linear(n_hidden, 1)

    def forward(self, x: Tensor) -> Tensor:
        hidden: Tensor = self.body(x)
        return self.head(hidden)


@torch.no_grad()
def predict(model: TwoLayer, x: Tensor) -> Tensor:
    return model.forward(x)


def cube(x: Tensor) -> Tensor:
    return (x ** 3).sum()


def tensors_and_gradients() -> dict[str, float]:
    x = torch.arange(4.0, requires_grad=True)
    y = torch.tensor([1.0, 2.0, 3.0, 4.0])
    z = (x * y + torch.sin(x) - x.exp() / 2).sum()
    z.backward()
    grad = x.grad
    assert grad is not None
    expected = y + torch.cos(x.detach()) - x.detach().exp() / 2
    assert torch.allclose(grad, expected)

    with torch.no_grad():
        w = x * 2
    assert not w.requires_grad

    a = torch.tensor(3.0, requires_grad=True)
    (da,) = torch.autograd.grad(a * a * a, a)
    dcube = torch.func.grad(cube)(torch.tensor([1.0, 2.0]))
    hess = torch.func.hessian(cube)(torch.tensor([1.0, 2.0]))
    m = torch.zeros(2, 3).reshape(3, 2).t()
    values, indices = torch.max(torch.tensor([[1.0, 5.0], [7.0, 2.0]]), dim=1)
    return {"da": da.item(), "dcube": float(dcube.sum()), "hess": float(hess.sum()),
            "rows": m.shape[0], "max": float(values.sum()), "argmax": int(indices.sum())}


def train(steps: int) -> tuple[float, float]:
    torch.manual_seed(0)
    xs = torch.linspace(-1.0, 1.0, 32).unsqueeze(1)
    ys = 3 * xs + 0.5
    loader = DataLoader(TensorDataset(xs, ys), batch_size=8, shuffle=True)
    model = TwoLayer(1, 8)
    nn.init.zeros_(model.head.bias)
    loss_fn = nn.MSELoss()
    opt: optim.Optimizer = optim.Adam(model.parameters(), lr=0.05)
    first = last = 0.0
    for step in range(steps):
        total = 0.0
        xb: Tensor
        yb: Tensor
        for xb, yb in loader:                 # a batch is a list [inputs, targets]
            opt.zero_grad()
            pred: Tensor = model(xb)          # a Module's call is typed Any, as in PyTorch
            loss = loss_fn(pred, yb)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), max_norm=10.0)
            opt.step()
            total += loss.item()
        if step == 0:
            first = total
        last = total
    sgd = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    sgd.zero_grad()
    state = model.state_dict()
    clone = TwoLayer(1, 8)
    clone.load_state_dict(state)
    same = torch.equal(predict(clone, xs), predict(model, xs))
    assert not predict(model, xs).requires_grad
    assert same and sorted(state) == ["body.0.bias", "body.0.weight", "head.bias",
                                      "head.weight"]
    return first, last


def main() -> dict[str, float]:
    out = tensors_and_gradients()
    first, last = train(30)
    out["first_loss"], out["last_loss"] = first, last
    return out


if __name__ == "__main__":
    print(main())
