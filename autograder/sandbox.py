"""The sandbox a submission's kernel runs in: bubblewrap namespaces plus resource limits.

Inside: no network (not even loopback), its own PID namespace, a read-only view of the
system, the Python install and the venv, a private /tmp, and one writable scratch folder.
The project, the hidden checks, the gradebook and other submissions are simply not there.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

GiB = 1024**3
INSTALL_HINT = (
    "bubblewrap (bwrap) is not installed: install it (Debian/Ubuntu: `apt-get install bubblewrap`) "
    "or pass --no-sandbox to grade without isolation (only for trusted notebooks)"
)


class SandboxUnavailable(RuntimeError):
    """Raised when the sandbox was asked for and cannot be had."""


@dataclass(frozen=True)
class Limits:
    """What one submission may use: the one place for the defaults, which fit the five assignments on 2 cores.

    nbgrader_config.py (`c.Autograder.*`) and the command line override them (cli.LIMIT_SETTINGS).
    """

    cell_seconds: float = 120.0
    notebook_seconds: float = 600.0
    memory_bytes: int = 4 * GiB
    output_bytes: int = 1_000_000
    processes: int = 64
    disk_bytes: int = 1 * GiB  # in scratch, all files together; also the largest file anywhere
    checks_seconds: float = 900.0  # the hidden checks of one submission, all together
    threads: int = 0  # TensorFlow's and OpenMP's threads in one kernel and its checks; 0: the cores shared by the jobs


PROC_READ_ONLY = ("sys", "sysrq-trigger", "irq", "bus")  # writable by root without a capability otherwise
THREAD_VARIABLES = ("OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")


def thread_env(threads: int) -> dict[str, str]:
    """Keeps TensorFlow's compute pools (and OpenMP's, under oneDNN) to `threads` threads each.

    Two kernels that each take every core fight: their spinning threads cost CPU and win nothing.
    The inter-op pool keeps two threads at least: an op that blocks on another op could otherwise
    wait for ever on a pool of one.
    """
    return {"OMP_NUM_THREADS": str(threads), "TF_NUM_INTRAOP_THREADS": str(threads),
            "TF_NUM_INTEROP_THREADS": str(max(2, threads))}


@dataclass(frozen=True)
class Mount:
    """One entry of the sandbox's file system: what bubblewrap's option of the same name makes."""

    kind: str  # tmpfs, proc, dev, ro-bind, bind, dev-bind, symlink
    target: str
    source: str = ""  # what a bind shows, or where a symlink points
    size: int = 0  # a tmpfs's size in bytes

    def bwrap(self) -> list[str]:
        if self.kind == "tmpfs":
            return ["--size", str(self.size), "--tmpfs", self.target]
        if self.kind == "proc":  # the host's knobs read-only, even for root (bubblewrap leaves them writable)
            return ["--proc", self.target, *(arg for name in PROC_READ_ONLY
                                             for arg in ("--ro-bind-try", f"/proc/{name}", f"{self.target}/{name}"))]
        if self.kind == "dev":
            return ["--dev", self.target]
        if self.kind == "symlink":
            return ["--symlink", self.source, self.target]
        return [f"--{self.kind}", self.source, self.target]


@dataclass
class Sandbox:
    """A bubblewrap command line around a kernel, with a scratch folder and a runtime folder."""

    scratch: Path
    runtime: Path
    enabled: bool = True
    threads: int = 0  # 0: what this process was given (its THREAD_VARIABLES), if anything
    tmp_bytes: int = 512 * 1024**2  # the private /tmp lives in memory: keep it small
    warm: tuple[str, ...] | None = None  # fork the kernel from a zygote that imported these (forksandbox), else bwrap

    @staticmethod
    def require() -> None:
        """Refuse early, with instructions, where bubblewrap is missing."""
        if shutil.which("bwrap") is None:
            raise SandboxUnavailable(INSTALL_HINT)

    def __post_init__(self) -> None:
        if self.enabled:
            self.require()
        self.scratch.mkdir(parents=True, exist_ok=True)
        self.runtime.mkdir(parents=True, exist_ok=True)
        self.share_font_cache()

    def clear_scratch(self) -> None:
        """Empty the scratch folder for a fresh kernel (the font cache comes back)."""
        shutil.rmtree(self.scratch, ignore_errors=True)
        self.scratch.mkdir(parents=True)
        self.share_font_cache()

    def share_font_cache(self) -> None:
        """Give the kernel matplotlib's font list, so that it does not rebuild it for every submission."""
        host = Path(os.environ.get("MPLCONFIGDIR") or Path.home() / ".cache" / "matplotlib")
        target = self.scratch / ".matplotlib"
        target.mkdir(exist_ok=True)
        for fontlist in host.glob("fontlist-*.json"):
            shutil.copyfile(fontlist, target / fontlist.name)

    def python_dirs(self) -> list[Path]:
        """The interpreter's install and the venv: read-only inside the sandbox."""
        dirs = {Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve()}
        return sorted(d for d in dirs if not any(d != o and d.is_relative_to(o) for o in dirs))

    def env(self) -> dict[str, str]:
        """What the sandbox's processes get from the grader's environment: their thread budget only."""
        if self.threads:
            return thread_env(self.threads)
        return {name: os.environ[name] for name in THREAD_VARIABLES if name in os.environ}

    def mounts(self) -> list[Mount]:
        """What the sandbox's file system holds, in order (a later mount hides an earlier one)."""
        mounts = [Mount("tmpfs", "/tmp", size=self.tmp_bytes), Mount("proc", "/proc"), Mount("dev", "/dev"),
                  Mount("ro-bind", "/usr", "/usr"), Mount("ro-bind", "/etc", "/etc")]
        for name in ("lib", "lib64", "bin", "sbin"):
            target = Path("/") / name
            if target.is_symlink():
                mounts.append(Mount("symlink", str(target), str(target.readlink())))
            elif target.exists():
                mounts.append(Mount("ro-bind", str(target), str(target)))
        mounts += [Mount("ro-bind", str(folder), str(folder)) for folder in self.python_dirs()]
        mounts += [Mount("dev-bind", str(device), str(device))  # a GPU, where the grader has one
                   for device in sorted(Path("/dev").glob("nvidia*"))]
        return mounts + [Mount("bind", str(self.scratch), str(self.scratch)),
                         Mount("bind", str(self.runtime), str(self.runtime))]

    def environment(self) -> dict[str, str]:
        """The whole environment inside: nothing of the grader's (no secrets or tokens) but the thread budget."""
        return environment(self.scratch, self.env())

    def wrap(self, argv: list[str]) -> list[str]:
        """The bubblewrap command that runs argv inside the sandbox (only with its thread budget when disabled)."""
        if not self.enabled:
            budget = [f"{name}={value}" for name, value in self.env().items()]
            return ["env", *budget, *argv] if budget else argv
        args = ["bwrap", "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
                "--die-with-parent", "--cap-drop", "ALL"]  # run as root, bubblewrap would keep every capability
        for mount in self.mounts():
            args += mount.bwrap()
        args += ["--remount-ro", "/", "--chdir", str(self.scratch), "--clearenv"]  # bwrap's folders stay read-only
        for name, value in self.environment().items():
            args += ["--setenv", name, value]
        return args + ["--", *argv]

    def run(self, argv: list[str], seconds: float, max_file_bytes: int) -> subprocess.CompletedProcess:
        """`python ARGV` in this sandbox to its end, killed past `seconds` (returncode -9): under
        bubblewrap, or forked from the warm zygote where `warm` says so."""
        if self.warm is None or not self.enabled:
            command = with_file_limits(self.wrap([sys.executable, *argv]), max_file_bytes)
            try:
                return subprocess.run(command, capture_output=True, text=True, timeout=seconds)
            except subprocess.TimeoutExpired as late:
                return subprocess.CompletedProcess(command, -9, late.stdout or "", late.stderr or "")
        from . import forksandbox  # it builds on this module

        with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
            child = forksandbox.fork(self, argv, max_file_bytes, out.fileno(), err.fileno())
            try:
                if child.wait(seconds) is None:
                    child.kill()
                returncode = child.wait()
            finally:
                child.close()
            out.seek(0)
            err.seek(0)
            return subprocess.CompletedProcess(argv, returncode, out.read(), err.read())


