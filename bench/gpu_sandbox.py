"""The GPU inside a kernel's sandbox, built both ways, without TensorFlow: for a machine with an NVIDIA GPU.

The device machines have no TensorFlow and reach no package registry, so this needs nothing but
Python's standard library, the repository and root: it runs a CUDA driver probe (libcuda through
ctypes: cuInit, the device count, a context on device 0) in the sandbox a kernel gets, started by
bubblewrap where it is installed and forked from a zygote (forksandbox), and prints one line each.
The zygote is started as `python -P` in `/`, so the repository must be importable from anywhere
(a .pth file in site-packages does it):

    python3 bench/gpu_sandbox.py
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from autograder import forksandbox  # noqa: E402
from autograder.sandbox import Sandbox  # noqa: E402

PROBE = """import ctypes
cuda = ctypes.CDLL("libcuda.so.1")
count, device, context = ctypes.c_int(), ctypes.c_int(), ctypes.c_void_p()
assert cuda.cuInit(0) == 0, "cuInit failed"
assert cuda.cuDeviceGetCount(ctypes.byref(count)) == 0
assert cuda.cuDeviceGet(ctypes.byref(device), 0) == 0
assert cuda.cuCtxCreate_v2(ctypes.byref(context), 0, device) == 0, "no context on device 0"
print(count.value, "device(s), a context on device 0")
"""


def main() -> int:
    print("forked sandbox available here:", forksandbox.available())
    failed = 0
    for name, warm in (("bubblewrap", None), ("forked", ())):
        if warm is None and shutil.which("bwrap") is None:
            print(f"{name}: skipped, bwrap is not installed")
            continue
        with tempfile.TemporaryDirectory() as folder:
            sandbox = Sandbox(scratch=Path(folder) / "scratch", runtime=Path(folder) / "run", enabled=False, warm=warm)
            sandbox.enabled = True  # without asking for bwrap, which the forked way does not use
            try:
                done = sandbox.run(["-c", PROBE], 120, 2**30)
                said = f"exit {done.returncode}: {done.stdout.strip() or done.stderr.strip()[-500:]}"
            except OSError as err:  # the zygote could not start
                done, said = None, f"could not run: {err}"
        print(f"{name}: {said}")
        failed += done is None or done.returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
