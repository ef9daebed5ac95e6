"""Selection ZIP download: memory of the app while it streams a large archive, and its start.

Usage: uv run python -m bench.zip [--gigabytes 2] [--photos 64] [--database-url URL]

Seeds one person's library with `--photos` originals adding up to `--gigabytes` GB (sparse files
in local storage: the archive stores, never deflates, so content does not matter), starts the
app's HTTP routes in a uvicorn process of their own, POSTs /archive for the whole selection and
reads the response to the end. Prints the server process's resident memory before and at its
peak during the download (the growth must stay under 64 MB), the time to the first byte of the
ZIP (must be under 1 s), the throughput, and as reference the throughput of reading the same
files straight from disk in this process; the ratio is ZIP / plain read.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx

MB = 1024 * 1024


def _rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _seed(photos: int, total_bytes: int) -> tuple[uuid.UUID, list[str], list[Path]]:
    from sqlmodel import Session, SQLModel

    from imgstream import runtime
    from imgstream.models import Photo, utcnow
    from imgstream.services import identity, object_keys

    engine = runtime.engine()
    SQLModel.metadata.drop_all(engine)
    SQLModel.metadata.create_all(engine)
    store = runtime.storage()
    each = total_bytes // photos
    ids, paths = [], []
    with Session(engine, expire_on_commit=False) as session:
        owner = identity.provision_user(session=session, email="bench@example.com")
        for number in range(photos):
            name = f"IMG_{number % (photos // 2 or 1):04d}.jpg"  # half the names repeat
            photo = Photo(owner_id=owner.id, filename=name, sha256=f"{number:064x}",
                          format="JPEG", mime="image/jpeg", size_bytes=each,
                          width=4000, height=3000, taken_at=utcnow(), taken_at_source="bench")
            session.add(photo)
            path = store.path_of(object_keys.original_of(photo))
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "wb") as handle:
                handle.write(b"\xff\xd8\xff\xe0")
                handle.truncate(each)
            ids.append(str(photo.id))
            paths.append(path)
        session.commit()
    return owner.id, ids, paths


class _SignedInApp:
    """The app's HTTP routes as seen by requests signed in as BENCH_ZIP_OWNER (granian's target)."""

    def __init__(self) -> None:
        self._api = None

    async def __call__(self, scope, receive, send):  # noqa: ANN001
        from imgstream.api import http_api
        from imgstream.api.identity import SCOPE_USER

        if self._api is None:
            self._api = http_api()
        if scope["type"] == "http":
            scope = {**scope, SCOPE_USER: uuid.UUID(os.environ["BENCH_ZIP_OWNER"])}
        await self._api(scope, receive, send)


signed_in_app = _SignedInApp()


def _tree_rss(pid: int) -> int:
    # granian runs the app in a worker process under its own: count both.
    total = _rss_bytes(pid)
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        total += _tree_rss(int(child))
    return total


def _plain_read(paths: list[Path]) -> float:
    start = time.perf_counter()
    for path in paths:
        with open(path, "rb") as handle:
            while handle.read(256 * 1024):
                pass
    return time.perf_counter() - start


def run(gigabytes: float, photos: int) -> dict[str, float]:
    """Seed, serve, download once; return the figures."""
    total = int(gigabytes * 1000**3)
    owner_id, ids, paths = _seed(photos, total)
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "granian", "--interface", "asgi", "--host", "127.0.0.1",
         "--port", str(port), "--workers", "1", "--log-level", "warning",
         "bench.zip:signed_in_app"],
        env={**os.environ, "BENCH_ZIP_OWNER": str(owner_id)})
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                httpx.get(base + "/health", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        # Warm the route (imports, first database connection) with a one-photo archive.
        httpx.post(base + "/archive", data={"ids": ids[0]}, timeout=60).raise_for_status()
        baseline = _tree_rss(server.pid)
        peak = baseline
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, _tree_rss(server.pid))
                time.sleep(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        received = 0
        start = time.perf_counter()
        first_byte = None
        with httpx.stream("POST", base + "/archive", data={"ids": ",".join(ids)},
                          timeout=600) as response:
            response.raise_for_status()
            expected = int(response.headers.get("content-length", 0))
            for chunk in response.iter_raw():
                if first_byte is None:
                    first_byte = time.perf_counter() - start
                received += len(chunk)
        elapsed = time.perf_counter() - start
        done.set()
        sampler.join()
    finally:
        server.terminate()
        server.wait(10)
    plain = _plain_read(paths)
    figures = {
        "photos": photos,
        "archive_mb": received / MB,
        "content_length_matches": float(received == expected),
        "rss_before_mb": baseline / MB,
        "rss_peak_mb": peak / MB,
        "rss_growth_mb": (peak - baseline) / MB,
        "first_byte_s": first_byte or 0.0,
        "zip_mb_per_s": received / MB / elapsed,
        "plain_read_mb_per_s": total / MB / plain,
    }
    figures["ratio_zip_to_plain"] = figures["zip_mb_per_s"] / figures["plain_read_mb_per_s"]
    return figures


def main() -> None:
    """Command line entry."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gigabytes", type=float, default=2.0)
    parser.add_argument("--photos", type=int, default=64)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir:
        os.environ["IMGSTREAM_DATA_DIR"] = data_dir
        if args.database_url:
            os.environ["IMGSTREAM_DATABASE_URL"] = args.database_url
        figures = run(args.gigabytes, args.photos)
    for name, value in figures.items():
        print(f"{name:24} {value:12.2f}")
    ok = figures["rss_growth_mb"] < 64 and figures["first_byte_s"] < 1.0
    print("PASS" if ok and figures["content_length_matches"] else "FAIL")


if __name__ == "__main__":
    main()
