"""labutils.parallel: batches cut into parts, parts run in threads with BLAS on one thread."""

import threading
import time

import numpy as np
import pytest
from labutils import parallel


def blas_threads():
    """Threads of each BLAS library the pool limits (those loaded when it started, numpy's
    among them: labutils.parallel is only used after numpy is imported)."""
    _, blas = parallel._start()
    return [library.num_threads for library in blas.lib_controllers]


@pytest.mark.parametrize("n", [0, 1, 2, 5, 64, 101])
@pytest.mark.parametrize("parts", [1, 2, 3, 16])
def test_split_covers_the_range_in_balanced_consecutive_slices(n, parts):
    slices = parallel.split(n, parts)
    assert 1 <= len(slices) <= max(1, min(parts, n))
    assert [i for s in slices for i in range(s.start, s.stop)] == list(range(n))
    lengths = [s.stop - s.start for s in slices]
    assert max(lengths) - min(lengths) <= 1
    if n >= parts:
        assert len(slices) == parts


def test_cores_is_a_positive_count():
    assert parallel.cores() >= 1


def test_map_parallel_keeps_order_and_uses_pool_threads():
    def work(k):
        time.sleep(0.01 * (3 - k))  # later items finish first
        return k, threading.current_thread().name
    results = parallel.map_parallel(work, range(3))
    assert [k for k, _ in results] == [0, 1, 2]
    assert all(name.startswith("labutils") for _, name in results)


def test_blas_runs_single_threaded_inside_and_is_restored_after():
    before = blas_threads()
    assert before, "no BLAS library found to limit"
    inside = parallel.map_parallel(lambda _: blas_threads(), range(2))
    assert inside == [[1] * len(before)] * 2
    assert blas_threads() == before


def test_one_item_runs_in_the_calling_thread():
    caller = threading.current_thread().name
    assert parallel.map_parallel(lambda _: threading.current_thread().name, [0]) == [caller]


def test_nested_calls_run_inline_instead_of_deadlocking():
    def outer(k):
        return parallel.map_parallel(lambda j: (k, j, threading.current_thread().name), range(3))
    for inner in parallel.map_parallel(outer, range(parallel.cores() + 1)):
        assert len({name for _, _, name in inner}) == 1  # all on the worker that asked


def test_an_error_is_raised_once_every_part_has_ended():
    finished = []

    def work(k):
        if k == 0:
            raise ValueError("part 0 failed")
        time.sleep(0.05)
        finished.append(k)
    with pytest.raises(ValueError, match="part 0 failed"):
        parallel.map_parallel(work, range(2))
    assert finished == [1]


def test_numpy_results_match_a_serial_loop():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((4, 50, 60)), rng.standard_normal((60, 30))
    got = parallel.map_parallel(lambda k: a[k] @ b, range(4))
    for k in range(4):
        np.testing.assert_allclose(got[k], a[k] @ b, rtol=1e-12)
