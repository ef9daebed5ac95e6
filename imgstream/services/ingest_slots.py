"""How many ingests run at once: decoding is CPU-bound, so at most one per core.

The upload page, the REST API and anything else in the server process share this limit.
"""

from __future__ import annotations

import asyncio
import os
import weakref
from collections.abc import Callable
from typing import ParamSpec, TypeVar

INGEST_SLOTS = os.cpu_count() or 1

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
    """Run CPU-heavy work in a worker thread once an ingest slot is free.

    Args:
        work: The blocking function (decoding, storing).
        *args: Its positional arguments.
        **kwargs: Its keyword arguments.

    Returns:
        What it returns.
    """
    async with slots():
        return await asyncio.to_thread(work, *args, **kwargs)
