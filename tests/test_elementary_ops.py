"""losslab is built from elementary tensor ops: it never calls the torch functions it reproduces.

Two checks: a scan of the package's source (no attribute access, import or getattr of a forbidden
name), and a run of every losslab function with those torch functions replaced by ones that fail.
"""

import ast
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

import losslab

PACKAGE = Path(losslab.__file__).parent
MODULES = ["_validation.py", "softmax.py", "logsumexp.py", "cross_entropy.py", "binary.py", "gradients.py"]

# What losslab reimplements, and the shortcuts to it.
FORBIDDEN = {
    "softmax",
    "log_softmax",
    "softmin",
    "logsumexp",
    "sigmoid",
    "logsigmoid",
    "log_sigmoid",
    "expit",
    "logit",
    "softplus",
    "cross_entropy",
    "cross_entropy_loss",
    "nll_loss",
    "nll_loss2d",
    "nll_loss_nd",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "kl_div",
    "xlogy",
    "nn",
    "functional",
    "special",
    "_nn",
    "_C",
}


def forbidden_uses(source):
    """(line, what) for every use of a forbidden torch name in the source. The package's own functions
    are called by plain name (e.g. `log_softmax(...)` imported from .softmax), which is allowed."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr in FORBIDDEN:
            found.append((node.lineno, ast.unparse(node)))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names if set(alias.name.split(".")) & FORBIDDEN]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:  # absolute: from torch...
            names = set((node.module or "").split(".")) | {alias.name for alias in node.names}
            if names & FORBIDDEN:
                found.append((node.lineno, f"from {node.module} import ..."))
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "getattr":
            if any(isinstance(arg, ast.Constant) and arg.value in FORBIDDEN for arg in node.args):
                found.append((node.lineno, ast.unparse(node)))
    return found


@pytest.mark.parametrize("module", MODULES)
def test_source_does_not_call_what_it_reproduces(module):
    assert forbidden_uses((PACKAGE / module).read_text()) == []


@pytest.mark.parametrize(
    "snippet",
    [
        "torch.softmax(x, 0)",
        "x.log_softmax(1)",
        "torch.logsumexp(x, 1)",
        "torch.sigmoid(x)",
        "x.sigmoid()",
        "F.logsigmoid(x)",
        "F.cross_entropy(x, t)",
        "torch.nn.functional.nll_loss(x, t)",
        "torch.binary_cross_entropy_with_logits(x, t)",
        "torch._C._nn.binary_cross_entropy(x, t)",
        "import torch.nn.functional as F",
        "from torch.nn.functional import softmax",
        "from torch import sigmoid",
        "getattr(torch, 'softmax')(x, 0)",
    ],
)
def test_the_scan_catches_forbidden_calls(snippet):
    """The scan is not vacuous: each of these would be flagged."""
    assert forbidden_uses(snippet)


def test_the_scan_allows_the_packages_own_functions():
    assert forbidden_uses("from .softmax import log_softmax\nlog_softmax(x, 1)\ntorch.log1p(x.exp())") == []


def _refuse(name):
    def refused(*args, **kwargs):
        raise AssertionError(f"losslab called {name}")

    return refused


REPLACED = [
    (torch, ["softmax", "log_softmax", "logsumexp", "sigmoid", "logit", "binary_cross_entropy_with_logits"]),
    (torch.Tensor, ["softmax", "log_softmax", "logsumexp", "sigmoid", "logit"]),
    (torch.special, ["softmax", "log_softmax", "logsumexp", "expit", "logit"]),
    (
        F,
        [
            "softmax",
            "log_softmax",
            "logsigmoid",
            "softplus",
            "cross_entropy",
            "nll_loss",
            "binary_cross_entropy",
            "binary_cross_entropy_with_logits",
        ],
    ),
    (
        torch._C._nn,
        [
            "log_sigmoid",
            "softplus",
            "cross_entropy_loss",
            "nll_loss",
            "nll_loss2d",
            "nll_loss_nd",
            "binary_cross_entropy",
        ],
    ),
]


def test_runs_with_the_reproduced_torch_functions_disabled(monkeypatch):
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(4, 3, 2, dtype=torch.float64, generator=gen)
    flat = x[:, :, 0]
    target = torch.randint(0, 3, (4, 2), generator=gen)
    probs = torch.rand(4, 3, dtype=torch.float64, generator=gen)
    weight = torch.rand(3, dtype=torch.float64, generator=gen)
    calls = [
        lambda x: losslab.softmax(x, 1),
        lambda x: losslab.log_softmax(x, -1),
        lambda x: losslab.logsumexp(x, (0, 2)),
        lambda x: losslab.cross_entropy(x, target, weight=weight, label_smoothing=0.1),
        lambda x: losslab.cross_entropy(x[:, :, 0], probs, weight=weight, label_smoothing=0.1),
        lambda x: losslab.nll_loss(x, target, weight=weight, reduction="sum"),
        lambda x: losslab.binary_cross_entropy(probs * 0 + x[:, :, 0].abs() / (1 + x[:, :, 0].abs()), probs, weight),
        lambda x: losslab.binary_cross_entropy_with_logits(x, x.detach().abs().clamp(max=1), pos_weight=weight[:2]),
    ]
    expected = []
    for call in calls:
        leaf = x.clone().requires_grad_()
        call(leaf).sum().backward()
        expected.append(leaf.grad)
    for owner, names in REPLACED:
        for name in names:
            monkeypatch.setattr(owner, name, _refuse(f"{getattr(owner, '__name__', owner)}.{name}"))
    with pytest.raises(AssertionError, match="losslab called"):
        torch.softmax(flat, 1)  # the replacement is in effect
    for call, grad in zip(calls, expected, strict=True):
        leaf = x.clone().requires_grad_()
        call(leaf).sum().backward()
        torch.testing.assert_close(leaf.grad, grad)
