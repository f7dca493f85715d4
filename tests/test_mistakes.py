"""Fairness: a typical mistake loses exactly the checks meant for it and keeps every other point.

Three or more per assignment (02's fourth, the lecture's update of a alone, is in test_grading.py).
"""

import pytest

from autograder import notebooks, runner
from test_sandbox import needs_bwrap

pytestmark = [pytest.mark.slow, needs_bwrap]

# (assignment, grade_id of the edited solution cell, code replaced, replacement, the checks that must fail)
MISTAKES = {
    "a float where an int32 is asked": (
        "01_tensors", "make_constants", "a = tf.constant(3, dtype=tf.int32)", "a = tf.constant(3.0)",
        {"make_constants: a is the int32 scalar 3"}),
    "the lecture's random initial b": (
        "02_gradient_tape", "fit_line", "b = tf.Variable(0.0)", "b = tf.Variable(np.random.randn(), dtype=tf.float32)",
        {"fit_line: with epochs=1, equals one analytic step from (0, 0)"}),
    "noise drawn with the variance as its std": (
        "02_gradient_tape", "make_line_data", "rng.normal(0.0, noise, size=n)", "rng.normal(0.0, noise**2, size=n)",
        {"make_line_data: y lies on a_true + b_true*x with Gaussian noise of std noise"}),
    "fit_line returns the variables, not floats": (
        "02_gradient_tape", "fit_line", "return float(a.numpy()), float(b.numpy())", "return a, b",
        {"fit_line: returns two Python floats"}),
    "a fast step that is not compiled": (
        "03_batched_training", "make_fast_step", "    @tf.function\n", "",
        {"make_fast_step: returns a tf.function"}),
    "a small shuffle buffer": (
        "03_batched_training", "make_dataset", ".shuffle(int(x.shape[0]))", ".shuffle(4)",
        {"make_dataset: shuffles over the whole set, not a small buffer"}),
    "a forward pass that forgets the activations": (
        "04_keras_models", "manual_predict", "        h = np.asarray(layer.activation(h))\n", "",
        {"manual_predict: equals the model's prediction on hidden models and inputs",
         "manual_predict: applies each layer's own activation, with or without a bias"}),
    "the square's half-side taken as its side": (
        "05_train_and_save", "make_square_data", "np.abs(x - 0.5) < HALF_SIDE", "np.abs(x - 0.5) < HALF_SIDE / 2",
        {"make_square_data: y is 1 inside the centred square of half-side 1/√8, else 0"}),
    "a model compiled without the accuracy metric": (
        "05_train_and_save", "build_and_compile", 'metrics=["accuracy"]', "metrics=[]",
        {"build_and_compile: reports the accuracy metric"}),
    "training without a validation split": (
        "05_train_and_save", "train_classifier", "validation_data=val, ", "",
        {"train_classifier: trains with a validation split"}),
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
    "callbacks only in a comment": (
        "05_train_and_save", "train_classifier", "callbacks=[calm_down],", "# callbacks=[calm_down],\n",
        {"train_classifier: passes at least one callback to fit"}),
    "a closed-form fit_line with tf.GradientTape in a comment": (
        "02_gradient_tape", "fit_line", "    for _ in range(epochs):\n        train_step(a, b, x, y, lr)\n",
        "    # with tf.GradientTape() as tape: train_step(a, b, x, y, lr)\n"
        "    slope, intercept = np.polyfit(x.numpy(), y.numpy(), 1)\n    a.assign(intercept); b.assign(slope)\n",
        {"fit_line: matches least squares on hidden data", "fit_line: with epochs=1, equals one analytic step from (0, 0)",
         "fit_line: trains with tf.GradientTape", "fit_line: returns two Python floats"}),
    "validating on x_test from an illustration cell (works in Jupyter, so it keeps every point)": (
        "05_train_and_save", "train_classifier", "validation_data=val", "validation_data=(x_test[:200], y_test[:200])",
        set()),
    "a Keras SGD left at its default learning rate": (
        "03_batched_training", "fit_line_keras", "keras.optimizers.SGD(learning_rate=lr)", "keras.optimizers.SGD()",
        {"fit_line_keras: one batch gives exactly one SGD step from (0, 0)",
         "fit_line_keras: converges near least squares on hidden data"}),
    "fit_line_keras updating by hand instead of through the optimizer": (
        "03_batched_training", "fit_line_keras", "optimizer.apply_gradients(zip(gradients, [a, b]))",
        "a.assign_sub(lr * gradients[0])\n        b.assign_sub(lr * gradients[1])",
        {"fit_line_keras: updates the variables with a Keras SGD optimizer's apply_gradients"}),
    "a .keras file instead of a SavedModel": (
        "05_train_and_save", "export_savedmodel", "model.export(path, verbose=False)", "model.save(path + '.keras')",
        {"export_savedmodel: writes a SavedModel folder",
         "export_savedmodel: its serve signature, loaded with tf.saved_model.load, predicts as the model"}),
    "exporting a fresh model instead of the one given": (
        "05_train_and_save", "export_savedmodel", "model.export(path, verbose=False)",
        "build_and_compile().export(path, verbose=False)",
        {"export_savedmodel: its serve signature, loaded with tf.saved_model.load, predicts as the model"}),
    "a Sequential where the functional API is asked": (
        "04_keras_models", "build_functional_classifier", "    inputs = keras.Input((2,))\n",
        "    return build_classifier(hidden)\n    inputs = keras.Input((2,))\n",
        {"build_functional_classifier: a functional keras.Model, not a Sequential"}),
    "functional hidden layers without their relu": (
        "04_keras_models", "build_functional_classifier", 'h = keras.layers.Dense(units, activation="relu")(h)',
        "h = keras.layers.Dense(units)(h)",
        {"build_functional_classifier: relu hidden layers, one sigmoid output unit, Input((2,))",
         "build_functional_classifier: predicts as build_classifier given the same weights"}),
    "a VGG16 base left trainable": (
        "04_keras_models", "build_transfer_model", "    base.trainable = False\n", "",
        {"build_transfer_model: the VGG16 base's 14,714,688 parameters are all frozen",
         "build_transfer_model: the trainable parameters are exactly the head's, for hidden n_classes"}),
    "a sigmoid head on K classes": (
        "04_keras_models", "build_transfer_model", 'Dense(n_classes, activation="softmax")',
        'Dense(n_classes, activation="sigmoid")',
        {"build_transfer_model: one probability row per image, for hidden input shapes"}),
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
