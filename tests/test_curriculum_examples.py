"""The curriculum's worked examples as exact regression tests, in float32 as the notebooks print them.

Every number is checked for losslab AND for torch (the `nn` fixture is each in turn), so a change in
either one shows up here: the notebooks' printed outputs depend on both. Values are compared as
printed, to 4 decimals (5 where the curriculum gives 5).
"""

import math

import pytest
import torch
import torch.nn.functional as F

import losslab


@pytest.fixture(params=["losslab", "torch"])
def nn(request):
    return losslab if request.param == "losslab" else F


def printed(value, decimals=4):
    """A scalar tensor as the notebooks print it."""
    return round(float(value), decimals)


def printed_list(values, decimals=4):
    return [printed(v, decimals) for v in values.flatten()]


# ------------------------------------------------------------------------- 01 Logits and softmax


def test_01_sigmoid_is_the_two_class_softmax():
    for z in (-3.0, 0.0, 0.5, 20.0):
        two_class = losslab.softmax(torch.tensor([z, 0.0]), dim=0)[0]
        torch.testing.assert_close(two_class, torch.sigmoid(torch.tensor(z)))


def test_01_naive_softmax_overflows_and_the_shift_fixes_it(nn):
    z = torch.tensor([1000.0, 0.0])
    assert (z.exp() / z.exp().sum()).isnan().any()
    assert nn.softmax(z, dim=0).tolist() == [1.0, 0.0]


# --------------------------------------------------------------------- 02 Cross-entropy from scratch

LOGITS_02 = torch.tensor([[7.4, 2.8, -0.6, 6.3], [-1.9, 4.2, 3.9, 5.1], [9.3, -5.3, 7.2, -8.4]])
TARGETS_02 = torch.tensor([3, 0, 2])


def test_02_worked_example(nn):
    assert printed_list(nn.cross_entropy(LOGITS_02, TARGETS_02, reduction="none")) == [1.3951, 7.5357, 2.2155]
    assert printed(nn.cross_entropy(LOGITS_02, TARGETS_02, reduction="sum")) == 11.1463
    assert printed(nn.cross_entropy(LOGITS_02, TARGETS_02)) == 3.7154


def test_02_one_hot_logits_are_not_a_perfect_prediction(nn):
    loss = nn.cross_entropy(torch.tensor([0.0, 0.0, 0.0, 1.0]), torch.tensor(3))
    assert printed(loss) == 0.7437
    assert printed(loss) == printed(math.log(3 + math.e) - 1)


def test_02_double_softmax_gives_a_wrong_loss(nn):
    probabilities = torch.tensor([0.05, 0.05, 0.05, 0.85])
    assert printed(nn.cross_entropy(probabilities, torch.tensor(3))) == 0.8536
    assert printed(-probabilities[3].log()) == 0.1625


# ------------------------------------------------------------ 03 NLL, log-softmax and numerical stability


def test_03_log_softmax_is_stable_where_log_of_softmax_is_not(nn):
    z = torch.tensor([1000.0, 0.0, -1000.0])
    assert nn.log_softmax(z, dim=0).tolist() == [0.0, -1000.0, -2000.0]
    assert nn.softmax(z, dim=0).log().tolist() == [0.0, -math.inf, -math.inf]
    assert nn.cross_entropy(z, torch.tensor(2)).item() == 2000.0


def test_03_naive_loss_is_inf_and_its_gradient_nan(nn):
    z = torch.tensor([1000.0, 0.0, -1000.0], requires_grad=True)
    naive = -nn.softmax(z, dim=0).log()[2]
    naive.backward()
    assert naive.item() == math.inf
    assert z.grad.isnan().any()


def test_03_nll_loss_on_log_softmax_is_cross_entropy(nn):
    torch.testing.assert_close(
        nn.nll_loss(nn.log_softmax(LOGITS_02, dim=1), TARGETS_02), nn.cross_entropy(LOGITS_02, TARGETS_02)
    )
    # On raw logits it runs without error and returns -mean z[target].
    assert printed(nn.nll_loss(LOGITS_02, TARGETS_02)) == printed(-(6.3 - 1.9 + 7.2) / 3)


