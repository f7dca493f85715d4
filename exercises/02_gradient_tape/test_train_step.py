import numpy as np
import pytest
from regression_data import analytic_step

from autograder.bridge import Tensor, Variable, number


@pytest.fixture
def step(submission, line, rng):
    """One call of train_step from a hidden starting point; returns (answer, expected)."""
    x, y = line
    a0, b0, lr = float(rng.uniform(-1, 1)), float(rng.uniform(-1, 1)), float(rng.uniform(0.05, 0.4))
    answer = submission.call("train_step", Variable(np.float32(a0), "float32", ""), Variable(np.float32(b0), "float32", ""),
                             Tensor(x, "float32", ""), Tensor(y, "float32", ""), lr)
    return answer, analytic_step(np.float32(a0), np.float32(b0), x, y, lr), (a0, b0)


def moved(answer, index):
    after = answer.args_after[index]
    assert isinstance(after, Variable), "train_step should update the variables a and b in place"
    return number(after, "the variable after the step")


@pytest.mark.points(8)
def test_returns_loss_before_step(step):
    """train_step: returns the loss before the step"""
    answer, (loss, _, _), _ = step
    value = number(answer.value, "train_step's result, the loss,")
    assert np.isclose(value, loss, rtol=1e-4), "return the loss computed before the variables change"


@pytest.mark.points(11)
def test_updates_a(step):
    """train_step: moves a by lr·mean(2(a+bx−y))"""
    answer, (_, a1, _), (a0, _) = step
    a = moved(answer, 0)
    assert a != np.float32(a0), "a should move by lr·mean(2(a+bx−y)); it did not change"
    assert np.isclose(a, a1, rtol=1e-4, atol=1e-6), "a should move by lr·mean(2(a+bx−y)), the gradient of the MSE"


@pytest.mark.points(11)
def test_updates_b(step):
    """train_step: moves b by lr·mean(2(a+bx−y)x)"""
    answer, (_, _, b1), (_, b0) = step
    b = moved(answer, 1)
    assert b != np.float32(b0), "b should move by lr·mean(2(a+bx−y)x); it did not change"
    assert np.isclose(b, b1, rtol=1e-4, atol=1e-6), \
        "b should move by lr·mean(2(a+bx−y)x), with both gradients taken before either update"
