"""Numbers as text that is the same on every machine: fixed decimals, and never "-0.0000".

Lessons print through `fmt` (`print(f"loss: {fmt(loss)}")`) wherever a value can be a negative zero (a
negated log 1, say) or can differ from one CPU to the next below its last printed decimal: what is
needed for a reproducible output lives here, once, not in the lesson's code.
"""

import torch


def fmt(values, spec=".4f"):
    """A number or tensor as (nested lists of) fixed-decimal numbers, never '-0.0000'.

    Tensors are formatted in their own dtype, Python numbers (and lists of them) in float64, so a
    float64 value is never rounded through float32 first."""
    if not isinstance(values, torch.Tensor):
        values = torch.as_tensor(values, dtype=torch.float64)
    if values.dim() == 0:
        text = format(values.item(), spec)
        return text.lstrip("-") if float(text) == 0 else text
    return "[" + ", ".join(fmt(value, spec) for value in values) + "]"
