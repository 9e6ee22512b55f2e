"""Notebook 07's facts, swept: what the lesson checks once on its running example holds for every case
here, for PyTorch and for losslab (the `nn` fixture is each in turn).

The lesson shows each concept with one check; the sweeps that used to fill its cells live here: every
scale of the weights, every single-sample batch, every ignored row, every negative ignore_index, each
error of the catalogue run through losslab too, and the training run behind exercise 5's story.
"""

from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import losslab
from losslab.exercises.cross_entropy_options import Tagger, training_loss
from strategies import assert_helpful

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "07_the_rest_of_cross_entropy.ipynb"

# The running example of notebook 07.
LOGITS = torch.tensor([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3], [1.0, 1.0, 3.0]])  # (N, C)
TARGET = torch.tensor([0, 1, 2])  # (N,)
WEIGHT = torch.tensor([1.0, 2.0, 3.0])  # (C,)
LOG_PROBS = torch.log_softmax(LOGITS, dim=1)
LOSSES = -LOG_PROBS[torch.arange(3), TARGET]  # (N,): ℓ_n
TARGET_PROBS = F.one_hot(TARGET, 3).float()  # (N, C): q_n


@pytest.fixture(params=["losslab", "torch"])
def nn(request):
    return losslab if request.param == "losslab" else F


# ------------------------------------------------------------------------------------ 2. weight


def test_the_loop_the_vectorised_mean_and_the_library_agree(nn):
    """Section 2's three ways to the weighted mean, and its per-sample losses w_{y_n} ℓ_n."""
    total = sum(WEIGHT[y].item() * -LOG_PROBS[n, y].item() for n, y in enumerate(TARGET.tolist()))
    loop = total / sum(WEIGHT[y].item() for y in TARGET.tolist())
    vectorised = (WEIGHT[TARGET] * LOSSES).sum() / WEIGHT[TARGET].sum()
    library = nn.cross_entropy(LOGITS, TARGET, weight=WEIGHT)
    torch.testing.assert_close(library, vectorised, rtol=0, atol=1e-7)
    torch.testing.assert_close(library, torch.tensor(loop, dtype=torch.float32), rtol=0, atol=1e-7)
    per_sample = nn.cross_entropy(LOGITS, TARGET, weight=WEIGHT, reduction="none")
    torch.testing.assert_close(per_sample, WEIGHT[TARGET] * LOSSES, rtol=0, atol=1e-7)
    assert f"{float(per_sample.mean()):.4f}" == "0.5253" and f"{float(library):.4f}" == "0.2626"


@pytest.mark.parametrize("scale", [1e-3, 0.1, 0.5, 2.0, 10.0, 1e3])
def test_only_the_ratios_of_the_weights_matter(nn, scale):
    scaled = nn.cross_entropy(LOGITS, TARGET, weight=scale * WEIGHT)
    torch.testing.assert_close(scaled, nn.cross_entropy(LOGITS, TARGET, weight=WEIGHT), rtol=1e-6, atol=0)
    naive = nn.cross_entropy(LOGITS, TARGET, weight=scale * WEIGHT, reduction="none").mean()
    torch.testing.assert_close(naive, scale * (WEIGHT[TARGET] * LOSSES).mean(), rtol=1e-5, atol=0)


@pytest.mark.parametrize("n", range(3))
def test_a_batch_of_one_ignores_the_weight(nn, n):
    one_logits, one_target = LOGITS[n : n + 1], TARGET[n : n + 1]
    assert nn.cross_entropy(one_logits, one_target, weight=WEIGHT) == nn.cross_entropy(one_logits, one_target)


def test_a_batch_of_one_class_ignores_the_weight(nn):
    same_class = torch.tensor([1, 1, 1])
    torch.testing.assert_close(
        nn.cross_entropy(LOGITS, same_class, weight=WEIGHT), nn.cross_entropy(LOGITS, same_class), rtol=1e-6, atol=0
    )


def test_the_weighted_mean_lies_between_the_smallest_and_largest_loss(nn):
    generator = torch.Generator().manual_seed(70)
    for _ in range(100):
        logits = 3 * torch.randn(6, 4, generator=generator)
        target = torch.randint(0, 4, (6,), generator=generator)
        weight = torch.rand(4, generator=generator) * 10 + 1e-3
        losses = F.cross_entropy(logits, target, reduction="none")
        loss = nn.cross_entropy(logits, target, weight=weight)
        assert losses.min() - 1e-6 <= loss <= losses.max() + 1e-6


# ------------------------------------------------------------------------------ 3. ignore_index


@pytest.mark.parametrize("ignored_row", range(3))
def test_an_ignored_row_has_zero_loss_and_zero_gradient_and_the_mean_is_over_the_rest(nn, ignored_row):
    padded = TARGET.clone()
    padded[ignored_row] = -100
    kept = padded != -100
    trainable = LOGITS.clone().requires_grad_()
    loss = nn.cross_entropy(trainable, padded)
    loss.backward()
    torch.testing.assert_close(loss, LOSSES[kept].mean(), rtol=0, atol=1e-7)
    assert nn.cross_entropy(LOGITS, padded, reduction="none")[ignored_row] == 0
    assert (trainable.grad[ignored_row] == 0).all()
    expected = kept[:, None] * (torch.softmax(LOGITS, 1) - F.one_hot(torch.where(kept, padded, 0), 3)) / kept.sum()
    torch.testing.assert_close(trainable.grad, expected, rtol=0, atol=1e-7)


