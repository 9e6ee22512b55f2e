"""Notebook 08's training runs: seeded 2-D blobs, a small MLP, and a deterministic full-batch training loop
that records, every epoch, what the notebook and its explorer show.

Everything is float64 and seeded, and the loop is plain full-batch gradient descent with momentum, so the
same run gives the same numbers on any CPU and thread count (to far more digits than are printed).

    make_blobs(...)                  the data set: Blobs(train_points, train_labels, held_points, held_labels)
    init_mlp(...), mlp(params, x)    the model: 2 -> hidden -> hidden -> C, tanh, as a list of tensors
    train(data, alpha, double_softmax, ...)
                                     one run: a History of per-epoch numbers and held-out confidences
    course_runs()                    the notebook's four runs (cross-entropy, smoothing 0.1 and 0.3, the
                                     double softmax), trained once per process and kept
"""

import functools
import math
from typing import NamedTuple

import torch
import torch.nn.functional as F

from .calibration import bin_predictions, ece
from .label_smoothing import check_alpha

DTYPE = torch.float64
NUM_CLASSES = 4
EPOCHS = 300
LEARNING_RATE = 0.3
MOMENTUM = 0.9
HIDDEN = 32


class Blobs(NamedTuple):
    """2-D points (N, 2) and their class labels (N,), for training and held out; `*_flipped` (N,) marks the
    labels that were flipped to another class (the label noise)."""

    train_points: torch.Tensor
    train_labels: torch.Tensor
    held_points: torch.Tensor
    held_labels: torch.Tensor
    train_flipped: torch.Tensor
    held_flipped: torch.Tensor


def make_blobs(num_classes=NUM_CLASSES, train_per_blob=25, held_per_blob=60, radius=3.0, std=0.8, flip=0.05, seed=0):
    """2 * C Gaussian blobs (std `std`) evenly spaced on a circle of radius `radius`; blob k belongs to class
    k mod C, so each class is two opposite blobs and no straight line separates the classes. A share `flip`
    of the labels is moved to another class, drawn at random. Seeded: the same arguments, the same data."""
    generator = torch.Generator().manual_seed(seed)
    n_blobs = 2 * num_classes
    angles = torch.arange(n_blobs, dtype=DTYPE) * (2 * math.pi / n_blobs)
    centers = radius * torch.stack([angles.cos(), angles.sin()], dim=1)  # (2C, 2)

    def draw(per_blob):
        blob = torch.arange(n_blobs).repeat_interleave(per_blob)  # (N,)
        points = centers[blob] + std * torch.randn(len(blob), 2, generator=generator, dtype=DTYPE)  # (N, 2)
        flipped = torch.rand(len(blob), generator=generator, dtype=DTYPE) < flip  # (N,)
        shift = torch.randint(1, num_classes, (len(blob),), generator=generator)  # to another class
        labels = torch.where(flipped, (blob + shift) % num_classes, blob % num_classes)
        return points, labels, flipped

    train_points, train_labels, train_flipped = draw(train_per_blob)
    held_points, held_labels, held_flipped = draw(held_per_blob)
    return Blobs(train_points, train_labels, held_points, held_labels, train_flipped, held_flipped)


def init_mlp(num_classes=NUM_CLASSES, hidden=HIDDEN, seed=0):
    """The MLP's parameters [W1, b1, W2, b2, W3, b3] for 2 -> hidden -> hidden -> C, in float64: weights
    uniform in +-1/sqrt(fan_in) (PyTorch's nn.Linear default), biases 0. Seeded."""
    generator = torch.Generator().manual_seed(seed)
    sizes = [2, hidden, hidden, num_classes]
    params = []
    for fan_in, fan_out in zip(sizes, sizes[1:], strict=False):
        bound = 1 / math.sqrt(fan_in)
        params.append((2 * torch.rand(fan_out, fan_in, generator=generator, dtype=DTYPE) - 1) * bound)
        params.append(torch.zeros(fan_out, dtype=DTYPE))
    return params


def mlp(params, points):
    """The logits (N, C) of the MLP with `params` for `points` (N, 2): tanh hidden layers, a linear output."""
    hidden = points
    for weight, bias in zip(params[:-2:2], params[1:-2:2], strict=True):
        hidden = torch.tanh(hidden @ weight.T + bias)
    return hidden @ params[-2].T + params[-1]  # z = W h + b


