"""More of the typed surface: convolution, pooling, normalisation, recurrent and attention
layers, nn.init, a learning-rate scheduler, linalg, a Generator and a device, forward-mode
AD and a custom autograd.Function.
Checked with ``mypy --strict`` and run by ``tests/typing/test_typing.py``."""
from __future__ import annotations

import chainrule as torch
from chainrule import Tensor, nn, optim
from chainrule.autograd import Function, FunctionCtx, forward_ad


class Square(Function):
    """x -> x * x with a hand-written backward."""

    @staticmethod
    def forward(ctx: FunctionCtx, x: Tensor) -> Tensor:
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx: FunctionCtx, grad: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return 2 * x * grad


def main() -> dict[str, float]:
    torch.manual_seed(0)
    conv = nn.Conv2d(1, 2, 3, padding=1)
    nn.init.constant_(conv.weight, 0.5)
    nn.init.zeros_(conv.bias)
    norm = nn.BatchNorm2d(2)
    pool = nn.AvgPool2d(2)
    image = torch.ones(1, 1, 4, 4)
    features: Tensor = pool(norm(conv(image)))

    lstm = nn.LSTM(3, 4, batch_first=True)
    seq, (h, c) = lstm(torch.zeros(2, 5, 3))
    attention = nn.MultiheadAttention(4, 2, batch_first=True)
    attended, weights = attention(seq, seq, seq)
    assert weights is not None

    opt = optim.SGD(conv.parameters(), lr=1.0)
    sched = optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    opt.step()
    sched.step()

    gen = torch.Generator().manual_seed(1)
    noise = torch.rand(3, generator=gen, device=torch.device("cpu"))

    with forward_ad.dual_level():
        dual = forward_ad.make_dual(torch.tensor(2.0), torch.tensor(1.0))
        tangent = forward_ad.unpack_dual(dual ** 3).tangent
    assert tangent is not None

    x = torch.tensor([3.0], requires_grad=True)
    y: Tensor = Square.apply(x)
    y.backward()
    grad = x.grad
    assert grad is not None
    return {"features": float(features.shape[-1]), "seq": float(seq.shape[1]),
            "h": float(h.shape[-1]), "attended": float(attended.shape[-1]),
            "weights": float(weights.sum()), "lr": sched.get_last_lr()[0],
            "square_grad": grad.item(), "noise": float(noise.shape[0]),
            "tangent": tangent.item(),
            "norm": float(torch.linalg.vector_norm(torch.tensor([3.0, 4.0])))}


if __name__ == "__main__":
    print(main())
