"""Isolation, the last line.

Whatever passes the checks above is opened, built and run on one batch in a child process first, with an
address-space limit (RLIMIT_AS) and a wall-clock timeout; the server loads the file only if that child
reported success. Children come from a fork server that has imported Keras once (multiprocessing
"forkserver", started on first use or by warm_isolation()), so a check costs a fork and a load, not a
TensorFlow import; the fork server never sees an upload and is not forked from the (threaded) app server.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
import types
from pathlib import Path

import numpy as np

from .errors import _detail, _mb, _shape_text, _short, ModelFileError, SAVE_HINT
from .loaded import _keras_load, check_loaded


ISOLATE_ENV = "PRUNING_EXPLORER_ISOLATE"
LOAD_TIMEOUT_ENV = "PRUNING_EXPLORER_LOAD_TIMEOUT_S"
LOAD_MEMORY_ENV = "PRUNING_EXPLORER_LOAD_MEMORY_MB"
DEFAULT_LOAD_TIMEOUT_S = 60
BASE_LOAD_MEMORY_MB = 1024  # the child's own budget on top of what TensorFlow had mapped when it started
LOAD_MEMORY_PER_FILE_BYTE = 8  # … plus 8 bytes per byte of the file (weights, a copy, one batch, slack)
ROOT = Path(__file__).resolve().parents[3]  # the folder holding prune_core/
_CONTEXT = None
_CONTEXT_LOCK = threading.Lock()


def isolation_enabled() -> bool:
    return os.environ.get(ISOLATE_ENV, "1").strip() != "0" and hasattr(os, "fork")


def load_timeout_s() -> float:
    try:
        value = float(os.environ.get(LOAD_TIMEOUT_ENV, ""))
    except ValueError:
        return float(DEFAULT_LOAD_TIMEOUT_S)
    return value if value > 0 else float(DEFAULT_LOAD_TIMEOUT_S)


def load_memory_bytes(file_bytes: int) -> int:
    """The child's memory budget for a file of this size: env PRUNING_EXPLORER_LOAD_MEMORY_MB if set, else
    1 GB + 8 × the file size.

    >>> load_memory_bytes(10 * 1024 * 1024) // (1024 * 1024)
    1104
    """
    raw = os.environ.get(LOAD_MEMORY_ENV, "").strip()
    try:
        value = int(raw)
        if value > 0:
            return value * 1024 * 1024
    except ValueError:
        pass
    return BASE_LOAD_MEMORY_MB * 1024 * 1024 + LOAD_MEMORY_PER_FILE_BYTE * int(file_bytes)


def _context():
    """The forkserver context, started once with Keras preloaded (CPU only, quiet)."""
    global _CONTEXT
    import multiprocessing
    from multiprocessing import forkserver

    with _CONTEXT_LOCK:
        if _CONTEXT is None:
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload([__name__, "keras"])  # this module (the child's target), then Keras
            # The fork server inherits the environment when it starts (Python 3.11 ignores the parent's
            # sys.path there): make this package importable and keep the child off any GPU.
            saved = {k: os.environ.get(k) for k in ("PYTHONPATH", "CUDA_VISIBLE_DEVICES", "TF_CPP_MIN_LOG_LEVEL")}
            os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + ([saved["PYTHONPATH"]] if saved["PYTHONPATH"] else []))
            os.environ["CUDA_VISIBLE_DEVICES"] = "-1"
            os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
            try:
                forkserver.ensure_running()
            finally:
                for key, value in saved.items():
                    if value is None:
                        os.environ.pop(key, None)
                    else:
                        os.environ[key] = value
            _CONTEXT = ctx
        return _CONTEXT


_MAIN_LOCK = threading.Lock()


@contextlib.contextmanager
def _bare_main():
    """While a child starts: an empty ``__main__``, so multiprocessing does not re-run the parent's main script
    in the child (under Streamlit, ``__main__`` is the app script — or an AppTest's — and the child would run it
    before its check; seen as ``NameError: __args`` from an AppTest script under pytest-xdist)."""
    with _MAIN_LOCK:
        saved = sys.modules.get("__main__")
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            yield
        finally:
            if saved is not None:
                sys.modules["__main__"] = saved


def warm_isolation() -> None:
    """Start the fork server now (it imports Keras in its own process), so the first upload does not wait."""
    if isolation_enabled():
        _context()


def validate_isolated(path: str, label: str, file_bytes: int, *, timeout_s: float | None = None,
                      memory_bytes: int | None = None) -> dict:
    """Open, build and run one batch of the model at ``path`` in a child process with an address-space limit
    and a wall-clock timeout. Returns the child's report (seconds, peak memory) or raises ModelFileError."""
    timeout = load_timeout_s() if timeout_s is None else float(timeout_s)
    budget = load_memory_bytes(file_bytes) if memory_bytes is None else int(memory_bytes)
    ctx = _context()
    receive, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child_check, args=(path, label, budget, send), daemon=True,
                       name="pruning-explorer-load-check")
    with _bare_main():
        proc.start()
    send.close()
    try:
        if receive.poll(timeout):
            try:
                status, payload = receive.recv()
            except (EOFError, OSError):
                status, payload = "died", None
        else:
            status, payload = "timeout", None
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join(10)
        receive.close()
    if status == "ok":
        return payload
    if status == "refused":
        raise ModelFileError(payload)
    if status == "timeout":
        raise ModelFileError(
            f"Checking {label} took longer than {timeout:g} s (opening, building and running it on one batch, in a "
            "separate process that was then stopped). It is refused. If it is a genuine, very large model, raise "
            f"the limit with {LOAD_TIMEOUT_ENV} (in seconds) when starting the app.")
    if status == "memory" or (status == "died" and proc.exitcode in (-9, -6, -11)):
        raise ModelFileError(
            f"Checking {label} needed more than {_mb(budget)} of memory (the limit for a file of "
            f"{_mb(file_bytes)}: 1 GB + 8 × its size), so the separate process that opened it was stopped. It is "
            f"refused. If it is a genuine model, raise the limit with {LOAD_MEMORY_ENV} (in MB) when starting the app.")
    raise ModelFileError(
        f"Checking {label} in a separate process failed ({_short(str(payload) if payload else f'exit code {proc.exitcode}', 400)}). "
        "It is refused. " + SAVE_HINT)