def training_loss(logits, target, alpha=0.0, double_softmax=False):
    """The loss a run minimises: cross-entropy with label smoothing `alpha`, or, with `double_softmax`,
    the mistake of passing softmax(logits) to cross_entropy (which applies softmax again)."""
    if double_softmax:
        return F.cross_entropy(torch.softmax(logits, dim=1), target)  # WRONG on purpose
    return F.cross_entropy(logits, target, label_smoothing=alpha)


class History(NamedTuple):
    """What one run recorded at every epoch 0..E (before the first step and after each): tensors (E + 1,)
    of the training objective, the train and held-out NLL (plain cross-entropy) and accuracy, and the held-out
    mean confidence, mean logit norm |z| and ECE; the held-out confidences and correctness (E + 1, N_held);
    the final parameters and held-out logits."""

    objective: torch.Tensor
    train_nll: torch.Tensor
    train_accuracy: torch.Tensor
    held_nll: torch.Tensor
    held_accuracy: torch.Tensor
    held_confidence: torch.Tensor
    held_logit_norm: torch.Tensor
    held_ece: torch.Tensor
    held_confidences: torch.Tensor
    held_correct: torch.Tensor
    params: list
    held_logits: torch.Tensor


def one_thread(function):
    """Run `function` on one thread, then restore the thread count: on tensors of a few thousand numbers a
    second thread only adds waiting, many times slower on a busy machine. The numbers are the same either way."""

    @functools.wraps(function)
    def run(*args, **kwargs):
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return function(*args, **kwargs)
        finally:
            torch.set_num_threads(threads)

    return run


@one_thread
def train(data, alpha=0.0, double_softmax=False, epochs=EPOCHS, lr=LEARNING_RATE, momentum=MOMENTUM, seed=0):
    """Train the MLP on data.train_* by full-batch gradient descent with momentum; return its History."""
    alpha = check_alpha(alpha)
    params = [p.requires_grad_() for p in init_mlp(int(data.train_labels.max()) + 1, seed=seed)]
    velocity = [torch.zeros_like(p) for p in params]
    records = []
    for epoch in range(epochs + 1):
        train_logits = mlp(params, data.train_points)  # (N, C)
        loss = training_loss(train_logits, data.train_labels, alpha, double_softmax)
        with torch.no_grad():
            records.append(_record(loss, train_logits, mlp(params, data.held_points), data))
        if epoch == epochs:
            break
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for param, grad, v in zip(params, grads, velocity, strict=True):
                v.mul_(momentum).add_(grad)  # v <- momentum v + gradient
                param.sub_(lr * v)  # param <- param - lr v
    columns = [torch.stack(column) for column in zip(*records, strict=True)]
    return History(*columns, [p.detach() for p in params], mlp(params, data.held_points).detach())


def _record(loss, train_logits, held_logits, data):
    held_probs = torch.softmax(held_logits, dim=1)
    confidences, predictions = held_probs.max(dim=1)
    return (
        loss.detach(),
        F.cross_entropy(train_logits, data.train_labels),
        (train_logits.argmax(dim=1) == data.train_labels).to(DTYPE).mean(),
        F.cross_entropy(held_logits, data.held_labels),
        (predictions == data.held_labels).to(DTYPE).mean(),
        confidences.mean(),
        held_logits.norm(dim=1).mean(),
        ece(held_probs, data.held_labels),
        confidences,
        predictions == data.held_labels,
    )


# The notebook's runs: name -> (alpha, double_softmax)
RUNS = {
    "cross-entropy": (0.0, False),
    "smoothing α = 0.1": (0.1, False),
    "smoothing α = 0.3": (0.3, False),
    "double softmax": (0.0, True),
}


@functools.cache
def course_runs():
    """The notebook's data and its four runs, {name: History} in RUNS order, trained once per process: the
    notebook and its explorer read the same results."""
    data = make_blobs()
    return data, {name: train(data, alpha, double) for name, (alpha, double) in RUNS.items()}


def held_out_bins(history, epoch, n_bins=15):
    """The reliability bins of the held-out predictions at `epoch` of a run."""
    return bin_predictions(history.held_confidences[epoch], history.held_correct[epoch], n_bins)
