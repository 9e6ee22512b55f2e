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
