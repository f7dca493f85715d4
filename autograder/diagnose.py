"""What to fix first: the root causes behind failed checks, in the student's own terms.

One mistake often fails many checks: a syntax error in `mse` leaves `mse` undefined, so its own
checks fail, and so do those of `train_step` and `fit_line`, which call it. The grader knows which
cells raised while the notebook ran and which exercises are still the released stub. A failed
check whose student error names one of those functions (undefined, or raising in it) is put under
that cause, so the student reads the cause once, with their own line, and the checks it broke
below it. A check of an exercise left as the stub simply says it is not attempted yet.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from nbformat import NotebookNode

from . import notebooks
from .sanitize import Cell, grade_id, match, names

NOT_ATTEMPTED = "not attempted yet: the function is still the stub from the released notebook"
UNDEFINED = re.compile(r"^(?:name )?'?([A-Za-z_]\w*)'? is not defined")


@dataclass
class CellError:
    """A cell that raised while the notebook ran."""

    cell: Cell
    name: str  # the exception's type
    text: str

    @property
    def defines(self) -> set[str]:
        return names(self.cell.source)[0]

    def describe(self) -> str:
        """One line: which cell, where in it, and the student's own line when it is a syntax error."""
        if self.name == "Timeout":  # the kernel's own words: "took longer than ..."
            return f"{where(self.cell)} {self.text}"
        cell = f"cell {self.cell.position}" if self.cell.position else ""
        if self.name in ("SyntaxError", "IndentationError", "TabError"):
            lineno, text = syntax_error_at(self.cell.source)
            if lineno:
                return f"{where(self.cell)} has a syntax error ({', '.join(filter(None, [cell, f'line {lineno}']))}): `{text}`"
        return f"{where(self.cell)} raised {self.name}" + (f": {self.text[:200]}" if self.text else "") + \
            (f" ({cell})" if cell else "")


def where(cell: Cell) -> str:
    return {"setup": "a setup cell", "student": "a cell you added", "demo": "an illustration cell"}.get(
        cell.origin, f"your {cell.grade_id} cell")


def syntax_error_at(source: str) -> tuple[int | None, str]:
    """Line number and text of a cell's syntax error, found by compiling (never running) it here."""
    try:
        compile(source, "<cell>", "exec", dont_inherit=True)
    except SyntaxError as err:
        line = (err.text or "").strip() or (source.splitlines()[err.lineno - 1].strip() if err.lineno else "")
        return err.lineno, line[:160]
    except ValueError:
        pass
    return None, ""


def unchanged_stubs(submitted: NotebookNode, release: NotebookNode) -> dict[str, set[str]]:
    """Exercises whose solution cell the student left as released: grade_id -> the functions it defines."""
    answers = match(submitted, release).solutions
    return {gid: names(cell.source)[0] for cell in release.cells
            if notebooks.is_solution(cell) and cell.cell_type == "code" and (gid := grade_id(cell)) in answers
            and answers[gid].source.strip() == cell.source.strip()}


def culprits(error: dict) -> set[str]:
    """The student's functions a check's error points at: the one undefined, or the one that raised."""
    named = set()
    match = UNDEFINED.match(error.get("message") or "") if error.get("kind") == "NameError" else None
    if match:
        named.add(match.group(1))
    if error.get("function"):
        named.add(error["function"])
    return named


def diagnose(checks: list[dict], cell_errors: list[CellError], stubs: dict[str, set[str]]) -> list[str]:
    """Attach each failed check to its root cause (`check["cause"]`, an index); return the causes.

    `stubs`: exercise (grade_id) -> the functions its still-unchanged stub cell defines.
    """
    causes: list[str] = []
    index: dict[str, int] = {}

    def cause(key: str, message: str) -> int:
        if key not in index:
            index[key] = len(causes)
            causes.append(message)
        return index[key]

    stub_of = {function: exercise for exercise, functions in stubs.items() for function in functions}
    for check in checks:
        if check["status"] != "failed":
            continue
        named = culprits(check.get("error") or {})
        broken = next((e for e in cell_errors if named & e.defines), None)
        if broken is not None:
            check["cause"] = cause(f"cell:{id(broken)}", broken.describe())
        elif check["exercise"] in stubs:
            check["message"] = NOT_ATTEMPTED
        elif named & set(stub_of):
            function = sorted(named & set(stub_of))[0]
            check["cause"] = cause(f"stub:{function}", f"you have not written `{function}` yet, and this code calls it")
    return causes
