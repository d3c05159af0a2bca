"""HIPS autograd's neural network example (examples/neural_net.py), ported: a tanh network
written in plain NumPy, a log posterior with an L2 prior, its gradient by ``grad`` and HIPS's
Adam loop -- on scikit-learn's digits instead of MNIST (no download).

Changes from the HIPS example (and nothing else):

* ``import autograd.numpy as np`` / ``autograd.numpy.random as npr`` -> ``import numpy as np``
  / ``numpy.random as npr``;
* ``from autograd import grad`` -> ``from chainrule.func import grad``;
* ``autograd.scipy.special.logsumexp`` -> ``logsumexp`` below, three lines of NumPy
  (SciPy's ``logsumexp`` converts its input with ``np.asarray``, which a Tensor that requires
  grad refuses, as PyTorch's does);
* ``autograd.misc.flatten`` in ``l2_norm`` -> a sum over the parameters;
* ``autograd.misc.optimizers.adam`` -> ``adam`` below, the same update written out for the
  list of ``(W, b)`` pairs (chainrule has no flatten-based optimisers);
* MNIST (784 inputs) -> digits (64 inputs), layer sizes [64, 50, 10], 20 epochs.

Run:  python examples/hips_neural_net.py
"""
import numpy as np
import numpy.random as npr

from chainrule.func import grad


def init_random_params(scale, layer_sizes, rs=npr.RandomState(0)):
    """Build a list of (weights, biases) tuples, one for each layer in the net."""
    return [(scale * rs.randn(m, n),   # weight matrix
             scale * rs.randn(n))      # bias vector
            for m, n in zip(layer_sizes[:-1], layer_sizes[1:])]


def logsumexp(x, axis=None, keepdims=False):
    """log(sum(exp(x))) without overflow, in NumPy."""
    m = np.max(x, axis=axis, keepdims=True)
    r = m + np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))
    return r if keepdims else np.squeeze(r, axis=axis)


def neural_net_predict(params, inputs):
    """Implements a deep neural network for classification.
       params is a list of (weights, bias) tuples.
       inputs is an (N x D) matrix.
       returns normalized class log-probabilities."""
    for W, b in params:
        outputs = np.dot(inputs, W) + b
        inputs = np.tanh(outputs)
    return outputs - logsumexp(outputs, axis=1, keepdims=True)


def l2_norm(params):
    """Computes l2 norm of params by summing over all of them."""
    return sum(np.sum(W ** 2) + np.sum(b ** 2) for W, b in params)


def log_posterior(params, inputs, targets, L2_reg):
    log_prior = -L2_reg * l2_norm(params)
    log_lik = np.sum(neural_net_predict(params, inputs) * targets)
    return log_prior + log_lik


def accuracy(params, inputs, targets):
    target_class = np.argmax(targets, axis=1)
    predicted_class = np.argmax(neural_net_predict(params, inputs), axis=1)
    return np.mean(predicted_class == target_class)


def adam(grad_fn, params, callback=None, num_iters=100, step_size=0.001, b1=0.9, b2=0.999,
         eps=10**-8):
    """Adam as in HIPS autograd's optimizers, for a list of (W, b) tuples."""
    m = [tuple(np.zeros_like(p) for p in layer) for layer in params]
    v = [tuple(np.zeros_like(p) for p in layer) for layer in params]
    for i in range(num_iters):
        g = grad_fn(params, i)
        if callback:
            callback(params, i, g)
        new_params, new_m, new_v = [], [], []
        for layer, gl, ml, vl in zip(params, g, m, v):
            ml = tuple((1 - b1) * gp + b1 * mp for gp, mp in zip(gl, ml))
            vl = tuple((1 - b2) * gp ** 2 + b2 * vp for gp, vp in zip(gl, vl))
            mhat = [mp / (1 - b1 ** (i + 1)) for mp in ml]
            vhat = [vp / (1 - b2 ** (i + 1)) for vp in vl]
            new_params.append(tuple(p - step_size * mh / (np.sqrt(vh) + eps)
                                    for p, mh, vh in zip(layer, mhat, vhat)))
            new_m.append(ml)
            new_v.append(vl)
        params, m, v = new_params, new_m, new_v
    return params


def load_digits_onehot(seed=0):
    """Digits images flattened to 64 features in [0, 1], one-hot labels, a fixed split."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    digits = load_digits()
    X = digits.data / 16.0
    Y = np.eye(10)[digits.target]
    return train_test_split(X, Y, test_size=0.2, random_state=seed, stratify=digits.target)


def main(num_epochs=20, verbose=True):
    # Model parameters
    layer_sizes = [64, 50, 10]
    L2_reg = 1.0

    # Training parameters
    param_scale = 0.1
    batch_size = 256
    step_size = 0.01

    train_images, test_images, train_labels, test_labels = load_digits_onehot()
    init_params = init_random_params(param_scale, layer_sizes, rs=npr.RandomState(0))

    num_batches = int(np.ceil(len(train_images) / batch_size))

    def batch_indices(iter):
        idx = iter % num_batches
        return slice(idx * batch_size, (idx + 1) * batch_size)

    # Define training objective
    def objective(params, iter):
        idx = batch_indices(iter)
        return -log_posterior(params, train_images[idx], train_labels[idx], L2_reg)

    # Get gradient of objective using autograd.
    objective_grad = grad(objective)

    history = []
    if verbose:
        print("     Epoch     |    Train accuracy  |       Test accuracy  ")

    def print_perf(params, iter, gradient):
        if iter % num_batches == 0:
            train_acc = accuracy(params, train_images, train_labels)
            test_acc = accuracy(params, test_images, test_labels)
            history.append((train_acc, test_acc))
            if verbose:
                print("{:15}|{:20}|{:20}".format(iter // num_batches, train_acc, test_acc))

    # The optimizers provided can optimize lists, tuples, or dicts of parameters.
    optimized_params = adam(objective_grad, init_params, step_size=step_size,
                            num_iters=num_epochs * num_batches, callback=print_perf)
    return {"params": optimized_params, "history": history,
            "train_acc": accuracy(optimized_params, train_images, train_labels),
            "test_acc": accuracy(optimized_params, test_images, test_labels)}


if __name__ == "__main__":
    main()