def test_padding_with_minus_1_silently_indexes_the_last_class():
    picked = -LOG_PROBS[torch.arange(3), torch.tensor([0, -1, 2])]
    assert picked[1] == -LOG_PROBS[1, 2] and f"{float(picked[1]):.4f}" == "2.4200"


@pytest.mark.parametrize(
    ("logits", "target"),
    [(LOGITS, torch.full((3,), -100)), (torch.zeros(0, 3), torch.zeros(0, dtype=torch.long))],
    ids=["every row ignored", "empty batch"],
)
def test_nothing_to_average_gives_a_nan_mean_and_a_zero_sum(nn, logits, target):
    assert nn.cross_entropy(logits, target).isnan()
    assert nn.cross_entropy(logits, target, reduction="sum") == 0
    weighted = nn.cross_entropy(logits, target, weight=WEIGHT)
    assert weighted.isnan()


def test_weights_and_ignore_index_together_divide_by_the_kept_rows_target_weights(nn):
    """Exercise 4's rule, on the running example: an ignored row adds nothing to either sum."""
    padded = torch.tensor([0, -100, 2])
    kept = padded != -100
    expected = (WEIGHT[TARGET] * LOSSES)[kept].sum() / WEIGHT[TARGET][kept].sum()
    torch.testing.assert_close(nn.cross_entropy(LOGITS, padded, weight=WEIGHT), expected, rtol=0, atol=1e-7)


# ------------------------------------------------------------------------ 4. probability targets


def test_probability_targets_divide_by_n_even_with_weights(nn):
    per_sample = -(WEIGHT * TARGET_PROBS * LOG_PROBS).sum(dim=1)
    torch.testing.assert_close(
        nn.cross_entropy(LOGITS, TARGET_PROBS, weight=WEIGHT, reduction="none"), per_sample, rtol=0, atol=1e-7
    )
    torch.testing.assert_close(
        nn.cross_entropy(LOGITS, TARGET_PROBS, weight=WEIGHT), per_sample.mean(), rtol=0, atol=1e-7
    )
    # Without weights, a one-hot probability target and a class index give the same mean.
    torch.testing.assert_close(
        nn.cross_entropy(LOGITS, TARGET_PROBS), nn.cross_entropy(LOGITS, TARGET), rtol=0, atol=1e-7
    )


@pytest.mark.parametrize("ignore_index", [-1, -5, -100])
def test_a_negative_ignore_index_ignores_nothing_with_probability_targets(nn, ignore_index):
    assert nn.cross_entropy(LOGITS, TARGET_PROBS, ignore_index=ignore_index) == nn.cross_entropy(LOGITS, TARGET_PROBS)


@pytest.mark.parametrize("ignore_index", [0, 1, 2, 7])
def test_a_non_negative_ignore_index_raises_with_probability_targets(nn, ignore_index):
    with pytest.raises(RuntimeError, match="ignore_index"):
        nn.cross_entropy(LOGITS, TARGET_PROBS, ignore_index=ignore_index)


@pytest.mark.parametrize("zero_row", range(3))
def test_an_all_zero_target_row_has_zero_loss_but_still_counts_in_n(nn, zero_row):
    target_probs = TARGET_PROBS.clone()
    target_probs[zero_row] = 0.0
    per_sample = nn.cross_entropy(LOGITS, target_probs, reduction="none")
    assert per_sample[zero_row] == 0
    torch.testing.assert_close(nn.cross_entropy(LOGITS, target_probs), per_sample.sum() / 3, rtol=0, atol=1e-7)


@pytest.mark.parametrize("factor", [2.0, -1.0, 0.5])
def test_rows_that_are_not_distributions_scale_the_loss_without_a_word(nn, factor):
    torch.testing.assert_close(
        nn.cross_entropy(LOGITS, factor * TARGET_PROBS),
        factor * nn.cross_entropy(LOGITS, TARGET_PROBS),
        rtol=1e-6,
        atol=0,
    )


# ------------------------------------------------------------------------------ 5. more dimensions


def test_each_pixel_gets_the_cross_entropy_of_its_own_logits(nn):
    generator = torch.Generator().manual_seed(7)
    pixel_logits = torch.randn(2, 3, 4, 5, generator=generator)  # (N, C, H, W)
    pixel_target = torch.randint(0, 3, (2, 4, 5), generator=generator)
    losses = nn.cross_entropy(pixel_logits, pixel_target, reduction="none")
    for n in range(2):
        for i in range(4):
            for j in range(5):
                pixel = -torch.log_softmax(pixel_logits[n, :, i, j], dim=0)[pixel_target[n, i, j]]
                torch.testing.assert_close(losses[n, i, j], pixel, rtol=0, atol=1e-6)
    flat = nn.cross_entropy(pixel_logits.permute(0, 2, 3, 1).reshape(-1, 3), pixel_target.reshape(-1))
    torch.testing.assert_close(nn.cross_entropy(pixel_logits, pixel_target), flat, rtol=0, atol=1e-6)


