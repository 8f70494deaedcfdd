"""Where a student's code runs when it is graded: a bubblewrap sandbox around the kernel.

nbgrader runs outside, as the instructor (it needs the gradebook and the hidden tests); only the
kernel that executes the student's notebook is wrapped:

    setpriv (nobody, when run as root)  ->  prlimit (memory, file size, processes)
        ->  bwrap (no network, own process namespace, a filesystem of system files only)
            ->  python -m ipykernel_launcher -f CONNECTION_FILE

Inside, the filesystem holds the system's read-only directories, the Python environment and the
``labutils`` package (read-only), the data directory (read-only), an empty ``/tmp`` and home,
and one writable directory: the submission's own scratch copy, where the kernel runs. The
course root, ``source/``, the gradebook, other students' folders and the instructor's home are
not there at all. The kernel talks to nbgrader over IPC sockets in a short directory bound into
the sandbox (a kernel without network cannot reach a TCP port outside).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from nbgrader.preprocessors import Execute
from traitlets import Dict, Integer

NOBODY = 65534
# System directories of a Debian machine; those that are symlinks (merged /usr) stay symlinks.
SYSTEM_DIRS = ("/usr", "/etc", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/opt")
# Environment a kernel keeps: locale, BLAS/OpenMP settings (some CPUs need OPENBLAS_CORETYPE
# for correct results), the course's own switches.
PASSED_ENV_PREFIXES = ("LANG", "LC_", "OPENBLAS_", "OMP_", "MKL_", "LABUTILS_", "TORCH_HOME")
# What sets a kernel's thread count: OpenMP (torch reads it too), OpenBLAS, MKL.
THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


@dataclass
class Limits:
    """What one submission may use. The runner reads them from ``c.GradeRunner`` in
    nbgrader_config.py; every field has the same name there."""

    memory_mb: int = 4096           # heap and anonymous memory of the kernel (RLIMIT_DATA)
    wall_seconds: int = 600         # whole autograde of one submission, kernel start included
    output_bytes: int = 200_000     # text a notebook may print; the rest is dropped
    file_mb: int = 256              # largest file the kernel may write (RLIMIT_FSIZE)
    processes: int = 4096           # processes of the sandbox user (RLIMIT_NPROC, when root)
    readable: list[str] = field(default_factory=list)  # extra read-only paths (data, weights)
    # BLAS/OpenMP/torch threads of one kernel; 0 leaves the libraries' default (every core).
    # The runner sets cores // workers: two kernels with two threads each on two cores run
    # slower than with one each.
    threads: int = 0


def python_paths() -> list[str]:
    """Directories the kernel's Python needs: the environment, the interpreter it was built
    from, and the labutils package (an editable install points into the repository)."""
    import labutils
    paths = {sys.prefix, sys.base_prefix, str(Path(labutils.__file__).resolve().parent)}
    return sorted(p for p in paths if Path(p).exists())


def data_paths() -> list[str]:
    """The staged data (LABUTILS_DATA) and a staged torch cache (TORCH_HOME), read-only."""
    from labutils import data
    paths = [str(data.data_root().resolve())]
    if os.environ.get("TORCH_HOME"):
        paths.append(os.environ["TORCH_HOME"])
    return [p for p in paths if Path(p).exists()]


def _system_binds() -> list[str]:
    args = []
    for path in SYSTEM_DIRS:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    return args


def _parents(path: str) -> list[str]:
    """Create a bound path's parents as plain 0755 directories (bwrap's default is 0700,
    which the unprivileged kernel could not cross)."""
    args = []
    for parent in reversed(Path(path).parents[:-1]):  # "/" itself exists
        if str(parent) not in SYSTEM_DIRS:
            args += ["--perms", "0755", "--dir", str(parent)]
    return args


def kernel_env(workdir: str, threads: int = 0) -> dict[str, str]:
    """A clean environment: nothing of the instructor's but what a kernel needs."""
    env = {k: v for k, v in os.environ.items() if k.startswith(PASSED_ENV_PREFIXES)}
    if threads:
        env.update({name: str(threads) for name in THREAD_ENV})
    from labutils import data
    env.update(PATH=f"{Path(sys.executable).parent}:/usr/bin:/bin", HOME="/tmp/home",
               MPLCONFIGDIR="/tmp/home/.matplotlib", IPYTHONDIR="/tmp/home/.ipython",
               LABUTILS_DATA=str(data.data_root().resolve()), LABUTILS_HEADLESS="1",
               PYTHONDONTWRITEBYTECODE="1", NBGRADER_EXECUTION="autograde")
    return env


