"""Self-checks for notebook 04 (gradients).

    check_ce_gradient(ce_gradient)                    ce_gradient(logits (N, C), target (N,)) -> (N, C)
    check_weighted_ce_gradient(weighted_ce_gradient)  weighted_ce_gradient(logits (N, C), target (N,),
                                                                           weight (C,)) -> (N, C)
    check_bce_with_logits_gradient(bce_with_logits_gradient)
                                                      bce_with_logits_gradient(logits (N, K), target (N, K)) -> (N, K)
    check_focal_gradient(focal_gradient)              focal_gradient(logits (N, C), target (N,), gamma) -> (N, C)

Each returns the gradient of the mean loss w.r.t. the logits, by hand (no autograd needed). In the notation of
the course: p = softmax(z) the model's probabilities, y the class index and e_y its one-hot vector, so that the
cross-entropy's gradient is (p - e_y) / N. The checks compare with PyTorch's autograd on fixed inputs (and the
focal loss's also on seeded random ones) to within 1e-6, and for the typical mistakes (a flipped sign, a missing
or wrong divisor, the logits or the wrong softmax in place of the probabilities, a weight of the wrong class, the
squared error's gradient, a factor treated as a constant, only the target's entry) say which one it is and how to
fix it.
"""

import torch
import torch.nn.functional as F

from ._checking import Wrong, answer_name, call_answer, close, first_match, fmt, raise_first_match, self_check

# Notebook 02's worked example: N = 3 samples, C = 4 classes (N != C, so dividing by the wrong one shows).
LOGITS = torch.tensor([[7.4, 2.8, -0.6, 6.3], [-1.9, 4.2, 3.9, 5.1], [9.3, -5.3, 7.2, -8.4]])  # (3, 4)
TARGET = torch.tensor([3, 0, 2])  # (3,)
CLASS_WEIGHT = torch.tensor([1.0, 2.0, 0.5, 3.0])  # (4,): the targets' weights are [3, 1, 0.5]
HUGE_LOGITS = torch.tensor([[1000.0, 0.0, -1000.0, 5.0]])  # (1, 4): exp(1000) overflows in float32
HUGE_TARGET = torch.tensor([1])
# Binary: 2 x 3 logits with labels, one confidently wrong (z = -10, y = 1) and one soft label.
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
    """ce_gradient(logits, target): dL/dZ of the mean cross-entropy, (p - e_y) / N with p = softmax(logits)."""
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
                "the sign is flipped: you return e_y - p. The loss falls when the target's "
                "probability rises, so its gradient at the target logit is negative: p - e_y",
            ),
            (
                probs - one_hot,
                f"you forgot to divide by N = {n}: p - e_y is the gradient of the sum; "
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
                "you used the logits in place of the probabilities (z - e_y): the gradient is (p - e_y) / N "
                "with p = softmax(z)",
            ),
            (
                logits - one_hot,
                "you used the logits in place of the probabilities (z - e_y) and did not "
                "divide by N: the gradient is (p - e_y) / N with p = softmax(z)",
            ),
            (
                (torch.softmax(logits, dim=0) - one_hot) / n,
                "you took the softmax over dim 0 (the batch): each "
                "sample's probabilities come from its own row, softmax(logits, dim=1)",
            ),
            (
                probs / n,
                "you forgot to subtract the one-hot target: the gradient is (p - e_y) / N, "
                "negative at the target class",
            ),
            (probs, "you forgot to subtract the one-hot target and to divide by N: (p - e_y) / N"),
            (
                (torch.log_softmax(logits, dim=1) - one_hot) / n,
                "you used log_softmax: the derivative of "
                "log-sum-exp is the softmax itself, so the gradient is (p - e_y) / N with p = softmax(z)",
            ),
        ]
        raise_first_match(result, mistakes, tolerance=1e-6, rtol=1e-4)
        _row_differences(result, expected, LOGITS, "(p - e_y) / N")

    result = call_answer(ce_gradient, HUGE_LOGITS, HUGE_TARGET)
    expected = _autograd(F.cross_entropy, HUGE_LOGITS, HUGE_TARGET)
    _check_shape(result, expected, name, HUGE_LOGITS)
    _check_finite(result, HUGE_LOGITS, name)
    if not close(result, expected):
        _row_differences(result, expected, HUGE_LOGITS, "(p - e_y) / N")
    return (
        f"{name} matches autograd of F.cross_entropy to within 1e-6, also for logits like [1000, 0, -1000, 5]. "
        "Each row sums to 0."
    )


