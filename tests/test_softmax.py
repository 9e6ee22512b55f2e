"""losslab.softmax / log_softmax against torch.nn.functional: values, gradients, warnings and errors."""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

import losslab
from strategies import assert_raises_like_torch, check_against_torch, logits, small_shapes

FUNCTIONS = ["softmax", "log_softmax"]


@st.composite
def softmax_calls(draw):
    """Valid calls: any shape from 0-d to 4-D (sizes 0 to 4), any dim (or None: the legacy implicit dim),
    logits up to 1e30 with +-inf and nan, and optionally a dtype to compute in."""
    shape = draw(small_shapes(max_dims=4))
    rank = max(len(shape), 1)
    dim = draw(st.one_of(st.none(), st.integers(-rank, rank - 1)))
    input_dtype, dtype = draw(
        st.sampled_from(
            [
                (torch.float64, None),
                (torch.float64, None),
                (torch.float64, torch.float64),
                (torch.float32, torch.float64),  # computed in float64: same values as casting first
                (torch.int64, torch.float64),  # integer logits are fine once a float dtype is given
            ]
        )
    )
    values = draw(logits(shape, special=True))
    if input_dtype == torch.int64:
        values = values.nan_to_num(0, 0, 0).clamp(-1e6, 1e6)
    return dict(input=values.to(input_dtype), dim=dim, dtype=dtype)


@pytest.mark.parametrize("name", FUNCTIONS)
@given(call=softmax_calls())
def test_matches_torch(name, call):
    """Same values, dtype, shape, gradients (float64, rtol 1e-9, atol 1e-12) and warnings as torch."""
    check_against_torch(getattr(F, name), getattr(losslab, name), call, wrt=("input",))


@st.composite
def possibly_invalid_softmax_calls(draw):
    """Calls with mistakes: integer or bool input without a float dtype, an integer dtype, dim out of range."""
    shape = draw(small_shapes(max_dims=3, max_side=3))
    rank = max(len(shape), 1)
    dim = draw(st.one_of(st.none(), st.integers(-rank - 2, rank + 1)))
    input_dtype = draw(st.sampled_from([torch.float64, torch.float32, torch.int64, torch.int32, torch.bool]))
    dtype = draw(st.sampled_from([None, None, torch.float64, torch.int64]))
    values = draw(logits(shape)).clamp(-100, 100)
    return dict(input=values.to(input_dtype), dim=dim, dtype=dtype)


@pytest.mark.parametrize("name", FUNCTIONS)
@given(call=possibly_invalid_softmax_calls())
def test_raises_exactly_when_torch_raises(name, call):
    """Error parity: torch raises iff losslab raises, with the same exception type and a helpful message."""
    check_against_torch(getattr(F, name), getattr(losslab, name), call, wrt=("input",))


@pytest.mark.parametrize("name", FUNCTIONS)
def test_implicit_dim_warns_like_torch(name):
    x = torch.randn(2, 3, dtype=torch.float64)
    with pytest.warns(UserWarning, match="Implicit dimension choice"):
        expected = getattr(F, name)(x)
    with pytest.warns(UserWarning, match="Implicit dimension choice"):
        actual = getattr(losslab, name)(x)
    torch.testing.assert_close(actual, expected)


@pytest.mark.parametrize(
    "call, error",
    [
        (lambda f: f(torch.tensor([1, 2]), 0), NotImplementedError),
        (lambda f: f(torch.tensor([1.0, 2.0]), 0, dtype=torch.int64), NotImplementedError),
        (lambda f: f(torch.zeros(2, 3), 2), IndexError),
        (lambda f: f(torch.tensor(1.0), 1), IndexError),
    ],
    ids=["integer input", "integer dtype", "dim out of range", "0-d dim 1"],
)
@pytest.mark.parametrize("name", FUNCTIONS)
def test_errors_are_torchs_and_helpful(name, call, error):
    assert_raises_like_torch(call, getattr(F, name), getattr(losslab, name), error)


def test_stable_where_the_naive_formula_overflows():
    """The reason for the max shift: exp(1000) is inf, yet the answer is finite (and exact)."""
    x = torch.tensor([1000.0, 0.0, -1000.0])
    naive = x.exp() / x.exp().sum()
    assert naive.isnan().any()
    torch.testing.assert_close(losslab.softmax(x, 0), torch.tensor([1.0, 0.0, 0.0]))
    torch.testing.assert_close(losslab.log_softmax(x, 0), torch.tensor([0.0, -1000.0, -2000.0]))
