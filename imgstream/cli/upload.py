"""`imgstream upload`: send photo files and folders to the library, with progress and a summary."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter
from pathlib import Path

import click
from rich.console import Console
from rich.filesize import decimal as format_bytes
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from imgstream.cli import client, credentials
from imgstream.cli.transfer import (
    Journal,
    LeftOut,
    LocalFile,
    Outcome,
    Result,
    Transfer,
    find_files,
)

CHOICES = {"ask": "ask", "skip": "skip", "replace": "replace", "keep-both": "keep_both"}
DECISIONS = {"s": "skip", "r": "replace", "k": "keep_both"}
SUMMARY_ORDER = [Outcome.ADDED, Outcome.REPLACED, Outcome.KEPT_BOTH, Outcome.DUPLICATE,
                 Outcome.SKIPPED, Outcome.REJECTED, Outcome.NEEDS_DECISION, Outcome.FAILED]
LABELS = {Outcome.ADDED: "added", Outcome.REPLACED: "replaced", Outcome.KEPT_BOTH: "kept both",
          Outcome.DUPLICATE: "already there", Outcome.SKIPPED: "skipped",
          Outcome.REJECTED: "rejected", Outcome.NEEDS_DECISION: "waiting for a decision",
          Outcome.FAILED: "failed"}
STYLES = {Outcome.ADDED: "green", Outcome.REPLACED: "green", Outcome.KEPT_BOTH: "green",
          Outcome.DUPLICATE: "cyan", Outcome.SKIPPED: "cyan", Outcome.REJECTED: "red",
          Outcome.NEEDS_DECISION: "yellow", Outcome.FAILED: "red"}


def _dry_run(files: list[LocalFile], left_out: list[LeftOut], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps({
            "dry_run": True,
            "files": [{"path": str(f.path), "size": f.size} for f in files],
            "left_out": [{"path": str(o.path), "reason": o.reason} for o in left_out],
            "total_bytes": sum(f.size for f in files),
        }, indent=2))
        return
    console = Console()
    table = Table("file", "size", title="Would upload", title_justify="left")
    for file in files:
        table.add_row(str(file.path), format_bytes(file.size))
    console.print(table)
    for other in left_out:
        console.print(f"left out: {other.path} ({other.reason})", style="dim")
    console.print(f"{len(files)} file(s), {format_bytes(sum(f.size for f in files))}; "
                  "nothing was sent (dry run)")


class _Bars:
    """Rich progress bars: one for the whole run, one for each file being sent."""

    def __init__(self, progress: Progress | None, total: int):
        self.progress = progress
        self.total = progress.add_task("total", total=total) if progress else None
        self.tasks: dict[Path, TaskID] = {}

    def start(self, file: LocalFile) -> None:
        if self.progress:
            self.tasks[file.path] = self.progress.add_task(file.path.name, total=file.size)

    def advance(self, file: LocalFile, n: int) -> None:
        if self.progress and n > 0:
            self.progress.advance(self.tasks[file.path], n)
            self.progress.advance(self.total, n)

    def finish(self, result: Result) -> None:
        if self.progress:
            self.progress.remove_task(self.tasks.pop(result.path))
            self.progress.console.print(_line(result), highlight=False)


def _line(result: Result) -> str:
    style = STYLES[result.outcome]
    resumed = " (resumed)" if result.resumed else ""
    return f"[{style}]{LABELS[result.outcome]}[/{style}] {result.path}: {result.message}{resumed}"


async def _send_all(transfer: Transfer, files: list[LocalFile], concurrency: int,
                    bars: _Bars) -> list[Result]:
    slots = asyncio.Semaphore(concurrency)

    async def one(file: LocalFile) -> Result:
        async with slots:
            bars.start(file)
            result = await transfer.send(file)
            bars.finish(result)
            return result

    return list(await asyncio.gather(*(one(file) for file in files)))


def _ask(result: Result) -> str | None:
    click.echo(f"{result.path.name}: {result.message}", err=True)
    try:
        answer = click.prompt("  [s]kip, [r]eplace the photo there, or [k]eep both?",
                              type=click.Choice(sorted(DECISIONS)), err=True)
    except click.Abort:
        return None
    return DECISIONS[answer]


async def _decide(transfer: Transfer, results: list[Result], files: dict[Path, LocalFile],
                  console: Console | None) -> None:
    for index, result in enumerate(results):
        if result.outcome is not Outcome.NEEDS_DECISION or not result.upload_id:
            continue
        choice = _ask(result)
        if choice is None:
            break
        decided = await transfer.decide(files[result.path], result.upload_id, choice)
        decided.sent_bytes = result.sent_bytes
        results[index] = decided
        if console:
            console.print(_line(decided), highlight=False)


def _summary(results: list[Result], left_out: list[LeftOut], seconds: float) -> str:
    counts = Counter(result.outcome for result in results)
    parts = [f"{counts[o]} {LABELS[o]}" for o in SUMMARY_ORDER if counts[o]]
    if left_out:
        parts.append(f"{len(left_out)} left out")
    sent = sum(result.sent_bytes for result in results)
    return (f"{', '.join(parts) or 'nothing to upload'} — {format_bytes(sent)} sent "
            f"in {seconds:.1f} s")


@click.command(name="upload")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--recursive", "-r", is_flag=True, help="Also upload the photos in sub-folders.")
@click.option("--on-collision", type=click.Choice(list(CHOICES)), default=None,
              help="When the library has a photo of the same name "
                   "(default: your setting in ImgStream).")
@click.option("--dry-run", is_flag=True, help="List what would be uploaded; send nothing.")
@click.option("--concurrency", "-j", type=click.IntRange(1, 16), default=3, show_default=True,
              help="Files sent at the same time.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document, no progress.")
def upload(paths: tuple[Path, ...], recursive: bool, on_collision: str | None, dry_run: bool,
           concurrency: int, as_json: bool) -> None:
    """Upload photo files and folders; an interrupted run continues where it stopped.

    Exits with 1 when any file was rejected, failed, or still waits for a decision.
    """
    files, left_out = find_files(paths, recursive=recursive)
    missing = [other for other in left_out if other.reason == "no such file"]
    if dry_run:
        _dry_run(files, left_out, as_json)
        sys.exit(1 if missing else 0)
    login = require_login()
    journal = Journal(login.url)
    console = None if as_json else Console(stderr=True)
    started = time.monotonic()

    async def run() -> list[Result]:
        async with client.connect_async(login, connections=concurrency) as http:
            progress = None if console is None else Progress(
                TextColumn("{task.description}", justify="left"), BarColumn(),
                DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn(),
                console=console, transient=True)
            bars = _Bars(progress, sum(f.size for f in files))
            transfer = Transfer(http, journal, CHOICES.get(on_collision or ""), bars.advance)
            if progress:
                with progress:
                    results = await _send_all(transfer, files, concurrency, bars)
            else:
                results = await _send_all(transfer, files, concurrency, bars)
            if not as_json:
                await _decide(transfer, results, {f.path: f for f in files}, console)
            return results

    try:
        results = asyncio.run(run())
    except KeyboardInterrupt:
        click.echo("interrupted: run the same command again to continue where it stopped",
                   err=True)
        sys.exit(130)
    if all(result.outcome.settled for result in results):
        journal.forget(files)
    failed = missing or any(not result.outcome.succeeded for result in results)
    seconds = time.monotonic() - started
    if as_json:
        click.echo(json.dumps({
            "results": [result.as_json() for result in results],
            "left_out": [{"path": str(o.path), "reason": o.reason} for o in left_out],
            "summary": {o.value: sum(r.outcome is o for r in results) for o in SUMMARY_ORDER},
            "sent_bytes": sum(result.sent_bytes for result in results),
        }, indent=2))
    else:
        for other in missing:
            console.print(f"[red]failed[/red] {other.path}: {other.reason}", highlight=False)
        undecided = [r for r in results if r.outcome is Outcome.NEEDS_DECISION]
        if undecided:
            console.print(f"{len(undecided)} file(s) wait for a decision: run again with "
                          "--on-collision skip|replace|keep-both", style="yellow")
        console.print(_summary(results, left_out, seconds), highlight=False)
    sys.exit(1 if failed else 0)


def require_login() -> credentials.Credentials:
    """The saved login, or an error telling how to log in."""
    login = credentials.load()
    if login is None:
        raise click.ClickException("not logged in: run `imgstream login URL` first")
    return login
