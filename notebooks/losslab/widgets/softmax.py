"""Notebook 01's softmax explorer: logit sliders and a temperature slider -> softmax(z / T)."""

from ..plots import ProbabilityBars, figure
from ..softmax import softmax
from .toolkit import Explorer, LogitPanel, slider, subscript


class SoftmaxExplorer(Explorer):
    """Logit sliders and a temperature slider; bars and a readout of softmax(z / T)."""

    description = "logit and temperature sliders with the bars of softmax(z / T)"

    def __init__(
        self,
        logits=(2.0, 1.0, 0.1, -1.0),
        temperature=1.0,
        min_temperature=0.1,
        max_temperature=5.0,
        *,
        recreate_figure=False,
    ):
        if not min_temperature > 0:
            raise ValueError(f"min_temperature must be > 0 (softmax(z / T) divides by T), got {min_temperature}")
        self.logit_panel = LogitPanel(logits)
        self.logit_sliders = self.logit_panel.sliders
        self.temperature = slider(
            "temperature T", temperature, min_temperature, max_temperature, 0.05, "losslab-temperature"
        )
        super().__init__([self.logit_panel.widget, self.temperature], recreate_figure=recreate_figure)

    def _make_chart(self):
        n_classes = len(self.logit_sliders)
        fig = figure(figsize=(3.4, 2.3), dpi=90)
        ax = fig.add_subplot()
        self.bars = ProbabilityBars(ax, [0.0] * n_classes, tick_labels=[f"p{subscript(i)}" for i in range(n_classes)])
        ax.set_ylabel("probability")
        ax.set_title("softmax(z / T)")
        fig.subplots_adjust(left=0.2, right=0.97, bottom=0.12, top=0.88)
        return fig, self.bars.artists

    def compute(self):
        self.probabilities = softmax(self.logit_panel.logits() / self.temperature.value, dim=0)  # (C,)

    def draw(self):
        self.bars.update(self.probabilities)

    def readout_parts(self):
        return probability_parts(self.probabilities)


def probability_parts(probs):
    """['p₀ = 0.6381', 'p₁ = ...', 'sum = 1.0000']: 4 decimals."""
    return [*(f"p{subscript(i)} = {float(p):.4f}" for i, p in enumerate(probs)), f"sum = {float(probs.sum()):.4f}"]
