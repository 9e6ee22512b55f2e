"""losslab.figures.which_loss: every statement of notebook 07's "which loss takes what" table is true.

Each cell of the table is derived here from a computation: the call its row and column describe is run
in PyTorch, and what the cell says (takes it, runs with the same loss, runs with a wrong loss and which
one, raises which error) is checked against the outcome. A cell with no derivation here fails the test,
so the figure cannot say anything that was not computed.
"""

import warnings

import matplotlib.pyplot as plt
import pytest
import torch
import torch.nn.functional as F
from matplotlib.colors import to_rgba

from losslab.figures import FIGURES
from losslab.figures.which_loss import (
    CELLS,
    ERROR,
    FOOTNOTE,
    FUNCTIONS,
    INPUT_KINDS,
    OWN_INPUT,
    OWN_TARGET,
    SAME,
    SILENT,
    TAKES,
    TARGET_KINDS,
    VERDICTS,
    which_loss_takes_what,
)

# A batch of N = 3 samples and C = 4 classes, in float64. The logits have both signs and values outside
# [0, 1]; the class probabilities are rows that sum to 1; the multi-hot rows have 2, 1 and 3 labels.
LOGITS = torch.tensor([[2.0, 1.0, 0.1, -1.0], [0.5, 2.5, 0.3, 0.0], [1.0, 1.0, 3.0, -0.5]], dtype=torch.float64)
ROWS = torch.arange(3)
TARGETS = {
    "class_index": torch.tensor([0, 1, 2]),
    "class_probs": torch.softmax(torch.tensor([[1.0, 0, 0, 0], [0, 2, 1, 0], [0, 0, 1, 0.5]], dtype=torch.float64), 1),
    "multi_hot": torch.tensor([[1.0, 0, 1, 0], [0, 1, 0, 0], [1, 1, 0, 1]], dtype=torch.float64),
}
MULTI_CLASS = {
    "logits": LOGITS,
    "log_probs": torch.log_softmax(LOGITS, dim=1),
    "probs": torch.softmax(LOGITS, dim=1),
}
BINARY = {"logits": LOGITS, "log_probs": F.logsigmoid(LOGITS), "probs": torch.sigmoid(LOGITS)}
CALLS = {
    "F.cross_entropy": (F.cross_entropy, MULTI_CLASS),
    "F.nll_loss": (F.nll_loss, MULTI_CLASS),
    "F.binary_cross_entropy_with_logits": (F.binary_cross_entropy_with_logits, BINARY),
    "F.binary_cross_entropy": (F.binary_cross_entropy, BINARY),
    "F.kl_div": (lambda input, target: F.kl_div(input, target, reduction="batchmean"), MULTI_CLASS),
}
INPUT_NAMES = [kind for kind, _ in INPUT_KINDS]
TARGET_NAMES = [kind for kind, _ in TARGET_KINDS]
FUNCTION_NAMES = [name for name, _ in FUNCTIONS]


def call(function, kind):
    """Run the call of a cell: the cell's kind of input with the function's own target, or the cell's kind
    of target with the function's own input. Returns the loss or the exception raised."""
    loss, inputs = CALLS[function]
    if kind in INPUT_NAMES:
        input, target = inputs[kind], TARGETS[OWN_TARGET[function]]
    else:
        input, target = inputs[OWN_INPUT[function]], TARGETS[kind]
    try:
        return loss(input, target)
    except (RuntimeError, ValueError) as error:
        return error


# ----------------------------------------------------------------- the losses, from their definitions


def cross_entropy_of(log_probs, target_probs):
    """H(q, p) averaged over the batch: -Σ_c q_c log p_c per sample."""
    return -(target_probs * log_probs).sum(dim=1).mean()


def binary_cross_entropy_of(probs, labels):
    """The mean over every element of -(y log p + (1 - y) log(1 - p))."""
    return -(labels * probs.log() + (1 - labels) * (1 - probs).log()).mean()


