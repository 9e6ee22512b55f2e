"""Self-checks for notebook 04 (gradients).

    check_ce_gradient(ce_gradient)                    ce_gradient(logits (N, C), target (N,)) -> (N, C)
    check_weighted_ce_gradient(weighted_ce_gradient)  weighted_ce_gradient(logits (N, C), target (N,),
                                                                           weight (C,)) -> (N, C)
    check_bce_with_logits_gradient(bce_with_logits_gradient)
                                                      bce_with_logits_gradient(x (N, K), y (N, K)) -> (N, K)

Each returns the gradient of the mean loss w.r.t. the logits, by hand (no autograd needed). The checks
compare with PyTorch's autograd on fixed inputs to within 1e-6, and for the typical mistakes (a flipped
sign, a missing or wrong divisor, the logits or the wrong softmax in place of the probabilities, a
weight of the wrong class, the squared error's gradient) say which one it is and how to fix it.
"""

import torch
import torch.nn.functional as F

from ._checking import Wrong, answer_name, call_answer, close, fmt, raise_first_match, self_check

# Notebook 02's worked example: N = 3 samples, C = 4 classes (N != C, so dividing by the wrong one shows).
LOGITS = torch.tensor([[7.4, 2.8, -0.6, 6.3], [-1.9, 4.2, 3.9, 5.1], [9.3, -5.3, 7.2, -8.4]])  # (3, 4)
TARGET = torch.tensor([3, 0, 2])  # (3,)
CLASS_WEIGHT = torch.tensor([1.0, 2.0, 0.5, 3.0])  # (4,): the targets' weights are [3, 1, 0.5]
HUGE_LOGITS = torch.tensor([[1000.0, 0.0, -1000.0, 5.0]])  # (1, 4): exp(1000) overflows in float32
HUGE_TARGET = torch.tensor([1])
# Binary: 2 x 3 logits with labels, one confidently wrong (x = -10, y = 1) and one soft label.
BINARY_LOGITS = torch.tensor([[-10.0, 0.0, 3.0], [2.0, -1.0, 0.5]])  # (2, 3)
BINARY_LABELS = torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 0.25]])  # (2, 3)


def _autograd(loss, input, *args, **kwargs):
    """d loss(input, *args, **kwargs) / d input by PyTorch's autograd, in float64."""
    leaf = input.double().requires_grad_(True)
    args = [arg.double() if arg.is_floating_point() else arg for arg in args]
    kwargs = {name: value.double() for name, value in kwargs.items()}
    (grad,) = torch.autograd.grad(loss(leaf, *args, **kwargs), leaf)
    return grad


def _check_shape(result, expected, name, given):
    if result.shape != expected.shape:
        raise Wrong(
            f"{name} returned shape {tuple(result.shape)} for logits of shape {tuple(given.shape)}: the gradient "
            f"has one entry per logit, shape {tuple(expected.shape)} (a loss is one number, its gradient is not)"
        )


def _check_finite(result, logits, name):
    if not result.isfinite().all():
        raise Wrong(
            f"{name} returns {fmt(result)} for the logits {fmt(logits, 'g')}: every entry must be finite. "
            "Compute the softmax stably (torch.softmax, or subtract the row maximum before exp)."
        )


def _matches(result, wrong):
    """Close to a typical wrong answer: to 1e-6, or to 1e-4 relatively (some wrong answers are large)."""
    return close(result, wrong, tolerance=1e-6, rtol=1e-4)


def _one_hot(target, n_classes):
    return F.one_hot(target, n_classes).double()


def _row_differences(result, expected, logits, what):
    """The fallback: which row differs, and whether its entries sum to 0 as they must."""
    row = int((result.double() - expected).abs().amax(dim=1).argmax())
    row_sum = float(result[row].double().sum())
    hint = (
        f" Its entries sum to {fmt(row_sum)}, but each row must sum to 0 (softmax and the one-hot target both "
        "sum to 1)."
        if abs(row_sum) > 1e-5
        else ""
    )
    raise Wrong(
        f"row {row} is wrong: for the logits {fmt(logits[row], 'g')} {what} is {fmt(expected[row])}, "
        f"you return {fmt(result[row])}.{hint}"
    )


