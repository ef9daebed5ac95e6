import asyncio
import threading
import time

from imgstream.services import ingest_slots
from tests import aio


def test_no_more_ingests_run_at_once_than_there_are_slots(monkeypatch):
    monkeypatch.setattr(ingest_slots, "INGEST_SLOTS", 2)
    lock = threading.Lock()
    running, peak = 0, 0

    def work(n):
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.05)
        with lock:
            running -= 1
        return n * 2

    async def main():
        return await asyncio.gather(*(ingest_slots.run_ingest(work, n) for n in range(6)))

    assert aio.run(main()) == [0, 2, 4, 6, 8, 10]
    assert peak == 2



def test_ingests_run_on_no_more_threads_than_there_are_slots():
    """Per-thread image buffers stay bounded: the same few threads do every ingest."""
    names = set()

    def work(n):
        names.add(threading.current_thread().name)
        time.sleep(0.01)
        return n

    async def main():
        return await asyncio.gather(*(ingest_slots.run_ingest(work, n) for n in range(20)))

    assert aio.run(main()) == list(range(20))
    assert 1 <= len(names) <= ingest_slots.INGEST_SLOTS
    assert all(name.startswith("ingest") for name in names)


def test_the_instance_s_processes_share_its_cores_between_their_ingests():
    assert ingest_slots.slots_per_process(cores=2, workers=1) == 2
    assert ingest_slots.slots_per_process(cores=2, workers=2) == 1
    assert ingest_slots.slots_per_process(cores=4, workers=2) == 2
    assert ingest_slots.slots_per_process(cores=2, workers=4) == 1, "one at least"