@self_check
def check_weighted_ce_gradient(weighted_ce_gradient):
    """weighted_ce_gradient(logits, target, weight): w[y_n] (p_n - e_{y_n}) / sum_m w[y_m], row by row."""
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
        raise Wrong("the sign is flipped: the gradient is w[y] (p - e_y) / sum of w[y], not w[y] (e_y - p) / ...")
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
                        "you forgot the weights: this is the unweighted gradient (p - e_y) / N. Scale row n "
                        f"by weight[target[n]] and divide by {sum_text}"
                    )
                errors = [numerator_errors.get(numerator_kind), divisor_errors.get(divisor_kind)]
                raise Wrong("; and ".join(error for error in errors if error))
    _row_differences(result, expected, LOGITS, "w[y] (p - e_y) / sum of w[y]")


@self_check
def check_bce_with_logits_gradient(bce_with_logits_gradient):
    """bce_with_logits_gradient(logits, target): dL/dz of the mean BCE with logits, (sigmoid(z) - y) / z.numel()."""
    name = answer_name(bce_with_logits_gradient)
    z, y = BINARY_LOGITS, BINARY_LABELS
    result = call_answer(bce_with_logits_gradient, z, y)
    expected = _autograd(F.binary_cross_entropy_with_logits, z, y)
    if result.shape != z.shape:
        raise Wrong(
            f"{name} returned shape {tuple(result.shape)} for logits of shape {tuple(z.shape)}: return one "
            "derivative per logit, of the logits' shape"
        )
    _check_finite(result, z, name)
    if close(result, expected):
        return (
            f"{name} matches autograd of F.binary_cross_entropy_with_logits to within 1e-6. At z = -10 with y = 1 "
            f"it is {fmt(result[0, 0], '.4e')}: a strong push, where the squared error's gradient would be "
            f"{fmt(_mse_gradient(z, y)[0, 0], '.4e')}."
        )
    count = z.numel()
    z64, y64 = z.double(), y.double()
    probs = torch.sigmoid(z64)
    mistakes = [
        (
            -expected,
            "the sign is flipped: the gradient is (sigmoid(z) - y) / N, positive when the prediction is too high",
        ),
        (
            (z64 - y64) / count,
            "you forgot the sigmoid: the gradient is sigmoid(z) - y, not z - y (the logit is not a probability)",
        ),
        (z64 - y64, "you forgot the sigmoid and the 1/N: the gradient is (sigmoid(z) - y) / N"),
        (
            _mse_gradient(z, y),
            "that is the gradient of the squared error on sigmoid(z), "
            "2 (sigmoid(z) - y) sigmoid(z) (1 - sigmoid(z)) / N: for BCE with logits the factor sigmoid(z) (1 - sigmoid(z)) "
            "cancels, leaving (sigmoid(z) - y) / N",
        ),
        (
            _mse_gradient(z, y) / 2,
            "that is (half) the gradient of the squared error on sigmoid(z): for BCE with "
            "logits the factor sigmoid(z) (1 - sigmoid(z)) cancels, leaving (sigmoid(z) - y) / N",
        ),
        (
            _mse_gradient(z, y) * count,
            "that is the gradient of the squared error on sigmoid(z), without the 1/N: "
            "for BCE with logits it is (sigmoid(z) - y) / N",
        ),
        (probs - y64, f"you forgot to divide by N = {count}: the mean is over all {count} elements"),
        (
            (probs - y64) / z.shape[0],
            f"you divided by the number of rows, {z.shape[0]}: the mean of BCE is over "
            f"all elements, logits.numel() = {count}",
        ),
        (
            (probs - y64) / z.shape[1],
            f"you divided by the number of columns, {z.shape[1]}: the mean of BCE is over "
            f"all elements, logits.numel() = {count}",
        ),
        (
            (probs - y64) / (probs * (1 - probs)) / count,
            "that is dL/dp, the derivative with respect to the "
            "probability p = sigmoid(z): the chain rule multiplies it by dp/dz = p (1 - p), leaving (sigmoid(z) - y) / N",
        ),
    ]
    raise_first_match(result, mistakes, tolerance=1e-6, rtol=1e-4)
    index = int((result.double() - expected).abs().flatten().argmax())
    row, col = divmod(index, z.shape[1])
    raise Wrong(
        f"entry [{row}, {col}] is wrong: for z = {fmt(z[row, col], 'g')} and y = {fmt(y[row, col], 'g')} the "
        f"gradient is (sigmoid(z) - y) / N = {fmt(expected[row, col])}, you return {fmt(result[row, col])}"
    )


