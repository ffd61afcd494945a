"""Output helpers shared by the console modules."""
from __future__ import annotations

import json
from datetime import datetime

import click


def emit_json(data) -> None:
    click.echo(json.dumps(data, indent=2, default=_default, ensure_ascii=False))


def _default(value):
    if isinstance(value, datetime):
        return value.isoformat() + ("Z" if value.tzinfo is None else "")
    raise TypeError(f"not JSON-able: {type(value).__name__}")


def table(rows: list[list], headers: list[str]) -> None:
    if not rows:
        click.echo("(none)")
        return
    cells = [[str(c if c is not None else "") for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    click.echo("  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip())
    for row in cells:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
