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

    async def tab(owner: uuid.UUID, seen: list[int], polls: int) -> None:
        with feed.following(owner):
            for _ in range(polls):
                seen.append(await feed.next_read(owner))

    async def scene() -> tuple[list[list[int]], list[list[int]]]:
        adas, eves = [[] for _ in range(40)], [[] for _ in range(10)]
        tabs = [asyncio.create_task(tab(ada, seen, 6)) for seen in adas]
        tabs += [asyncio.create_task(tab(eve, seen, 6)) for seen in eves]
        await asyncio.sleep(0.07)
        counters.bump([str(ada)])
        await asyncio.gather(*tabs)
        return adas, eves

    adas, eves = aio.run(scene())
    assert all(seen[0] == 0 and seen[-1] == 1 for seen in adas), adas[0]
    assert all(set(seen) == {0} for seen in eves), eves[0]
    # Six polls for fifty tabs: a handful of reads, not one per tab and poll (300).
    assert counters.reads <= 10, counters.reads
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
            return await asyncio.wait_for(feed.next_read(owner), 2)

    assert aio.run(one_read()) == 0
