import numpy as np
import pytest
from minibatch import analytic_step, line

from autograder.bridge import Handle, Tensor, Variable, number


def step_once(submission, lr, a0, b0, x, y):
    step = submission.call("make_fast_step", lr).value
    assert isinstance(step, Handle), "make_fast_step should return a function"
    answer = submission.call_handle(step, Variable(np.float32(a0), "float32", ""), Variable(np.float32(b0), "float32", ""),
                                    Tensor(x, "float32", ""), Tensor(y, "float32", ""))
    after = answer.args_after
    assert isinstance(after[0], Variable) and isinstance(after[1], Variable), "the step should update a and b in place"
    return step, answer.value, float(after[0].value), float(after[1].value)


@pytest.mark.points(8)
def test_is_tf_function(submission):
    """make_fast_step: returns a tf.function"""
    step = submission.call("make_fast_step", 0.1).value
    assert isinstance(step, Handle) and step.tf_function, "decorate the step with @tf.function and return it"


@pytest.mark.points(10)
def test_same_update_as_eager(submission, rng):
    """make_fast_step: makes the same update as the eager step and returns the loss before it"""
    x, y = line(rng, int(rng.integers(20, 60)))
    a0, b0, lr = float(rng.uniform(-1, 1)), float(rng.uniform(-1, 1)), float(rng.uniform(0.05, 0.4))
    _, loss, a, b = step_once(submission, lr, a0, b0, x, y)
    expected_loss, a1, b1 = analytic_step(np.float32(a0), np.float32(b0), x, y, lr)
    assert np.isclose(a, a1, rtol=1e-4, atol=1e-6) and np.isclose(b, b1, rtol=1e-4, atol=1e-6), \
        "the compiled step should move a and b exactly as one gradient-descent step does"
    assert np.isclose(number(loss, "the step's result, the loss,"), expected_loss, rtol=1e-4), "return the loss before the step"


@pytest.mark.points(7)
def test_learning_rate(submission, rng):
    """make_fast_step: uses the learning rate it was made with"""
    x, y = line(rng, 30)
    moves = []
    for lr in (0.05, 0.3):
        _, _, a, b = step_once(submission, lr, 0.0, 0.0, x, y)
        moves.append(np.hypot(a, b))
    assert np.isclose(moves[1] / moves[0], 6.0, rtol=1e-3), "a step with lr = 0.3 should move six times as far as with 0.05"
