"""The sandbox for a kernel forked from a warm zygote: bubblewrap's own steps, taken in the forked child.

bubblewrap can only exec a fresh program, which then pays Python's start and TensorFlow's import
again (about 3 s of CPU per kernel). A zygote (autograder.forkserver) that has imported ipykernel,
NumPy and TensorFlow once, and never runs student code, forks a child per kernel instead. The child
builds what `Sandbox.wrap` asks of bubblewrap, from the same `Sandbox.mounts()` and
`Sandbox.environment()`, before any student code runs:

1. new mount, PID, network, IPC, UTS and cgroup namespaces (unshare), then a fork: the next
   process is the namespace's init, as bubblewrap's is, and the kernel below it is PID 2;
2. a fresh root: a tmpfs holding the same binds, /proc (with /proc/sys and its kin read-only), a
   minimal /dev and a private /tmp; pivot_root into it, the host's root detached, `/` read-only;
3. loopback up in the empty network namespace; no file larger than the disk budget, no core dumps;
4. every capability dropped (bounding set too) and no_new_privs, as bubblewrap does for root with
   `--cap-drop ALL`; init made undumpable, so that the kernel cannot ptrace it;
5. only stdout and stderr kept open; the environment replaced; then `python ARGV` is run.

It needs root (as bubblewrap does when it runs without user namespaces, which is how CI and this
kit's machines run it) and a trial sandbox that runs (available()); elsewhere, or with
`--cold-kernels`, kernels start under bubblewrap. The zygote's own environment is
the sandbox's (no secrets of the grader's), and it dies with the grader.
"""

from __future__ import annotations

import builtins
import ctypes
import fcntl
import functools
import json
import os
import platform
import resource
import runpy
import socket
import struct
import subprocess
import sys
import tempfile
import traceback
from dataclasses import asdict
from pathlib import Path

from . import forkserver
from .forkserver import LIBC, die_with_parent
from .sandbox import PROC_READ_ONLY, Mount, Sandbox, environment

ENTRY = "autograder.forksandbox:run"
PRELOAD = ("ipykernel.kernelapp", "numpy", "autograder.forksandbox")
CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWPID, CLONE_NEWNET = (
    0x20000, 0x2000000, 0x4000000, 0x8000000, 0x20000000, 0x40000000)
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT, MS_BIND, MS_REC, MS_SLAVE = (
    1, 2, 4, 8, 32, 4096, 16384, 1 << 19)
MNT_DETACH = 2
PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 4, 24, 38, 47, 4
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41}.get(platform.machine())
DEVICES = ("null", "zero", "full", "random", "urandom", "tty")
DEV_BYTES = 64 * 1024**2  # /dev/shm's memory, which the watchdog does not see
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1


# `python -c pass` in a trial sandbox, through the same entry a zygote's child calls.
TRIAL = "import json, sys\nfrom autograder import forksandbox\nsys.exit(forksandbox.run(json.loads(sys.argv[1]), [1, 2]))"


@functools.cache
def available() -> bool:
    """Whether kernels can be forked into this sandbox here: Linux, root, and a trial sandbox that runs
    (a container may give root without the right to mount or unshare). Asked once per process."""
    if not (sys.platform == "linux" and os.geteuid() == 0 and SYS_PIVOT_ROOT is not None):
        return False
    with tempfile.TemporaryDirectory(prefix="ag-trial-") as folder:
        sandbox = Sandbox(scratch=Path(folder) / "scratch", runtime=Path(folder) / "run", enabled=False)
        (Path(folder) / "root").mkdir()
        trial = request(sandbox, ["-c", "pass"], 2**20, Path(folder) / "root")
        try:
            return subprocess.run([sys.executable, "-P", "-c", TRIAL, json.dumps(trial)], cwd="/",
                                  capture_output=True, timeout=60).returncode == 0
        except subprocess.TimeoutExpired:
            return False


