import numpy as np
import pytest

from autograder.bridge import Model

VGG16_BASE = 14_714_688  # parameters of keras.applications.VGG16(include_top=False)


@pytest.fixture(scope="module")
def transfer(submission, grading_seed):
    """One model for hidden n_classes and a hidden image size (VGG16 takes 32 pixels and up)."""
    rng = np.random.default_rng([grading_seed, 4010])
    n_classes, side = int(rng.integers(2, 13)), int(rng.choice([32, 48, 64, 80]))
    answer = submission.call("build_transfer_model", n_classes, (side, side, 3)).value
    assert isinstance(answer, Model), "build_transfer_model should return a Keras model"
    model = answer.load()
    frozen = sum(int(np.prod(w.shape)) for w in model.non_trainable_weights)
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    return model, n_classes, side, frozen, trainable


@pytest.mark.points(4)
def test_base_is_frozen(transfer):
    """build_transfer_model: the VGG16 base's 14,714,688 parameters are all frozen"""
    _, _, _, frozen, _ = transfer
    assert frozen == VGG16_BASE, \
        "a VGG16(include_top=False, weights=None) base with base.trainable = False freezes exactly its 14,714,688 parameters"


@pytest.mark.points(3)
def test_only_the_head_trains(transfer):
    """build_transfer_model: the trainable parameters are exactly the head's, for hidden n_classes"""
    _, n_classes, _, _, trainable = transfer
    assert trainable == 512 * n_classes + n_classes, \
        "only the Dense(n_classes) head on the 512 pooled features should be trainable"


@pytest.mark.points(3)
def test_probability_rows(transfer, rng):
    """build_transfer_model: one probability row per image, for hidden input shapes"""
    model, n_classes, side, _, _ = transfer
    assert tuple(model.input_shape) == (None, side, side, 3), "the model should take images of the input_shape given"
    p = model.predict(rng.uniform(0, 255, size=(3, side, side, 3)).astype(np.float32), verbose=0)
    assert np.shape(p) == (3, n_classes), "the model should give one row of n_classes values per image"
    assert np.all(p >= 0) and np.allclose(np.sum(p, axis=1), 1, atol=1e-4), \
        "each row should be probabilities that sum to 1: a softmax head"
