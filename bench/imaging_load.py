"""Memory and throughput: a fresh process' peak RSS growth while it analyses one photo, and a
batch of uploads through the upload handler's receive + ingest code."""

from __future__ import annotations

import concurrent.futures
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image
from sqlmodel import Session, SQLModel

from bench.imaging_common import MAX_PIXELS, PREVIEW, THUMBNAIL, ours
from bench.imaging_corpus import landscape
from imgstream.runtime import create_engine
from imgstream.services import identity, ingest
from imgstream.services.spooling import IncomingFile
from imgstream.services.storage import LocalStorage
from tests import images

CHUNK = 64 * 1024
RSS_GOAL_MIB = 40


def current_rss() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def rss_probe(path: Path) -> None:
    """Run in a fresh process: print the peak RSS growth (bytes) while analysing one file.

    The process is warmed up first (libraries loaded, a small image analysed), then RSS is
    sampled every millisecond while the file is analysed; the figure is peak minus the RSS
    just before.
    """
    import threading

    warm = Path(tempfile.mkdtemp()) / "warm.jpg"
    warm.write_bytes(images.encode(landscape((640, 480), 1), "JPEG"))
    ours(warm)
    baseline = current_rss()
    peak = baseline
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, current_rss())
            time.sleep(0.001)

    sampler = threading.Thread(target=sample)
    sampler.start()
    ours(path)
    peak = max(peak, current_rss())
    done.set()
    sampler.join()
    print(peak - baseline)


def bench_memory(path: Path, runs: int) -> float:
    growths = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-m", "bench.imaging", "--rss-probe", str(path)],
            check=True, capture_output=True, text=True,
        )
        growths.append(int(out.stdout.strip().splitlines()[-1]) / 2**20)
    with Image.open(path) as im:
        size = f"{im.width}x{im.height}"
    print(f"\nPeak RSS growth while analysing one {size} JPEG ({path.stat().st_size / 1e6:.1f} MB)"
          f", fresh process each, {runs} runs: median {statistics.median(growths):.1f} MiB, "
          f"max {max(growths):.1f} MiB (goal < {RSS_GOAL_MIB} MiB)")
    return statistics.median(growths)


def ingest_batch(paths: list[Path], workdir: Path, workers: int) -> tuple[float, float]:
    engine = create_engine(f"sqlite:///{workdir / 'bench.db'}")
    SQLModel.metadata.create_all(engine)
    storage = LocalStorage(workdir / "library", secret=b"bench", url_ttl_seconds=1800)
    with Session(engine, expire_on_commit=False) as session:
        owner = identity.provision_user(session=session, email="bench@example.com")

    def one(path: Path) -> None:
        incoming = IncomingFile(filename=path.name, spool_dir=workdir / "in", max_bytes=10**9)
        with path.open("rb") as fh:
            while block := fh.read(CHUNK):
                incoming.write(block)
        with Session(engine, expire_on_commit=False) as session:
            result = ingest.ingest(
                session=session, storage=storage, owner=owner, upload=incoming,
                sha256=incoming.finish(), thumbnail_size=THUMBNAIL, preview_size=PREVIEW,
                max_pixels=MAX_PIXELS,
            )
        assert result.status is ingest.IngestStatus.ADDED, result

    cpu_start, start = time.process_time(), time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        list(pool.map(one, paths))
    wall = time.perf_counter() - start
    engine.dispose()
    return wall, (time.process_time() - cpu_start) / wall


def bench_throughput(jpegs: list[Path], batch: int) -> None:
    # Distinct files (a duplicate would be refused): padded copies differ after the end marker.
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        paths = []
        for i in range(batch):
            source = jpegs[i % len(jpegs)]
            path = root / f"upload_{i:02d}.jpg"
            path.write_bytes(source.read_bytes() + i.to_bytes(4, "big"))
            paths.append(path)
        megapixels = statistics.mean(
            Image.open(p).width * Image.open(p).height / 1e6 for p in paths
        )
        cores = os.cpu_count() or 1
        print(f"\nUpload throughput, batch of {batch} JPEGs (~{megapixels:.0f} MP), "
              "receive + ingest (analyse, store, commit) as the upload handler runs it:")
        for workers in sorted({1, cores}):
            work = root / f"w{workers}"
            work.mkdir()
            wall, cpu = ingest_batch(paths, work, workers)
            print(f"  {workers} worker(s): {wall:.2f} s, {batch / wall:.1f} photos/s, "
                  f"CPU busy {cpu:.2f} cores")