def _mse_gradient(z, y):
    """d/dz of mean((sigmoid(z) - y)^2), in float64."""
    return _autograd(lambda z, y: F.mse_loss(torch.sigmoid(z), y), z, y)


# --- Exercise 4: focal loss ----------------------------------------------------------------------------

FOCAL_GAMMA = 2.0  # the focusing parameter of the worked example (Lin et al. use gamma = 2)
# Random logits (5, 6) and classes, fixed by a seed: the second test, with a gamma that is not an integer.
_RANDOM = torch.Generator().manual_seed(2017)
RANDOM_LOGITS = 2 * torch.randn(5, 6, generator=_RANDOM)  # (5, 6)
RANDOM_TARGET = torch.randint(0, 6, (5,), generator=_RANDOM)  # (5,)
RANDOM_GAMMA = 0.5


def focal_loss(logits, target, gamma):
    """The mean focal loss (1/N) sum_n -(1 - p_{n, y_n})^gamma log p_{n, y_n}, from log_softmax: for autograd."""
    target_log_prob = torch.log_softmax(logits, dim=1).gather(1, target[:, None]).squeeze(1)  # (N,): log p_y
    losses = -((1 - target_log_prob.exp()) ** gamma) * target_log_prob  # (N,): l_n
    return losses.mean()


def _focal_expected(logits, target, gamma):
    leaf = logits.double().requires_grad_(True)
    (grad,) = torch.autograd.grad(focal_loss(leaf, target, gamma), leaf)
    return grad


def _focal_mistakes(logits, target, gamma):
    """(wrong gradient, message) for the typical slips, computed from the closed form in float64."""
    n, c = logits.shape
    logits = logits.double()
    probs, one_hot = torch.softmax(logits, dim=1), _one_hot(target, c)
    target_prob = probs.gather(1, target[:, None])  # (N, 1): p_y
    log_target_prob = torch.log_softmax(logits, dim=1).gather(1, target[:, None])  # (N, 1): log p_y
    weight = (1 - target_prob) ** gamma  # (N, 1): the focusing factor (1 - p_y)^gamma
    weight_derivative = gamma * (1 - target_prob) ** (gamma - 1)  # (N, 1): -d(1 - p_y)^gamma / dp_y
    factor = weight - weight_derivative * target_prob * log_target_prob  # (N, 1): the right factor
    right = factor * (probs - one_hot) / n
    sum_text = "(1 - p_y)^gamma - gamma p_y (1 - p_y)^(gamma - 1) log p_y"
    return [
        (
            -right,
            "the sign is flipped: the loss falls when p_y rises, so the gradient at the target logit is negative. "
            f"The gradient is [{sum_text}] (p - e_y) / N",
        ),
        (
            weight * (probs - one_hot) / n,
            "you treated the factor (1 - p_y)^gamma as a constant: it depends on the logits too, through p_y. By the "
            "product rule its derivative adds a second term, -gamma p_y (1 - p_y)^(gamma - 1) log p_y, to the factor "
            "that multiplies (p - e_y) / N",
        ),
        (
            (probs - one_hot) / n,
            "that is the cross-entropy's gradient (p - e_y) / N, right only for gamma = 0: the focal loss multiplies "
            "each sample's loss by (1 - p_y)^gamma, and that factor changes the gradient",
        ),
        (
            right * one_hot,
            "you only filled in the entries of the target classes: l_n depends on every logit of its row through "
            "p_y (the softmax's denominator), so every entry of the row gets factor * (p_k - [k = y])",
        ),
        (
            right * n,
            f"you forgot to divide by N = {n}: that is the gradient of the sum; the mean focal loss divides every row "
            "by the batch size",
        ),
        (
            right * n / c,
            f"you divided by C = {c}, the number of classes: the mean is over the N = {n} samples",
        ),
        (
            right / c,
            f"you divided by N * C = {n * c}: the mean is over the N = {n} samples, one loss per sample",
        ),
        (
            (weight - weight_derivative * log_target_prob) * (probs - one_hot) / n,
            "the second term of the factor lacks p_y: the chain rule through p_y multiplies by dp_y/dz_k = "
            f"p_y ([k = y] - p_k), so the factor is {sum_text}",
        ),
        (
            (weight + weight_derivative * target_prob * log_target_prob) * (probs - one_hot) / n,
            "the sign of the factor's second term is flipped: d(1 - p_y)^gamma / dp_y = -gamma (1 - p_y)^(gamma - 1), "
            f"so the factor is {sum_text}",
        ),
        (
            (weight - gamma * weight * target_prob * log_target_prob) * (probs - one_hot) / n,
            "the exponent in the factor's second term is off by one: d(1 - p_y)^gamma / dp_y = "
            f"-gamma (1 - p_y)^(gamma - 1), so the factor is {sum_text}",
        ),
        (
            -weight_derivative * target_prob * log_target_prob * (probs - one_hot) / n,
            "you kept only the derivative of the factor (1 - p_y)^gamma: by the product rule the derivative of "
            f"-log p_y, times (1 - p_y)^gamma, stays too. The factor is {sum_text}",
        ),
        (
            (weight_derivative * log_target_prob - weight / target_prob) * one_hot / n,
            "that is dL/dp_y, the derivative with respect to the target's probability: the chain rule multiplies it "
            "by dp_y/dz_k = p_y ([k = y] - p_k), which gives every logit of the row its share",
        ),
    ]


