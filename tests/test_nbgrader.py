"""The nbgrader course `make assignments` builds from the notebooks (deploy/make_assignments.py), graded
with nbgrader's own commands on a temporary course directory.

- Built from the lessons alone: each answer cell is the lesson's exercise with the lesson's solution
  between the solution markers, each check a locked test cell with points, and the release version is
  the lesson without its solutions; every other cell is the lesson's.
- The release notebooks run top to bottom (nbclient), each check saying "Not answered yet", no error.
- Under `nbgrader autograde`, the solutions score full marks on every notebook. On notebook SWEPT, every
  typical wrong answer the checkers' own tests name (tests/test_exercises_*.py, imported by the
  submission's kernel, not copied) scores 0 on its exercise, with the checker's explanation in the
  `generate_feedback` HTML; an answer that raises, or is missing, scores 0 while the rest is graded;
  a deleted check cell is put back and reported; a notebook nbgrader cannot grade is reported while
  the other students are graded.
- nbgrader's JupyterLab and server extensions are off in a learner's JupyterLab (jupyter-config/) and on
  in the instructor's (deploy/nbgrader/instructor/ in front of it on JUPYTER_CONFIG_PATH).

Every submission is a whole lesson notebook, as a student hands it in: 30 autograded notebooks and 7
release runs, about 5 minutes here (nbgrader takes about 6 s per submission: a kernel, the lesson's setup,
its two passes over the notebook), most of it the 14 rounds of wrong answers on SWEPT.
"""

import html
import importlib.util
import inspect
import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

import servers

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"
LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
# The notebook whose every typical wrong answer goes through autograde and feedback: the one with the
# most exercises (5) and the fewest wrong answers for one exercise (at most 14 submissions).
SWEPT = "07_the_rest_of_cross_entropy"
INSTRUCTOR_CONFIG = ROOT / "deploy" / "nbgrader" / "instructor"

_spec = importlib.util.spec_from_file_location("make_assignments", ROOT / "deploy" / "make_assignments.py")
make_assignments = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_assignments)


def nbgrader(root, *args):
    """An nbgrader command run in the course directory, as an instructor would; its whole output."""
    env = {**os.environ, "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])}
    env.pop("NBGRADER_EXECUTION", None)
    done = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args], cwd=root, env=env, capture_output=True, text=True, timeout=900
    )
    return done.returncode, done.stdout + done.stderr


def graded_pairs(nb):
    """[(answer cell, test cell)] of an nbgrader notebook, in order."""
    cells = [c for c in nb.cells if "nbgrader" in c.metadata]
    answers = [c for c in cells if c.metadata.nbgrader["solution"]]
    tests = [c for c in cells if c.metadata.nbgrader["grade"]]
    assert len(answers) == len(tests)
    return list(zip(answers, tests, strict=True))


def function_and_check(test_cell):
    return re.fullmatch(r"graded\((check_\w+), (\w+)\)", test_cell.source.splitlines()[-1]).group(2, 1)


def release_notebook(root, name):
    return nbformat.read(root / "release" / name / f"{name}.ipynb", as_version=4)


def solutions(root, name):
    """{answer cell grade_id: source with the solution} from the course's source notebook."""
    nb = nbformat.read(root / "source" / name / f"{name}.ipynb", as_version=4)
    return {answer.metadata.nbgrader["grade_id"]: answer.source for answer, _ in graded_pairs(nb)}


def typical_mistakes(check):
    """[(test module, test function, row, [explanations])] for one checker: each distinct wrong answer
    its tests in tests/test_exercises_*.py name, with every fragment they expect it to print."""
    found = []
    for path in sorted(TESTS.glob("test_exercises_*.py")):
        module = importlib.import_module(path.stem)
        for name, test in inspect.getmembers(module, inspect.isfunction):
            if f"assert_names_the_mistake({check}," not in inspect.getsource(test):
                continue
            mark = next(m for m in test.pytestmark if m.name == "parametrize")
            assert mark.args[0] == ("answer", "expected"), (name, mark.args[0])
            by_answer = {}
            for row, entry in enumerate(mark.args[1]):
                answer, expected = getattr(entry, "values", entry)
                by_answer.setdefault(id(answer), (path.stem, name, row, []))[3].append(expected)
            found.extend(by_answer.values())
    assert found, f"no typical wrong answers for {check} in tests/test_exercises_*.py"
    return found


