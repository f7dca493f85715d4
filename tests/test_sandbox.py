"""The sandbox itself, built both ways (real bubblewrap, and forked from a warm zygote): what code inside
can and cannot see or do."""

import hashlib
import os
import shutil
import socket
import subprocess
import threading
import uuid

import pytest

from autograder import forksandbox, forkserver
from autograder.sandbox import INSTALL_HINT, Sandbox, SandboxUnavailable

needs_bwrap = pytest.mark.skipif(
    shutil.which("bwrap") is None and not os.environ.get("CI"),
    reason="bubblewrap is not installed here (CI installs it)",
)
BUILDERS = [pytest.param(None, id="bubblewrap"),
            pytest.param((), id="forked", marks=pytest.mark.skipif(
                not forksandbox.available() and not os.environ.get("CI"), reason="forking into a sandbox needs root"))]


@pytest.fixture(params=BUILDERS)
def sandbox(tmp_path, request):
    return Sandbox(scratch=tmp_path / "scratch", runtime=tmp_path / "run", warm=request.param)


def inside(sandbox, code: str, max_file_bytes: int = 2**30) -> subprocess.CompletedProcess:
    """`python -c code` in the sandbox, as the grader starts a kernel there: under bubblewrap, or forked."""
    return sandbox.run(["-c", code], 60, max_file_bytes)


@needs_bwrap
def test_python_and_numpy_work_inside(sandbox):
    done = inside(sandbox, "import numpy, os; print(numpy.ones(3).sum(), os.getcwd())")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["3.0", str(sandbox.scratch)]


@needs_bwrap
def test_the_project_and_other_folders_are_invisible(sandbox, course, tmp_path):
    (tmp_path / "other-student.ipynb").write_text("{}")
    code = (
        "import os\n"
        f"for path in [{str(course.root / 'exercises')!r}, {str(course.root / 'source')!r}, "
        f"{str(course.root / 'nbgrader_config.py')!r}, {str(tmp_path / 'other-student.ipynb')!r}]:\n"
        "    print(os.path.exists(path))"
    )
    done = inside(sandbox, code)
    assert done.stdout.split() == ["False"] * 4, done.stderr


@needs_bwrap
def test_writes_land_only_in_scratch(sandbox, course, tmp_path):
    code = (
        "import pathlib\n"
        "results = []\n"
        f"for path in ['/usr/pwned', {str(course.root / 'pwned')!r}, {str(tmp_path / 'pwned')!r}, '/tmp/pwned', 'mine.txt']:\n"
        "    try:\n"
        "        pathlib.Path(path).write_text('x'); results.append('wrote')\n"
        "    except OSError:\n"
        "        results.append('denied')\n"
        "print(*results)"
    )
    done = inside(sandbox, code)
    results = done.stdout.split()
    assert results[0] == "denied", done.stderr
    if not course.root.is_relative_to("/tmp"):
        # A checkout under /tmp sits in the sandbox's private in-memory /tmp, where a write lands
        # nowhere on the host; elsewhere the folders bwrap made are read-only.
        assert results[1] == "denied", done.stderr
    assert not (course.root / "pwned").exists() and not (tmp_path / "pwned").exists()
    assert not os.path.exists("/tmp/pwned"), "the sandbox's /tmp is its own"
    assert (sandbox.scratch / "mine.txt").read_text() == "x"


@needs_bwrap
def test_loopback_listener_receives_nothing(sandbox):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(3)
    port = listener.getsockname()[1]
    accepted = []
    waiter = threading.Thread(target=lambda: accepted.append(_accept(listener)))
    waiter.start()
    done = inside(sandbox, f"import socket\ntry:\n    socket.create_connection(('127.0.0.1', {port}), timeout=2)\n    print('connected')\n"
                           "except OSError as err:\n    print('refused')")
    waiter.join()
    listener.close()
    assert done.stdout.strip() == "refused", done.stderr
    assert accepted == [None], "the listener outside received a connection"


def _accept(listener):
    try:
        return listener.accept()
    except OSError:
        return None


