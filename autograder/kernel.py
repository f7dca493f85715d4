"""A Jupyter kernel inside the sandbox, and a notebook client that keeps within the limits.

nbclient does the cell-by-cell execution (per-cell timeout, interrupt, error capture); this
module adds what it lacks for untrusted code: the bubblewrap command line, IPC transport
(TCP cannot cross the sandbox's network namespace), a cap on the output bytes kept, and a
watchdog that kills the whole sandbox past the memory, process or notebook-time limit.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import psutil
from jupyter_client.manager import AsyncKernelManager
from jupyter_client.provisioning import LocalProvisioner
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_output

from . import forksandbox
from .forkserver import Child
from .notebooks import KERNEL_ARGUMENTS
from .sandbox import Limits, Sandbox, with_file_limits

MAX_FILES = 20_000


class SandboxedKernelManager(AsyncKernelManager):
    """A python3 kernel in the sandbox, reached over unix sockets in the runtime folder.

    Started under bubblewrap, or forked from a warm zygote (ForkedProvisioner) where `sandbox.warm` says so.
    """

    def __init__(self, sandbox: Sandbox, max_file_bytes: int, **kwargs):
        super().__init__(
            kernel_name="python3",
            transport="ipc",
            ip=str(sandbox.runtime / "kernel"),
            connection_file=str(sandbox.runtime / "kernel.json"),
            **kwargs,
        )
        self.sandbox = sandbox
        self.max_file_bytes = max_file_bytes
        if sandbox.enabled and sandbox.warm is not None:
            self.provisioner = ForkedProvisioner(kernel_id=None, kernel_spec=self.kernel_spec, parent=self)

    def format_kernel_cmd(self, extra_arguments=None):
        argv = super().format_kernel_cmd(extra_arguments)
        if isinstance(self.provisioner, ForkedProvisioner):
            return argv  # the provisioner forks it into the sandbox
        return with_file_limits(self.sandbox.wrap(argv), self.max_file_bytes)

    @property
    def kernel_spec(self):
        # Interrupt by message: the kernel signals itself, inside its own PID namespace.
        spec = AsyncKernelManager.kernel_spec.fget(self)
        spec.interrupt_mode = "message"
        return spec

    def pid(self) -> int | None:
        process = getattr(self.provisioner, "process", None)
        return process.pid if process is not None else None


class ForkedKernel:
    """A kernel forked into its sandbox, as jupyter_client sees a Popen: its pid is the sandbox's first process."""

    stdin = stdout = stderr = None

    def __init__(self, child: Child):
        self.child = child
        self.pid = child.pid

    def poll(self) -> int | None:
        return self.child.poll()

    def wait(self, timeout: float | None = None) -> int | None:
        return self.child.wait(timeout)

    def send_signal(self, signum: int) -> None:
        """Only the signals that end it: interrupts go by message, inside the sandbox."""
        if signum in (signal.SIGTERM, signal.SIGKILL):
            self.child.kill()

    def kill(self) -> None:
        self.child.kill()

    terminate = kill


class ForkedProvisioner(LocalProvisioner):
    """Starts the kernel by forking it from this process's warm zygote into a fresh sandbox (forksandbox)."""

    child: Child | None = None

    async def launch_kernel(self, cmd: list[str], **kwargs):
        km = self.parent
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            stdout, stderr = (kwargs[name].fileno() if hasattr(kwargs.get(name), "fileno") else devnull
                              for name in ("stdout", "stderr"))
            self.child = forksandbox.fork(km.sandbox, cmd[1:], km.max_file_bytes, stdout, stderr)  # cmd[0]: python
        finally:
            os.close(devnull)
        self.process = ForkedKernel(self.child)
        self.pid, self.pgid, self.cwd = self.child.pid, None, str(km.sandbox.scratch)
        return self.connection_info

    async def cleanup(self, restart: bool = False) -> None:
        await super().cleanup(restart)
        if self.child is not None:
            self.child.close()


@dataclass
class Breach:
    """Why the watchdog stopped a kernel."""

    limit: str
    message: str


def disk_usage(folder: Path, max_files: int) -> tuple[int, int]:
    """(bytes, files) under folder, counting at most max_files + 1 files."""
    total, files, stack = 0, 0, [folder]
    while stack and files <= max_files:
        try:
            entries = list(os.scandir(stack.pop()))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                else:
                    files += 1
                    total += entry.stat(follow_symlinks=False).st_blocks * 512
            except OSError:
                pass
    return total, files