def mistake_source(function, module, test, row):
    """An answer cell defining `function` as one of the checker tests' wrong answers, run by the kernel."""
    return (
        f"import sys\n\nsys.path.insert(0, {str(TESTS)!r})\n"
        f"from {module} import {test} as mistakes  # the checker's own tests: a typical wrong answer\n\n"
        f"row = next(mark for mark in mistakes.pytestmark if mark.name == 'parametrize').args[1][{row}]\n"
        f"{function} = getattr(row, 'values', row)[0]"
    )


def submit(root, name, student, answers=None, drop=()):
    """Hand in the release notebook as `student`, with answers {answer grade_id: source} (the solutions
    where not given) and without the cells whose grade_id is in drop."""
    folder = root / "submitted" / student / name
    folder.mkdir(parents=True)
    nb = release_notebook(root, name)
    sources = {**solutions(root, name), **(answers or {})}
    for answer, _ in graded_pairs(nb):
        answer.source = sources[answer.metadata.nbgrader["grade_id"]]
    nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") not in drop]
    nbformat.write(nb, folder / f"{name}.ipynb")


def scores(root, name, student):
    """{check: score} that autograde stored in the gradebook for one student's notebook."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        notebook = gradebook.find_submission_notebook(name, name, student)
        return {grade.name: grade.score for grade in notebook.grades}


def feedback_text(root, name, student):
    """The text of a student's generate_feedback HTML, tags removed and entities decoded."""
    page = (root / "feedback" / student / name / f"{name}.html").read_text()
    return html.unescape(re.sub(r"<[^>]+>", "", page))


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root, made = make_assignments.make_course(tmp_path_factory.mktemp("nbgrader") / "course", LESSONS)
    assert [name for name, _ in made] == [path.stem for path in LESSONS]
    return root


def lesson_exercises(lesson):
    """[(exercise cell, solution cell)] of a lesson notebook."""
    cells = lesson.cells
    return [
        (cells[i], cells[i + 1])
        for i, c in enumerate(cells)
        if c.cell_type == "code" and make_assignments.STUB in c.source
    ]


@pytest.mark.parametrize("lesson_path", LESSONS, ids=lambda path: path.stem)
def test_the_course_is_the_lessons_with_their_solutions_as_nbgrader_cells(course, lesson_path):
    name = lesson_path.stem
    lesson = nbformat.read(lesson_path, as_version=4)
    release = release_notebook(course, name)
    exercises = lesson_exercises(lesson)
    pairs = graded_pairs(release)
    assert len(pairs) == len(exercises) >= 4
    source_answers = solutions(course, name)
    for (exercise, solution), (answer, test) in zip(exercises, pairs, strict=True):
        stub = exercise.source.index(make_assignments.STUB) + len(make_assignments.STUB)
        assert answer.source == exercise.source[:stub], "the release's answer cell is the lesson's exercise"
        function, check = function_and_check(test)
        assert f"_ = {check}({function})" in exercise.source
        assert test.metadata.nbgrader == {
            "grade": True, "grade_id": check, "locked": True, "points": 1, "schema_version": 3,
            "solution": False, "cell_type": "code", "checksum": test.metadata.nbgrader["checksum"],
        }  # fmt: skip
        assert answer.metadata.deletable is False and test.metadata.deletable is False
        # The source's answer: the solution cell's body between the markers, taken from the lesson.
        region = source_answers[answer.metadata.nbgrader["grade_id"]].split("### BEGIN SOLUTION\n")[1]
        body = region.split("### END SOLUTION")[0].rstrip().splitlines()
        # The lesson's solution cell is "# Solution", the exercise's lines before the stub, that body, its check.
        before = exercise.source.splitlines()[: exercise.source.splitlines().index(answer.source.splitlines()[-1])]
        solution_lines = solution.source.splitlines()
        assert body and solution_lines[: len(before) + len(body) + 1] == ["# Solution", *before, *body]
        after = [line for line in solution_lines[len(before) + len(body) + 1 :] if line.strip()]
        assert after[0] == f"_ = {check}({function})"
    assert not [c for c in release.cells if "solution" in c.metadata.get("tags", [])]
    assert "BEGIN SOLUTION" not in release_text(release)
    # Every other cell is the lesson's, in the lesson's order (the release has one added note).
    graded_ids = {cell.id for pair in exercises for cell in pair}
    kept = [c.source for c in lesson.cells if c.id not in graded_ids]
    others = [c.source for c in release.cells if "nbgrader" not in c.metadata and "Graded version" not in c.source]
    assert others == kept


