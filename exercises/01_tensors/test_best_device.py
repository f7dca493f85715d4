import pytest


@pytest.mark.points(10)
def test_best_device(submission, has_gpu):
    """best_device: names the GPU exactly when the machine has one"""
    name = submission.call("best_device").value
    assert name in ("/GPU:0", "/CPU:0"), 'best_device should return "/GPU:0" or "/CPU:0"'
    expected = "/GPU:0" if has_gpu else "/CPU:0"
    assert name == expected, f"this grading machine {'has' if has_gpu else 'has no'} GPU: expected {expected}"
