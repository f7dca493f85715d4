"""Method checks read the code's syntax tree: comments and strings are not code; called helpers are."""

from autograder import structure

NOTEBOOK = {
    "stub": '''def fit_line(x, y):
    """Train with tf.GradientTape."""
    # with tf.GradientTape() as tape:
    s = "tf.GradientTape"
    raise NotImplementedError()
''',
    "direct": '''def fit_line(x, y):
    with tf.GradientTape() as tape:
        loss = mse(a, b, x, y)
''',
    "through_helper": '''def fit_line(x, y):
    for _ in range(3):
        step(x, y)
''',
    "step": '''def step(x, y):
    return inner(x)
''',
    "inner": '''def inner(x):
    with GradientTape() as tape:
        pass
''',
    "indented": '''    def fit_line(x, y):
        model.fit(x, y, callbacks=[keras.callbacks.EarlyStopping()])
''',
    "empty_callbacks": '''def train(x, y):
    model.fit(x, y, callbacks=[])
    model.fit(x, y, callbacks=None)
    model.evaluate(x, y, callbacks=[cb])
''',
}


def source_of(asked: list[str]):
    def answer(name: str):
        asked.append(name)
        return NOTEBOOK.get(name)
    return answer


def test_comments_strings_and_docstrings_are_not_code():
    assert not structure.read("stub", source_of([])).uses("GradientTape")


def test_a_name_or_an_attribute_in_code_counts():
    assert structure.read("direct", source_of([])).uses("GradientTape")


def test_the_notebook_functions_it_calls_are_read_and_builtins_never_asked_for():
    asked = []
    code = structure.read("through_helper", source_of(asked))
    assert code.uses("GradientTape") and set(code.trees) == {"through_helper", "step", "inner"}
    assert "range" not in asked


def test_keyword_arguments_that_are_empty_do_not_count():
    assert structure.read("indented", source_of([])).passes("fit", "callbacks")
    code = structure.read("empty_callbacks", source_of([]))
    assert not code.passes("fit", "callbacks") and code.passes("evaluate", "callbacks")


def test_unreadable_or_missing_source_reads_as_no_code():
    assert structure.read("missing", source_of([])).trees == {}
    assert structure.read("x", lambda name: "def broken(:\n").trees == {}
