import numpy as np
import pytest
from planar_data import square_data

from autograder.bridge import History, Model

TRAINING_POINTS = 512  # as in the lecture
FULL_MARKS, ZERO_MARKS = 0.95, 0.80
TIME_LIMIT = 60.0  # seconds of training for full points: the reference needs about 20 on two cores
TIME_CUTOFF = 90.0  # past TIME_LIMIT the accuracy points shrink linearly, to none here


@pytest.fixture(scope="module")
def trained(submission, grading_seed):
    rng = np.random.default_rng([grading_seed, 5005])
    x, y = square_data(rng, TRAINING_POINTS)
    answer = submission.call("train_classifier", x, y)
    value = answer.value
    assert isinstance(value, tuple) and len(value) == 2, "train_classifier should return (model, history)"
    model, history = value
    assert isinstance(model, Model), "the first value should be the trained Keras model"
    return answer, model, history


@pytest.mark.points(30)
def test_accuracy(trained, grading_seed, credit, margins):
    """train_classifier: accuracy on a hidden test set"""
    answer, model, _ = trained
    margins("training seconds", answer.seconds, TIME_LIMIT)
    assert answer.seconds < TIME_CUTOFF, f"training took {answer.seconds:.0f} s; it must end within {TIME_CUTOFF:.0f} s"
    x_test, y_test = square_data(np.random.default_rng([grading_seed, 5006]), 20_000)
    p = model.load().predict(x_test, verbose=0, batch_size=4096)
    assert np.shape(p) == (len(x_test), 1), "the model should give one probability per point"
    accuracy = float(np.mean((p[:, 0] > 0.5) == y_test))
    margins("test accuracy", accuracy, FULL_MARKS, higher_is_better=True)
    fraction = min(1.0, (accuracy - ZERO_MARKS) / (FULL_MARKS - ZERO_MARKS))
    slowness = min(1.0, max(0.0, (TIME_CUTOFF - answer.seconds) / (TIME_CUTOFF - TIME_LIMIT)))
    said = [f"test accuracy {accuracy:.3f}: full marks from {FULL_MARKS}, none below {ZERO_MARKS}"] if fraction < 1 else []
    said += [f"training took {answer.seconds:.0f} s: full points up to {TIME_LIMIT:.0f} s, none at "
             f"{TIME_CUTOFF:.0f} s"] if slowness < 1 else []
    credit.award(fraction * slowness, "; ".join(said))


@pytest.mark.points(5)
def test_validation(trained):
    """train_classifier: trains with a validation split"""
    _, _, history = trained
    assert isinstance(history, History), "the second value should be what model.fit returns"
    assert history.history.get("val_loss"), "train with a validation split: the history should hold val_loss"


@pytest.mark.points(5)
def test_callback(submission, trained):
    """train_classifier: passes at least one callback to fit"""
    assert submission.code("train_classifier").passes("fit", "callbacks"), \
        "give fit at least one callback (callbacks=[...])"


@pytest.mark.points(10)
@pytest.mark.gpu
def test_gpu(gpu, trained):
    """train_classifier: the model's variables live on GPU:0 when the machine has a GPU"""
    _, model, _ = trained
    assert model.devices and all(d.endswith("GPU:0") for d in model.devices), \
        "build and train under tf.device(best_device()) so that the weights live on the GPU"