@pytest.mark.parametrize("seed", range(5))
def test_an_unpermuted_sequence_output_with_t_equal_c_runs_and_is_wrong(nn, seed):
    generator = torch.Generator().manual_seed(seed)
    token_logits = torch.randn(2, 4, 4, generator=generator)  # (N, T, C), T == C
    token_target = torch.randint(0, 4, (2, 4), generator=generator)
    permuted = nn.cross_entropy(token_logits.permute(0, 2, 1), token_target)
    flattened = nn.cross_entropy(token_logits.reshape(-1, 4), token_target.reshape(-1))
    torch.testing.assert_close(permuted, flattened, rtol=0, atol=1e-6)
    assert abs(float(nn.cross_entropy(token_logits, token_target) - permuted)) > 1e-3
    assert torch.equal(token_logits.view(2, 4, 4), token_logits)  # a view to (N, C, T) is the same tensor


def test_an_unpermuted_sequence_output_with_t_not_equal_c_raises(nn):
    with pytest.raises(RuntimeError, match="target size"):
        nn.cross_entropy(torch.zeros(2, 5, 3), torch.zeros(2, 5, dtype=torch.long))


# ------------------------------------------------------------------------------ the catalogue


def catalogue_cells():
    """The source of every cell of notebook 07 that raises on purpose."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    return [cell.source for cell in nb.cells if "raises-exception" in cell.metadata.get("tags", [])]


class LosslabAsF:
    """F with its cross_entropy replaced by losslab's: a catalogue cell run through losslab."""

    cross_entropy = staticmethod(losslab.cross_entropy)
    one_hot = staticmethod(F.one_hot)


def raised(source, functional):
    namespace = {"F": functional, "torch": torch, "np": np, "logits": LOGITS, "target": TARGET}
    namespace.update(weight=WEIGHT, target_probs=TARGET_PROBS)
    try:
        exec(source, namespace)
    except Exception as error:
        return error
    return None


def test_the_catalogue_has_its_entries():
    assert len(catalogue_cells()) >= 10


@pytest.mark.parametrize("source", catalogue_cells(), ids=lambda source: source.splitlines()[-1][:60])
def test_every_catalogue_error_is_raised_alike_by_losslab_with_a_fix(source):
    """The error-type table the notebook used to print: each failing call of the catalogue raises the same
    exception type in losslab.cross_entropy as in PyTorch, and losslab's message says what to do."""
    torch_error, our_error = raised(source, F), raised(source, LosslabAsF)
    assert torch_error is not None and our_error is not None, source
    assert type(our_error) is type(torch_error), (source, torch_error, our_error)
    assert_helpful(our_error)


# ------------------------------------------------------------------------------ exercise 5


def tagging_batches(generator, n_batches, n_sentences=8, length=5):
    """Synthetic sentences: the tag of a token is its id modulo 5; sentences of 2 to 5 tokens, padded."""
    for _ in range(n_batches):
        tokens = torch.randint(0, 50, (n_sentences, length), generator=generator)
        lengths = torch.randint(2, length + 1, (n_sentences,), generator=generator)
        yield tokens, torch.where(torch.arange(length) < lengths[:, None], tokens % 5, -100)


def train(loss_of, seed, steps=100):
    """Exercise 5's training loop with `loss_of(model, tokens, tags)`: the mean loss of the first and the
    last 20 steps, and the tagging accuracy on fresh sentences afterwards."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = Tagger(vocab_size=50, n_tags=5)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    losses = []
    for tokens, tags in tagging_batches(torch.Generator().manual_seed(seed + 100), steps):
        loss = loss_of(model, tokens, tags)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    correct = total = 0
    with torch.no_grad():
        for tokens, tags in tagging_batches(torch.Generator().manual_seed(seed + 200), 20):
            kept = tags != -100
            correct += int((model(tokens).argmax(dim=-1)[kept] == tags[kept]).sum())
            total += int(kept.sum())
    return np.mean(losses[:20]), np.mean(losses[-20:]), correct / total


@pytest.fixture
def one_thread():
    """Tiny models train faster on one thread (and the test then runs the same on any machine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize("seed", range(2))
def test_exercise_5s_bug_runs_its_loss_goes_down_and_the_tagger_learns_far_less(seed, one_thread):
    """The exercise's story: the unpermuted loss raises no error (T == C) and goes down, but the tagger it
    trains gets far fewer tags right (about half, here) than the one trained with the permuted loss (all,
    or nearly)."""
    first, last, buggy_accuracy = train(training_loss, seed)
    assert last < first
    *_, fixed_accuracy = train(lambda model, tokens, tags: F.cross_entropy(model(tokens).permute(0, 2, 1), tags), seed)
    assert fixed_accuracy > 0.95 and buggy_accuracy < 0.7
