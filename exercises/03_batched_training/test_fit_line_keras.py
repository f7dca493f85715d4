import pytest
from minibatch import check_converges, check_floats, check_one_batch, line

from autograder.bridge import Batches


@pytest.mark.points(6)
def test_one_batch(submission, rng):
    """fit_line_keras: one batch gives exactly one SGD step from (0, 0)"""
    check_one_batch(submission, "fit_line_keras", rng)


@pytest.mark.points(6)
def test_converges(submission, rng, margins):
    """fit_line_keras: converges near least squares on hidden data"""
    check_converges(submission, "fit_line_keras", rng, margins)


@pytest.mark.points(5)
def test_keras_optimizer(submission, rng):
    """fit_line_keras: updates the variables with a Keras SGD optimizer's apply_gradients"""
    submission.call("fit_line_keras", Batches([line(rng, 16)]))  # a method earns points only in code that runs
    code = submission.code("fit_line_keras")
    assert code.calls("SGD") and code.calls("apply_gradients"), \
        "update a and b with optimizer.apply_gradients(zip(gradients, [a, b])), the optimizer a keras.optimizers.SGD"


@pytest.mark.points(3)
def test_floats(submission, rng):
    """fit_line_keras: returns two Python floats"""
    check_floats(submission, "fit_line_keras", rng)
