"""losslab._format: numbers as text that is the same on every machine."""

import torch

from losslab._format import fmt


def test_fixed_decimals_and_no_negative_zero():
    assert fmt(torch.tensor([[0.5, -1e-9], [2.0, -0.25]])) == "[[0.5000, 0.0000], [2.0000, -0.2500]]"
    assert fmt(torch.tensor(3.14159), ".2f") == "3.14"
    assert fmt(-0.0) == "0.0000" and fmt(-0.00004) == "0.0000" and fmt(-0.00005, ".5f") == "-0.00005"


def test_plain_numbers_and_other_formats():
    assert fmt(2) == "2.0000"
    assert fmt([1.5, -2.25], ".1f") == "[1.5, -2.2]"
    assert fmt(torch.tensor(1e-9), ".1e") == "1.0e-09"


def test_python_floats_are_formatted_in_float64():
    # 0.1 + 0.2 in float64 is 0.30000000000000004; through float32 it would print 0.30000001192...
    assert fmt(0.1 + 0.2, ".17f") == "0.30000000000000004"
    assert fmt([2.0000000001], ".10f") == "[2.0000000001]"
    assert fmt(torch.tensor(0.1), ".9f") == "0.100000001"  # a float32 tensor keeps its own dtype


def test_negative_zero_in_every_format():
    assert fmt(torch.tensor(-0.0), ".4e") == "0.0000e+00"
    assert fmt(torch.tensor([-0.0, 1.0]), ".1f") == "[0.0, 1.0]"
