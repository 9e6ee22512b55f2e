"""Every notebook is taught twice, read alone and presented in a 50-minute lecture.

The conventions these tests hold (docs/adding-a-notebook.md, step 3; the README, "For instructors"):
- every heading (`##` section, `###` exercise) is the first line of its own cell and ends with its
  minutes, "(6 min)", or "(optional, 6 min)" for a part the lecture skips;
- every cell says its lecture role in its metadata, `"lecture": "core"` or `"optional"`; every cell of an
  optional part is optional;
- the lecture time is the minutes of the core parts (for a section with exercises, of its core
  exercises), at most 50; the self-study time is all of them; the objectives' "**Time:**" line and the
  README's table state both;
- slide metadata: a core cell is on a slide (the title and every core section start one, a core exercise
  a slide or subslide), an optional cell is skipped in the deck;
- cells stay short, and a lesson cell checks at most two things (sweeps belong in tests/);
- a failing case (a cell tagged raises-exception or failing-case) comes after a one-line
  "**Predict:** ..." prompt.
"""

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
LECTURE_MINUTES = 50
ROLES = {"core", "optional"}
SLIDE_TYPES = {"slide", "subslide", "fragment", "-", "notes", "skip"}
HEADING = re.compile(r"^(#{1,6}) (.*\S)\s*$")
MINUTES = re.compile(r"\((?:(optional), )?(\d+) min\)$")
TIME_LINE = re.compile(r"\*\*Time:\*\*.*?lecture (\d+) min.*?self-study (\d+) min", re.I | re.S)
MAX_MARKDOWN_WORDS = 150
MAX_CODE_LINES = 22
MAX_CHECKS_PER_CELL = 2
CHECK_CALLS = {"check", "assert_close", "gradcheck", "gradgradcheck"}
FAILING_CASE_TAGS = {"raises-exception", "failing-case"}
PREDICT = re.compile(r"^\*\*Predict:\*\* \S.*$", re.M)


@dataclass
class Part:
    """A `##` section or a `###` exercise: its heading, role, minutes and the indices of its cells."""

    level: int
    title: str
    optional: bool
    minutes: int
    cells: list = field(default_factory=list)
    children: list = field(default_factory=list)

    @property
    def lecture_minutes(self):
        if self.optional:
            return 0
        if self.children:
            return sum(child.lecture_minutes for child in self.children)
        return self.minutes


def heading(cell):
    """(level, text) if the cell opens with a heading, else None."""
    if cell.cell_type != "markdown":
        return None
    match = HEADING.match(cell.source.split("\n", 1)[0])
    return (len(match.group(1)), match.group(2)) if match else None


def parts(nb):
    """The notebook's `##` sections, each with its `###` children; cells before the first `##` (title,
    notation, setup) belong to none."""
    sections, current_section, current = [], None, None
    for index, cell in enumerate(nb.cells):
        found = heading(cell)
        if found and found[0] >= 2:
            level, text = found
            match = MINUTES.search(text)
            part = Part(level, text, bool(match and match.group(1)), int(match.group(2)) if match else -1)
            if level == 2:
                sections.append(part)
                current_section = part
            elif current_section is not None:
                current_section.children.append(part)
            current = part
        if current is not None:
            current.cells.append(index)
            if current.level == 3:
                current_section.cells.append(index)
    return sections


def lecture_and_self_study(nb):
    sections = parts(nb)
    return sum(s.lecture_minutes for s in sections), sum(s.minutes for s in sections)


def role(cell):
    return cell.metadata.get("lecture")


def slide_type(cell):
    return cell.metadata.get("slideshow", {}).get("slide_type")


@pytest.fixture(params=NOTEBOOKS, ids=lambda p: p.name)
def path(request):
    return request.param


@pytest.fixture
def nb(path):
    return nbformat.read(path, as_version=4)


def test_every_cell_has_a_lecture_role(nb):
    missing = [i for i, cell in enumerate(nb.cells) if role(cell) not in ROLES]
    assert not missing, f"cells without metadata lecture = core|optional: {missing}"


def test_headings_open_their_cell_and_state_minutes(nb):
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        lines = re.sub(r"```.*?```", "", cell.source, flags=re.S).split("\n")  # not a code block's comments
        later = [line for line in lines[1:] if HEADING.match(line)]
        assert not later, f"cell {index}: a heading must be the first line of its own cell: {later[0]!r}"
        found = heading(cell)
        if found and found[0] >= 2:
            assert found[0] <= 3, f"cell {index}: headings go down to ### only"
            assert MINUTES.search(found[1]), (
                f"cell {index}: {found[1]!r} must end with '(N min)' or '(optional, N min)'"
            )


def test_optional_parts_hold_only_optional_cells(nb):
    for section in parts(nb):
        for part in [section, *section.children]:
            roles = {i: role(nb.cells[i]) for i in part.cells}
            if part.optional:
                core = [i for i, r in roles.items() if r != "optional"]
                assert not core, f"{part.title!r} is optional, but cells {core} are core"
            else:
                assert roles[part.cells[0]] == "core", f"the heading of the core part {part.title!r} must be core"
        if section.optional:
            assert all(child.optional for child in section.children), f"{section.title!r}: optional throughout"


