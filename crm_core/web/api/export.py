"""Streaming customer exports: CSV (for spreadsheets) or JSON lines (for programs)."""

from __future__ import annotations

import csv
import io
import itertools
import json
from collections.abc import Iterable, Iterator
from typing import Any

from starlette.responses import StreamingResponse

from crm_core.schemas import CustomerQuery, CustomerRead
from crm_core.services import customers as customers_svc
from crm_core.services.base import parse
from crm_core.services.customers import local_today
from crm_core.web.api.operations import Call
from crm_core.web.auth import require_reauth

MEDIA = {
    "text/csv": "UTF-8 with a byte order mark (spreadsheets open it right); one row per customer, "
                "`custom` as a JSON object",
    "application/x-ndjson": "one JSON object per line (the fields of CustomerRead)",
}
COLUMNS = list(CustomerRead.model_fields)
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def customer_query(c: Call) -> CustomerQuery:
    """The service's query from the API's (custom-field filters included)."""
    values: dict[str, Any] = c.query.model_dump(exclude_none=True, exclude={"format"})
    return parse(CustomerQuery, {**values, "custom": c.custom})


def _cell(value: Any) -> Any:
    """A spreadsheet must not run what a customer's name says (=HYPERLINK(…))."""
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value
    return value


def csv_lines(rows: Iterable[CustomerRead]) -> Iterator[str]:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    yield "\ufeff" + buf.getvalue()
    for row in rows:
        buf.seek(0)
        buf.truncate()
        data = row.model_dump(mode="json")
        writer.writerow([_cell(data[c]) for c in COLUMNS])
        yield buf.getvalue()


def json_lines(rows: Iterable[CustomerRead]) -> Iterator[str]:
    for row in rows:
        yield json.dumps(row.model_dump(mode="json"), ensure_ascii=False) + "\n"


def export_customers(c: Call) -> StreamingResponse:
    query = customer_query(c)
    require_reauth(c.request, "customers.export")  # after validation: a typo costs no password
    rows = iter(customers_svc.export_customers(c.ctx, query))  # refuses before anything streams
    # The filters reach the database with the first batch: read it now, so a bad filter is a
    # 422 problem rather than a cut download.
    first = next(rows, None)
    if first is not None:
        rows = itertools.chain([first], rows)
    fmt = c.query.format
    today = local_today(c.ctx.actor.timezone)
    if fmt == "jsonl":
        body, media, ext = json_lines(rows), "application/x-ndjson", "jsonl"
    else:
        body, media, ext = csv_lines(rows), "text/csv; charset=utf-8", "csv"
    return StreamingResponse(body, media_type=media, headers={
        "Content-Disposition": f'attachment; filename="customers-{today:%Y%m%d}.{ext}"'})
