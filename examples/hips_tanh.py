"""HIPS autograd's README example, ported: the derivative of a tanh written in NumPy, and its
derivatives up to the sixth order over a grid, each one the elementwise derivative of the
previous one.

Changes from the HIPS README (and nothing else):

* ``import autograd.numpy as np`` -> ``import numpy as np`` (plain NumPy; chainrule's Tensors
  implement NumPy's protocols, so ``np.exp`` on a Tensor is recorded);
* ``from autograd import grad, elementwise_grad as egrad`` ->
  ``from chainrule.func import grad, elementwise_grad as egrad``;
* ``plt.show()`` -> ``plt.savefig(...)`` (runs headless; the test checks the PNG).

Run:  python examples/hips_tanh.py   (writes hips_tanh.png)
"""
import sys

import numpy as np

from chainrule.func import elementwise_grad as egrad
from chainrule.func import grad


def tanh(x):                     # Define a function
    y = np.exp(-2.0 * x)
    return (1.0 - y) / (1.0 + y)


def main(path="hips_tanh.png", verbose=True):
    grad_tanh = grad(tanh)       # Obtain its gradient function
    g = grad_tanh(1.0)           # Evaluate the gradient at x = 1.0
    fd = (tanh(1.0001) - tanh(0.9999)) / 0.0002  # Compare to finite differences
    if verbose:
        print("grad_tanh(1.0) =", g)
        print("finite differences:", fd)

    x = np.linspace(-7, 7, 200)
    curves = [tanh(x),
              egrad(tanh)(x),                                     # first  derivative
              egrad(egrad(tanh))(x),                              # second derivative
              egrad(egrad(egrad(tanh)))(x),                       # third  derivative
              egrad(egrad(egrad(egrad(tanh))))(x),                # fourth derivative
              egrad(egrad(egrad(egrad(egrad(tanh)))))(x),         # fifth  derivative
              egrad(egrad(egrad(egrad(egrad(egrad(tanh))))))(x)]  # sixth  derivative
    if path:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(6, 3.5))
        for c in curves:
            ax.plot(x, c)
        ax.axis("off")
        fig.tight_layout()
        fig.savefig(path, dpi=100)
        plt.close(fig)
    return {"grad": g, "finite_difference": fd, "x": x, "curves": curves}


if __name__ == "__main__":
    main(*sys.argv[1:2])
