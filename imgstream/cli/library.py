"""`imgstream ls` and `imgstream download`: the library's photos, listed and fetched."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import click
import httpx
from rich.console import Console
from rich.filesize import decimal as format_bytes

from imgstream.cli import client
from imgstream.cli.output import print_rows
from imgstream.cli.upload import require_login

PHOTOS = "/api/v1/photos"
PAGE_SIZE = 200
BLOCK_BYTES = 1024 * 1024


def photos(http: httpx.Client, *, album: str | None = None,
           limit: int | None = None) -> Iterator[dict[str, Any]]:
    """The library's photos (or an album's), newest first, page after page.

    Args:
        http: A connection to the server.
        album: An album id, to list only its photos.
        limit: How many at most (None for all).

    Yields:
        Each photo as the API describes it.
    """
    cursor: str | None = None
    count = 0
    path = f"/api/v1/albums/{album}/photos" if album else PHOTOS
    while True:
        page_size = PAGE_SIZE if limit is None else min(PAGE_SIZE, limit - count)
        page = client.get_json(http, path, cursor=cursor, limit=page_size)
        for photo in page.get("photos", []):
            yield photo
            count += 1
            if limit is not None and count >= limit:
                return
        cursor = page.get("next_cursor")
        if not cursor:
            return


@click.command(name="ls")
@click.option("--album", default=None, metavar="ID", help="Only the photos of this album.")
@click.option("--limit", "-n", type=click.IntRange(1), default=None,
              help="How many photos at most (default: all).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines, one photo each.")
def ls(album: str | None, limit: int | None, as_json: bool) -> None:
    """List the library's photos, newest first."""
    login = require_login()
    try:
        with client.connect(login) as http:
            found = list(photos(http, album=album, limit=limit))
    except client.ApiError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        for photo in found:
            click.echo(json.dumps(photo))
        return
    print_rows(["id", "file", "taken", "size", "dimensions"], [
        [str(photo.get("id")), str(photo.get("filename", "")),
         str(photo.get("taken_at") or "")[:16].replace("T", " "),
         format_bytes(int(photo.get("size_bytes") or 0)),
         f"{photo.get('width', '?')}×{photo.get('height', '?')}"] for photo in found])


def _free_name(folder: Path, filename: str, taken: set[str]) -> Path:
    """A name in the folder that this run has not used, keeping the extension."""
    stem, suffix = os.path.splitext(Path(filename).name or "photo")
    candidate, n = f"{stem}{suffix}", 1
    while candidate in taken:
        n += 1
        candidate = f"{stem} ({n}){suffix}"
    taken.add(candidate)
    return folder / candidate


def _same_file(path: Path, photo: dict[str, Any]) -> bool:
    """Whether a file already in the folder is this photo (same name and size)."""
    return path.is_file() and path.stat().st_size == photo.get("size_bytes")


def _fetch(http: httpx.Client, photo: dict[str, Any], target: Path) -> int:
    answer = http.get(f"{PHOTOS}/{photo['id']}/original")
    if answer.status_code not in (301, 302, 303, 307, 308):
        raise client.refusal(answer) if answer.is_error else client.ApiError(
            f"expected a redirect to the original, got HTTP {answer.status_code}")
    location = answer.url.join(answer.headers["location"])
    same_server = (location.scheme, location.host, location.port) == (
        answer.url.scheme, answer.url.host, answer.url.port)
    partial = target.with_name(f".{target.name}.part")
    # A signed URL elsewhere (a storage bucket) is fetched without the key or IAP's token.
    fetcher = nullcontext(http) if same_server else httpx.Client(timeout=client.TIMEOUT)
    with fetcher as fetching, fetching.stream("GET", location) as body:
        if body.is_error:
            body.read()
            raise client.refusal(body)
        written = 0
        with partial.open("wb") as out:
            for block in body.iter_bytes(BLOCK_BYTES):
                out.write(block)
                written += len(block)
    partial.replace(target)
    return written


@click.command(name="download")
@click.option("--to", "folder", required=True,
              type=click.Path(file_okay=False, path_type=Path), help="The folder to save into.")
@click.option("--album", default=None, metavar="ID", help="Only the photos of this album.")
def download(folder: Path, album: str | None) -> None:
    """Save the originals of the library's photos (or an album's) into a folder.

    A file already there with the same name and size is left alone; photos of the same name
    get numbered names ("beach (2).jpg").
    """
    login = require_login()
    folder.mkdir(parents=True, exist_ok=True)
    console = Console(stderr=True)
    saved = kept = failed = 0
    total = 0
    taken: set[str] = set()
    try:
        with client.connect(login) as http, console.status("listing photos…"):
            listed = list(photos(http, album=album))
        with client.connect(login) as http:
            for photo in listed:
                name = Path(str(photo.get("filename") or photo["id"])).name
                target = _free_name(folder, name, taken)
                if _same_file(target, photo):
                    kept += 1
                    continue
                try:
                    total += _fetch(http, photo, target)
                    saved += 1
                    console.print(f"[green]saved[/green] {target}", highlight=False)
                except (client.ApiError, httpx.TransportError, OSError) as exc:
                    failed += 1
                    console.print(f"[red]failed[/red] {name}: {exc}", highlight=False)
    except client.ApiError as exc:
        raise click.ClickException(str(exc)) from None
    console.print(f"{saved} saved ({format_bytes(total)}), {kept} already there, "
                  f"{failed} failed, in {folder}", highlight=False)
    sys.exit(1 if failed else 0)