def call(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    encode = lambda text: text.encode() if text is not None else None  # noqa: E731
    call(LIBC.mount(encode(source), encode(target), encode(fstype), ctypes.c_ulong(flags), encode(data)),
         f"mount {target}")


def mount_points_under(target: str) -> list[str]:
    """The mount points at or below target, from this mount namespace's table."""
    points = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = line.split()[4].encode().decode("unicode_escape")
        if point == target or point.startswith(target.rstrip("/") + "/"):
            points.append(point)
    return points


def bind(source: str, target: str, flags: int) -> None:
    """Bind source at target, then every mount below it with `flags` (read-only, nosuid, nodev)."""
    if os.path.isdir(source):
        os.makedirs(target, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        Path(target).touch()
    mount(source, target, None, MS_BIND | MS_REC)
    for point in mount_points_under(target):
        mount(None, point, None, MS_REMOUNT | MS_BIND | flags)


def make_dev(target: str) -> None:
    """A minimal /dev, as bubblewrap's --dev makes it."""
    os.makedirs(target, exist_ok=True)
    mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, f"mode=0755,size={DEV_BYTES}")  # /dev/shm is in it
    for name in DEVICES:
        bind(f"/dev/{name}", f"{target}/{name}", MS_NOSUID)
    os.mkdir(f"{target}/shm")
    os.mkdir(f"{target}/pts")
    mount("devpts", f"{target}/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=620")
    for link, points_to in (("ptmx", "pts/ptmx"), ("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                            ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")):
        os.symlink(points_to, f"{target}/{link}")


def build(entry: Mount, root: str) -> None:
    target = root + entry.target
    if entry.kind == "tmpfs":
        os.makedirs(target, exist_ok=True)
        mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, f"mode=0755,size={entry.size}")
    elif entry.kind == "proc":
        os.makedirs(target, exist_ok=True)
        mount("proc", target, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
        for name in PROC_READ_ONLY:
            if os.path.exists(f"{target}/{name}"):
                bind(f"{target}/{name}", f"{target}/{name}", MS_RDONLY | MS_NOSUID | MS_NODEV)
    elif entry.kind == "dev":
        make_dev(target)
    elif entry.kind == "symlink":
        os.symlink(entry.source, target)
    else:
        flags = {"ro-bind": MS_RDONLY | MS_NOSUID | MS_NODEV, "bind": MS_NOSUID | MS_NODEV, "dev-bind": MS_NOSUID}
        bind(entry.source, target, flags[entry.kind])


def enter_root(mounts: list[Mount], root: str) -> None:
    """Build the sandbox's file system on a fresh tmpfs at root (an empty folder) and make it `/`."""
    mount(None, "/", None, MS_REC | MS_SLAVE)  # nothing mounted here reaches the host
    mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755")
    for entry in mounts:
        build(entry, root)
    os.mkdir(f"{root}/.old-root")
    call(LIBC.syscall(SYS_PIVOT_ROOT, root.encode(), f"{root}/.old-root".encode()), "pivot_root")
    os.chdir("/")
    call(LIBC.umount2(b"/.old-root", MNT_DETACH), "detach the host's root")
    os.rmdir("/.old-root")
    mount(None, "/", None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)


def loopback_up() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        flags = struct.unpack("16sH", fcntl.ioctl(sock, SIOCGIFFLAGS, struct.pack("16sH", b"lo", 0)))[1]
        fcntl.ioctl(sock, SIOCSIFFLAGS, struct.pack("16sH", b"lo", flags | IFF_UP))


def drop_privileges() -> None:
    """No capability left, none to be had again (bounding set, ambient set, no_new_privs)."""
    for cap in range(64):
        LIBC.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)  # fails past the last capability this kernel knows
    LIBC.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]

    call(LIBC.capset(ctypes.byref(Header(0x20080522, 0)), (Data * 2)()), "capset")  # version 3, all zero
    call(LIBC.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")


def keep_only(*fds: int) -> None:
    """Close every file descriptor but these."""
    low = 0
    for fd in [*sorted(set(fds)), resource.getrlimit(resource.RLIMIT_NOFILE)[0]]:
        if fd > low:  # closerange(n, n) would close every descriptor from n up
            os.closerange(low, fd)
        low = fd + 1


def run_python(argv: list[str], env: dict[str, str], cwd: str) -> int:
    """What `python ARGV` (`-m MODULE ...` or `-c CODE ...`) would do, in this already warm process."""
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    sys.path.insert(0, "")  # the working folder, first, as `python -m` and `-c` put it
    try:
        if argv[0] == "-m":
            sys.argv = [argv[1], *argv[2:]]
            runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
        else:
            sys.argv = ["-c", *argv[2:]]
            exec(compile(argv[1], "<string>", "exec"), {"__name__": "__main__", "__builtins__": builtins})
        return 0
    except SystemExit as end:
        if end.code is None or isinstance(end.code, int):
            return end.code or 0
        print(end.code, file=sys.stderr)
        return 1
    except BaseException:
        traceback.print_exc()
        return 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()


def init(request: dict, stdout: int, stderr: int) -> int:
    """The namespace's first process: build the sandbox, start `python ARGV` below it, reap until it ends."""
    die_with_parent()
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    os.dup2(stdout, 1)
    os.dup2(stderr, 2)
    keep_only(0, 1, 2)
    enter_root([Mount(**entry) for entry in request["mounts"]], request["root"])
    loopback_up()
    resource.setrlimit(resource.RLIMIT_FSIZE, (request["max_file_bytes"],) * 2)  # a write past it fails with EFBIG
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    drop_privileges()
    main = os.fork()
    if main == 0:
        os._exit(run_python(request["argv"], request["env"], request["cwd"]))
    LIBC.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)  # same uid as the kernel: without this it could ptrace init
    while True:
        pid, status = os.wait()  # orphans of the sandbox are reparented here
        if pid == main:
            return os.waitstatus_to_exitcode(status) & 0xFF