def wrap(argv: list[str], workdir: str, limits: Limits, ipc_dir: str | None = None) -> list[str]:
    """The command that runs ``argv`` inside the sandbox with ``workdir`` as its only
    writable directory (and current directory)."""
    readable = python_paths() + data_paths() + list(limits.readable)
    # An empty /tmp first: what is bound next may itself live under /tmp (a clone in /tmp).
    binds = [*_system_binds(), "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp",
             "--perms", "01777", "--dir", "/tmp/home"]
    for path in readable:
        binds += [*_parents(path), "--ro-bind", path, path]
    if ipc_dir:
        binds += ["--bind", ipc_dir, ipc_dir]
    binds += [*_parents(workdir), "--bind", workdir, workdir, "--chdir", workdir]
    env_args = ["--clearenv"]
    for key, value in kernel_env(workdir, limits.threads).items():
        env_args += ["--setenv", key, value]
    namespaces = ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
                  "--unshare-cgroup-try"]
    mb = 1024 * 1024
    prlimit = ["prlimit", f"--data={limits.memory_mb * mb}", f"--fsize={limits.file_mb * mb}"]
    if os.geteuid() == 0:
        # bwrap mounts as root (the Python may live under /root), then the kernel drops to
        # nobody inside: it can read only what everyone may read, and keeps no capability.
        prlimit.append(f"--nproc={limits.processes}")
        privileges = ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
        drop = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
    else:
        namespaces.append("--unshare-user")
        privileges, drop = ["--cap-drop", "ALL"], []
    bwrap = [shutil.which("bwrap") or "bwrap", *namespaces, "--die-with-parent", "--new-session",
             *privileges, *binds, *env_args, "--"]
    return [*prlimit, "--", *bwrap, *drop, *argv]


def give_to_sandbox_user(path: str) -> None:
    """As root, the kernel runs as nobody: hand it its own directory (and nothing else)."""
    if os.geteuid() != 0:
        return
    for root, dirs, files in os.walk(path):
        os.chown(root, NOBODY, NOBODY)
        for name in files:
            os.chown(os.path.join(root, name), NOBODY, NOBODY, follow_symlinks=False)


def available() -> str | None:
    """None when the sandbox can run here, else one line saying what is missing."""
    for tool in ("bwrap", "prlimit"):
        if shutil.which(tool) is None:
            return f"`{tool}` not found: install Debian's bubblewrap and util-linux"
    return None


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel runs in the sandbox, reached over IPC sockets.

    Interrupts go as messages on the control channel: a signal to the sandbox's outer
    process would not reach the kernel inside its own process namespace."""

    limits = Dict({}, config=True, help="Limits fields (see sandbox.Limits)")

    async def _async_pre_start_kernel(self, **kw):
        workdir = str(Path(kw.get("cwd") or os.getcwd()).resolve())
        # Unix socket paths are short (107 bytes): the sockets live in a short /tmp directory.
        self._ipc_dir = tempfile.mkdtemp(prefix="gk-", dir="/tmp")
        os.chmod(self._ipc_dir, 0o755)
        self.transport = "ipc"
        self.connection_file = os.path.join(self._ipc_dir, "kernel.json")
        self.ip = os.path.join(self._ipc_dir, "ipc")
        self._workdir = workdir
        give_to_sandbox_user(workdir)
        give_to_sandbox_user(self._ipc_dir)
        return await super()._async_pre_start_kernel(**kw)

    def format_kernel_cmd(self, extra_arguments=None):
        argv = super().format_kernel_cmd(extra_arguments)
        give_to_sandbox_user(self._ipc_dir)  # the connection file now exists
        self.kernel_spec.interrupt_mode = "message"
        return wrap(argv, self._workdir, Limits(**self.limits), self._ipc_dir)

    async def _async_cleanup_resources(self, restart=False):
        await super()._async_cleanup_resources(restart=restart)
        if not restart and getattr(self, "_ipc_dir", None):
            shutil.rmtree(self._ipc_dir, ignore_errors=True)

    cleanup_resources = _async_cleanup_resources


class SandboxedExecute(Execute):
    """nbgrader's Execute with the kernel in the sandbox and a cap on the text a notebook
    prints: past ``output_bytes`` further output is dropped, and one line says so."""

    output_bytes = Integer(200_000, config=True)

    def __init__(self, *args, **kwargs):
        # nbgrader's Execute passes its own kernel_manager_class, which beats configuration.
        kwargs["kernel_manager_class"] = SandboxedKernelManager
        super().__init__(*args, **kwargs)

    def preprocess(self, nb, resources=None, km=None):
        self._printed = 0
        return super().preprocess(nb, resources, km)

    def output(self, outs, msg, display_id, cell_index):
        content = msg["content"]
        if msg["msg_type"] not in ("stream", "display_data", "execute_result"):
            return super().output(outs, msg, display_id, cell_index)  # errors always pass
        size = len(content.get("text", "")) + sum(
            len(str(value)) for value in content.get("data", {}).values())
        room = self.output_bytes - self._printed
        self._printed += size
        if size <= room:
            return super().output(outs, msg, display_id, cell_index)
        if room < 0:
            return None  # the note was already printed
        kept = content.get("text", "")[:room] if msg["msg_type"] == "stream" else ""
        note = f"\n[grader: output beyond {self.output_bytes} characters was dropped]\n"
        msg = {**msg, "msg_type": "stream",
               "content": {"name": content.get("name", "stdout"), "text": kept + note}}
        self._printed = self.output_bytes + 1
        return super().output(outs, msg, display_id, cell_index)