# ---------------------------------------------------------------------------------- 04 Gradients


def test_04_gradient_is_softmax_minus_one_hot_over_n():
    z = LOGITS_02.double().requires_grad_()
    losslab.cross_entropy(z, TARGETS_02).backward()
    expected = (torch.softmax(z.detach(), 1) - F.one_hot(TARGETS_02, 4)) / 3
    torch.testing.assert_close(z.grad, expected, rtol=0, atol=1e-15)
    torch.testing.assert_close(z.grad.sum(1), torch.zeros(3, dtype=torch.float64), rtol=0, atol=1e-15)


def test_04_gradcheck():
    """Autograd's numerical check of every losslab gradient, including the two custom backward formulas."""
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(3, 4, dtype=torch.float64, generator=gen, requires_grad=True)
    q = torch.rand(3, 4, dtype=torch.float64, generator=gen).requires_grad_()
    p = (torch.rand(3, 4, dtype=torch.float64, generator=gen) * 0.8 + 0.1).requires_grad_()
    w = torch.rand(4, dtype=torch.float64, generator=gen) + 0.5
    checks = [
        (lambda x: losslab.softmax(x, 1), (x,)),
        (lambda x: losslab.log_softmax(x, 0), (x,)),
        (lambda x: losslab.cross_entropy(x, TARGETS_02, weight=w, label_smoothing=0.2), (x,)),
        (lambda x, q: losslab.cross_entropy(x, q, weight=w, label_smoothing=0.1), (x, q)),
        (lambda p, q: losslab.binary_cross_entropy(p, q, weight=w), (p, q)),
        (lambda x, q: losslab.binary_cross_entropy_with_logits(x, q, weight=w, pos_weight=w * 2), (x, q)),
    ]
    for fn, inputs in checks:
        assert torch.autograd.gradcheck(fn, inputs)


# -------------------------------------------------------------------------- 05 Binary cross-entropy


def test_05_bce_clamps_each_log_at_minus_100(nn):
    assert nn.binary_cross_entropy(torch.tensor([0.0]), torch.tensor([1.0])).item() == 100.0


def test_05_bce_on_saturated_sigmoid_vs_bce_with_logits(nn):
    x = torch.tensor(20.0)
    assert torch.sigmoid(x).item() == 1.0  # in float32
    assert nn.binary_cross_entropy(torch.sigmoid(x), torch.tensor(0.0)).item() == 100.0
    assert printed(nn.binary_cross_entropy_with_logits(x, torch.tensor(0.0))) == 20.0
    x = torch.tensor(-200.0)
    assert nn.binary_cross_entropy(torch.sigmoid(x), torch.tensor(1.0)).item() == 100.0
    assert nn.binary_cross_entropy_with_logits(x, torch.tensor(1.0)).item() == 200.0


def test_05_pos_weight_multiplies_only_the_positive_term(nn):
    x, three = torch.tensor([1.5]), torch.tensor([3.0])
    assert printed(nn.binary_cross_entropy_with_logits(x, torch.tensor([1.0]))) == 0.2014
    assert printed(nn.binary_cross_entropy_with_logits(x, torch.tensor([1.0]), pos_weight=three)) == 0.6042
    assert printed(nn.binary_cross_entropy_with_logits(x, torch.tensor([0.0]))) == 1.7014
    assert printed(nn.binary_cross_entropy_with_logits(x, torch.tensor([0.0]), pos_weight=three)) == 1.7014


def test_05_stable_form(nn):
    x, y = torch.tensor([-3.0, 0.5, 4.0]), torch.tensor([1.0, 0.0, 0.3])
    stable = x.clamp(min=0) - x * y + torch.log1p(torch.exp(-x.abs()))
    torch.testing.assert_close(nn.binary_cross_entropy_with_logits(x, y, reduction="none"), stable)