def test_a_section_with_exercises_adds_up_their_minutes(nb):
    for section in parts(nb):
        if section.children:
            total = sum(child.minutes for child in section.children)
            assert section.minutes == total, f"{section.title!r} states {section.minutes} min, its parts {total}"


def test_the_lecture_fits_50_minutes_and_the_time_line_says_so(nb, path):
    lecture, self_study = lecture_and_self_study(nb)
    assert 0 < lecture <= LECTURE_MINUTES, f"{path.name}: the core path takes {lecture} min"
    assert self_study >= lecture
    text = "\n".join(cell.source for cell in nb.cells[:6] if cell.cell_type == "markdown")
    stated = TIME_LINE.search(text)
    assert stated, "the learning objectives end with '**Time:** lecture N min ..., self-study M min ...'"
    assert (int(stated.group(1)), int(stated.group(2))) == (lecture, self_study), (
        f"'**Time:**' says lecture {stated.group(1)}, self-study {stated.group(2)}; "
        f"the sections add up to {lecture} and {self_study}"
    )


def test_readme_table_gives_both_times():
    readme = (ROOT / "README.md").read_text()
    for path in NOTEBOOKS:
        row = next((line for line in readme.splitlines() if f"](notebooks/{path.name})" in line), None)
        assert row, f"README's table lacks {path.name}"
        numbers = [cell.strip() for cell in row.strip().strip("|").split("|")]
        lecture, self_study = lecture_and_self_study(nbformat.read(path, as_version=4))
        assert f"{lecture} min" in numbers and f"{self_study} min" in numbers, (
            f"README's row for {path.name} must give '{lecture} min' (lecture) and '{self_study} min' (self-study)"
        )


def test_slide_metadata_follows_the_lecture_role(nb):
    for index, cell in enumerate(nb.cells):
        kind = slide_type(cell)
        assert kind in SLIDE_TYPES, f"cell {index}: slideshow.slide_type is {kind!r}"
        if role(cell) == "optional":
            assert kind == "skip", f"cell {index} is optional: the deck skips it (slide_type 'skip')"
            continue
        assert kind != "skip", f"cell {index} is core: the deck must show it"
        found = heading(cell)
        if index == 0 or (found and found[0] <= 2):
            assert kind == "slide", f"cell {index}: the title and every core section start a slide"
        elif found:
            assert kind in ("slide", "subslide"), f"cell {index}: a core exercise starts a slide or subslide"


def test_cells_stay_short(nb):
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown" and "notation" not in cell.metadata.get("tags", []):
            prose = re.sub(r"\$\$.*?\$\$", " ", cell.source, flags=re.S)
            words = len(prose.split())
            assert words <= MAX_MARKDOWN_WORDS, f"cell {index} has {words} words: one idea per cell"
        if cell.cell_type == "code":
            lines = len(cell.source.strip().splitlines())
            assert lines <= MAX_CODE_LINES, f"cell {index} has {lines} lines of code"


def count_checks(source):
    """Checks a cell makes: calls of check, assert_close, gradcheck or a check_... function, and assert
    statements. One inside a loop or a comprehension counts as more than the limit (it is a sweep)."""
    tree = ast.parse(source)
    loops = (ast.For, ast.While, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)

    def is_check(node):
        if isinstance(node, ast.Assert):
            return True
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            return name in CHECK_CALLS or name.startswith("check_")
        return False

    def visit(node, in_loop):
        here = is_check(node)
        total = (MAX_CHECKS_PER_CELL + 1 if in_loop else 1) if here else 0
        for child in ast.iter_child_nodes(node):
            total += visit(child, in_loop or isinstance(node, loops))
        return total

    return visit(tree, False)


def test_count_checks_counts_calls_asserts_and_sweeps():
    assert count_checks("check('a', x, y)\nassert x > 0") == 2
    assert count_checks("_ = check_softmax(f)") == 1
    assert count_checks("torch.testing.assert_close(a, b)") == 1
    assert count_checks("for d in (0, 1):\n    check('d', x, y)") > MAX_CHECKS_PER_CELL
    assert count_checks("print(check)") == 0


def test_a_lesson_cell_checks_at_most_two_things(nb):
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            checks = count_checks(cell.source)
            assert checks <= MAX_CHECKS_PER_CELL, (
                f"cell {index} makes {checks} checks: one check per concept, sweeps go to tests/\n{cell.source}"
            )


def test_a_predict_prompt_comes_before_every_failing_case(nb):
    failing = [i for i, cell in enumerate(nb.cells) if FAILING_CASE_TAGS & set(cell.metadata.get("tags", []))]
    assert failing, "every notebook runs at least one failing case (tagged failing-case or raises-exception)"
    for index in failing:
        before = nb.cells[index - 1]
        assert before.cell_type == "markdown" and PREDICT.search(before.source), (
            f"cell {index} runs a failing case: the markdown cell right before it ends with a one-line "
            "'**Predict:** ...' prompt"
        )
