"""losslab: reference implementations of the classification losses, built step by step in the notebooks.

Every function mirrors the signature, defaults and semantics of its namesake in
torch.nn.functional (logsumexp: in torch), and is built from elementary tensor operations.
"""

from .binary import binary_cross_entropy, binary_cross_entropy_with_logits
from .cross_entropy import cross_entropy, nll_loss
from .logsumexp import logsumexp
from .softmax import log_softmax, softmax

__all__ = [
    "softmax",
    "log_softmax",
    "logsumexp",
    "nll_loss",
    "cross_entropy",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
]