# ------------------------------------------------------------------------------ 06 Label smoothing


def _seeded_06():
    torch.manual_seed(42)
    targets = torch.randint(0, 5, (10,))
    torch.manual_seed(42)
    return torch.rand(10, 5), targets


def test_06_seeded_label_smoothing(nn):
    logits, targets = _seeded_06()
    a, n_classes = 0.1, 5
    assert printed(nn.cross_entropy(logits, targets)) == 1.6211
    assert printed(nn.cross_entropy(logits, targets, label_smoothing=a)) == 1.6227
    variant = torch.full((10, n_classes), a / (n_classes - 1))
    variant[torch.arange(10), targets] = 1 - a
    assert printed(nn.cross_entropy(logits, variant)) == 1.6231
    a_prime = a * n_classes / (n_classes - 1)
    torch.testing.assert_close(
        nn.cross_entropy(logits, targets, label_smoothing=a_prime), nn.cross_entropy(logits, variant)
    )


def test_06_smoothed_target_is_one_minus_a_one_hot_plus_a_over_c(nn):
    logits, targets = _seeded_06()
    q = 0.9 * F.one_hot(targets, 5) + 0.1 / 5
    torch.testing.assert_close(nn.cross_entropy(logits, targets, label_smoothing=0.1), nn.cross_entropy(logits, q))


# ------------------------------------------------------------------- 07 The rest of CrossEntropyLoss

LOGITS_07 = torch.tensor([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3], [1.0, 1.0, 3.0]])
TARGETS_07 = torch.tensor([0, 1, 2])
WEIGHT_07 = torch.tensor([1.0, 2.0, 3.0])


def test_07_weighted_mean_divides_by_the_sum_of_target_weights(nn):
    per_sample = nn.cross_entropy(LOGITS_07, TARGETS_07, weight=WEIGHT_07, reduction="none")
    assert printed_list(per_sample, 5) == [0.41703, 0.44010, 0.71863]
    assert printed(nn.cross_entropy(LOGITS_07, TARGETS_07, weight=WEIGHT_07)) == 0.2626
    assert printed(per_sample.mean()) == 0.5253  # the wrong answer: dividing by N


def test_07_weight_has_no_effect_on_a_batch_of_one(nn):
    for i in range(3):
        z, t = LOGITS_07[i : i + 1], TARGETS_07[i : i + 1]
        torch.testing.assert_close(nn.cross_entropy(z, t, weight=WEIGHT_07), nn.cross_entropy(z, t))


def test_07_all_ignored_and_empty(nn):
    ignored = torch.full((3,), -100)
    assert nn.cross_entropy(LOGITS_07, ignored).isnan()
    assert nn.cross_entropy(LOGITS_07, ignored, reduction="sum").item() == 0.0
    assert nn.cross_entropy(LOGITS_07, ignored, reduction="none").tolist() == [0.0, 0.0, 0.0]
    assert nn.cross_entropy(torch.zeros(0, 3), torch.zeros(0, dtype=torch.long)).isnan()


def test_07_probability_targets_divide_by_n_even_with_weights(nn):
    q = F.one_hot(TARGETS_07, 3).float()
    per_sample = nn.cross_entropy(LOGITS_07, q, weight=WEIGHT_07, reduction="none")
    torch.testing.assert_close(nn.cross_entropy(LOGITS_07, q, weight=WEIGHT_07), per_sample.sum() / 3)


def test_07_sequence_output_must_be_permuted(nn):
    """(N, T, C) logits: permute to (N, C, T) for the K-dim form, or flatten to (N * T, C); same loss."""
    gen = torch.Generator().manual_seed(7)
    logits = torch.randn(2, 5, 3, generator=gen)
    targets = torch.randint(0, 3, (2, 5), generator=gen)
    torch.testing.assert_close(
        nn.cross_entropy(logits.permute(0, 2, 1), targets), nn.cross_entropy(logits.reshape(-1, 3), targets.flatten())
    )