@needs_bwrap
def test_no_capability_and_no_host_knob_is_left(sandbox):
    """The kernel runs as root: without capabilities, even in what it executes, and with /proc's knobs
    read-only (root needs no capability to write a core_pattern that the host would run)."""
    code = ("import subprocess\n"
            "print(open('/proc/self/status').read().split('CapEff:')[1].split()[0])\n"  # and after an exec:
            "print(subprocess.run(['grep', 'CapEff', '/proc/self/status'], capture_output=True, text=True).stdout.split()[1])\n"
            "for knob in ['/proc/sys/kernel/core_pattern', '/proc/sysrq-trigger']:\n"
            "    try:\n        open(knob, 'w').close()\n        print('writable')\n"
            "    except OSError:\n        print('refused')\n")
    done = inside(sandbox, code)
    assert done.stdout.split() == ["0000000000000000", "0000000000000000", "refused", "refused"], done.stderr


@needs_bwrap
def test_a_kernel_imports_from_its_working_folder(sandbox):
    """As in Jupyter, a notebook imports a module beside it: `''` is on a kernel's path, however it started
    (a forked kernel's launcher takes it off, and IPython puts it back unless Python ran with -P)."""
    from nbformat.v4 import new_code_cell, new_notebook

    from autograder.kernel import BoundedClient
    from autograder.sandbox import Limits

    nb = new_notebook(cells=[new_code_cell("open('beside.py', 'w').write('X = 41')\nimport beside\nprint(beside.X + 1)")])
    sandbox.warm = None if sandbox.warm is None else ("ipykernel.kernelapp",)
    BoundedClient(nb, sandbox, Limits()).execute()
    assert [output.get("text", output.get("evalue")) for output in nb.cells[0].outputs] == ["42\n"]


@needs_bwrap
def test_environment_is_cleared(sandbox, monkeypatch):
    monkeypatch.setenv("GITHUB_TOKEN", "secret-token")
    done = inside(sandbox, "import os; print(os.environ.get('GITHUB_TOKEN'))")
    assert done.stdout.strip() == "None"


@needs_bwrap
@pytest.mark.parametrize("enabled", [True, False], ids=["sandboxed", "unsandboxed"])
@pytest.mark.parametrize("warm", BUILDERS)
def test_tensorflow_gets_its_thread_budget_and_nothing_else_of_the_environment(tmp_path, monkeypatch, enabled, warm):
    monkeypatch.setenv("TF_NUM_INTRAOP_THREADS", "7")  # the grader's own: a sandbox with a budget sets its own
    sandbox = Sandbox(scratch=tmp_path / "s", runtime=tmp_path / "r", enabled=enabled, threads=1,
                      warm=warm if enabled else None)
    done = inside(sandbox, "import os; print([os.environ.get(v) for v in "
                           "('OMP_NUM_THREADS', 'TF_NUM_INTRAOP_THREADS', 'TF_NUM_INTEROP_THREADS')])")
    assert done.stdout.strip() == "['1', '1', '2']", done.stderr
    inherited = Sandbox(scratch=tmp_path / "s", runtime=tmp_path / "r", enabled=enabled)
    assert inherited.env() == {"TF_NUM_INTRAOP_THREADS": "7"}, "without a budget of its own, the grader's is passed on"


def test_missing_bubblewrap_is_refused_with_instructions(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(SandboxUnavailable, match="apt-get install bubblewrap"):
        Sandbox(scratch=tmp_path / "s", runtime=tmp_path / "r")
    assert "--no-sandbox" in INSTALL_HINT
    assert Sandbox(scratch=tmp_path / "s", runtime=tmp_path / "r", enabled=False).wrap(["x"]) == ["x"]


CUDA_PROBE = """import ctypes
cuda = ctypes.CDLL("libcuda.so.1")
count = ctypes.c_int()
assert cuda.cuInit(0) == 0, "cuInit failed"
assert cuda.cuDeviceGetCount(ctypes.byref(count)) == 0
print(count.value)
"""


@needs_bwrap
@pytest.mark.skipif(not os.path.exists("/dev/nvidiactl"), reason="no NVIDIA GPU on this machine")
def test_the_gpu_is_usable_inside(sandbox):
    """Where the grading machine has a GPU, the kernel in the sandbox can use it (the GPU checks depend on it)."""
    done = inside(sandbox, CUDA_PROBE)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) >= 1


