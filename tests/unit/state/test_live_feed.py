"""Open tabs follow their person's change counter through one read per worker, not one each."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from imgstream.services import live_changes
from imgstream.state import live
from tests import aio


class CountedReads(live_changes.MemoryCounters):
    """Counters in memory that count how often they were read."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    def versions(self, owner_ids):  # noqa: ANN001, ANN201
        self.reads += 1
        return super().versions(owner_ids)


@pytest.fixture
def counters(monkeypatch):
    memory = CountedReads()
    monkeypatch.setattr(live_changes, "counters", lambda: memory)
    monkeypatch.setattr(live, "POLL_SECONDS", 0.02)
    return memory


def test_many_tabs_share_one_read_per_poll_and_see_only_their_persons_changes(counters):
    feed = live.ChangeFeed()
    ada, eve = uuid.uuid4(), uuid.uuid4()

    async def tab(owner: uuid.UUID, seen: list[float], wakes: list[int]) -> None:
        with feed.following(owner):
            version = 0
            started = asyncio.get_running_loop().time()
            while asyncio.get_running_loop().time() - started < 0.3:
                now = await feed.change_from(owner, version, timeout=0.3)
                wakes.append(now)
                if now != version:
                    seen.append(asyncio.get_running_loop().time())
                    version = now

    async def scene() -> tuple[list[list[float]], list[list[float]], list[list[int]], float]:
        adas, eves = [[] for _ in range(40)], [[] for _ in range(10)]
        wakes = [[] for _ in range(50)]
        tabs = [asyncio.create_task(tab(ada, seen, w))
                for seen, w in zip(adas, wakes[:40], strict=True)]
        tabs += [asyncio.create_task(tab(eve, seen, w))
                 for seen, w in zip(eves, wakes[40:], strict=True)]
        await asyncio.sleep(0.07)
        counters.bump([str(ada)])
        bumped = asyncio.get_running_loop().time()
        await asyncio.gather(*tabs)
        return adas, eves, wakes, bumped

    adas, eves, wakes, bumped = aio.run(scene())
    # Each of Ada's tabs sees her change once, within a poll or two; Eve's see nothing.
    assert all(len(seen) == 1 and seen[0] - bumped < 0.1 for seen in adas), adas[0]
    assert all(not seen for seen in eves), eves[0]
    # An idle tab is not woken for nothing: Eve's tabs wake only when they time out.
    assert all(len(w) <= 2 for w in wakes[40:]), wakes[40:]
    # Fifteen polls for fifty tabs: one read each, not one per tab and poll (750).
    assert counters.reads <= 25, counters.reads
    assert not feed._following, "a closed tab is no longer read"


def test_a_counter_outage_wakes_the_tabs_with_zero(monkeypatch):
    class Down(live_changes.MemoryCounters):
        def versions(self, owner_ids):  # noqa: ANN001, ANN201
            raise ConnectionError("redis is away")

    monkeypatch.setattr(live_changes, "counters", Down)
    monkeypatch.setattr(live, "POLL_SECONDS", 0.01)
    feed, owner = live.ChangeFeed(), uuid.uuid4()

    async def one_read() -> int:
        with feed.following(owner):
            return await asyncio.wait_for(feed.change_from(owner, 3), 2)

    assert aio.run(one_read()) == 0