LOG_PROBS = torch.log_softmax(LOGITS, dim=1)
ONE_HOT = F.one_hot(TARGETS["class_index"], 4).double()
Q = TARGETS["class_probs"]
LABELS = TARGETS["multi_hot"]
CE_INDEX = cross_entropy_of(LOG_PROBS, ONE_HOT)  # -log p_y, the multi-class loss of a class index
CE_PROBS = cross_entropy_of(LOG_PROBS, Q)  # H(q, p)
KL = (Q * (Q.log() - LOG_PROBS)).sum(dim=1).mean()  # KL(q ‖ p), batchmean
BCE_LABELS = binary_cross_entropy_of(torch.sigmoid(LOGITS), LABELS)  # the multi-label loss

# What a right call gives: the loss of the kind of target (for a target column) or of the function's own
# target (for an input column), computed from the definitions above.
INTENDED = {"class_index": CE_INDEX, "class_probs": CE_PROBS, "multi_hot": BCE_LABELS}
RIGHT_LOSS = {
    ("F.kl_div", "class_probs"): KL,  # kl_div's own target: what it takes gives KL(q ‖ p), not H(q, p)
}


def intended(function, kind):
    if kind in INPUT_NAMES:
        kind = OWN_TARGET[function]
    return RIGHT_LOSS.get((function, kind), INTENDED[kind])


def close(value, expected):
    return torch.allclose(value, torch.as_tensor(expected, dtype=value.dtype), rtol=1e-10, atol=1e-12)


# ------------------------------------------------------------------ what each silent mistake computes


def labels_compete(value):
    """The labels share one softmax: -Σ_c y_c log p_c. Even the most confident logits for the labels
    (+20 at each label, -20 elsewhere) leave a row of k labels a loss of about k log k > 0, while the
    multi-label loss of those logits is about 0."""
    assert close(value, cross_entropy_of(LOG_PROBS, LABELS))
    confident = 40 * LABELS - 20
    k = LABELS.sum(dim=1)
    floor = (k * k.log()).mean()
    shared = cross_entropy_of(torch.log_softmax(confident, dim=1), LABELS)
    assert shared >= floor - 1e-6 and floor > 0.5
    assert binary_cross_entropy_of(torch.sigmoid(confident), LABELS) < 1e-8


def separate_sigmoids(value):
    """C separate sigmoids, not one softmax: the binary loss of each class's probability q_c on its own."""
    assert close(value, binary_cross_entropy_of(torch.sigmoid(LOGITS), Q))
    assert not close(value, CE_PROBS)


def never_positive_kl_of_probabilities():
    """kl_div(p, q) = Σ_c q_c (log q_c - p_c) / N: Σ q log q <= 0 and Σ q p > 0, so it is negative for any
    logits and any target distribution. Checked on seeded random batches too."""
    generator = torch.Generator().manual_seed(7)
    for _ in range(200):
        logits = 10 * torch.randn(5, 6, generator=generator, dtype=torch.float64)
        target_probs = torch.softmax(3 * torch.randn(5, 6, generator=generator, dtype=torch.float64), dim=1)
        assert F.kl_div(torch.softmax(logits, 1), target_probs, reduction="batchmean") < 0


def never_positive_nll_of_probabilities():
    """nll_loss(p, y) = mean of -p_y, and 0 < p_y <= 1: negative, whatever the logits."""
    generator = torch.Generator().manual_seed(8)
    for _ in range(200):
        logits = 10 * torch.randn(5, 6, generator=generator, dtype=torch.float64)
        target = torch.randint(0, 6, (5,), generator=generator)
        assert F.nll_loss(torch.softmax(logits, 1), target) < 0


