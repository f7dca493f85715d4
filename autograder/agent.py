"""Kernel-side half of the bridge: calls a student's function on data and writes the result as data.

This file is never imported by the grader. Its text is executed inside the sandboxed kernel
after the notebook, as one cell; it reads requests that the check process wrote to the scratch
folder and answers with JSON, `.npy` files (no pickle) and Keras model files. Nothing it writes
is trusted: the check process validates every answer.
"""


def _autograder_agent():
    import inspect
    import json
    import math
    import os
    import time
    import traceback

    import numpy as np

    handles = {}
    max_dataset_elements = 200_000

    def tf():
        import tensorflow

        return tensorflow

    class Writer:
        def __init__(self, folder):
            self.folder = folder
            self.count = 0

        def path(self, suffix):
            self.count += 1
            return os.path.join(self.folder, f"out{self.count}{suffix}")

        def array(self, value):
            array = np.asarray(value)
            if array.dtype == object:
                raise TypeError("an array of Python objects")
            path = self.path(".npy")
            np.save(path, array, allow_pickle=False)
            return os.path.basename(path)

    def encode(value, out, depth=0):
        if depth > 20:
            return {"unsupported": "structure nested too deeply"}
        if value is None or isinstance(value, (bool, str)):
            return {"json": value}
        if isinstance(value, int) and type(value) in (int, bool):
            return {"json": value}
        if type(value) is float:
            return {"json": value} if math.isfinite(value) else {"float": repr(value)}
        if isinstance(value, np.ndarray) or isinstance(value, np.generic):
            return {"array": out.array(value), "scalar": isinstance(value, np.generic)}
        module = type(value).__module__ or ""
        if module.startswith(("tensorflow", "keras")):
            return encode_tf(value, out, depth)
        if type(value) in (list, tuple):
            return {type(value).__name__: [encode(v, out, depth + 1) for v in value]}
        if type(value) is dict:
            if all(type(k) is str for k in value):
                return {"dict": {k: encode(v, out, depth + 1) for k, v in value.items()}}
            return {"unsupported": "dict with keys that are not strings"}
        if callable(value):
            return handle(value)
        return {"unsupported": type(value).__name__}

    def encode_tf(value, out, depth):
        t = tf()
        import keras

        if isinstance(value, t.Variable):
            return {"variable": out.array(value.numpy()), "dtype": value.dtype.name,
                    "device": value.device}
        if isinstance(value, t.Tensor):
            return {"tensor": out.array(value.numpy()), "dtype": value.dtype.name, "device": value.device}
        if isinstance(value, keras.Model):
            path = out.path(".keras")
            value.save(path)
            devices = [w.value.device for w in value.weights]
            return {"model": os.path.basename(path), "devices": devices, "type": type(value).__name__}
        if isinstance(value, keras.callbacks.History):
            history = {k: [float(x) for x in v] for k, v in value.history.items()}
            return {"history": history}
        if isinstance(value, t.data.Dataset):
            elements = []
            for element in value.take(max_dataset_elements + 1):
                elements.append(element)
            truncated = len(elements) > max_dataset_elements
            return {"dataset": [encode(e, out, depth + 1) for e in elements[:max_dataset_elements]],
                    "truncated": truncated}
        if callable(value):
            return handle(value)
        return {"unsupported": type(value).__name__}

    def is_variable(value):
        return (type(value).__module__ or "").startswith("tensorflow") and isinstance(value, tf().Variable)

    def handle(function):
        handles[len(handles) + 1] = function
        is_tf_function = isinstance(function, tf().types.experimental.PolymorphicFunction)
        return {"handle": len(handles), "type": type(function).__name__, "tf_function": is_tf_function}

    def decode(spec, folder):
        kind = next(iter(spec))
        if kind == "json":
            return spec["json"]
        if kind == "array":
            array = np.load(os.path.join(folder, spec["array"]), allow_pickle=False)
            return array[()] if spec.get("scalar") else array
        if kind in ("tensor", "variable"):
            array = np.load(os.path.join(folder, spec[kind]), allow_pickle=False)
            t = tf()
            value = t.constant(array, dtype=spec.get("dtype") or None)
            return t.Variable(value) if kind == "variable" else value
        if kind in ("list", "tuple"):
            items = [decode(item, folder) for item in spec[kind]]
            return items if kind == "list" else tuple(items)
        if kind == "dict":
            return {k: decode(v, folder) for k, v in spec["dict"].items()}
        if kind == "model":
            import keras

            return keras.models.load_model(os.path.join(folder, spec["model"]), safe_mode=True)
        if kind == "batches":
            sizes = spec["batches"]["sizes"]
            parts = [np.split(decode(part, folder), np.cumsum(sizes)[:-1]) for part in spec["batches"]["parts"]]
            batches = list(zip(*parts))
            t = tf()
            if len(batches) == 1:
                return t.data.Dataset.from_tensors(batches[0])
            signature = tuple(t.TensorSpec(shape=(None,) + tuple(part.shape[1:]), dtype=part.dtype)
                              for part in batches[0])
            return t.data.Dataset.from_generator(lambda: iter(batches), output_signature=signature)
        if kind == "path":
            return os.path.join(folder, spec["path"])
        raise ValueError(f"unknown argument kind {kind}")

    def call(folder):
        with open(os.path.join(folder, "request.json")) as f:
            request = json.load(f)
        out = Writer(folder)
        answer = {}
        try:
            if request.get("handle"):
                function = handles[request["handle"]]
            else:
                function = globals().get(request["function"])
                if function is None:
                    raise NameError(f"name '{request['function']}' is not defined")
            if request.get("source"):  # only the notebook's own functions: a library's code is not the student's
                target = getattr(function, "python_function", function)
                if not inspect.isfunction(target) or target.__module__ != "__main__":
                    raise TypeError(f"{request['function']} is not a function defined in the notebook")
                answer["result"] = {"json": inspect.getsource(target)}
            else:
                args = [decode(a, folder) for a in request.get("args", [])]
                kwargs = {k: decode(v, folder) for k, v in request.get("kwargs", {}).items()}
                start = time.perf_counter()
                result = function(*args, **kwargs)
                answer["seconds"] = time.perf_counter() - start
        except BaseException as error:  # the student's code may raise anything, SystemExit included
            frames = traceback.extract_tb(error.__traceback__)
            answer = {"error": {"type": type(error).__name__, "message": str(error)[:2000],
                                "line": frames[-1].lineno if frames else None,
                                "function": frames[-1].name if len(frames) > 1 else None}}  # frame 0: this agent
        if "seconds" in answer:
            try:  # what the function returned may itself misbehave when read
                answer["result"] = encode(result, out)
                answer["same_as_arg"] = next((i for i, a in enumerate(args) if a is result), None)
                answer["args_after"] = [encode(a, out) if is_variable(a) else None for a in args]
            except BaseException as error:
                answer = {"unreadable": f"{type(error).__name__}: {error}"[:300]}
        with open(os.path.join(folder, "response.json"), "w") as f:
            json.dump(answer, f)

    return call


__autograder_call__ = _autograder_agent()
del _autograder_agent
