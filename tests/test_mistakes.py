"""Fairness: a typical mistake loses exactly the checks meant for it and keeps every other point."""

import pytest

from autograder import notebooks, runner
from test_sandbox import needs_bwrap

pytestmark = [pytest.mark.slow, needs_bwrap]

# (assignment, grade_id of the edited solution cell, code replaced, replacement, the checks that must fail)
MISTAKES = {
    "sample standard deviation": (
        "01_tensors", "standardize", "std = tf.math.reduce_std(t, axis=0)",
        "std = tf.math.reduce_std(t, axis=0) * (tf.cast(tf.shape(t)[0], tf.float32) / tf.cast(tf.shape(t)[0] - 1, tf.float32)) ** 0.5",
        {"standardize: each column has mean 0 and population std 1"}),
    "a new variable instead of an update in place": (
        "01_tensors", "increment", "v.assign_add(tf.broadcast_to(tf.cast(delta, v.dtype), v.shape))\n    return v",
        "return tf.Variable(v + tf.cast(delta, v.dtype))",
        {"increment: adds a number to every element, in place", "increment: adds an array element by element, in place",
         "increment: returns the very same Variable"}),
    "a dataset shuffled once only": (
        "03_batched_training", "make_dataset", ".shuffle(int(x.shape[0]))",
        ".shuffle(int(x.shape[0]), reshuffle_each_iteration=False)",
        {"make_dataset: shuffles, and draws a new order every epoch"}),
    "a softmax that overflows": (
        "04_keras_models", "activations", "e = np.exp(x - np.max(x, axis=-1, keepdims=True))", "e = np.exp(x)",
        {"softmax: stays finite at inputs of ±1000, and so does sigmoid"}),
    "a dense layer's bias forgotten in a count": (
        "04_keras_models", "dense_param_count", "return int(n_inputs * units + (units if use_bias else 0))",
        "return int(n_inputs * units)",
        {"dense_param_count: weights and biases, on hidden sizes"}),
}


@pytest.mark.parametrize("mistake", MISTAKES)
def test_a_mistake_loses_exactly_its_checks(course, tmp_path, mistake):
    assignment_id, grade_id, old, new, failing = MISTAKES[mistake]
    nb = notebooks.read(course.assignment(assignment_id).path("source"))
    cell = next(c for c in nb.cells if notebooks.nbgrader_meta(c).get("grade_id") == grade_id)
    assert old in cell.source
    cell.source = cell.source.replace(old, new)
    path = tmp_path / "mistake.ipynb"
    notebooks.write(nb, path)
    results = runner.grade(course, assignment_id, path)
    failed = {t.name for t in results.tests if t.status == "failed"}
    assert failed == failing
    assert results.score == 100 - sum(t.max_score for t in results.tests if t.name in failing)
    assert all(t.output for t in results.tests if t.status == "failed"), "every lost point says why"