SILENT_CLAIMS = {
    ("F.cross_entropy", "probs"): lambda value: close(
        value, -torch.log_softmax(torch.softmax(LOGITS, 1), 1)[ROWS, TARGETS["class_index"]].mean()
    ),
    ("F.nll_loss", "logits"): lambda value: close(value, -LOGITS[ROWS, TARGETS["class_index"]].mean()),
    ("F.nll_loss", "probs"): lambda value: (
        close(value, -torch.softmax(LOGITS, 1)[ROWS, TARGETS["class_index"]].mean())
        and value < 0
        and never_positive_nll_of_probabilities() is None
    ),
    ("F.binary_cross_entropy_with_logits", "log_probs"): lambda value: close(
        value, binary_cross_entropy_of(torch.sigmoid(F.logsigmoid(LOGITS)), LABELS)
    ),
    ("F.binary_cross_entropy_with_logits", "probs"): lambda value: close(
        value, binary_cross_entropy_of(torch.sigmoid(torch.sigmoid(LOGITS)), LABELS)
    ),
    ("F.kl_div", "logits"): lambda value: close(value, (Q * (Q.log() - LOGITS)).sum(dim=1).mean()),
    ("F.kl_div", "probs"): lambda value: (
        close(value, (Q * (Q.log() - torch.softmax(LOGITS, 1))).sum(dim=1).mean())
        and value < 0
        and never_positive_kl_of_probabilities() is None
    ),
    ("F.cross_entropy", "multi_hot"): lambda value: labels_compete(value) is None,
    ("F.kl_div", "multi_hot"): lambda value: labels_compete(value) is None,
    ("F.binary_cross_entropy_with_logits", "class_probs"): lambda value: separate_sigmoids(value) is None,
    ("F.binary_cross_entropy", "class_probs"): lambda value: separate_sigmoids(value) is None,
}

# What PyTorch's message says, for every error cell.
ERROR_MESSAGES = {
    ("F.binary_cross_entropy", "logits"): "between 0 and 1",
    ("F.binary_cross_entropy", "log_probs"): "between 0 and 1",
    ("F.nll_loss", "class_probs"): "multi-target not supported",
    ("F.nll_loss", "multi_hot"): "multi-target not supported",
    ("F.binary_cross_entropy_with_logits", "class_index"): "must be the same as input size",
    ("F.binary_cross_entropy", "class_index"): "different to the input size",
    ("F.kl_div", "class_index"): "Integral inputs not supported",
}

# ------------------------------------------------------------------------------------------ the cells


def test_the_table_has_a_cell_for_every_function_and_kind():
    kinds = INPUT_NAMES + TARGET_NAMES
    assert set(CELLS) == {(function, kind) for function in FUNCTION_NAMES for kind in kinds}
    assert set(OWN_INPUT) == set(OWN_TARGET) == set(FUNCTION_NAMES) == set(CALLS)


@pytest.mark.parametrize("function", FUNCTION_NAMES)
def test_each_row_keeps_the_functions_own_input_and_target(function):
    """The other half of a row is a right call, so a cell changes one thing only."""
    assert CELLS[function, OWN_INPUT[function]].verdict == TAKES
    assert CELLS[function, OWN_TARGET[function]].verdict == TAKES


@pytest.mark.parametrize("key", sorted(CELLS), ids=lambda key: f"{key[0]}-{key[1]}")
def test_every_cell_says_what_the_call_does(key):
    cell = CELLS[key]
    outcome = call(*key)
    if cell.verdict == ERROR:
        assert isinstance(outcome, Exception), f"{key}: the call runs, the cell says it raises"
        assert type(outcome).__name__ == cell.text.split(":")[0].split(" ")[0], (key, outcome)
        assert ERROR_MESSAGES[key] in str(outcome), (key, str(outcome))
        return
    assert not isinstance(outcome, Exception), f"{key}: raises {outcome!r}, the cell says it runs"
    assert torch.isfinite(outcome)
    if cell.verdict in (TAKES, SAME):
        assert close(outcome, intended(*key)), f"{key}: {outcome} is not the right loss {intended(*key)}"
        if cell.verdict == SAME:
            assert cell.text.startswith("runs, the same loss")
        return
    assert cell.verdict == SILENT and cell.text.startswith("runs, wrong loss")
    assert not torch.isclose(outcome, torch.as_tensor(intended(*key), dtype=outcome.dtype), atol=1e-3), key
    assert SILENT_CLAIMS[key](outcome), f"{key}: {outcome} is not what the cell says: {cell.text!r}"