@self_check
def check_ce_gradient(ce_gradient):
    """ce_gradient(logits, target): d/dlogits of the mean cross-entropy, (softmax(logits) - onehot) / N."""
    name = answer_name(ce_gradient)
    result = call_answer(ce_gradient, LOGITS, TARGET)
    expected = _autograd(F.cross_entropy, LOGITS, TARGET)  # (3, 4)
    _check_shape(result, expected, name, LOGITS)
    _check_finite(result, LOGITS, name)
    if not close(result, expected):
        n, c = LOGITS.shape
        logits = LOGITS.double()
        probs, one_hot = torch.softmax(logits, dim=1), _one_hot(TARGET, c)
        mistakes = [
            (
                -expected,
                "the sign is flipped: you return onehot - softmax. The loss falls when the target's "
                "probability rises, so its gradient at the target logit is negative: softmax - onehot",
            ),
            (
                probs - one_hot,
                f"you forgot to divide by N = {n}: softmax - onehot is the gradient of the sum; "
                "the mean divides every row by the batch size",
            ),
            (
                (probs - one_hot) / c,
                f"you divided by C = {c}, the number of classes: the mean is over the "
                f"N = {n} samples, so divide by N (logits.shape[0])",
            ),
            (
                (probs - one_hot) / (n * c),
                f"you divided by N * C = {n * c}: cross-entropy averages one loss per "
                f"sample, so divide by N = {n} only",
            ),
            (
                (logits - one_hot) / n,
                "you used the logits in place of the probabilities (z - onehot): the gradient is softmax(z) - onehot",
            ),
            (
                logits - one_hot,
                "you used the logits in place of the probabilities (z - onehot) and did not "
                "divide by N: the gradient is (softmax(z) - onehot) / N",
            ),
            (
                (torch.softmax(logits, dim=0) - one_hot) / n,
                "you took the softmax over dim 0 (the batch): each "
                "sample's probabilities come from its own row, softmax(logits, dim=1)",
            ),
            (
                probs / n,
                "you forgot to subtract the one-hot target: the gradient is (softmax - onehot) / N, "
                "negative at the target class",
            ),
            (probs, "you forgot to subtract the one-hot target and to divide by N: (softmax - onehot) / N"),
            (
                (torch.log_softmax(logits, dim=1) - one_hot) / n,
                "you used log_softmax: the derivative of "
                "log-sum-exp is the softmax itself, so the gradient is (softmax - onehot) / N",
            ),
        ]
        raise_first_match(result, mistakes, tolerance=1e-6, rtol=1e-4)
        _row_differences(result, expected, LOGITS, "(softmax - onehot) / N")

    result = call_answer(ce_gradient, HUGE_LOGITS, HUGE_TARGET)
    expected = _autograd(F.cross_entropy, HUGE_LOGITS, HUGE_TARGET)
    _check_shape(result, expected, name, HUGE_LOGITS)
    _check_finite(result, HUGE_LOGITS, name)
    if not close(result, expected):
        _row_differences(result, expected, HUGE_LOGITS, "(softmax - onehot) / N")
    return (
        f"{name} matches autograd of F.cross_entropy to within 1e-6, also for logits like [1000, 0, -1000, 5]. "
        "Each row sums to 0."
    )


@self_check
def check_weighted_ce_gradient(weighted_ce_gradient):
    """weighted_ce_gradient(logits, target, weight): w[y_n] (softmax - onehot) / sum_m w[y_m], row by row."""
    name = answer_name(weighted_ce_gradient)
    result = call_answer(weighted_ce_gradient, LOGITS, TARGET, CLASS_WEIGHT)
    expected = _autograd(F.cross_entropy, LOGITS, TARGET, weight=CLASS_WEIGHT)
    _check_shape(result, expected, name, LOGITS)
    _check_finite(result, LOGITS, name)
    if close(result, expected):
        return (
            f"{name} matches autograd of F.cross_entropy(weight=...) to within 1e-6: each row is scaled by its "
            "target's weight, and the mean divides by the sum of those weights."
        )
    if _matches(result, -expected):
        raise Wrong("the sign is flipped: the gradient is w[y] (softmax - onehot) / sum of w[y], not onehot - softmax")
    n, c = LOGITS.shape
    weight = CLASS_WEIGHT.double()
    difference = torch.softmax(LOGITS.double(), dim=1) - _one_hot(TARGET, c)  # (N, C)
    target_weight = weight[TARGET]  # (N,)
    row_weight = weight[:n]  # (N,): weight[n], the weight of class n, for sample n
    numerators = {
        "right": target_weight[:, None] * difference,
        "rows": row_weight[:, None] * difference,
        "columns": weight[None, :] * difference,
        "none": difference,
    }
    divisors = {
        "right": target_weight.sum(),
        "N": torch.tensor(float(n)),
        "all classes": weight.sum(),
        "rows": row_weight.sum(),
        "none": torch.tensor(1.0),
    }
    sum_text = f"weight[target].sum() = {fmt(target_weight.sum(), 'g')}"
    numerator_errors = {
        "rows": "you weighted row n by weight[n], the weight of class n: each sample takes the weight of its own "
        "target class, weight[target[n]]",
        "columns": "you multiplied each column c by weight[c]: the whole row of sample n is scaled by one number, "
        "the weight of its target class, weight[target[n]]",
        "none": "you forgot to multiply each row by the weight of its target class, weight[target[n]]",
    }
    divisor_errors = {
        "N": f"you divided by N = {n}, the number of samples: with class weights the mean divides by the sum of "
        f"the target weights, {sum_text}",
        "all classes": f"you divided by the sum of all the class weights, weight.sum() = {fmt(weight.sum(), 'g')}: "
        f"the mean divides by the sum of the samples' target weights, {sum_text}",
        "rows": f"you divided by weight[:N].sum(): divide by the weights of the samples' targets, {sum_text}",
        "none": f"you did not divide at all (that is the gradient of the sum): the mean divides by {sum_text}",
    }
    for numerator_kind, numerator in numerators.items():
        for divisor_kind, divisor in divisors.items():
            if (numerator_kind, divisor_kind) != ("right", "right") and _matches(result, numerator / divisor):
                if numerator_kind == "none" and divisor_kind == "N":
                    raise Wrong(
                        "you forgot the weights: this is the unweighted gradient (softmax - onehot) / N. Scale row n "
                        f"by weight[target[n]] and divide by {sum_text}"
                    )
                errors = [numerator_errors.get(numerator_kind), divisor_errors.get(divisor_kind)]
                raise Wrong("; and ".join(error for error in errors if error))
    _row_differences(result, expected, LOGITS, "w[y] (softmax - onehot) / sum of w[y]")


