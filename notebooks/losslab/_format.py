"""Numbers as text that is the same on every machine: fixed decimals, and never "-0.0000"."""

import torch


def fmt(values, spec=".4f"):
    """A number or tensor as (nested lists of) fixed-decimal numbers, never '-0.0000'."""
    values = torch.as_tensor(values)
    if values.dim() == 0:
        text = format(values.item(), spec)
        return text.lstrip("-") if float(text) == 0 else text
    return "[" + ", ".join(fmt(value, spec) for value in values) + "]"
