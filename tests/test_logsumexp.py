"""losslab.logsumexp against torch.logsumexp: values, gradients and errors, in float64 and float32."""

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from losslab.logsumexp import logsumexp, shifted_logsumexp
from strategies import assert_raises_like_torch, check_against_torch, logits, small_shapes

INF = math.inf


def distinct_dims(rank):
    """A tuple or list of distinct dims (as PyTorch counts them: -1 and rank - 1 are the same), possibly empty."""
    dims = st.lists(st.integers(-rank, rank - 1), max_size=rank, unique_by=lambda d: d % rank)
    return st.one_of(dims.map(tuple), dims)


@st.composite
def logsumexp_calls(draw, dtype):
    """Valid calls: any shape from 0-d to 4-D (sides 0 to 4), one dim or several, keepdim or not,
    logits up to 1e30 with +-inf and nan."""
    shape = draw(small_shapes(max_dims=4))
    rank = max(len(shape), 1)
    dim = draw(st.one_of(st.integers(-rank, rank - 1), distinct_dims(rank)))
    return dict(input=draw(logits(shape, dtype=dtype, special=True)), dim=dim, keepdim=draw(st.booleans()))


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["float64", "float32"])
@given(data=st.data())
def test_matches_torch(dtype, data):
    """Same values, dtype, shape and gradients as torch (float64: rtol 1e-9, atol 1e-12; float32:
    assert_close's float32 tolerances), and the same exception type when torch raises (dim=())."""
    check_against_torch(torch.logsumexp, logsumexp, data.draw(logsumexp_calls(dtype)), wrt=("input",))


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16], ids=["float16", "bfloat16"])
@given(data=st.data())
def test_matches_torch_in_half_precision(dtype, data):
    shape = data.draw(small_shapes(min_dims=1, max_dims=3))
    call = dict(input=data.draw(logits(shape, special=True)).clamp(-1e4, 1e4).to(dtype), dim=-1)
    check_against_torch(torch.logsumexp, logsumexp, call, wrt=("input",))


@st.composite
def possibly_invalid_calls(draw):
    """Calls with mistakes: integer, bool or complex input, dims out of range or repeated, dim or keepdim
    of the wrong type."""
    shape = draw(small_shapes(max_dims=3, max_side=3))
    rank = max(len(shape), 1)
    index = st.integers(-rank - 2, rank + 1)
    dim = draw(
        st.one_of(
            index,
            st.lists(index, max_size=3).map(tuple),
            st.sampled_from([None, 1.0, "1", True, [0.0], (0, None), torch.tensor(0), torch.tensor([0, 1])]),
        )
    )
    keepdim = draw(st.sampled_from([False, True, 1, None, "yes"]))
    dtype = draw(
        st.sampled_from([torch.float64, torch.float32, torch.int64, torch.int32, torch.bool, torch.complex128])
    )
    values = draw(logits(shape)).clamp(-100, 100)
    return dict(input=values.to(dtype), dim=dim, keepdim=keepdim)


@given(call=possibly_invalid_calls())
def test_raises_exactly_when_torch_raises(call):
    """Error parity: torch raises iff losslab raises, with the same exception type and a helpful message;
    otherwise the same values (integer and bool inputs are computed in float32, the default dtype)."""
    check_against_torch(torch.logsumexp, logsumexp, call)