@self_check
def check_bce_with_logits_gradient(bce_with_logits_gradient):
    """bce_with_logits_gradient(x, y): d/dx of the mean BCE with logits, (sigmoid(x) - y) / x.numel()."""
    name = answer_name(bce_with_logits_gradient)
    x, y = BINARY_LOGITS, BINARY_LABELS
    result = call_answer(bce_with_logits_gradient, x, y)
    expected = _autograd(F.binary_cross_entropy_with_logits, x, y)
    if result.shape != x.shape:
        raise Wrong(
            f"{name} returned shape {tuple(result.shape)} for logits of shape {tuple(x.shape)}: return one "
            "derivative per logit, of the logits' shape"
        )
    _check_finite(result, x, name)
    if close(result, expected):
        return (
            f"{name} matches autograd of F.binary_cross_entropy_with_logits to within 1e-6. At x = -10 with y = 1 "
            f"it is {fmt(result[0, 0], '.4e')}: a strong push, where the squared error's gradient would be "
            f"{fmt(_mse_gradient(x, y)[0, 0], '.4e')}."
        )
    count = x.numel()
    x64, y64 = x.double(), y.double()
    probs = torch.sigmoid(x64)
    mistakes = [
        (
            -expected,
            "the sign is flipped: the gradient is (sigmoid(x) - y) / N, positive when the prediction is too high",
        ),
        (
            (x64 - y64) / count,
            "you forgot the sigmoid: the gradient is sigmoid(x) - y, not x - y (the logit is not a probability)",
        ),
        (x64 - y64, "you forgot the sigmoid and the 1/N: the gradient is (sigmoid(x) - y) / N"),
        (
            _mse_gradient(x, y),
            "that is the gradient of the squared error on sigmoid(x), "
            "2 (sigmoid(x) - y) sigmoid(x) (1 - sigmoid(x)) / N: for BCE with logits the factor sigmoid(x) (1 - sigmoid(x)) "
            "cancels, leaving (sigmoid(x) - y) / N",
        ),
        (
            _mse_gradient(x, y) / 2,
            "that is (half) the gradient of the squared error on sigmoid(x): for BCE with "
            "logits the factor sigmoid(x) (1 - sigmoid(x)) cancels, leaving (sigmoid(x) - y) / N",
        ),
        (
            _mse_gradient(x, y) * count,
            "that is the gradient of the squared error on sigmoid(x), without the 1/N: "
            "for BCE with logits it is (sigmoid(x) - y) / N",
        ),
        (probs - y64, f"you forgot to divide by N = {count}: the mean is over all {count} elements"),
        (
            (probs - y64) / x.shape[0],
            f"you divided by the number of rows, {x.shape[0]}: the mean of BCE is over "
            f"all elements, x.numel() = {count}",
        ),
        (
            (probs - y64) / x.shape[1],
            f"you divided by the number of columns, {x.shape[1]}: the mean of BCE is over "
            f"all elements, x.numel() = {count}",
        ),
        (
            (probs - y64) / (probs * (1 - probs)) / count,
            "that is dL/dp, the derivative with respect to the "
            "probability p = sigmoid(x): the chain rule multiplies it by dp/dx = p (1 - p), leaving (sigmoid(x) - y) / N",
        ),
    ]
    raise_first_match(result, mistakes, tolerance=1e-6, rtol=1e-4)
    index = int((result.double() - expected).abs().flatten().argmax())
    row, col = divmod(index, x.shape[1])
    raise Wrong(
        f"entry [{row}, {col}] is wrong: for x = {fmt(x[row, col], 'g')} and y = {fmt(y[row, col], 'g')} the "
        f"gradient is (sigmoid(x) - y) / N = {fmt(expected[row, col])}, you return {fmt(result[row, col])}"
    )


def _mse_gradient(x, y):
    """d/dx of mean((sigmoid(x) - y)^2), in float64."""
    return _autograd(lambda x, y: F.mse_loss(torch.sigmoid(x), y), x, y)
