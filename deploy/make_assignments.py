"""Build the nbgrader course of losslab from the lesson notebooks: `make assignments`.

    python deploy/make_assignments.py OUT notebooks/NN_*.ipynb

OUT becomes an nbgrader course directory (its nbgrader_config.py is written there): one assignment
per notebook, named after it, in OUT/source/<name>/ with the losslab package beside the notebook,
then nbgrader's own `generate_assignment` makes the students' version in OUT/release/<name>/.
The notebooks stay the single source: every exercise in them is a code cell that ends
`return None  # your code here` followed by `_ = check_...(function)`, and right after it a cell
tagged "solution" with the same function completed. Each exercise becomes

- an answer cell (nbgrader "solution" cell): the exercise's function, whose body is the solution
  cell's code between ### BEGIN SOLUTION and ### END SOLUTION; nbgrader's release replaces that
  region with the lesson's stub, `return None  # your code here`;
- a locked, autograded test cell worth POINTS: `graded(check_..., function)` (losslab.grading), the
  same check, which under nbgrader raises for an answer it does not accept so the cell scores 0.

The solution cells are dropped (any lines a solution cell runs after its check, such as a
demonstration of the answer, go with it). Everything else in the notebook is kept as it is.
Re-running rewrites source/ and release/ and keeps the gradebook and any submissions.
"""

import os
import re
import shutil
import sys
from pathlib import Path

import nbformat

STUB = "return None  # your code here"
SOLUTION_TAG = "solution"
CHECK_CALL = re.compile(r"_ = (check_\w+)\((\w+)\)")
POINTS = 1
COURSE_ID = "losslab"
NOTE = (
    "**Graded version.** Under each exercise's function, its check is a locked cell of its own: run the "
    "function's cell, then the check's. nbgrader's autograder runs the same check; an answer it does not "
    "accept (unanswered included) scores 0 for that exercise."
)
CONFIG = '''\
"""nbgrader configuration of the losslab course. Written by deploy/make_assignments.py (`make assignments`
rewrites it: change that script, not this file)."""

import os

c = get_config()  # noqa: F821 (nbgrader provides get_config)

c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.course_id = "{course_id}"
# The release keeps the lesson's stub, so an unanswered exercise reads as in the lesson ("Not answered yet").
c.ClearSolutions.code_stub = {{"python": "{stub}"}}
# A student's runaway loop stops grading that notebook after this many seconds per cell, not forever.
c.Execute.timeout = 300
# A check cell missing from a submission (deleted outside JupyterLab, which refuses to delete nbgrader's
# cells) is put back from the gradebook, with a note saying so, and grades the answer above it; the log
# warns "Missing grade cell ...". (nbgrader 0.9.6 stops with a KeyError on a notebook that lacks both an
# answer cell and its check: that submission is reported as an error and the others are still graded.)
c.OverwriteCells.add_missing_cells = True
'''


class NotAnExercise(ValueError):
    """A notebook's exercise or solution cell is not in the shape this script turns into nbgrader cells."""


def nbgrader_metadata(grade_id, *, solution, grade, locked, points=None):
    fields = {"grade_id": grade_id, "solution": solution, "grade": grade, "locked": locked, "schema_version": 3}
    if points is not None:
        fields["points"] = points
    return fields


def solution_body(exercise_lines, stub_index, solution_cell):
    """The solution cell's lines that replace the stub line at exercise_lines[stub_index]."""
    lines = solution_cell.source.splitlines()
    if lines and lines[0].strip() == "# Solution":
        lines = lines[1:]
    before = exercise_lines[:stub_index]
    check_line = next(line for line in exercise_lines[stub_index:] if CHECK_CALL.fullmatch(line))
    if lines[: len(before)] != before or check_line not in lines:
        raise NotAnExercise(f"the solution cell does not complete the exercise's function:\n{solution_cell.source}")
    body = lines[len(before) : lines.index(check_line)]
    while body and not body[-1].strip():
        body.pop()
    return body