@pytest.mark.parametrize(
    "call, error, problem",
    [
        (lambda f: f([1.0, 2.0], 0), TypeError, "must be Tensor, not list"),
        (lambda f: f(torch.ones(2, 3), None), TypeError, "must be tuple of ints, not NoneType"),
        (lambda f: f(torch.ones(2, 3), 1.0), TypeError, "must be tuple of ints, not float"),
        (lambda f: f(torch.ones(2, 3), True), TypeError, "must be tuple of ints, not bool"),
        (lambda f: f(torch.ones(2, 3), [0.0]), TypeError, "found element of type float at pos 0"),
        (lambda f: f(torch.ones(2, 3), torch.tensor([0, 1])), TypeError, "must be tuple of ints, not torch.Tensor"),
        (lambda f: f(torch.ones(2, 3), 1, 1), TypeError, "'keepdim' .* must be bool, not int"),
        (lambda f: f(torch.ones(2, 3), 2), IndexError, r"expected to be in range of \[-2, 1\], but got 2"),
        (lambda f: f(torch.tensor(1.0), 1), IndexError, r"expected to be in range of \[-1, 0\], but got 1"),
        (lambda f: f(torch.ones(2, 3), (0, -2)), RuntimeError, "dim 0 appears multiple times"),
        (lambda f: f(torch.ones(2, 3), ()), RuntimeError, r"doesn't match the broadcast shape \[1, 1\]"),
    ],
    ids=[
        "list input",
        "dim None",
        "float dim",
        "bool dim",
        "float in dims",
        "tensor of dims",
        "int keepdim",
        "dim out of range",
        "0-d dim 1",
        "repeated dim",
        "empty dims",
    ],
)
def test_errors_are_torchs_and_helpful(call, error, problem):
    assert_raises_like_torch(call, torch.logsumexp, logsumexp, error, problem)


def test_missing_dim_is_an_error_like_torch():
    with pytest.raises(TypeError):
        torch.logsumexp(torch.ones(2))
    with pytest.raises(TypeError, match="dim"):
        logsumexp(torch.ones(2))


# ----------------------------------------------------------------------------------- edge cases


def test_stable_where_the_naive_formula_overflows_and_underflows():
    """The reason for the shift: exp(1000) is inf and exp(-1000) is 0, yet both answers are finite."""
    z = torch.tensor([[1000.0, 0.0, -1000.0], [-1000.0, -1001.0, -1002.0]])  # (2, 3), float32
    naive = z.exp().sum(dim=1).log()
    assert naive.tolist() == [INF, -INF]
    expected = torch.tensor([1000.0, -1000 + math.log(1 + math.exp(-1) + math.exp(-2))])
    torch.testing.assert_close(logsumexp(z, 1), expected)
    torch.testing.assert_close(logsumexp(z, 1), torch.logsumexp(z, 1), rtol=0, atol=0)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.float16])
def test_infinities_like_torch(dtype):
    """A row of all -inf gives -inf (not nan); +inf gives +inf; nan gives nan."""
    z = torch.tensor([[-INF, -INF], [INF, 1.0], [INF, -INF], [INF, INF], [-INF, 2.0], [math.nan, INF]], dtype=dtype)
    result = logsumexp(z, 1)
    assert result[:5].tolist() == [-INF, INF, INF, INF, 2.0]
    assert result[5].isnan()
    torch.testing.assert_close(result, torch.logsumexp(z, 1), equal_nan=True)


@pytest.mark.parametrize(
    "shape, dim, keepdim, expected_shape",
    [
        ((2, 3, 4), (0, 2), False, (3,)),
        ((2, 3, 4), [2, 0], True, (1, 3, 1)),
        ((2, 3, 4), -1, False, (2, 3)),
        ((2, 3, 4), (), True, (1, 1, 1)),
        ((), 0, False, ()),
        ((), (), False, ()),
        ((0, 3), 0, False, (3,)),
        ((0, 3), 1, False, (0,)),
        ((2, 0), 1, True, (2, 1)),
    ],
)
def test_shapes_and_empty_reductions_like_torch(shape, dim, keepdim, expected_shape):
    z = torch.randn(shape, generator=torch.Generator().manual_seed(0))
    result = logsumexp(z, dim, keepdim=keepdim)
    assert tuple(result.shape) == expected_shape
    torch.testing.assert_close(result, torch.logsumexp(z, dim, keepdim=keepdim))
    if 0 in shape and result.numel():
        assert (result == -INF).all()  # the log of an empty sum


