"""NumPy models fitted with SciPy, gradients from chainrule, no Tensor in sight.

Two models written with ordinary ``np.`` calls, each minimised by
``scipy.optimize.minimize(value_and_grad(loss), x0, jac=True, method="L-BFGS-B")``:

* L2-regularised logistic regression on synthetic data (weights and bias in one vector);
* a curve fit, ``y = a * exp(-b * t) + c``, by least squares.

``value_and_grad`` takes the ndarray SciPy passes and returns ``(np.float64, ndarray)``, what
``jac=True`` expects.  Needs SciPy (it comes with scikit-learn: ``pip install
chainrule[examples]``).

Run:  python examples/numpy_scipy_fit.py
"""
import numpy as np
from scipy.optimize import minimize

from chainrule.func import value_and_grad


def log_sigmoid(z):
    return -np.logaddexp(0.0, -z)


def logistic_loss(params, X, y, l2=1e-2):
    """Mean negative log-likelihood of labels y in {0, 1}, plus an L2 penalty on the weights."""
    w, b = params[:-1], params[-1]
    z = np.dot(X, w) + b
    nll = -np.mean(y * log_sigmoid(z) + (1 - y) * log_sigmoid(-z))
    return nll + l2 * np.sum(w ** 2)


def make_classification(n=400, d=5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    w_true = rng.normal(size=d) * 2
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-(X @ w_true - 0.5)))).astype(np.float64)
    return X, y, w_true


def fit_logistic(X, y, l2=1e-2):
    x0 = np.zeros(X.shape[1] + 1)
    return minimize(value_and_grad(logistic_loss), x0, args=(X, y, l2), jac=True,
                    method="L-BFGS-B")


def decay(theta, t):
    a, b, c = theta[0], theta[1], theta[2]
    return a * np.exp(-b * t) + c


def curve_loss(theta, t, y):
    return 0.5 * np.sum((decay(theta, t) - y) ** 2)


def fit_curve(seed=0):
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 4, 50)
    y = decay(np.array([2.5, 1.3, 0.5]), t) + 0.01 * rng.normal(size=t.shape)
    res = minimize(value_and_grad(curve_loss), np.array([1.0, 1.0, 0.0]), args=(t, y),
                   jac=True, method="L-BFGS-B")
    return res


def main(verbose=True):
    X, y, w_true = make_classification()
    res = fit_logistic(X, y)
    acc = np.mean(((X @ res.x[:-1] + res.x[-1]) > 0) == (y > 0.5))
    curve = fit_curve()
    if verbose:
        print(f"logistic regression: loss {res.fun:.4f} after {res.nit} iterations, "
              f"training accuracy {acc:.3f}")
        print(f"curve fit: a, b, c = {np.round(curve.x, 3)}")
    return {"logistic": res, "accuracy": acc, "w_true": w_true, "curve": curve,
            "data": (X, y)}


if __name__ == "__main__":
    main()
