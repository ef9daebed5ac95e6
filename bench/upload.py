"""Upload figures: server time per 12 MP JPEG, and app memory while a 100 MB file uploads.

Usage: .venv/bin/python -m bench.upload [--runs 5] [--skip-memory]

1. Server time from upload to thumbnail stored, for one 12 MP JPEG: the bytes go through the same
   receive (64 KiB chunks into the spool file, hashed) and ingest code the upload handler runs, on
   a fresh SQLite database and local store. Reference in the same run: a naive Pillow thumbnail
   (full decode, resize, WebP) of the same file.
2. Peak RSS growth of the running app (`reflex run --env prod`) over idle while Chromium uploads
   a 100 MB JPEG through the upload page.
"""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import threading
import time
from pathlib import Path

from PIL import Image
from sqlmodel import Session, SQLModel

from imgstream.runtime import create_engine
from imgstream.services import identity, imaging, ingest
from imgstream.services.spooling import IncomingFile
from imgstream.services.storage import LocalStorage

CHUNK = 64 * 1024


def camera_like_jpeg(size=(4000, 3000)) -> bytes:
    """A JPEG with photo-like detail (structure, gradients, sensor-like noise)."""
    fractal = Image.effect_mandelbrot(size, (-2.0, -1.2, 1.0, 1.2), 100)
    noise = Image.effect_noise(size, 20).convert("L")
    gradient = Image.linear_gradient("L").resize(size)
    rgb = Image.merge("RGB", (Image.blend(fractal, noise, 0.3), Image.blend(gradient, noise, 0.3),
                              Image.blend(fractal, gradient, 0.5)))
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = "2024:08:01 12:00:00"
    out = io.BytesIO()
    rgb.save(out, "JPEG", quality=90, exif=exif.tobytes())
    return out.getvalue()


def ingest_once(data: bytes, workdir: Path) -> float:
    engine = create_engine(f"sqlite:///{workdir / 'bench.db'}")
    SQLModel.metadata.create_all(engine)
    storage = LocalStorage(workdir / "library", secret=b"bench", url_ttl_seconds=1800)
    with Session(engine, expire_on_commit=False) as session:
        owner = identity.provision_user(session=session, email="bench@example.com")
        start = time.perf_counter()
        incoming = IncomingFile(filename="big.jpg", spool_dir=workdir / "in", max_bytes=10**9)
        for offset in range(0, len(data), CHUNK):
            incoming.write(data[offset:offset + CHUNK])
        result = ingest.ingest(
            session=session, storage=storage, owner=owner, upload=incoming,
            sha256=incoming.finish(), thumbnail_size=400, preview_size=1440, max_pixels=10**8,
        )
        elapsed = time.perf_counter() - start
    engine.dispose()
    assert result.status is ingest.IngestStatus.ADDED, result
    return elapsed


def naive_thumbnail(data: bytes) -> float:
    start = time.perf_counter()
    with Image.open(io.BytesIO(data)) as im:
        im.load()
        im.thumbnail((400, 400))
        im.save(io.BytesIO(), "WEBP")
    return time.perf_counter() - start


def bench_pipeline(runs: int) -> None:
    data = camera_like_jpeg()
    ours, naive = [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            ours.append(ingest_once(data, Path(tmp)))
        naive.append(naive_thumbnail(data))
    ours_ms = statistics.median(ours) * 1000
    naive_ms = statistics.median(naive) * 1000
    print(f"12 MP JPEG ({len(data) / 1e6:.1f} MB), median of {runs}:")
    print(f"  upload → thumbnail stored (receive, hash, analyse, store, commit): {ours_ms:.0f} ms")
    print(f"  reference, naive Pillow thumbnail alone:                         {naive_ms:.0f} ms")
    print(f"  ratio ours / naive: {ours_ms / naive_ms:.2f}")


def tree_rss(proc) -> dict[int, int]:
    import psutil

    result = {}
    try:
        root = psutil.Process(proc.pid)
        for p in [root, *root.children(recursive=True)]:
            try:
                result[p.pid] = p.memory_info().rss
            except psutil.Error:
                pass
    except psutil.Error:
        pass
    return result


def bench_memory(runs: int) -> None:
    from playwright.sync_api import sync_playwright

    from tests.e2e.conftest import CHROMIUM_ARGS, chromium_path, open_library
    from tests.e2e.running_app import running_app

    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        photo = camera_like_jpeg((2000, 1500))
        growths, seconds = [], []
        with running_app(tmp_path / "data") as app, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
            page = browser.new_page(base_url=app.url)
            open_library(page, "bench@example.com")
            # The first upload after start loads the image libraries and starts worker threads
            # once; a small photo does that before the measured runs, and is reported apart.
            warm = tmp_path / "warm-up.jpg"
            warm.write_bytes(photo)
            time.sleep(2)
            idle = tree_rss(app.process)
            page.get_by_test_id("upload-input").set_input_files(str(warm))
            page.wait_for_selector("[data-testid=upload-item][data-status=added]",
                                   timeout=300_000)
            time.sleep(1)
            warm_growth = max(rss - idle.get(pid, 0) for pid, rss in tree_rss(app.process).items())
            page.get_by_role("button", name="Clear finished").click()
            for run in range(runs):
                # A real photo padded after its end marker to just under the 100 MB limit;
                # the padding differs per run so no upload is a duplicate of another.
                big = tmp_path / f"big-{run}.jpg"
                big.write_bytes(photo + bytes([run + 1]) * (99_900_000 - len(photo)))
                time.sleep(2)
                idle = tree_rss(app.process)
                peak: dict[int, int] = dict(idle)
                done = threading.Event()

                def sample(peak=peak, done=done) -> None:
                    while not done.is_set():
                        for pid, rss in tree_rss(app.process).items():
                            peak[pid] = max(peak.get(pid, 0), rss)
                        time.sleep(0.02)

                sampler = threading.Thread(target=sample)
                sampler.start()
                start = time.perf_counter()
                page.get_by_test_id("upload-input").set_input_files(str(big))
                page.wait_for_selector(
                    f"[data-testid=upload-item][data-status=added] >> nth={run}", timeout=300_000
                )
                seconds.append(time.perf_counter() - start)
                done.set()
                sampler.join()
                growths.append(max(peak[pid] - idle.get(pid, 0) for pid in peak))
            browser.close()
        print(f"RSS growth of the first upload after start (a {len(photo) / 1e6:.1f} MB photo, "
              f"loads the image libraries): {warm_growth / 2**20:.1f} MiB")
        print(f"100 MB upload through the page, {runs} runs after it:")
        print(f"  time: median {statistics.median(seconds):.1f} s")
        print(f"  peak RSS growth over idle of the app process: median "
              f"{statistics.median(growths) / 2**20:.1f} MiB, max {max(growths) / 2**20:.1f} MiB"
              " (goal < 32 MiB)")
        print("  per run (MiB): " + ", ".join(f"{g / 2**20:.1f}" for g in growths))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--memory-runs", type=int, default=3)
    parser.add_argument("--skip-memory", action="store_true")
    args = parser.parse_args()
    imaging.configure()
    bench_pipeline(args.runs)
    if not args.skip_memory:
        bench_memory(args.memory_runs)


if __name__ == "__main__":
    main()
