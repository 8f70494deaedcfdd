"""Share NumPy work between the CPU cores: one Python thread per core, each on a part of a batch.

NumPy lets go of Python's global lock inside array copies, ufunc loops and matrix products, so
threads that spend their time there really run at the same time. Meanwhile the BLAS library
behind ``@`` is told to use one thread, so that the two levels do not fight for the cores.
Used by ``labutils.conv_engine.FastConvolution``; see bench/conv.py for what it buys.

    parts = split(len(x), cores())
    results = map_parallel(lambda part: work(x[part]), parts)
"""

import os
import threading
from concurrent.futures import ThreadPoolExecutor, wait

from threadpoolctl import ThreadpoolController

_lock = threading.Lock()
_state = threading.local()  # .inside is True in the pool's own threads
_pool = None
_blas = None


def cores():
    """How many CPU cores this process may use (its affinity mask, not the machine's total)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def split(n, parts):
    """range(n) cut into at most `parts` consecutive slices whose lengths differ by at most 1."""
    parts = max(1, min(parts, n))
    bounds = [n * k // parts for k in range(parts + 1)]
    return [slice(start, stop) for start, stop in zip(bounds[:-1], bounds[1:])]


def _mark_inside():
    _state.inside = True


def _start():
    """The thread pool and the BLAS controller, made on first use (both cost a millisecond)."""
    global _pool, _blas
    with _lock:
        if _pool is None:
            _blas = ThreadpoolController().select(user_api="blas")
            _pool = ThreadPoolExecutor(max_workers=cores(), thread_name_prefix="labutils",
                                       initializer=_mark_inside)
    return _pool, _blas


def map_parallel(fn, items):
    """[fn(item) for item in items], the items handed to the pool's threads, in order.

    Runs in the calling thread when there is one item, or when called from inside the pool
    (waiting there on the pool's own threads could deadlock). An exception in any call is
    raised here, after all calls have ended.
    """
    items = list(items)
    if len(items) <= 1 or getattr(_state, "inside", False):
        return [fn(item) for item in items]
    pool, blas = _start()
    with blas.limit(limits=1):
        futures = [pool.submit(fn, item) for item in items]
        wait(futures)
    return [future.result() for future in futures]
