"""Self-checks for notebook 02 (cross-entropy from scratch).

    check_cross_entropy_from_logits(cross_entropy_from_logits)
        cross_entropy_from_logits(logits (N, C), target (N,) int64) -> the mean loss, a 0-d tensor
    check_kl_divergence(kl_divergence)
        kl_divergence(q (N, C), p (N, C)) -> KL(q || p) of each row, (N,): q the target, p the model
    check_soft_cross_entropy(soft_cross_entropy)
        soft_cross_entropy(logits (N, C), target_probs (N, C)) -> H(target_probs, softmax(logits)) of each row, (N,)
    check_fixed_training_loss(fixed_training_loss)
        fixed_training_loss(model, inputs (N, 2), target (N,)) -> the mean cross-entropy of the logits of a
        model that ends in nn.Softmax (the double softmax of a training snippet, fixed in the loss)

Each runs the learner's function on fixed inputs (the notebook's worked example among them),
compares with PyTorch, and for the typical mistakes says which one it is and how to fix it.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.distributions import Categorical
from torch.distributions import kl_divergence as torch_kl_divergence

from ._checking import Wrong, answer_name, call_answer, close, first_match, fmt, self_check

# The notebook's worked example: 3 samples, 4 classes.
WORKED_LOGITS = torch.tensor([[7.4, 2.8, -0.6, 6.3], [-1.9, 4.2, 3.9, 5.1], [9.3, -5.3, 7.2, -8.4]])  # (3, 4)
WORKED_TARGETS = torch.tensor([3, 0, 2])  # (3,)
# Row 0 is confidently wrong: the softmax of its target underflows to 0 in float32 (e^-120).
EXTREME_LOGITS = torch.tensor([[0.0, 120.0, -5.0], [2.0, 1.0, 0.5]])  # (2, 3)
EXTREME_TARGETS = torch.tensor([0, 2])  # (2,)

# Exercise 2: rows of the target q and the model p; row 2 has p == q.
Q = torch.tensor([[0.7, 0.2, 0.05, 0.05], [0.25, 0.25, 0.25, 0.25], [0.1, 0.6, 0.2, 0.1]])  # (3, 4)
P = torch.tensor([[0.4, 0.3, 0.2, 0.1], [0.1, 0.2, 0.3, 0.4], [0.1, 0.6, 0.2, 0.1]])  # (3, 4)
# Rows of q with zeros: a one-hot label, and a distribution over two of the four classes.
Q_WITH_ZEROS = torch.tensor([[0.0, 0.0, 1.0, 0.0], [0.5, 0.5, 0.0, 0.0]])  # (2, 4)
P_FOR_ZEROS = torch.tensor([[0.1, 0.2, 0.6, 0.1], [0.25, 0.25, 0.25, 0.25]])  # (2, 4)

# Exercise 3: soft targets for the worked example's logits (rows sum to 1, no zeros) ...
SOFT_TARGETS = torch.tensor([[0.1, 0.05, 0.05, 0.8], [0.25, 0.25, 0.25, 0.25], [0.2, 0.1, 0.6, 0.1]])  # (3, 4)
# ... and for the extreme logits, with zeros (row 1 is one-hot).
EXTREME_SOFT_TARGETS = torch.tensor([[0.9, 0.1, 0.0], [0.0, 0.0, 1.0]])  # (2, 3)

RTOL = 1e-5  # float32 keeps about 7 significant digits; a loss of 100 is right to about 1e-5
ATOL = 1e-5


def _same(result, expected):
    """result and expected (tensors of one shape) agree to float32 precision (a nan never agrees)."""
    return close(result, expected, ATOL, RTOL)


def _first_match(result, candidates):
    return first_match(result, candidates, ATOL, RTOL)


def _entropy(q):
    return -torch.xlogy(q, q).sum(dim=1)  # (N,), with 0 log 0 = 0


# --- Exercise 1 ------------------------------------------------------------------------------


INDEXING_MISTAKE = (
    "log_probs[:, target] picks an (N, N) block (every sample's log-probability of every sample's target), "
    "not one entry per sample: use log_probs[torch.arange(N), target]"
)


def _mean_loss_mistakes(logits, target):
    """(value, message) for each typical wrong mean cross-entropy of logits (N, C), target (N,)."""
    n_samples, n_classes = logits.shape
    rows = torch.arange(n_samples)
    log_probs = torch.log_softmax(logits.double(), dim=1)  # (N, C)
    probs = log_probs.exp()
    picked = log_probs[rows, target]  # (N,)
    one_hot = F.one_hot(target, n_classes).double()  # (N, C)
    mean = -picked.mean()
    return [
        (-mean, "the sign is wrong: log p is negative, so the loss is MINUS the mean log-probability, -log p[target]"),
        (
            -probs[rows, target].mean(),
            "you used the probabilities p[target], not their logs: the loss is -log p[target]; take the "
            "log-probabilities from torch.log_softmax(logits, dim=1)",
        ),
        (
            (1 - probs[rows, target]).mean(),
            "you used 1 - p[target], a probability, not -log p[target]: take the log-probabilities from "
            "torch.log_softmax(logits, dim=1)",
        ),
        (
            -torch.log_softmax(torch.softmax(logits.double(), dim=1), dim=1)[rows, target].mean(),
            'you applied softmax twice (a "double softmax"): the input already holds logits, so take '
            "torch.log_softmax(logits, dim=1) of the logits directly",
        ),
        (
            -torch.log_softmax(logits.double(), dim=0)[rows, target].mean(),
            "you took log_softmax over dim 0, across the batch: each sample's classes are along dim 1, "
            "so use torch.log_softmax(logits, dim=1)",
        ),
        (
            -picked.sum(),
            "you summed over the batch: the loss is the MEAN over the samples (reduction 'mean'), "
            "so divide by N or use .mean()",
        ),
        (
            -(one_hot * log_probs).mean(dim=1).sum(),
            "you averaged over the classes (dividing by C) and summed over the batch: pick the target's "
            "log-probability of each sample, then average over the batch (dim 0)",
        ),
        (
            -(one_hot * log_probs).mean(),
            f"you averaged over all N x C = {n_samples * n_classes} entries, which divides the loss by "
            f"C = {n_classes} too: pick one log-probability per sample, then average over the N samples",
        ),
        (-log_probs[:, target].mean(), INDEXING_MISTAKE),
        (
            -log_probs.mean(),
            "you averaged -log p over every class, not only the target's: pick the target's "
            "log-probability, log_probs[torch.arange(N), target]",
        ),
        (
            mean / math.log(2),
            "you took the log in base 2 (bits): PyTorch's cross-entropy uses the natural log (nats); "
            "use torch.log_softmax",
        ),
    ]


def _explain_mean_loss(loss, logits, target, name):
    n_samples = logits.shape[0]
    expected = F.cross_entropy(logits, target)
    log_probs = torch.log_softmax(logits, dim=1)  # (N, C)
    if loss.numel() != 1:
        if _same(loss, -log_probs[torch.arange(n_samples), target]):
            raise Wrong(
                f"{name} returned the {n_samples} per-sample losses {fmt(loss)}: return their mean, one number "
                "(a 0-d tensor), as reduction 'mean' does"
            )
        if _same(loss, -log_probs[:, target]):
            raise Wrong(INDEXING_MISTAKE)
        raise Wrong(
            f"{name} returned shape {tuple(loss.shape)} for a batch of {n_samples} samples: return one number "
            "(a 0-d tensor), the mean loss over the batch"
        )
    loss = loss.reshape(())
    if _same(loss, expected):
        return
    mistake = _first_match(loss, _mean_loss_mistakes(logits, target))
    if mistake:
        raise Wrong(mistake)
    if loss.isnan() and (logits < 0).any():
        raise Wrong(
            f"{name} returns nan for the logits {fmt(logits, 'g')}: did you take the log of the logits as if they "
            "were probabilities? Logits are any real numbers, and the log of a negative one is nan. Take "
            "torch.log_softmax(logits, dim=1) first."
        )
    if not loss.isfinite():
        raise Wrong(
            f"{name} returns {fmt(loss)} for the logits {fmt(logits, 'g')} with targets {target.tolist()}: "
            "take the log-probabilities from torch.log_softmax(logits, dim=1), which stays finite, not "
            "torch.log(torch.softmax(...)), whose tiny probabilities underflow to 0 and log 0 = -inf"
        )
    if loss < expected - 1:
        raise Wrong(
            f"{name} returns {fmt(loss)} where the loss is {fmt(expected)} for the logits {fmt(logits, 'g')} with "
            f"targets {target.tolist()}: a small constant added inside the log (or a clamp) caps the loss of a "
            "confidently wrong sample. Use torch.log_softmax(logits, dim=1), which needs no such guard."
        )
    raise Wrong(
        f"{name} returns {fmt(loss)} for the logits {fmt(logits, 'g')} with targets {target.tolist()}; "
        f"the mean cross-entropy is {fmt(expected)}"
    )


@self_check
def check_cross_entropy_from_logits(cross_entropy_from_logits):
    """cross_entropy_from_logits(logits (N, C), target (N,)) -> mean cross-entropy, like F.cross_entropy."""
    name = answer_name(cross_entropy_from_logits)
    for logits, target in ((WORKED_LOGITS, WORKED_TARGETS), (EXTREME_LOGITS, EXTREME_TARGETS)):
        loss = call_answer(cross_entropy_from_logits, logits, target)
        _explain_mean_loss(loss, logits, target, name)
    return (
        f"{name} matches F.cross_entropy: {fmt(F.cross_entropy(WORKED_LOGITS, WORKED_TARGETS))} on the worked "
        "example, and stays finite for a confidently wrong sample (logit gap 120), because log_softmax never "
        "takes the log of an underflowed probability."
    )


# --- Exercise 2 ------------------------------------------------------------------------------


def _kl_mistakes(q, p):
    """(value, message) for each typical wrong per-row KL(q || p) of q, p (N, C)."""
    q, p = q.double(), p.double()
    kl = torch.xlogy(q, q).sum(dim=1) - (q * p.log()).sum(dim=1)  # (N,)
    cross_entropy = -(q * p.log()).sum(dim=1)
    n_classes = q.shape[1]
    return [
        (
            (p * (p.log() - q.log())).sum(dim=1),
            "that is sum p log(p / q), the divergence in the wrong direction: KL is not symmetric. "
            "KL(q || p) = sum q log(q / p), weighted by the target q. (With F.kl_div the first argument is "
            "log p and the second q: F.kl_div(p.log(), q, reduction='none').sum(dim=1).)",
        ),
        (-kl, "the sign is wrong: KL(q || p) = sum q log(q / p) = -sum q log(p / q), never negative"),
        (kl / math.log(2), "you took the log in base 2 (bits): use the natural log, torch.log, as PyTorch does"),
        (
            cross_entropy,
            "that is the cross-entropy H(q, p) = -sum q log p, not the KL divergence: subtract the entropy, "
            "KL(q || p) = H(q, p) - H(q) = sum q log(q / p)",
        ),
        (_entropy(q), "that is the entropy H(q) of q: the KL divergence compares q with p, sum q log(q / p)"),
        (
            (torch.xlogy(q, q) - q * p).sum(dim=1),
            "you passed p itself where log p belongs (as in F.kl_div(p, q)): F.kl_div's first argument is "
            "log p, so F.kl_div(p.log(), q, reduction='none').sum(dim=1)",
        ),
        (
            kl / n_classes,
            f"you averaged over the {n_classes} classes (as F.kl_div's reduction='mean' does): KL is a SUM "
            "over the classes, .sum(dim=1)",
        ),
    ]


def _explain_row_shape(result, name, shape, rows, terms, wanted):
    """Raise Wrong for a result that is not one value per row of an (N, C) input, saying which sum went wrong."""
    n_samples, n_classes = shape
    if result.shape == (n_classes,):
        raise Wrong(
            f"{name} returned shape ({n_classes},), one value per class: you summed over dim 0, {rows}; "
            "sum over dim 1, the classes"
        )
    if result.shape == shape:
        raise Wrong(
            f"{name} returned the {n_samples} x {n_classes} terms {terms}: sum them over the classes, .sum(dim=1)"
        )
    raise Wrong(f"{name} returned shape {tuple(result.shape)}: return {wanted}, shape ({n_samples},)")


def _explain_kl(result, q, p, name):
    expected = torch_kl_divergence(Categorical(probs=q), Categorical(probs=p))  # (N,)
    n_samples, n_classes = q.shape
    if result.shape != expected.shape:
        if result.numel() == 1:
            raise Wrong(
                f"{name} returned one number for {n_samples} rows: return one KL divergence per row, shape "
                f"({n_samples},), summing over the classes only (.sum(dim=1); no reduction over the batch)"
            )
        _explain_row_shape(result, name, q.shape, "the rows", "q log(q / p)", "one value per row")
    if _same(result, expected):
        return
    mistake = _first_match(result, _kl_mistakes(q, p))
    if mistake:
        raise Wrong(mistake)
    if result.isnan().any() and (q == 0).any():
        raise Wrong(
            f"{name} returns {fmt(result)} for q = {fmt(q, 'g')}: a class with q = 0 gives 0 * log 0 = "
            "0 * (-inf) = nan, but its term is 0 (the limit of q log q as q -> 0). Use torch.xlogy(q, q), "
            "which is 0 where q = 0, for q log q."
        )
    row = int((result.double() - expected.double()).abs().nan_to_num(math.inf).argmax())
    raise Wrong(
        f"row {row} is wrong: for q = {fmt(q[row], 'g')} and p = {fmt(p[row], 'g')}, KL(q || p) = "
        f"{fmt(expected[row])}, you return {fmt(result[row])}"
    )


@self_check
def check_kl_divergence(kl_divergence):
    """kl_divergence(q (N, C), p (N, C)) -> KL(q || p) of each row, (N,): q the target, p the model."""
    name = answer_name(kl_divergence)
    for q, p in ((Q, P), (Q_WITH_ZEROS, P_FOR_ZEROS)):
        _explain_kl(call_answer(kl_divergence, q, p), q, p, name)
    return (
        f"{name} matches torch.distributions.kl_divergence row by row: 0 where p = q, and 0 log 0 = 0 "
        "where q has zeros, so for a one-hot q = e_y it is -log p_y, the cross-entropy."
    )


# --- Exercise 3 ------------------------------------------------------------------------------


def _soft_mistakes(logits, target_probs):
    """(value, message) for each typical wrong per-sample H(target_probs, softmax(logits))."""
    logits, target_probs = logits.double(), target_probs.double()
    log_probs = torch.log_softmax(logits, dim=1)  # (N, C)
    losses = -(target_probs * log_probs).sum(dim=1)  # (N,)
    n_classes = logits.shape[1]
    return [
        (-losses, "the sign is wrong: the loss is -sum target * log p, positive"),
        (
            -(target_probs * log_probs.exp()).sum(dim=1),
            "you used the model's probabilities, not their logs: -sum target * log_softmax(logits, dim=1)",
        ),
        (
            -(log_probs.exp() * target_probs.log()).sum(dim=1),
            "you swapped the roles of the two distributions: the target weights the log of the MODEL's "
            "probabilities, -sum target * log_softmax(logits), not -sum softmax(logits) * log(target)",
        ),
        (
            -(target_probs * torch.log_softmax(logits, dim=0)).sum(dim=1),
            "you took log_softmax over dim 0, across the batch: use dim=1, the classes",
        ),
        (
            -(target_probs * torch.log_softmax(log_probs.exp(), dim=1)).sum(dim=1),
            'you applied softmax twice (a "double softmax"): take log_softmax of the logits directly',
        ),
        (
            losses / n_classes,
            f"you averaged over the {n_classes} classes: the cross-entropy is a SUM over the classes, .sum(dim=1)",
        ),
        (
            -log_probs[torch.arange(len(logits)), target_probs.argmax(dim=1)],
            "you kept only the most likely class of each target (argmax): a soft target spreads its "
            "probability over several classes, and every one of them counts, -sum target * log p",
        ),
        (
            losses - _entropy(target_probs),
            "that is KL(target || p) = H(target, p) - H(target): the loss is the full cross-entropy, "
            "-sum target * log p, without subtracting the target's entropy",
        ),
    ]


def _explain_soft(result, logits, target_probs, name):
    expected = F.cross_entropy(logits, target_probs, reduction="none")  # (N,)
    n_samples, n_classes = logits.shape
    if result.shape != expected.shape:
        if result.numel() == 1:
            mean = F.cross_entropy(logits, target_probs)
            what = f"the mean, {fmt(result.reshape(()))}" if _same(result.reshape(()), mean) else "one number"
            raise Wrong(
                f"{name} returned {what}: return one loss per sample, shape ({n_samples},), as "
                "reduction='none' does (sum over the classes only)"
            )
        _explain_row_shape(result, name, logits.shape, "the batch", "-target * log p", "one loss per sample")
    if _same(result, expected):
        return
    mistake = _first_match(result, _soft_mistakes(logits, target_probs))
    if mistake:
        raise Wrong(mistake)
    if not result.isfinite().all():
        raise Wrong(
            f"{name} returns {fmt(result)} for the logits {fmt(logits, 'g')}: take the log-probabilities from "
            "torch.log_softmax(logits, dim=1), not torch.log(torch.softmax(...)), whose tiny probabilities "
            "underflow to 0, so log 0 = -inf (and 0 * -inf = nan)"
        )
    row = int((result.double() - expected.double()).abs().argmax())
    raise Wrong(
        f"row {row} is wrong: for the logits {fmt(logits[row], 'g')} and the target {fmt(target_probs[row], 'g')} "
        f"the cross-entropy is {fmt(expected[row])}, you return {fmt(result[row])}"
    )


@self_check
def check_soft_cross_entropy(soft_cross_entropy):
    """soft_cross_entropy(logits (N, C), target_probs (N, C)) -> H(target_probs, softmax(logits)) per row, (N,)."""
    name = answer_name(soft_cross_entropy)
    for logits, target_probs in ((WORKED_LOGITS, SOFT_TARGETS), (EXTREME_LOGITS, EXTREME_SOFT_TARGETS)):
        _explain_soft(call_answer(soft_cross_entropy, logits, target_probs), logits, target_probs, name)
    return (
        f"{name} matches F.cross_entropy(logits, target_probs, reduction='none'), PyTorch's loss with "
        "probability targets, and stays finite for extreme logits; for a one-hot target row it is the "
        "ordinary -log p[target]."
    )


# --- Exercise 4 ------------------------------------------------------------------------------

# A small classifier of 2-D points into 3 classes, as a training snippet would build it, ending in the
# nn.Softmax that causes the double softmax. Its weights are set by hand, to small integers, so that its
# logits are exact in float32 (the same on every CPU) and it classifies like a trained model:
# hidden = relu([x0, x1, -x0, -x1]); class 0 likes x0 > 0, class 1 x1 > 0, class 2 the negatives.
HIDDEN_WEIGHT = ((1.0, 0.0), (0.0, 1.0), (-1.0, 0.0), (0.0, -1.0))  # (4, 2)
OUTPUT_WEIGHT = ((2.0, 0.0, -1.0, 0.0), (0.0, 2.0, 0.0, -1.0), (-1.0, -1.0, 2.0, 2.0))  # (3, 4)
# A batch the model mostly gets right (the last sample is a mistake): its logits are
# [4, 1, -2.5], [1, 4, -2.5], [-1.5, -1, 5], [2, -1, 1], [-0.5, 3, -0.5], [3, 2, -2.5].
BATCH_INPUTS = torch.tensor([[2.0, 0.5], [0.5, 2.0], [-1.5, -1.0], [1.0, -1.0], [-0.5, 1.5], [1.5, 1.0]])  # (6, 2)
BATCH_TARGET = torch.tensor([0, 1, 2, 0, 1, 2])  # (6,)
# A batch with a confidently wrong sample: logits [80, 0, -40] for class 2. Its probability e^-120 is 0 in
# float32, so the log of the model's probabilities is -inf there, while the loss from the logits is 120.
CONFIDENT_INPUTS = torch.tensor([[40.0, 0.0], [1.0, 1.0]])  # (2, 2)
CONFIDENT_TARGET = torch.tensor([2, 0])  # (2,)
GRAD_ATOL = 1e-5
GRAD_RTOL = 1e-4

TAKE_THE_LOGITS = (
    "give F.cross_entropy the logits, the output of the model without its final Softmax: "
    "model[:-1](inputs) (an nn.Sequential can be sliced like a list)"
)


def make_softmax_model():
    """A fresh nn.Sequential(Linear(2, 4), ReLU(), Linear(4, 3), Softmax(dim=1)) with the hand-set weights."""
    model = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 3), nn.Softmax(dim=1))
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor(HIDDEN_WEIGHT))
        model[0].bias.zero_()
        model[2].weight.copy_(torch.tensor(OUTPUT_WEIGHT))
        model[2].bias.zero_()
    return model


def _model_unchanged(model, reference):
    """model still has reference's layers (the Softmax last) and parameters."""
    if not isinstance(model, nn.Sequential) or [type(m) for m in model] != [type(m) for m in reference]:
        return False
    ours, theirs = model.state_dict(), reference.state_dict()
    return ours.keys() == theirs.keys() and all(torch.equal(ours[k], theirs[k]) for k in ours)


