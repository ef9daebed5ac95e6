"""Share link timing: an unknown token and a revoked one must not be told apart by timing.

Usage: .venv/bin/python -m bench.shares [--requests 2000] [--links 1000] [--database-url URL]

Serves GET /s/{token} through the app's own routes and identity middleware (in process, over
ASGI) against a database holding `--links` share links, a tenth of them revoked. Requests for
unknown, revoked and working links are interleaved so drift affects all alike. Prints the median
and 90th percentile per kind and the ratio of the medians revoked/unknown (1.00 means no oracle);
the working link, which renders a page of photos, is the reference.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import tempfile
import time
from pathlib import Path

from sqlmodel import Session, SQLModel
from starlette.testclient import TestClient


def _setup(database_url: str | None, links: int, data_dir: Path) -> tuple[list[str], list[str]]:
    os.environ["IMGSTREAM_DATA_DIR"] = str(data_dir)
    if database_url:
        os.environ["IMGSTREAM_DATABASE_URL"] = database_url
    from imgstream import runtime
    from imgstream.config import get_settings
    from imgstream.models import Photo
    from imgstream.services import albums, identity, shares

    engine = runtime.engine()
    SQLModel.metadata.drop_all(engine)
    SQLModel.metadata.create_all(engine)
    secret = get_settings().signing_key()
    working, revoked = [], []
    with Session(engine, expire_on_commit=False) as session:
        owner = identity.provision_user(session=session, email="bench@example.com")
        photo = Photo(owner_id=owner.id, filename="a.jpg", sha256="0" * 64, format="JPEG",
                      mime="image/jpeg", size_bytes=1, width=1, height=1,
                      taken_at=owner.created_at, taken_at_source="upload_time")
        session.add(photo)
        session.commit()
        album = albums.create_album(session=session, owner_id=owner.id, name="Bench")
        albums.add_photos(session=session, owner_id=owner.id, album_id=album.id,
                          photo_ids=[photo.id])
        for number in range(links):
            new = shares.create_share(session=session, secret=secret, owner_id=owner.id,
                                      album_id=album.id)
            if number % 10 == 0:
                shares.revoke_share(session=session, owner_id=owner.id, share_id=new.share.id)
                revoked.append(new.token)
            else:
                working.append(new.token)
    return working, revoked


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per kind")
    parser.add_argument("--links", type=int, default=1000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        working, revoked = _setup(args.database_url, args.links, Path(tmp))
        from imgstream.api import http_api
        from imgstream.api.identity import request_identity

        client = TestClient(request_identity(http_api()))
        times: dict[str, list[float]] = {"unknown": [], "revoked": [], "working": []}
        for warm in range(50):
            client.get(f"/s/{secrets.token_urlsafe(24)}")
            client.get(f"/s/{revoked[warm % len(revoked)]}")
        for number in range(args.requests):
            for kind in ("unknown", "revoked", "working"):
                if kind == "unknown":
                    token = secrets.token_urlsafe(24)
                elif kind == "revoked":
                    token = revoked[number % len(revoked)]
                else:
                    token = working[number % len(working)]
                start = time.perf_counter()
                status = client.get(f"/s/{token}").status_code
                times[kind].append(time.perf_counter() - start)
                expected = 200 if kind == "working" else 404
                assert status == expected, f"{kind} link answered {status}"

    def line(kind: str) -> str:
        values = sorted(times[kind])
        p90 = values[int(len(values) * 0.9)]
        return (f"{kind:8s} median {statistics.median(values) * 1000:7.3f} ms  "
                f"p90 {p90 * 1000:7.3f} ms  (n={len(values)})")

    database = "PostgreSQL" if args.database_url else "SQLite"
    print(f"GET /s/{{token}} on {database}, {args.links} links ({len(revoked)} revoked)")
    for kind in ("unknown", "revoked", "working"):
        print(line(kind))
    ratio = statistics.median(times["revoked"]) / statistics.median(times["unknown"])
    print(f"revoked/unknown median ratio: {ratio:.3f}")


if __name__ == "__main__":
    main()