def release_text(nb):
    return "\n".join(cell.source for cell in nb.cells)


@pytest.mark.parametrize("lesson_path", LESSONS, ids=lambda path: path.stem)
def test_the_release_runs_top_to_bottom_with_every_check_not_answered(course, lesson_path, monkeypatch):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    name = lesson_path.stem
    nb = release_notebook(course, name)
    NotebookClient(nb, timeout=600, resources={"metadata": {"path": str(course / "release" / name)}}).execute()
    # An error only where the lesson shows one on purpose (its cell tagged raises-exception, as in the lesson).
    cells = [c for c in nb.cells if c.cell_type == "code" and "raises-exception" not in c.metadata.get("tags", [])]
    errors = [o for c in cells for o in c.outputs if o.output_type == "error"]
    assert not errors, errors[0]
    for _, test in graded_pairs(nb):
        printed = "".join(o.get("text", "") for o in test.outputs)
        assert re.fullmatch(r"Not answered yet: \w+ returns None: .*\n", printed), printed


def test_graded_raises_only_under_nbgrader(monkeypatch, capsys):
    """The released check prints the lesson's verdict; under nbgrader it also raises it, so the cell scores 0."""
    import torch

    from losslab.exercises.softmax import check_stable_softmax
    from losslab.grading import graded

    def stub(logits):
        return None

    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    assert graded(check_stable_softmax, stub) is None
    assert capsys.readouterr().out.startswith("Not answered yet: stub returns None")
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    with pytest.raises(AssertionError, match=r"^Not yet: .*keepdim"):
        graded(check_stable_softmax, lambda logits: logits.exp() / logits.exp().sum(dim=1))
    assert capsys.readouterr().out.startswith("Not yet: ")
    assert graded(check_stable_softmax, lambda logits: torch.softmax(logits, dim=1)) is None
    assert capsys.readouterr().out.startswith("Correct! ")


@pytest.fixture(scope="module")
def graded_course(course):
    """Submissions for every notebook, autograded, and feedback for SWEPT: (course root, autograde outputs,
    {student: {check: (row's test, explanations)}} for the wrong answers)."""
    for path in LESSONS:
        submit(course, path.stem, "solutions")
    release = release_notebook(course, SWEPT)
    exercises = [
        function_and_check(test) + (answer.metadata.nbgrader["grade_id"],) for answer, test in graded_pairs(release)
    ]
    mistakes = {check: typical_mistakes(check) for _, check, _ in exercises}
    wrong = {}
    for round_ in range(max(len(found) for found in mistakes.values())):
        student, answers = f"wrong{round_:02d}", {}
        for function, check, grade_id in exercises:
            if round_ < len(mistakes[check]):
                module, test, row, explanations = mistakes[check][round_]
                answers[grade_id] = mistake_source(function, module, test, row)
                wrong.setdefault(student, {})[check] = (f"{test}[{row}]", explanations)
        submit(course, SWEPT, student, answers)

    (first, _, first_id), (second, _, second_id), (_, _, third_id) = exercises[:3]
    stubs = {answer.metadata.nbgrader["grade_id"]: answer.source for answer, _ in graded_pairs(release)}
    broken = {
        first_id: 'raise RuntimeError("I ran out of time")',  # the answer cell itself raises
        second_id: stubs[second_id].replace(make_assignments.STUB, 'raise ValueError("not finished")'),
        third_id: stubs[third_id],  # unanswered
    }
    submit(course, SWEPT, "broken", broken)
    submit(course, SWEPT, "deleted", drop={exercises[0][1], second_id})  # a check cell, another answer cell
    submit(course, SWEPT, "gutted", drop={third_id, exercises[2][1]})  # an answer cell and its check

    outputs = {path.stem: nbgrader(course, "autograde", path.stem, "--force") for path in LESSONS}
    outputs["feedback"] = nbgrader(course, "generate_feedback", SWEPT, "--force")
    return course, outputs, exercises, wrong