def environment(home: Path, budget: dict[str, str]) -> dict[str, str]:
    """A sandboxed process's whole environment, with `home` its HOME and `budget` its thread budget."""
    return {
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "HOME": str(home),
        "TMPDIR": "/tmp",
        "MPLCONFIGDIR": str(home / ".matplotlib"),
        "PYTHONNOUSERSITE": "1",
        "PYTHONHASHSEED": "0",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        **budget,
    }


def open_folder_inside(root: Path, folder: Path) -> int:
    """A descriptor of `folder`, a folder below `root`, reached without following a link: code in the
    sandbox may swap any folder of its scratch for a link while the grader works on it."""
    parts = folder.relative_to(root).parts  # ValueError: not below root
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for part in parts:
            if part in ("..", "."):
                raise ValueError(f"{folder} is not plainly below {root}")
            below = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
            os.close(fd)
            fd = below
    except BaseException:
        os.close(fd)
        raise
    return fd


def copy_folder(source: int, target: Path, budget: int) -> int:
    """Copy the folder open at `source` to a new folder `target`: its folders and regular files, never a
    link or a special file, at most `budget` bytes (OSError past it); the bytes left."""
    target.mkdir()
    for entry in os.scandir(source):
        kind = os.stat(entry.name, dir_fd=source, follow_symlinks=False).st_mode
        if stat.S_ISDIR(kind):
            below = os.open(entry.name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=source)
            try:
                budget = copy_folder(below, target / entry.name, budget)
            finally:
                os.close(below)
        elif stat.S_ISREG(kind):
            fd = os.open(entry.name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=source)
            with os.fdopen(fd, "rb") as src:
                if not stat.S_ISREG(os.fstat(fd).st_mode):
                    continue  # swapped for something else since
                with open(target / entry.name, "xb") as dst:
                    budget = copy_file(src, dst, budget, target.name)
    return budget


def copy_file(src, dst, budget: int, where: str) -> int:
    """Copy src to dst within `budget` bytes (OSError past it); the bytes left."""
    while chunk := src.read(1 << 20):
        budget -= len(chunk)
        if budget < 0:
            raise OSError(f"more than the disk budget in {where}")
        dst.write(chunk)
    return budget


# Run as the sandbox's first process: no file may grow past the disk budget (a write fails with EFBIG;
# Python ignores SIGXFSZ) and a crash leaves no core dump in scratch. Then exec the sandbox.
RLIMITS = (
    "import os, resource, sys\n"
    "size = int(sys.argv[1])\n"
    "resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))\n"
    "resource.setrlimit(resource.RLIMIT_CORE, (0, 0))\n"
    "os.execvp(sys.argv[2], sys.argv[2:])\n"
)


def with_file_limits(argv: list[str], max_file_bytes: int) -> list[str]:
    """argv, started with a cap on file sizes and no core dumps."""
    return [sys.executable, "-I", "-c", RLIMITS, str(int(max_file_bytes)), *argv]