def test_every_error_and_silent_cell_has_its_derivation():
    assert set(ERROR_MESSAGES) == {key for key, cell in CELLS.items() if cell.verdict == ERROR}
    assert set(SILENT_CLAIMS) == {key for key, cell in CELLS.items() if cell.verdict == SILENT}


def test_log_probabilities_into_cross_entropy_give_the_same_loss_because_log_p_is_a_shifted_z():
    """log p = z - logsumexp(z), a shift of each row, and softmax ignores shifts: log_softmax(log p) = log p."""
    torch.testing.assert_close(torch.log_softmax(LOG_PROBS, dim=1), LOG_PROBS, rtol=0, atol=1e-15)
    assert "log_softmax(log p) = log p" in CELLS["F.cross_entropy", "log_probs"].text


def test_binary_cross_entropy_raises_exactly_when_a_value_is_outside_0_1():
    """'RuntimeError if a value is outside [0, 1]': logits inside [0, 1] run (and give a wrong loss)."""
    assert ((LOGITS < 0) | (LOGITS > 1)).any()
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        F.binary_cross_entropy(LOGITS, LABELS)
    inside = LOGITS.clamp(0, 1)
    assert not close(F.binary_cross_entropy(inside, LABELS), binary_cross_entropy_of(torch.sigmoid(inside), LABELS))
    assert (F.logsigmoid(LOGITS) < 0).all()  # 'log p < 0 is outside [0, 1]'


def test_the_footnote_int64_targets_raise_in_all_five():
    assert "int64" in FOOTNOTE and "all five" in FOOTNOTE
    for function, (loss, inputs) in CALLS.items():
        for target in (LABELS.long(), F.one_hot(TARGETS["class_index"], 4)):
            with pytest.raises(RuntimeError):
                loss(inputs[OWN_INPUT[function]], target)


# ---------------------------------------------------------------------------------------- the figure


@pytest.fixture
def figure():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. a glyph the font lacks
        fig = which_loss_takes_what()
        fig.canvas.draw()
    yield fig
    plt.close(fig)


def test_is_registered_under_the_notebooks_number():
    assert FIGURES["07_which_loss_takes_what.png"] is which_loss_takes_what


def test_the_figure_draws_every_cell_in_its_verdicts_colour(figure):
    ax = figure.axes[0]
    texts = {text.get_text(): text for text in ax.texts}
    colours = [to_rgba(VERDICTS[cell.verdict][0]) for cell in CELLS.values()]
    patch_colours = [patch.get_facecolor() for patch in ax.patches]
    for (function, kind), cell in CELLS.items():
        shown = f"✓ {cell.text}" if cell.verdict == TAKES else cell.text
        assert shown in texts, (function, kind)
    for colour in set(colours):
        assert patch_colours.count(colour) == colours.count(colour)
    for function, module in FUNCTIONS:
        assert function in texts and module in texts
    for _, header in INPUT_KINDS + TARGET_KINDS:
        assert header in texts
    assert [t.get_text() for t in figure.legends[0].get_texts()] == [label for _, label in VERDICTS.values()]
    assert FOOTNOTE in [t.get_text() for t in figure.texts]


def test_the_silent_mistakes_are_the_ones_the_notebook_names(figure):
    """The cells notebook 07 talks about: probabilities into cross_entropy and nll_loss, logits into
    nll_loss, all silent; logits into binary_cross_entropy, an error."""
    for key in [("F.cross_entropy", "probs"), ("F.nll_loss", "logits"), ("F.nll_loss", "probs")]:
        assert CELLS[key].verdict == SILENT
    assert CELLS["F.binary_cross_entropy", "logits"].verdict == ERROR
    assert CELLS["F.cross_entropy", "log_probs"].verdict == SAME
