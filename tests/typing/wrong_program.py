"""Deliberate type errors: mypy must report each line marked ``# error: <code>`` (and no
other), which proves the stubs are read rather than taken as Any."""
import chainrule as torch
from chainrule import nn, optim

x = torch.zeros(3, requires_grad=True)
count: int = x.sum()                              # error: assignment
x.sum(keepdim="yes")                              # error: arg-type
torch.ones(2).reshape("2")                        # error: arg-type
layer = nn.Linear("3", 4)                         # error: arg-type
y: str = layer(torch.ones(3))                     # error: assignment
optim.SGD(layer.parameters(), lr="fast")          # error: arg-type
g = torch.autograd.grad(x.sum(), x)
g.backward()                                      # error: attr-defined
x.grad.zero_()                                    # error: union-attr
torch.no_grad(1)                                  # error: call-overload
