"""A pool of worker processes that never re-runs the caller's script.

``multiprocessing``'s ``spawn`` and ``forkserver`` children import the parent's
``__main__`` file again; a script without an ``if __name__ == "__main__":`` guard (or a
test runner's generated wrapper) then runs again in every worker and the pool breaks.
``fork`` copies a process whose Rust and BLAS threads may hold locks. These workers are
plain ``python -c`` subprocesses that import longdep, read requests from a pipe and
answer on another, so they depend on nothing but the installed package.

Messages are pickles framed by an 8-byte length, exchanged only between this process
and children it started; nothing read from a user's file goes through them.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import os
import pickle
import queue
import signal
import struct
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any

__all__ = ["WorkerDied", "WorkerPool"]

_HEADER = struct.Struct("<Q")
#: The functions a worker agrees to run, by ``module:name`` (all in this package).
_ALLOWED_PREFIX = "longdep."


class WorkerDied(RuntimeError):
    """A worker process ended (killed, out of memory, crashed) while running a task."""


def _send(stream: IO[bytes], obj: object) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)))
    stream.write(data)
    stream.flush()


def _read_exact(stream: IO[bytes], n: int) -> bytes | None:
    chunks = []
    while n:
        chunk = stream.read(n)
        if not chunk:
            return None
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def _receive(stream: IO[bytes]) -> Any:
    """The next message, or raise ``EOFError`` when the other side is gone."""
    head = _read_exact(stream, _HEADER.size)
    if head is None:
        raise EOFError
    body = _read_exact(stream, _HEADER.unpack(head)[0])
    if body is None:
        raise EOFError
    return pickle.loads(body)


def _signal_name(num: int) -> str:
    """``"signal 6 (SIGABRT)"``."""
    try:
        return f"signal {num} ({signal.Signals(num).name})"
    except ValueError:
        return f"signal {num}"


class _Worker:
    """One child process and the thread that feeds it tasks from the shared queue."""

    def __init__(self, pool: WorkerPool, index: int) -> None:
        self.pool = pool
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "from longdep.workers import _serve; _serve()"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=pool.env,
            close_fds=True,
        )
        self.thread = threading.Thread(
            target=self._loop, name=f"longdep-worker-{index}", daemon=True
        )
        self.thread.start()

    def _loop(self) -> None:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        while True:
            item = self.pool.tasks.get()
            if item is None:  # shutdown
                break
            fut, request = item
            if not fut.set_running_or_notify_cancel():
                continue
            try:
                _send(self.proc.stdin, request)
                ok, value = _receive(self.proc.stdout)
            except (EOFError, OSError, pickle.UnpicklingError) as e:
                try:
                    code: int | None = self.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:  # the pipe broke but the process lives on
                    self.proc.kill()
                    code = None
                how = (
                    f"exit status {code}"
                    if code is not None and code >= 0
                    else (_signal_name(-code) if code is not None else f"{type(e).__name__}")
                )
                fut.set_exception(WorkerDied(f"worker process {self.proc.pid} ended ({how})"))
                self.pool._broken(self)
                return
            if ok:
                fut.set_result(value)
            else:
                fut.set_exception(value)
        self._stop()

    def _stop(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            if self.proc.stdin is not None:
                self.proc.stdin.close()  # the worker leaves at EOF
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            self.proc.kill()


class WorkerPool:
    """``workers`` processes running longdep functions; ``submit`` returns a
    :class:`concurrent.futures.Future`. ``env`` is added to the children's environment.

    A task whose worker dies fails with :class:`WorkerDied`. With ``replace`` a fresh
    worker takes the dead one's place and the other tasks go on; without it the pool
    is broken: later submissions raise it at once.
    """

    def __init__(
        self, workers: int, *, env: Mapping[str, str] | None = None, replace: bool = False
    ) -> None:
        if workers < 1:
            raise ValueError(f"workers must be a positive integer; got {workers!r}")
        package_root = str(Path(__file__).resolve().parent.parent)
        child_env = dict(os.environ)
        child_env.update(env or {})
        path = child_env.get("PYTHONPATH")
        child_env["PYTHONPATH"] = package_root + (os.pathsep + path if path else "")
        self.env = child_env
        self.tasks: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._dead: str | None = None
        self._closed = False
        self._replace = replace
        self._workers: list[_Worker] = []
        try:
            for i in range(workers):
                self._workers.append(_Worker(self, i))
        except OSError as e:
            self.close(abort=True)
            raise WorkerDied(f"cannot start a worker process: {e}") from None

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> cf.Future[Any]:
        name = f"{fn.__module__}:{fn.__qualname__}"
        if not name.startswith(_ALLOWED_PREFIX):
            raise ValueError(f"a worker runs longdep functions only; got {name}")
        with self._lock:
            if self._closed:
                raise RuntimeError("the worker pool is closed")
            if self._dead is not None:
                raise WorkerDied(self._dead)
            fut: cf.Future[Any] = cf.Future()
            self.tasks.put((fut, (name, args, kwargs)))
        return fut

    def _broken(self, worker: _Worker) -> None:
        with self._lock:
            if self._replace and not self._closed:
                try:
                    fresh = _Worker(self, len(self._workers))
                except OSError:
                    pass  # cannot start another process: the pool is broken after all
                else:
                    self._workers.append(fresh)
                    return
            self._dead = self._dead or f"worker process {worker.proc.pid} ended"
        self._drain()

    def _drain(self) -> None:
        while True:
            try:
                item = self.tasks.get_nowait()
            except queue.Empty:
                return
            if item is not None:
                item[0].cancel()

    def close(self, *, abort: bool = False) -> None:
        """Stop the workers: after their current task, or (``abort``) now."""
        with self._lock:
            self._closed = True
        if abort:
            self._drain()
            for w in self._workers:
                w.kill()
        for _ in self._workers:
            self.tasks.put(None)
        for w in self._workers:
            w.thread.join(timeout=15)
            if w.thread.is_alive():
                w.kill()
                w.thread.join(timeout=5)
            with contextlib.suppress(subprocess.TimeoutExpired):
                w.proc.wait(timeout=5)


def _watch_parent() -> None:
    """Leave when the parent goes away, even in the middle of a task."""
    parent = os.getppid()
    stop = threading.Event()

    def watch() -> None:
        while not stop.wait(0.5):
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="longdep-parent-watch", daemon=True).start()


def _serve() -> None:
    """A worker's main loop: run requests until the parent closes the pipe."""
    import importlib

    # Ctrl-C reaches the whole process group; the parent alone decides what stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Answers go to a private copy of stdout; anything the task prints goes to stderr.
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    requests = sys.stdin.buffer
    _watch_parent()
    while True:
        try:
            name, args, kwargs = _receive(requests)
        except EOFError:
            return
        module, _, attr = name.partition(":")
        try:
            if not module.startswith(_ALLOWED_PREFIX):
                raise ValueError(f"a worker runs longdep functions only; got {name}")
            fn: Any = importlib.import_module(module)
            for part in attr.split("."):
                fn = getattr(fn, part)
            answer: tuple[bool, Any] = (True, fn(*args, **kwargs))
        except Exception as e:
            answer = (False, _portable(e))
        try:
            _send(answers, answer)
        except Exception as e:  # a result that does not pickle
            _send(answers, (False, RuntimeError(f"the result does not pickle: {e}")))


def _portable(e: Exception) -> Exception:
    """``e`` if it survives a pickle round trip, else a RuntimeError with its text."""
    try:
        pickle.loads(pickle.dumps(e))
    except Exception:
        return RuntimeError(f"{type(e).__name__}: {e}")
    return e
