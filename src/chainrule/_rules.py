"""The two namespaces of array functions that VJP and JVP rules are written against.

A rule receives ``F`` and calls ``F.exp``, ``F.where``, ``F.sum_to`` ... : ``NF`` holds
NumPy versions working on raw arrays (first-order backward, the fast path), ``TF``
chainrule functions working on Tensors (``create_graph=True`` and forward mode, so the
rule's own operations are recorded and can be differentiated again).  Each op module adds
the pairs its rules need (``NF.x = numpy version``, ``TF.x = chainrule version``); the
namespaces live here, below the engine and the ops, so that both can import them.

>>> from chainrule._rules import NF, TF
>>> import numpy as np
>>> NF.exp is np.exp, TF
(True, <rule namespace chainrule>)
"""

__all__ = ["NF", "TF"]


class _Namespace:
    """Array functions for rules; ``NF`` holds NumPy versions, ``TF`` chainrule ones."""

    def __init__(self, name):
        self._name = name

    def __repr__(self):
        return f"<rule namespace {self._name}>"


NF = _Namespace("numpy")
TF = _Namespace("chainrule")