class Watchdog(threading.Thread):
    """Polls the sandbox's process tree and scratch folder; kills it past a memory, process, disk or time limit.

    Memory is the kernel's and what it started: not the sandbox's own first two processes (bubblewrap
    or the forked entry, and the namespace's init), whose pages a forked kernel shares.
    """

    def __init__(self, pid: int, limits: Limits, scratch: Path, interval: float = 0.1,
                 on_gone: Callable[[], None] | None = None):
        super().__init__(daemon=True)
        self.on_gone = on_gone  # called when the kernel is found dead, so that the checks know at once
        self.root = psutil.Process(pid)
        self.limits = limits
        self.scratch = scratch
        self.interval = interval
        self.deadline = time.monotonic() + limits.notebook_seconds
        self.breach: Breach | None = None
        self.peak_memory = 0
        self._halt = threading.Event()

    def tree(self) -> list[psutil.Process]:
        """The sandbox's processes; none once its first process has exited (a zombie is not alive)."""
        try:
            if self.root.status() == psutil.STATUS_ZOMBIE:
                return []
            return [self.root, *self.root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def run(self) -> None:
        ticks = 0
        while not self._halt.wait(self.interval):
            ticks += 1
            processes = self.tree()
            if not processes:
                if self.on_gone and not self._halt.is_set():
                    self.on_gone()
                return
            memory = 0
            for process in processes:
                try:
                    if process is not self.root and process.ppid() != self.root.pid:
                        memory += process.memory_info().rss
                except psutil.NoSuchProcess:
                    pass
            self.peak_memory = max(self.peak_memory, memory)
            if memory > self.limits.memory_bytes:
                self.kill(Breach("memory", f"used more than {self.limits.memory_bytes / 2**30:.1f} GiB of memory"))
            elif len(processes) - 1 > self.limits.processes:
                self.kill(Breach("processes", f"started more than {self.limits.processes} processes"))
            elif time.monotonic() > self.deadline:
                self.kill(Breach("time", f"ran longer than {self.limits.notebook_seconds:.0f} s in all"))
            elif ticks % 5 == 0:
                self.check_disk()

    def check_disk(self) -> None:
        used, files = disk_usage(self.scratch, MAX_FILES)
        if used > self.limits.disk_bytes:
            self.kill(Breach("disk", f"wrote more than {self.limits.disk_bytes / 2**30:.1f} GiB of files"))
        elif files > MAX_FILES:
            self.kill(Breach("disk", f"created more than {MAX_FILES:,} files"))

    def kill(self, breach: Breach | None) -> None:
        """Kill the sandbox and everything in it (breach: why, or None at the end of grading)."""
        self.breach = self.breach or breach
        for process in reversed(self.tree()):
            try:
                process.kill()
            except psutil.NoSuchProcess:
                pass
        try:
            self.root.wait(timeout=5)  # reap it: nothing of the submission outlives its grading
        except (psutil.NoSuchProcess, psutil.TimeoutExpired, ChildProcessError):
            pass

    def stop(self) -> None:
        self._halt.set()
        if self.is_alive() and threading.current_thread() is not self:
            self.join(timeout=5)


class BoundedClient(NotebookClient):
    """nbclient with a budget of output bytes kept per notebook, and each cell's error recorded."""

    def __init__(self, nb, sandbox: Sandbox, limits: Limits, **kwargs):
        super().__init__(
            nb,
            timeout=int(limits.cell_seconds),
            interrupt_on_timeout=True,
            error_on_timeout={"ename": "Timeout", "evalue": f"ran longer than {limits.cell_seconds:.0f} s and was stopped"},
            allow_errors=True,
            record_timing=False,
            extra_arguments=KERNEL_ARGUMENTS,
            km=SandboxedKernelManager(sandbox, limits.disk_bytes),
            resources={"metadata": {"path": str(sandbox.scratch)}},
            on_cell_error=self.record_error,
            on_cell_executed=self.record_exit,
            **kwargs,
        )
        self.output_budget = limits.output_bytes
        self.output_used = 0
        self.truncated = False
        self.errors: dict[int, tuple[str, str]] = {}  # cell index -> (exception name, message)
        self.exited: int | None = None  # the cell that called exit(): the kernel stops after it

    def record_error(self, cell, cell_index, execute_reply):
        content = execute_reply.get("content", {})
        self.errors[cell_index] = (str(content.get("ename", "an error")), str(content.get("evalue", "")))

    def record_exit(self, cell, cell_index, execute_reply):
        payloads = execute_reply.get("content", {}).get("payload") or []
        if any(isinstance(p, dict) and p.get("source") == "ask_exit" for p in payloads):
            self.exited = cell_index

    def responsive(self, seconds: int = 10) -> bool:
        """After a timeout: whether the interrupted kernel answers again (it may ignore interrupts)."""
        self.nb.cells.append(new_code_cell("pass"))
        index = len(self.nb.cells) - 1
        timeout, self.timeout = self.timeout, seconds
        try:
            self.execute_cell(self.nb.cells[index], index)
        finally:
            self.timeout = timeout
            self.nb.cells.pop()
        return self.errors.pop(index, None) is None

    def output(self, outs, msg, display_id, cell_index):
        size = len(json.dumps(msg.get("content", {})))
        self.output_used += size
        if self.output_used > self.output_budget:
            if not self.truncated:
                self.truncated = True
                outs.append(new_output(
                    "stream", name="stderr",
                    text=f"[autograder: output beyond {self.output_budget:,} bytes was dropped]\n",
                ))
            return None
        return super().output(outs, msg, display_id, cell_index)
