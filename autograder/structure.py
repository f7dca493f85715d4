"""How a student's function is written, read from its syntax tree in the check process, never from its text.

A method check ("trains with tf.GradientTape", "passes a callback to fit") asks what a function's
code does: comments, strings and docstrings are not code, so a stub that only mentions
`tf.GradientTape` in a comment uses nothing. The functions of the notebook that it calls are read
too, a few levels deep, so that `fit_line` calling the student's own `train_step` counts.
Only the source text crosses from the kernel; it is parsed here, by the grader's own Python.
"""

from __future__ import annotations

import ast
import builtins
import textwrap
from dataclasses import dataclass, field

DEPTH = 3  # levels of the notebook's own functions followed from the one checked
MAX_FUNCTIONS = 16


@dataclass
class Code:
    """The syntax trees of a function and of the notebook functions it calls, by name."""

    trees: dict[str, ast.AST] = field(default_factory=dict)

    def _nodes(self):
        for tree in self.trees.values():
            yield from ast.walk(tree)

    def uses(self, name: str) -> bool:
        """Whether the code refers to `name` as a name or an attribute (tf.GradientTape, GradientTape)."""
        return any(isinstance(node, ast.Name) and node.id == name or
                   isinstance(node, ast.Attribute) and node.attr == name for node in self._nodes())

    def calls(self, name: str) -> list[ast.Call]:
        """Every call of `name(...)` or `something.name(...)` in the code."""
        return [node for node in self._nodes() if isinstance(node, ast.Call) and called_name(node) == name]

    def passes(self, method: str, keyword: str) -> bool:
        """Whether some call of `method` passes `keyword=` a value that is not empty (None, [], ())."""
        for call in self.calls(method):
            for given in call.keywords:
                if given.arg == keyword and not is_empty(given.value):
                    return True
        return False


def called_name(call: ast.Call) -> str | None:
    function = call.func
    return function.id if isinstance(function, ast.Name) else function.attr if isinstance(function, ast.Attribute) else None


def is_empty(node: ast.AST) -> bool:
    return (isinstance(node, ast.Constant) and node.value is None or
            isinstance(node, (ast.List, ast.Tuple, ast.Set)) and not node.elts)


def parse(source: str) -> ast.AST | None:
    try:
        return ast.parse(textwrap.dedent(source))
    except (SyntaxError, ValueError):
        return None


def read(function: str, source_of) -> Code:
    """The Code of `function` and of what it calls; `source_of(name)` gives a function's text or None."""
    code = Code()
    level = [function]
    for _ in range(DEPTH):
        following = []
        for name in level:
            if name in code.trees or hasattr(builtins, name) or len(code.trees) >= MAX_FUNCTIONS:
                continue
            source = source_of(name)
            tree = parse(source) if isinstance(source, str) else None
            if tree is None:
                continue
            code.trees[name] = tree
            following += [called_name(node) for node in ast.walk(tree)
                          if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)]
        level = [name for name in following if name and name not in code.trees]
    return code