def test_the_solutions_score_full_marks_on_every_notebook(graded_course):
    root, outputs, _, _ = graded_course
    for path in LESSONS:
        got = scores(root, path.stem, "solutions")
        assert got and set(got.values()) == {1.0}, (path.stem, got, outputs[path.stem][1][-3000:])


def test_each_typical_wrong_answer_scores_0_and_its_feedback_explains(graded_course):
    root, _, exercises, wrong = graded_course
    assert len(wrong) >= 10 and sum(len(checks) for checks in wrong.values()) >= 50
    for student, checks in wrong.items():
        got, text = scores(root, SWEPT, student), feedback_text(root, SWEPT, student)
        for _, check, _ in exercises:
            if check not in checks:  # this round has no more wrong answers for that exercise: the solution
                assert got[check] == 1.0, (student, check)
                continue
            mistake, explanations = checks[check]
            assert got[check] == 0.0, (student, check, mistake)
            for explanation in explanations:
                assert explanation in text, (student, mistake, explanation)
        assert "AssertionError: Not yet: " in text


def test_an_answer_that_raises_scores_0_and_grading_goes_on(graded_course):
    root, _, exercises, _ = graded_course
    got, text = scores(root, SWEPT, "broken"), feedback_text(root, SWEPT, "broken")
    checks = [check for _, check, _ in exercises]
    assert [got[check] for check in checks] == [0.0, 0.0, 0.0] + [1.0] * (len(checks) - 3)
    assert "RuntimeError: I ran out of time" in text
    assert f"name '{exercises[0][0]}' is not defined" in text
    assert f"{exercises[1][0]} raised ValueError: not finished" in text
    assert "AssertionError: Not answered yet: " in text


def test_a_submission_with_a_deleted_cell_is_reported_not_crashed_on(graded_course):
    root, outputs, exercises, _ = graded_course
    checks = [check for _, check, _ in exercises]
    got, text = scores(root, SWEPT, "deleted"), feedback_text(root, SWEPT, "deleted")
    # The deleted check cell is put back, says so, and grades the (right) answer above it.
    assert f"Missing grade cell {checks[0]} encountered" in outputs[SWEPT][1]
    assert f"This cell (id:{checks[0]}) was missing from the submission" in text
    # The deleted answer: its check finds no function.
    assert f"name '{exercises[1][0]}' is not defined" in text
    assert [got[check] for check in checks] == [1.0, 0.0] + [1.0] * (len(checks) - 2)
    # Both cells of one exercise gone: nbgrader 0.9.6 cannot put the check back (a KeyError in
    # OverwriteCells) and reports that one submission; everyone else is graded.
    assert "There was an error processing assignment" in outputs[SWEPT][1]
    assert "for student 'gutted'" in outputs[SWEPT][1]
    assert not (root / "autograded" / "gutted" / SWEPT).exists()
    assert sum(scores(root, SWEPT, "solutions").values()) == len(checks)


def lab_page_config(server):
    page = urllib.request.urlopen(server.url + "lab", timeout=30).read().decode()
    found = re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', page, re.S)
    return json.loads(found.group(1))


def http_status(server, path):
    try:
        with urllib.request.urlopen(server.url + path, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.parametrize("instructor", [False, True], ids=["learner", "instructor"])
def test_nbgrader_shows_in_jupyterlab_only_for_the_instructor(instructor, monkeypatch, tmp_path):
    if instructor:
        monkeypatch.setattr(
            servers, "COURSE_CONFIG", os.pathsep.join([str(INSTRUCTOR_CONFIG), str(servers.COURSE_CONFIG)])
        )
    with servers.jupyter_server(tmp_path, app="lab", course_config=True) as server:
        assert ("@jupyter/nbgrader" in lab_page_config(server)["disabledExtensions"]) is not instructor
        assert http_status(server, "formgrader") == (200 if instructor else 404)
        linked = re.findall(r"(nbgrader\.server_extensions\.\w+) \| extension was successfully linked", server.log())
        assert len(linked) == (4 if instructor else 0), linked
