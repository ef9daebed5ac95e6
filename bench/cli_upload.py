"""`imgstream upload` throughput: one file at a time against several at once.

Usage: uv run python -m bench.cli_upload [--photos 12] [--rounds 3] [--concurrency 4]

Serves the app's HTTP routes (identity middleware and /api/v1 included) with Granian in this
process, on SQLite and local storage in a temporary folder, makes an API key per round with the
key service, and runs the installed `imgstream upload --json` on a folder of noisy JPEGs (about
1 MB each, 1 MiB chunks) with `--concurrency 1` (the reference) and `--concurrency N`. Every
round uploads for a new person, so nothing is a duplicate. Prints the median seconds and MB/s of
each and the ratio N / 1 (under 1 means faster).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from imgstream import config, runtime
from imgstream.api import http_api
from imgstream.api.identity import request_identity
from imgstream.services import api_keys, identity
from tests import images
from tests.integration.conftest import migrate
from tests.integration.serving import serving

IMGSTREAM = str(Path(sys.executable).parent / "imgstream")


def _upload(url: str, folder: Path, home: Path, concurrency: int) -> float:
    with runtime.db_session() as session:
        owner = identity.provision_user(session=session,
                                        email=f"bench-{time.monotonic_ns()}@example.com")
        token = api_keys.create_key(session=session, owner=owner, scopes=["upload"]).token
    env = {**os.environ, "XDG_CONFIG_HOME": str(home / "config"),
           "XDG_STATE_HOME": str(home / "state")}
    subprocess.run([IMGSTREAM, "login", url, "--key", token], env=env, check=True,
                   capture_output=True)
    started = time.perf_counter()
    done = subprocess.run([IMGSTREAM, "upload", str(folder), "--json", "-j", str(concurrency)],
                          env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    report = json.loads(done.stdout)
    assert report["summary"]["added"] == len(list(folder.iterdir())), report["summary"]
    return seconds


def main() -> None:
    """Run the measurement and print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--photos", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        data, folder = root / "data", root / "photos"
        folder.mkdir()
        for n in range(args.photos):
            (folder / f"photo-{n}.jpg").write_bytes(images.noisy_jpeg(size=(1000, 800)))
        total = sum(p.stat().st_size for p in folder.iterdir())
        database = f"sqlite:///{data / 'imgstream.db'}"
        migrate(database, data)
        os.environ.update(IMGSTREAM_DATA_DIR=str(data), IMGSTREAM_DATABASE_URL=database,
                          IMGSTREAM_UPLOAD_CHUNK_BYTES=str(1024 * 1024))
        for cache in (config.get_settings, runtime.engine, runtime.storage):
            cache.cache_clear()
        times: dict[int, list[float]] = {1: [], args.concurrency: []}
        with serving(request_identity(http_api())) as url:
            for _ in range(args.rounds):
                for concurrency in times:
                    times[concurrency].append(_upload(url, folder, root, concurrency))
        print(f"{args.photos} photos, {total / 1e6:.1f} MB, {args.rounds} rounds (medians)")
        for concurrency, measured in times.items():
            median = statistics.median(measured)
            print(f"--concurrency {concurrency}: {median:.2f} s, {total / 1e6 / median:.1f} MB/s")
        ratio = statistics.median(times[args.concurrency]) / statistics.median(times[1])
        print(f"ratio concurrency {args.concurrency} / 1: {ratio:.2f}")


if __name__ == "__main__":
    main()
