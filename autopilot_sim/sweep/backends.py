"""Where the runs of a sweep execute: this process, a local process pool, or a Dask cluster.

Every backend receives the same chunks (lists of `RunSpec`) and runs each with
`worker.run_chunk`, so a run's record cannot depend on the backend: the simulation is seeded
from the run's own seed and owns all its state. Results come back chunk by chunk, in
completion order; the caller sorts.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

from autopilot_sim.sweep.plan import RunSpec
from autopilot_sim.sweep.worker import error_record, run_chunk

Chunk = list[RunSpec]


def default_workers() -> int:
    """One worker per CPU this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def make_chunks(specs: list[RunSpec], slots: int, max_size: int = 16) -> list[Chunk]:
    """Split the runs into chunks of consecutive runs (same combination first, so a worker loads
    each scenario variant once), about four chunks per worker slot for load balance."""
    if not specs:
        return []
    size = max(1, min(max_size, -(-len(specs) // (4 * max(1, slots)))))
    chunks: list[Chunk] = []
    current: Chunk = []
    for spec in specs:
        if current and (len(current) >= size or spec.combination != current[-1].combination):
            chunks.append(current)
            current = []
        current.append(spec)
    chunks.append(current)
    return chunks


def _failed_chunk(chunk: Chunk, exc: BaseException) -> list[dict[str, Any]]:
    return [error_record(spec, f"worker failed: {type(exc).__name__}: {exc}") for spec in chunk]


def run_inline(text: str, filename: str, chunks: list[Chunk]) -> Iterator[list[dict[str, Any]]]:
    """Run the chunks one after another in this process (`--workers 1`)."""
    for chunk in chunks:
        yield run_chunk(text, filename, chunk)


def _context() -> multiprocessing.context.BaseContext:
    # Never fork: the parent may hold threads (tqdm's monitor, Dask) and forked children would
    # inherit their locks. forkserver starts workers from a clean server process; spawn elsewhere.
    # The forkserver imports the simulator once; each worker forked from it starts warm.
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["autopilot_sim.sweep.worker", "autopilot_sim.sim.runner",
                                        "autopilot_sim.scenario"])
        return context
    return multiprocessing.get_context("spawn")


def run_pool(text: str, filename: str, chunks: list[Chunk], workers: int) -> Iterator[list[dict[str, Any]]]:
    """Run the chunks on a local pool of `workers` processes (each pays the start-up once)."""
    with ProcessPoolExecutor(max_workers=workers, mp_context=_context()) as pool:
        futures = {pool.submit(run_chunk, text, filename, chunk): chunk for chunk in chunks}
        try:
            for future in as_completed(futures):
                try:
                    yield future.result()
                except Exception as exc:  # a worker died: record its runs, go on
                    yield _failed_chunk(futures[future], exc)
        finally:
            for future in futures:
                future.cancel()


def dask_slots(client: Any) -> int:
    """Worker threads in a Dask cluster (for chunk sizing)."""
    return max(1, int(sum(client.nthreads().values())))


def run_dask(text: str, filename: str, chunks: list[Chunk], client: Any) -> Iterator[list[dict[str, Any]]]:
    """Run the chunks on a Dask distributed cluster through `client`."""
    from distributed import as_completed as dask_completed

    futures = client.map(run_chunk, [text] * len(chunks), [filename] * len(chunks), chunks, pure=False)
    by_key = {f.key: chunk for f, chunk in zip(futures, chunks, strict=True)}
    try:
        for future in dask_completed(futures):  # type: ignore[no-untyped-call]  # untyped library
            try:
                yield future.result()
            except Exception as exc:  # a worker died: record its runs, go on
                yield _failed_chunk(by_key[future.key], exc)
    finally:
        client.cancel(futures)


def map_tasks(func: Any, tasks: list[Any], workers: int | None = None,
              client: Any = None) -> Iterator[tuple[int, Any]]:
    """Run ``func(task)`` for every task and yield ``(position, result)`` in completion order:
    in this process (`workers` 1), on a local pool of the same kind as the sweep's, or on Dask
    through `client`. `func` must be a module-level function and its tasks plain data; an
    exception in a task propagates (experiments have no per-run error records)."""
    if client is not None:
        from distributed import as_completed as dask_completed

        futures = client.map(func, tasks, pure=False)
        position = {f.key: i for i, f in enumerate(futures)}
        try:
            for future in dask_completed(futures):  # type: ignore[no-untyped-call]  # untyped library
                yield position[future.key], future.result()
        finally:
            client.cancel(futures)
        return
    if workers is None:
        workers = default_workers()
    if workers <= 1 or len(tasks) <= 1:
        for i, task in enumerate(tasks):
            yield i, func(task)
        return
    with ProcessPoolExecutor(max_workers=workers, mp_context=_context()) as pool:
        futures = {pool.submit(func, task): i for i, task in enumerate(tasks)}
        try:
            for future in as_completed(futures):
                yield futures[future], future.result()
        finally:
            for future in futures:
                future.cancel()