@needs_bwrap
def test_file_sizes_are_capped_and_no_core_is_dumped(sandbox):
    code = ("import resource\n"
            "try:\n    with open('big', 'wb') as f:\n        f.write(b'x' * 8192)\n    print('wrote')\n"
            "except OSError as err:\n    print(err.errno)\n"
            "print(resource.getrlimit(resource.RLIMIT_CORE)[0])")
    done = inside(sandbox, code, max_file_bytes=4096)
    assert done.stdout.split() == ["27", "0"], done.stderr  # EFBIG: the file may not pass the cap


# Searches this process's writable memory for "SECRET-" and 32 hex digits whose hash is the one given:
# the code holds the hash, never the secret.
MEMORY_SCAN = """import hashlib, re
found = 0
with open("/proc/self/maps") as maps, open("/proc/self/mem", "rb", 0) as mem:
    for line in maps:
        fields = line.split()
        if fields[1].startswith("rw"):
            start, end = (int(x, 16) for x in fields[0].split("-"))
            try:
                mem.seek(start)
                chunk = mem.read(end - start)
            except OSError:
                continue
            found += sum(hashlib.sha256(m.group()).hexdigest() == {digest!r}
                         for m in re.finditer(rb"SECRET-[0-9a-f]{{32}}", chunk))
print(found)
"""


@needs_bwrap
@pytest.mark.skipif(not forksandbox.available() and not os.environ.get("CI"), reason="forking into a sandbox needs root")
def test_a_forked_kernel_finds_no_trace_of_what_the_zygote_was_asked_before(tmp_path):
    """A check's request passes through the zygote with the grader's environment; a kernel forked later
    starts as a copy of the zygote's memory and must not find it there (the secret lies past where the
    kernel's own, shorter request is read)."""
    sandbox = Sandbox(scratch=tmp_path / "scratch", runtime=tmp_path / "run", warm=())
    secret = f"SECRET-{uuid.uuid4().hex}"
    request = {**forksandbox.request(sandbox, ["-c", "pass"], 2**20, forksandbox.zygote_home() / "root"),
               "grader_environment": {"PATH": "/x" * 10_000, "GITHUB_TOKEN": secret}}
    devnull = os.open(os.devnull, os.O_WRONLY)
    earlier = forkserver.fork((), forksandbox.zygote_env(sandbox.env()), forksandbox.ENTRY, request, [devnull, devnull])
    assert earlier.wait(60) == 0
    earlier.close()
    os.close(devnull)
    scan = inside(sandbox, MEMORY_SCAN.format(digest=hashlib.sha256(secret.encode()).hexdigest()))
    assert scan.stdout.strip() == "0", scan.stderr


def test_a_folder_of_the_scratch_is_copied_out_without_following_a_link(tmp_path):
    """What the grader copies out of a scratch the kernel still runs in: folders and regular files only;
    a link (to a hidden check, say) is neither followed nor copied, and a linked folder is refused."""
    from autograder.sandbox import copy_folder, open_folder_inside

    scratch, secret = tmp_path / "scratch", tmp_path / "hidden-check.py"
    secret.write_text("secret")
    (scratch / "call" / "model" / "variables").mkdir(parents=True)
    (scratch / "call" / "model" / "saved_model.pb").write_bytes(b"graph")
    (scratch / "call" / "model" / "variables" / "data").write_bytes(b"x" * 10)
    (scratch / "call" / "served.npy").symlink_to(secret)
    os.mkfifo(scratch / "call" / "pipe")
    (scratch / "linked").symlink_to(tmp_path)
    source = open_folder_inside(scratch, scratch / "call")
    try:
        copy_folder(source, tmp_path / "copy", budget=100)
        with pytest.raises(OSError, match="disk budget"):
            copy_folder(source, tmp_path / "small", budget=12)
    finally:
        os.close(source)
    copied = sorted(str(p.relative_to(tmp_path / "copy")) for p in (tmp_path / "copy").rglob("*"))
    assert copied == ["model", "model/saved_model.pb", "model/variables", "model/variables/data"]
    for outside in (scratch / "linked", scratch / "call" / ".." / "..", tmp_path):
        with pytest.raises((OSError, ValueError)):
            os.close(open_folder_inside(scratch, outside))