def _training_loss_mistakes(model, inputs, target):
    """(value, message) for each typical wrong fix of the double softmax, on a fresh model's outputs."""
    with torch.no_grad():
        hidden = model[:-2](inputs).double()  # (N, 4): the ReLU's outputs
        logits = model[:-1](inputs).double()  # (N, 3)
    probs = torch.softmax(logits, dim=1)  # (N, 3): what model(inputs) returns
    rows = torch.arange(len(target))
    return [
        (
            F.cross_entropy(probs, target),
            "that is still the double softmax: model(inputs) ends in nn.Softmax, so its outputs are "
            "probabilities, and F.cross_entropy applies a second softmax to them (so does F.nll_loss of their "
            "log_softmax): " + TAKE_THE_LOGITS,
        ),
        (
            -probs[rows, target].mean(),
            "F.nll_loss only picks the target's entry and negates it: given the probabilities it returns "
            "-mean p_y, a negative 'loss'. It wants log-probabilities; better, " + TAKE_THE_LOGITS,
        ),
        (
            -logits[rows, target].mean(),
            "you removed the softmax but also the log: F.nll_loss of the raw logits is -mean z_y, not a "
            "cross-entropy. F.nll_loss wants log-probabilities (torch.log_softmax(logits, dim=1)); or give "
            "the logits to F.cross_entropy, which takes their log_softmax itself",
        ),
        (
            F.cross_entropy(hidden, target),
            "you removed two layers: model[:-2] ends at the ReLU's 4 outputs, not at the 3 class logits. "
            "Drop only the final Softmax, model[:-1](inputs)",
        ),
        (
            F.cross_entropy(logits, target, reduction="sum"),
            "you summed over the batch: the training loss is the MEAN over the samples, F.cross_entropy's "
            "default reduction",
        ),
        (
            -torch.log_softmax(logits, dim=0)[rows, target].mean(),
            "you took the softmax over dim 0, across the batch: each sample's classes are along dim 1",
        ),
    ]


