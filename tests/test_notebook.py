"""losslab.notebook: the check that prints its largest difference, the source a lesson shows before it uses
a kept function, short tracebacks and projector mode from setup()."""

import nbformat
import pytest
import torch
from nbclient import NotebookClient

from losslab import label_smoothing
from losslab.notebook import check, difference_text, max_difference, presentation_requested, setup, show_source
from losslab.widgets import toolkit


def test_check_prints_the_largest_difference_and_the_tolerances(capsys):
    check("float32 ulp", torch.tensor([1.0, 2.0]), torch.tensor([1.0, 2.0 + 2.0**-22]))
    assert capsys.readouterr().out == "✓ float32 ulp: max |difference| = 2.4e-07  (atol=1e-06, rtol=0)\n"
    check("equal", torch.tensor([float("inf"), 0.0]), torch.tensor([float("inf"), 0.0]), atol=0, rtol=0)
    assert capsys.readouterr().out == "✓ equal: max |difference| = 0  (atol=0, rtol=0)\n"


def test_check_raises_on_a_difference_beyond_the_tolerance(capsys):
    with pytest.raises(AssertionError, match="Greatest absolute difference"):
        check("too far", torch.tensor([1.0]), torch.tensor([1.001]))
    assert capsys.readouterr().out == ""


def test_max_difference_in_float64_of_both():
    assert max_difference(torch.tensor([1.0], dtype=torch.float32), torch.tensor([1.0 + 1e-12])) == pytest.approx(1e-12)
    assert max_difference(torch.empty(0), torch.empty(0)) == 0.0
    assert max_difference(torch.tensor(-float("inf")), torch.tensor(-float("inf"))) == 0.0
    assert difference_text(0.0) == "0" and difference_text(5.960464477539063e-08) == "6.0e-08"


def test_show_source_is_the_code_with_its_relative_file():
    source = show_source(label_smoothing.minimum_loss)
    text = repr(source)
    assert text.startswith("# losslab/label_smoothing.py\ndef minimum_loss(")
    assert "/work" not in text and "site-packages" not in text
    assert source._repr_markdown_() == f"```python\n{text}\n```"


def test_presentation_comes_from_the_argument_or_the_environment(monkeypatch, capsys):
    try:
        monkeypatch.setenv("LOSSLAB_PRESENTATION", "1")
        assert presentation_requested()
        setup()
        assert toolkit.projector_mode()
        setup(presentation=False)
        assert not toolkit.projector_mode()
        monkeypatch.setenv("LOSSLAB_PRESENTATION", "0")
        setup()
        assert not toolkit.projector_mode()
        setup(presentation=True)
        assert toolkit.projector_mode()
        assert "Outputs made with python" in capsys.readouterr().out
    finally:
        toolkit.set_projector_mode(False)


def test_setup_gives_short_tracebacks_in_a_kernel(tmp_path, monkeypatch):
    """An error a lesson shows on purpose is its type and message only: no frame of torch, no path."""
    from pathlib import Path

    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).resolve().parents[1] / "notebooks"))
    nb = nbformat.v4.new_notebook()
    failing = "import torch.nn.functional as F\nF.cross_entropy(torch.zeros(2, 3), torch.zeros(2))"
    nb.cells = [
        nbformat.v4.new_code_cell("from losslab.notebook import setup\nimport torch\nsetup()"),
        nbformat.v4.new_code_cell(failing, metadata={"tags": ["raises-exception"]}),
    ]
    NotebookClient(nb, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    assert [o.output_type for o in nb.cells[0].outputs] == ["stream"], "setup() prints one line, no xmode message"
    error = nb.cells[1].outputs[0]
    assert error.ename == "RuntimeError"
    assert len(error.traceback) == 1 and "site-packages" not in error.traceback[0]
    assert error.evalue in error.traceback[0]