def _check_focal_case(focal_gradient, name, logits, target, gamma, what, hint=""):
    result = call_answer(focal_gradient, logits, target, gamma)
    expected = _focal_expected(logits, target, gamma)
    _check_shape(result, expected, name, logits)
    if not result.isfinite().all():
        raise Wrong(
            f"{name} returns {fmt(result)} for {what} with gamma = {fmt(gamma, 'g')}: every entry must be "
            "finite. Take log p_y from log_softmax, and keep (1 - p_y)^(gamma - 1) multiplied by p_y log p_y"
        )
    if close(result, expected):
        return
    mistake = first_match(result, _focal_mistakes(logits, target, gamma), tolerance=1e-6, rtol=1e-4)
    if mistake:
        raise Wrong(f"for {what} with gamma = {fmt(gamma, 'g')}: {mistake}")
    row = int((result.double() - expected).abs().amax(dim=1).argmax())
    raise Wrong(
        f"for {what} with gamma = {fmt(gamma, 'g')}, row {row} is wrong: {hint}for the logits "
        f"{fmt(logits[row], '.4g')} and target {int(target[row])} the gradient is {fmt(expected[row])}, "
        f"you return {fmt(result[row])}"
    )


@self_check
def check_focal_gradient(focal_gradient):
    """focal_gradient(logits (N, C), target (N,), gamma): dL/dZ of the mean focal loss by hand,
    [(1 - p_y)^gamma - gamma p_y (1 - p_y)^(gamma - 1) log p_y] (p - e_y) / N row by row; gamma = 0 gives
    the cross-entropy's (p - e_y) / N."""
    name = answer_name(focal_gradient)
    _check_focal_case(focal_gradient, name, LOGITS, TARGET, FOCAL_GAMMA, "the worked example")
    hint = "with gamma = 0 the focal loss is the cross-entropy, so the gradient is (p - e_y) / N: "
    _check_focal_case(focal_gradient, name, LOGITS, TARGET, 0.0, "the worked example", hint)
    _check_focal_case(focal_gradient, name, RANDOM_LOGITS, RANDOM_TARGET, RANDOM_GAMMA, "random logits (5, 6)")
    return (
        f"{name} matches autograd of the focal loss to within 1e-6: on the worked example with gamma = 2, with "
        "gamma = 0 (where it is the cross-entropy's (p - e_y) / N), and on random logits with gamma = 0.5. "
        "Like every loss of p_y alone, its gradient is one number per sample times p - e_y."
    )
