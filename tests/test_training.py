"""losslab.training: the seeded blobs, the MLP, the deterministic training loop and the runs it keeps."""

import math

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from losslab.calibration import ece, reliability_bins
from losslab.training import (
    EPOCHS,
    RUNS,
    course_runs,
    held_out_bins,
    init_mlp,
    make_blobs,
    mlp,
    train,
    training_loss,
)


def test_blobs_are_seeded_and_shaped():
    data, again, other = make_blobs(), make_blobs(), make_blobs(seed=1)
    for a, b in zip(data, again, strict=True):
        assert torch.equal(a, b)
    assert not torch.equal(data.train_points, other.train_points)
    assert data.train_points.shape == (200, 2) and data.held_points.shape == (480, 2)
    assert data.train_points.dtype == torch.float64
    assert set(data.train_labels.tolist()) == {0, 1, 2, 3}


def test_opposite_blobs_share_a_class_and_a_few_labels_are_flipped():
    data = make_blobs(std=0.01, flip=0.0)
    angles = torch.atan2(data.train_points[:, 1], data.train_points[:, 0]) % (2 * math.pi)
    blob = torch.round(angles / (2 * math.pi / 8)).long() % 8
    assert torch.equal(data.train_labels, blob % 4)
    assert not data.train_flipped.any()
    noisy = make_blobs(train_per_blob=500, flip=0.05)
    assert 0.03 < noisy.train_flipped.double().mean() < 0.07


def blob_classes(points):
    """The class of the blob centre nearest to each point (radius 3, 8 blobs, class = blob mod 4)."""
    angles = torch.arange(8, dtype=torch.float64) * (2 * math.pi / 8)
    centers = 3.0 * torch.stack([angles.cos(), angles.sin()], dim=1)
    return torch.cdist(points, centers).argmin(dim=1) % 4


def test_flipped_labels_go_to_another_class():
    data = make_blobs(std=0.01, flip=0.5)
    flipped = data.train_flipped
    assert flipped.any()
    assert (data.train_labels[flipped] != blob_classes(data.train_points[flipped])).all()
    assert (data.train_labels[~flipped] == blob_classes(data.train_points[~flipped])).all()


def test_the_mlp_is_what_nn_linear_and_tanh_compute():
    params = init_mlp(num_classes=4, hidden=8, seed=3)
    assert [tuple(p.shape) for p in params] == [(8, 2), (8,), (8, 8), (8,), (4, 8), (4,)]
    assert all(p.dtype == torch.float64 for p in params)
    assert all((p.abs() <= 1 / math.sqrt(p.shape[1])).all() for p in params[::2])
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 4)).double()
    with torch.no_grad():
        for layer, (weight, bias) in zip(model[::2], zip(params[::2], params[1::2], strict=True), strict=True):
            layer.weight.copy_(weight)
            layer.bias.copy_(bias)
    points = torch.randn(5, 2, dtype=torch.float64)
    torch.testing.assert_close(mlp(params, points), model(points), rtol=1e-12, atol=1e-12)
    assert all(torch.equal(a, b) for a, b in zip(params, init_mlp(num_classes=4, hidden=8, seed=3), strict=True))


def test_training_loss_is_cross_entropy_smoothing_or_the_double_softmax():
    logits, target = torch.randn(6, 4, dtype=torch.float64), torch.tensor([0, 1, 2, 3, 0, 1])
    assert training_loss(logits, target) == F.cross_entropy(logits, target)
    assert training_loss(logits, target, 0.1) == F.cross_entropy(logits, target, label_smoothing=0.1)
    double = training_loss(logits, target, double_softmax=True)
    assert double == F.cross_entropy(torch.softmax(logits, dim=1), target)
    assert double >= math.log(math.e + 3) - 1 - 1e-12  # its floor with C = 4 (notebook 02)


def test_a_short_run_is_deterministic_and_records_every_epoch():
    data = make_blobs()
    first, second = train(data, epochs=5), train(data, epochs=5)
    for a, b in zip(first[:10], second[:10], strict=True):
        assert torch.equal(a, b)
    assert all(len(column) == 6 for column in first[:10])
    assert first.held_confidences.shape == first.held_correct.shape == (6, len(data.held_labels))
    assert first.objective[0] == pytest.approx(F.cross_entropy(mlp(init_mlp(), data.train_points), data.train_labels))
    torch.testing.assert_close(first.held_logits, mlp(first.params, data.held_points))
    held_probs = torch.softmax(first.held_logits, dim=1)
    assert first.held_ece[-1] == pytest.approx(ece(held_probs, data.held_labels).item(), abs=1e-15)
    assert first.held_accuracy[-1] == pytest.approx((held_probs.argmax(1) == data.held_labels).double().mean())


def test_training_restores_the_thread_count():
    threads = torch.get_num_threads()
    train(make_blobs(), epochs=1)
    assert torch.get_num_threads() == threads


def test_training_refuses_a_bad_alpha():
    with pytest.raises(ValueError, match="between 0.0 and 1.0"):
        train(make_blobs(), alpha=1.5, epochs=1)


def test_course_runs_are_trained_once_and_start_alike():
    data, runs = course_runs()
    assert course_runs()[1] is runs
    assert list(runs) == list(RUNS)
    for history in runs.values():
        assert len(history.held_accuracy) == EPOCHS + 1
        assert history.held_nll[0] == runs["cross-entropy"].held_nll[0]  # the same seeded weights
    bins = held_out_bins(runs["cross-entropy"], EPOCHS)
    expected = reliability_bins(torch.softmax(runs["cross-entropy"].held_logits, dim=1), data.held_labels)
    assert torch.equal(bins.counts, expected.counts)
    torch.testing.assert_close(bins.accuracy, expected.accuracy, equal_nan=True)