def graded_cells(exercise, solution):
    """(answer cell, test cell) for one exercise cell and its solution cell."""
    lines = exercise.source.splitlines()
    stub_index = next(i for i, line in enumerate(lines) if line.strip() == STUB)
    checks = [CHECK_CALL.fullmatch(line) for line in lines[stub_index + 1 :] if line.strip()]
    if len(checks) != 1 or checks[0] is None:
        raise NotAnExercise(f"an exercise cell must end with one `_ = check_...(function)` line:\n{exercise.source}")
    check, function = checks[0].groups()
    indent = lines[stub_index][: len(lines[stub_index]) - len(lines[stub_index].lstrip())]
    answer_source = "\n".join(
        lines[:stub_index]
        + [indent + "### BEGIN SOLUTION"]
        + solution_body(lines, stub_index, solution)
        + [indent + "### END SOLUTION"]
    )
    # The answer cell keeps the exercise cell's id, the test cell takes the solution cell's: the same
    # notebook always gives the same course.
    answer = nbformat.v4.new_code_cell(answer_source, id=exercise.id, metadata=dict(exercise.metadata))
    answer.metadata["nbgrader"] = nbgrader_metadata(f"{function}_answer", solution=True, grade=False, locked=False)
    test_source = f"from losslab.grading import graded\n\ngraded({check}, {function})"
    test = nbformat.v4.new_code_cell(test_source, id=solution.id, metadata=dict(exercise.metadata))
    test.metadata["nbgrader"] = nbgrader_metadata(check, solution=False, grade=True, locked=True, points=POINTS)
    return answer, test


def is_solution(cell):
    return SOLUTION_TAG in cell.metadata.get("tags", [])


def assignment_notebook(lesson):
    """The nbgrader source notebook of a lesson notebook (a new notebook; the lesson is left as it is)."""
    nb = nbformat.from_dict(lesson)
    nb.metadata.pop("widgets", None)  # the lesson run's widget state; nbgrader clears the outputs anyway
    cells, exercises = [], 0
    index = 0
    while index < len(nb.cells):
        cell = nb.cells[index]
        if cell.cell_type == "code" and any(line.strip() == STUB for line in cell.source.splitlines()):
            following = nb.cells[index + 1] if index + 1 < len(nb.cells) else None
            if following is None or not is_solution(following):
                raise NotAnExercise(f"no cell tagged {SOLUTION_TAG!r} right after the exercise:\n{cell.source}")
            cells.extend(graded_cells(cell, following))
            exercises += 1
            index += 2
            continue
        if is_solution(cell):
            raise NotAnExercise(f"a solution cell that follows no exercise:\n{cell.source}")
        cells.append(cell)
        if cell.cell_type == "markdown" and cell.source.startswith("## Exercises"):
            cells.append(nbformat.v4.new_markdown_cell(NOTE, id=f"{cell.id}-graded"[:64]))
        index += 1
    if not exercises:
        raise NotAnExercise("no exercise found")
    nb.cells = cells
    nbformat.validate(nb)
    return nb, exercises


def write_source(root, lesson_path):
    """Write the assignment of one lesson into root/source/<name>/; return (name, number of exercises)."""
    name = lesson_path.stem
    folder = root / "source" / name
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    nb, exercises = assignment_notebook(nbformat.read(lesson_path, as_version=4))
    nbformat.write(nb, folder / lesson_path.name)
    # The notebooks import losslab from their own folder (it is not installed): the assignment carries it.
    shutil.copytree(lesson_path.parent / "losslab", folder / "losslab", ignore=shutil.ignore_patterns("__pycache__"))
    return name, exercises


def generate_releases(root, names):
    """nbgrader's generate_assignment for each assignment, through its Python API (one process for all)."""
    from nbgrader.apps import NbGraderAPI
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    api = NbGraderAPI(config=config)
    path = os.environ.get("PATH", "")
    # nbgrader runs `alembic` (its gradebook's migrations) from PATH: the one installed beside this Python.
    os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), path])
    try:
        for name in names:
            result = api.generate_assignment(name, force=True)
            if not result["success"]:
                raise RuntimeError(
                    f"nbgrader generate_assignment {name} failed:\n{result.get('log', '')}{result.get('error', '')}"
                )
    finally:
        os.environ["PATH"] = path


def make_course(root, lessons):
    """Write the course's config and sources, and generate each assignment's release version with nbgrader."""
    root = Path(root).resolve()
    root.mkdir(parents=True, exist_ok=True)
    (root / "nbgrader_config.py").write_text(CONFIG.format(course_id=COURSE_ID, stub=STUB))
    made = [write_source(root, Path(path)) for path in lessons]
    generate_releases(root, [name for name, _ in made])
    return root, made


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    root, made = make_course(argv[0], argv[1:])
    for name, exercises in made:
        print(f"{name}: {exercises} exercises, {exercises * POINTS} points")
    print(f"nbgrader course in {root}: source/ (with the solutions), release/ (for the students).")
    print(f"Grade with nbgrader from there, e.g. `cd {root} && nbgrader autograde {made[0][0]}`.")
    print(
        "nbgrader's JupyterLab extension and formgrader are off in the learners' JupyterLab (jupyter-config/); "
        "the instructor's: JUPYTER_CONFIG_PATH=deploy/nbgrader/instructor:jupyter-config .venv/bin/jupyter lab"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
