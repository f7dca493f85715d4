"""Worked solutions from the source notebooks: solution code kept, markers and hidden parts gone."""

from __future__ import annotations

import copy
import re

from nbconvert.preprocessors import Preprocessor
from nbformat import NotebookNode
from nbformat.v4 import new_markdown_cell
from nbgrader.preprocessors import ClearHiddenTests, ClearMarkScheme, ClearSolutions

HEADER = (
    "**Worked solutions.** Generated from the instructor's notebook: the exercise cells hold the "
    "reference solutions and every cell has been run. Publish after the deadline."
)


class KeepSolutions(Preprocessor):
    """Delete the lines that mark a solution region, keeping the solution between them."""

    def preprocess_cell(self, cell, resources, index):
        clear = ClearSolutions()
        markers = (clear.begin_solution_delimeter, clear.end_solution_delimeter)
        pattern = re.compile(r"^\s*#+\s*(%s)\s*$" % "|".join(map(re.escape, markers)))
        lines = cell.source.splitlines()
        cell.source = "\n".join(line for line in lines if not pattern.match(line))
        return cell, resources


class DropGraderMetadata(Preprocessor):
    """Make a plain notebook: no nbgrader cell metadata, no locks."""

    def preprocess_cell(self, cell, resources, index):
        for key in ("nbgrader", "deletable", "editable"):
            cell.metadata.pop(key, None)
        return cell, resources


PIPELINE = (ClearHiddenTests, ClearMarkScheme, KeepSolutions, DropGraderMetadata)


def make_solution(source: NotebookNode) -> NotebookNode:
    """The worked-solution notebook for a source notebook, not yet executed."""
    nb = copy.deepcopy(source)
    resources: dict = {}
    for step in PIPELINE:
        nb, resources = step().preprocess(nb, resources)
    header = new_markdown_cell(HEADER)
    header["id"] = "solutions-header"
    nb.cells.insert(0, header)
    return nb
