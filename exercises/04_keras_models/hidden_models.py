"""Hidden models for the Keras checks: built here, sent to the kernel as .keras files."""

import numpy as np


def dense_stack(rng, n_inputs, widths, activations=None, biases=None):
    """A Sequential stack of Dense layers with random weights (random biases too, so a forgotten bias shows)."""
    import keras

    layers = [keras.Input((n_inputs,))]
    for i, units in enumerate(widths):
        layers.append(keras.layers.Dense(units, activation=(activations or [None] * len(widths))[i],
                                         use_bias=(biases or [True] * len(widths))[i]))
    model = keras.Sequential(layers)
    model.set_weights([rng.normal(size=w.shape).astype(np.float32) for w in model.get_weights()])
    return model