def run(request: dict, fds: list[int]) -> int:
    """The zygote's entry: `python ARGV` in a fresh sandbox; its exit code. fds: its stdout and stderr."""
    stdout, stderr = fds
    os.setsid()
    call(LIBC.unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP),
         "unshare")
    first = os.fork()
    if first == 0:
        code = 71
        try:
            code = init(request, stdout, stderr)
        except BaseException:
            traceback.print_exc()
        finally:
            try:
                sys.stderr.flush()
            finally:
                os._exit(code)
    return os.waitstatus_to_exitcode(os.waitpid(first, 0)[1]) & 0xFF


def zygote_home() -> Path:
    """The zygote's HOME (Keras writes its settings there at import), which holds the empty folder each
    child builds its root on (mounted in the child's namespace only); in the zygotes' folder, so that
    a worker sharing its parent's zygote asks for the same one."""
    home = Path(os.environ.get(forkserver.ENV_SHARED) or forkserver.own_folder()) / "home"
    (home / "root").mkdir(parents=True, exist_ok=True)
    return home


def zygote_env(budget: dict[str, str]) -> dict[str, str]:
    """The zygote's environment: a sandbox's, with the zygote's home and the thread budget; nothing of the
    grader's (no secrets), since every kernel starts as a copy of the zygote."""
    return environment(zygote_home(), budget)


def request(sandbox: Sandbox, argv: list[str], max_file_bytes: int, root: Path) -> dict:
    """What run() needs to build `sandbox` on the empty folder `root` and run `python ARGV` in it."""
    return dict(mounts=[asdict(mount) for mount in sandbox.mounts()], env=sandbox.environment(),
                cwd=str(sandbox.scratch), root=str(root), argv=argv, max_file_bytes=max_file_bytes)


def fork(sandbox: Sandbox, argv: list[str], max_file_bytes: int, stdout: int, stderr: int) -> forkserver.Child:
    """`python ARGV` in a fresh sandbox, forked from this process's zygote that imported `sandbox.warm`."""
    return forkserver.fork(tuple(sandbox.warm or ()), zygote_env(sandbox.env()), ENTRY,
                           request(sandbox, argv, max_file_bytes, zygote_home() / "root"), [stdout, stderr])