def _child_check(path: str, label: str, budget: int, conn) -> None:
    """In the child: limit memory, load, check, run one batch of zeros; report over ``conn``."""
    started = time.perf_counter()
    try:
        _limit_memory(budget)
        try:
            import keras

            if keras.backend.backend() != "tensorflow":  # JAX / PyTorch: do not load TensorFlow for its threads
                raise ImportError
            import tensorflow as tf

            tf.config.threading.set_intra_op_parallelism_threads(2)
            tf.config.threading.set_inter_op_parallelism_threads(1)
        except Exception:  # already initialised, or another backend: keep its defaults
            pass
        model = _keras_load(path, label)
        check_loaded(model, label)
        _one_batch(model)
        conn.send(("ok", {"seconds": time.perf_counter() - started, "peak_mb": _status_kb("VmHWM") / 1024}))
    except ModelFileError as exc:
        conn.send(("refused", str(exc)))
    except MemoryError:
        conn.send(("memory", None))
    except BaseException as exc:  # report, never raise: the parent turns it into a message
        try:
            conn.send(("error", f"{type(exc).__name__}: {_detail(exc)}"))
        except Exception:
            pass
    finally:
        conn.close()


def _status_kb(field: str) -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _limit_memory(budget: int) -> None:
    """RLIMIT_AS = what is mapped now + the budget (thread stacks and malloc arenas count against it, so the
    child keeps TensorFlow to 3 threads and malloc to 2 arenas)."""
    import resource

    try:
        import ctypes

        ctypes.CDLL("libc.so.6").mallopt(-8, 2)  # M_ARENA_MAX = 2: arenas reserve 64 MB of address space each
    except (OSError, AttributeError):
        pass
    mapped = _status_kb("VmSize") * 1024
    if mapped:
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        want = mapped + budget
        resource.setrlimit(resource.RLIMIT_AS, (want if hard == resource.RLIM_INFINITY else min(want, hard), hard))


def _one_batch(model) -> None:
    """Run the model once on a batch of one zero sample (unknown dimensions as 1)."""
    tensor = model.inputs[0]
    shape = tuple(1 if d is None else int(d) for d in tensor.shape)
    dtype = getattr(tensor, "dtype", "float32") or "float32"
    try:
        model(np.zeros(shape, dtype=str(dtype)), training=False)
    except MemoryError:
        raise
    except Exception as exc:
        raise ModelFileError(
            f"The model in {_short(getattr(model, 'name', 'the file'), 40)} loads but fails on a sample of its own "
            f"input shape {_shape_text(shape)} ({_detail(exc)}). It is refused. " + SAVE_HINT) from None