def _explain_training_loss(loss, model, inputs, target, name, confident):
    """Raise Wrong unless loss (the learner's result for a fresh model) is the mean cross-entropy of the
    model's logits, with the gradient that loss.backward() should give its parameters."""
    reference = make_softmax_model()
    if not _model_unchanged(model, reference):
        raise Wrong(
            f"{name} changed the model itself (its layers or its weights): the rest of the code, which reads "
            "probabilities from model(inputs), would now get something else. Leave the model as it is and "
            "compute its logits with model[:-1](inputs)"
        )
    expected = F.cross_entropy(reference[:-1](inputs), target)  # 0-d, with a graph back to reference
    if loss.numel() != 1:
        per_sample = F.cross_entropy(reference[:-1](inputs), target, reduction="none")
        if _same(loss.detach(), per_sample.detach()):
            raise Wrong(
                f"{name} returned the {len(target)} per-sample losses: return their mean, one number (a 0-d "
                "tensor), as F.cross_entropy's default reduction does"
            )
        raise Wrong(
            f"{name} returned shape {tuple(loss.shape)} for a batch of {len(target)} samples: return one "
            "number (a 0-d tensor), the mean loss over the batch"
        )
    value = loss.detach().reshape(())
    if not _same(value, expected.detach()):
        mistake = _first_match(value, _training_loss_mistakes(make_softmax_model(), inputs, target))
        if mistake:
            raise Wrong(mistake)
        if confident and not value.isfinite():
            raise Wrong(
                f"{name} is right on the first batch but returns {fmt(value)} on a batch with a confidently "
                "wrong sample (logits [80, 0, -40], true class 2): its probability e^-120 underflows to 0 in "
                "float32 and log 0 = -inf. You took the log of the model's probabilities; instead, " + TAKE_THE_LOGITS
            )
        if confident and value < expected.detach():
            raise Wrong(
                f"{name} returns {fmt(value)} where the loss is {fmt(expected.detach())} for a confidently "
                "wrong sample: a small constant added inside the log (or a clamp) caps its loss. Take no log "
                "of probabilities at all: " + TAKE_THE_LOGITS
            )
        raise Wrong(
            f"{name} returns {fmt(value)} for the batch {fmt(inputs, 'g')} with targets {target.tolist()}; "
            f"the mean cross-entropy of the model's logits is {fmt(expected.detach())}"
        )
    _explain_gradient(loss, model, reference, expected, name)


