"""How many ingests run at once: decoding is CPU-bound, so at most one per core.

The cores are shared by the instance's server processes (GRANIAN_WORKERS): each process takes
its share of them, one slot at least. Ingests beyond that would only take the cores from the
events of the people browsing (their answers took twice as long under load, bench/load.py).
The upload page, the REST API and anything else in the server process share this limit, and
ingests run on their own threads, one per slot: image decoding keeps a buffer per thread, so
the memory it holds is bounded by the slots, not by how many threads the server has.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import functools
import os
import weakref
from collections.abc import Callable
from typing import ParamSpec, TypeVar


def slots_per_process(cores: int, workers: int) -> int:
    """Ingest slots of one server process: its share of the cores, one at least."""
    return max(1, cores // max(1, workers))


def _workers() -> int:
    try:
        return int(os.environ.get("GRANIAN_WORKERS") or 1)
    except ValueError:
        return 1


INGEST_SLOTS = slots_per_process(os.cpu_count() or 1, _workers())

_threads = concurrent.futures.ThreadPoolExecutor(INGEST_SLOTS, thread_name_prefix="ingest")
_P = ParamSpec("_P")
_T = TypeVar("_T")
# One semaphore per event loop: an asyncio semaphore belongs to the loop it first waits on.
_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


def slots() -> asyncio.Semaphore:
    """The running event loop's ingest semaphore."""
    loop = asyncio.get_running_loop()
    semaphore = _slots.get(loop)
    if semaphore is None:
        semaphore = _slots[loop] = asyncio.Semaphore(INGEST_SLOTS)
    return semaphore


async def run_ingest(work: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
    """Run CPU-heavy work on an ingest thread once an ingest slot is free.

    Args:
        work: The blocking function (decoding, storing).
        *args: Its positional arguments.
        **kwargs: Its keyword arguments.

    Returns:
        What it returns.
    """
    async with slots():
        call = functools.partial(contextvars.copy_context().run, work, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(_threads, call)