@pytest.mark.parametrize("dtype", [torch.int64, torch.uint8, torch.bool])
def test_integer_and_bool_inputs_are_computed_in_the_default_dtype(dtype):
    z = torch.tensor([[1, 0, 1], [0, 0, 1]]).to(dtype)
    result = logsumexp(z, 1)
    assert result.dtype == torch.get_default_dtype()
    torch.testing.assert_close(result, torch.logsumexp(z, 1))


def test_accepts_int_like_dims_as_torch_does():
    np = pytest.importorskip("numpy")
    z = torch.randn(2, 3, generator=torch.Generator().manual_seed(1))
    for dim in (np.int64(1), torch.tensor(1), (np.int64(1),), [1]):
        torch.testing.assert_close(logsumexp(z, dim), torch.logsumexp(z, 1))
    assert logsumexp(input=z, dim=1, keepdim=True).shape == (2, 1)


def test_complex_input_shifts_by_the_real_part():
    z = torch.tensor([[1 + 2j, 3 - 1j, 800 + 0.5j], [-INF + 0j, -INF + 0j, -INF + 0j]], dtype=torch.complex128)
    torch.testing.assert_close(logsumexp(z, 1), torch.logsumexp(z, 1))


# ------------------------------------------------------------------------------------- gradient


def test_gradient_is_softmax():
    z = torch.randn(3, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(2), requires_grad=True)
    logsumexp(z, 1).sum().backward()
    torch.testing.assert_close(z.grad, torch.softmax(z.detach(), dim=1), rtol=0, atol=1e-15)


def test_gradient_at_huge_logits_is_finite_and_torchs():
    z = torch.tensor([[1000.0, 0.0, -1000.0], [1e30, -1e30, 1e30]], dtype=torch.float64, requires_grad=True)
    logsumexp(z, 1).sum().backward()
    expected = torch.tensor([[1.0, 0.0, 0.0], [1.0, 0.0, 1.0]], dtype=torch.float64)  # torch's, at tied 1e30
    torch.testing.assert_close(z.grad, expected, rtol=0, atol=0)


def test_gradient_of_infinite_rows_is_nan_where_torchs_is():
    rows = [[-INF, -INF], [INF, 1.0], [-INF, 3.0]]
    grads = []
    for f in (torch.logsumexp, logsumexp):
        z = torch.tensor(rows, dtype=torch.float64, requires_grad=True)
        f(z, 1).sum().backward()
        grads.append(z.grad)
    torch.testing.assert_close(grads[1], grads[0], equal_nan=True)
    assert grads[1][0].isnan().all() and grads[1][1, 0].isnan() and grads[1][2].tolist() == [0.0, 1.0]


@pytest.mark.parametrize("dim, keepdim", [(1, False), ((0, 2), False), ((0, 2), True), (-1, True)])
def test_gradcheck_and_gradgradcheck(dim, keepdim):
    z = torch.randn(3, 4, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(3), requires_grad=True)
    assert torch.autograd.gradcheck(lambda z: logsumexp(z, dim, keepdim), (z,))
    assert torch.autograd.gradgradcheck(lambda z: logsumexp(z, dim, keepdim), (z,))


def test_the_forward_pass_is_the_formula_notebook_03_shows():
    """Notebook 03 shows shifted_logsumexp's source as the code that logsumexp runs: the same values, bit for bit."""
    z = torch.tensor([[1000.0, 0.0, -1000.0], [-1000.0, -1001.0, -1002.0], [-INF, -INF, -INF], [1.0, 2.0, 3.0]])
    for dim, keepdim in [(1, False), (1, True), ((0, 1), False)]:
        dims = dim if isinstance(dim, tuple) else (dim,)
        assert torch.equal(logsumexp(z, dim, keepdim), shifted_logsumexp(z, dims, keepdim))
    assert shifted_logsumexp(z, (1,), False)[2] == -INF  # a fully masked row: shifted by 0, not by -inf
