"""Tables for people at a terminal, tab-separated lines for pipes and scripts."""

from __future__ import annotations

from collections.abc import Sequence

import click
from rich.console import Console
from rich.table import Table


def print_rows(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Print rows as a table on a terminal, else as a header line and tab-separated lines.

    Args:
        headers: Column names.
        rows: The cells of each row.
    """
    console = Console()
    if not console.is_terminal:
        for row in (headers, *rows):
            click.echo("\t".join(row))
        return
    table = Table(*headers)
    table.columns[0].no_wrap = True
    for row in rows:
        table.add_row(*row)
    console.print(table)
