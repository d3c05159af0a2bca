"""The sigmoid and its gradient (numerical stability section): the gradient vanishes for
large |x|.  ``y`` is a vector, so ``backward`` needs the vector of the vector-Jacobian
product: ``ones_like(x)`` gives the elementwise derivative.

Run:  python examples/sigmoid_gradient_plot.py   (writes examples/output/sigmoid_gradient.png)
"""
import os
import sys

import chainrule as torch


def main(path=None):
    from digits_utils import output_dir
    path = path or os.path.join(output_dir(), "sigmoid_gradient.png")
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = torch.arange(-8.0, 8.0, 0.1, requires_grad=True)
    y = torch.sigmoid(x)
    y.backward(torch.ones_like(x))

    xs, ys, gs = x.detach().numpy(), y.detach().numpy(), x.grad.numpy()
    fig, ax = plt.subplots(figsize=(4.5, 2.8))
    ax.plot(xs, ys, label="sigmoid")
    ax.plot(xs, gs, "--", label="gradient")
    ax.set_xlabel("x")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    # d sigmoid / dx = sigmoid * (1 - sigmoid): at most 1/4 (at 0), tiny at the ends
    assert abs(gs.max() - 0.25) < 1e-4 and gs[0] < 1e-3 and gs[-1] < 1e-3
    print(f"sigmoid and its gradient drawn in {path}")
    return x, y


if __name__ == "__main__":
    main(*sys.argv[1:2])
