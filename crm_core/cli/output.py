"""Console output: tables, key/value blocks and progress bars (rich), on stdout or stderr.

Data cells are rendered as plain :class:`~rich.text.Text`, never as markup, so a customer named
``[bold]…`` prints as typed.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

_WIDE = 200  # when piped (or under a test runner) don't squeeze tables into 80 columns


def console(err: bool = False) -> Console:
    stream = sys.stderr if err else sys.stdout
    width = None
    if not _isatty(stream):
        width = max(int(os.environ.get("COLUMNS") or 0), _WIDE)
    return Console(stderr=err, width=width, highlight=False, emoji=False, soft_wrap=False)


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def cell(value: Any) -> Text:
    if value is None:
        return Text("")
    if isinstance(value, bool):
        return Text("yes" if value else "no")
    if isinstance(value, list | tuple | set | frozenset):
        return Text(", ".join(str(v) for v in value))
    return Text(str(value))


def print_table(
    columns: Sequence[str], rows: Iterable[Sequence[Any]], title: str | None = None,
    empty: str | None = None,
) -> None:
    rows = list(rows)
    out = console()
    if not rows and empty:
        out.print(Text(empty))
        return
    table = Table(title=title, title_justify="left", show_lines=False, header_style="bold")
    for c in columns:
        table.add_column(c, overflow="fold")
    for r in rows:
        table.add_row(*(cell(v) for v in r))
    out.print(table)


def print_fields(pairs: Iterable[tuple[str, Any]], title: str | None = None) -> None:
    """A two-column ``key: value`` block."""
    pairs = list(pairs)
    out = console()
    if title:
        out.print(Text(title, style="bold"))
    width = max((len(k) for k, _ in pairs), default=0)
    for k, v in pairs:
        out.print(Text(f"  {k.ljust(width)}  ") + cell(v))


def say(message: str, err: bool = False, style: str | None = None) -> None:
    console(err).print(Text(message, style=style or ""))


def warn(message: str) -> None:
    say(message, err=True, style="yellow")


@contextmanager
def progress() -> Iterator[Progress]:
    """A progress display on stderr (stdout stays clean for tables and passwords)."""
    p = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console(err=True),
        redirect_stdout=False,
        redirect_stderr=False,
    )
    with p:
        yield p


@contextmanager
def status(message: str) -> Iterator[None]:
    """A spinner on stderr while one long step runs (only drawn on a terminal)."""
    err = console(err=True)
    if not err.is_terminal:
        yield
        return
    with err.status(message):
        yield
