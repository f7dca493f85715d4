import numpy as np
import pytest

from autograder.bridge import Tensor


@pytest.mark.points(10)
def test_values(submission, rng):
    """on_device: holds the values given"""
    values = rng.normal(size=int(rng.integers(3, 9))).astype(np.float32)
    result = submission.call("on_device", values, "/CPU:0").value
    assert isinstance(result, Tensor), "on_device should return a tf.Tensor"
    assert np.allclose(result.value, values), "the tensor should hold the values given"
    assert result.device.endswith("CPU:0"), "asked for /CPU:0, the tensor should live on the CPU"


@pytest.mark.points(10)
@pytest.mark.gpu
def test_gpu(gpu, submission):
    """on_device: lives on the GPU when the grading machine has one"""
    device = submission.call("best_device").value
    result = submission.call("on_device", [1.0, 2.0], device).value
    assert isinstance(result, Tensor), "on_device should return a tf.Tensor"
    assert result.device.endswith("GPU:0"), "on_device(values, best_device()) should live on GPU:0"