def _explain_gradient(loss, model, reference, expected, name):
    """The learner's loss, right in value, sends the right gradient into the model's own parameters."""
    no_gradient = (
        f"{name} gives the right number, but loss.backward() cannot reach the model's weights, so training "
        "would change nothing: "
    )
    if not loss.requires_grad:
        raise Wrong(
            no_gradient + "the loss carries no gradient (computed under torch.no_grad(), detached, with "
            ".item() or rebuilt with torch.tensor(...)). Compute it from model[:-1](inputs) directly"
        )
    try:
        loss.sum().backward()
    except RuntimeError as error:
        if "second time" not in str(error):
            raise Wrong(f"loss.backward() on the loss {name} returns raised RuntimeError: {error}") from None
        raise Wrong(
            f"{name} calls backward() itself, so a second loss.backward() in the training step fails: "
            "return the loss, and leave backward() to the training step"
        ) from None
    expected.backward()
    for (key, parameter), wanted in zip(model.named_parameters(), reference.parameters(), strict=True):
        if parameter.grad is None:
            raise Wrong(
                no_gradient + f"the parameter {key} gets no gradient (did you run a copy of the model, or "
                "detach its output?). Compute the loss from model[:-1](inputs), the model's own layers"
            )
        if not close(parameter.grad, wanted.grad, GRAD_ATOL, GRAD_RTOL):
            raise Wrong(
                f"{name} gives the right number, but its gradient for the parameter {key} is "
                f"{fmt(parameter.grad)}, where the cross-entropy's is {fmt(wanted.grad)}"
            )


@self_check
def check_fixed_training_loss(fixed_training_loss):
    """fixed_training_loss(model, inputs (N, 2), target (N,)) -> the mean cross-entropy of the model's logits,
    a 0-d tensor that backpropagates into the model (whose last layer is an nn.Softmax, left in place)."""
    name = answer_name(fixed_training_loss)
    for inputs, target, confident in (
        (BATCH_INPUTS, BATCH_TARGET, False),
        (CONFIDENT_INPUTS, CONFIDENT_TARGET, True),
    ):
        model = make_softmax_model()
        loss = call_answer(fixed_training_loss, model, inputs, target)
        _explain_training_loss(loss, model, inputs, target, name, confident)
    return (
        f"{name} gives the mean cross-entropy of the model's logits, with the right gradient, and stays "
        "finite for a confidently wrong sample (logit gap 120), while the model keeps its Softmax for "
        "whoever needs its probabilities."
    )
