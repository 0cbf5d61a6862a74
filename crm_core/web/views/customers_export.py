"""Export the filtered customer list as CSV (UTF-8 with BOM, so Excel opens it in Chinese) or
XLSX. Needs ``customers.export`` and the password again; what is exported is what the
``customers.export`` scope allows, with phones masked as the user sees them."""

from __future__ import annotations

import csv
import io
import re
import tempfile
from collections.abc import Iterator
from datetime import date, datetime
from itertools import islice
from typing import IO, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute

from crm_core.context import Ctx
from crm_core.db import utcnow
from crm_core.models import CustomFieldDefinition
from crm_core.schemas import INDUSTRIES, CustomerRead
from crm_core.services.custom_fields import list_fields
from crm_core.services.customers import export_customers
from crm_core.web import i18n
from crm_core.web.auth import ctx_for, form_data, web_state
from crm_core.web.i18n import N_
from crm_core.web.routing import route
from crm_core.web.templating import render
from crm_core.web.views.customers_common import (
    LABELS,
    NO,
    REGION_LABELS,
    SOURCE_LABELS,
    STATUS_LABELS,
    TYPE_LABELS,
    YES,
    reauth_ready,
    reauth_redirect,
    request_url,
    text,
)
from crm_core.web.views.customers_data import primary_contacts, user_names
from crm_core.web.views.customers_filters import filter_fields, list_url, read_filters

ACTION = "customers.export"
FORMATS = ("csv", "xlsx")
BATCH = 500
COLUMNS = (
    ("code", N_("Customer ID")), ("name", N_("Customer name")), ("type", N_("Type")),
    ("industry", N_("Industry")), ("source", N_("Source")), ("status", N_("Status")),
    ("region", N_("Region")), ("owner", N_("Owner")), ("contact", N_("Primary contact")),
    ("phone", N_("Phone")), ("email", N_("Email")), ("first_contact_date", N_("First contact")),
    ("last_followup_at", N_("Last follow-up")), ("created_at", N_("Created")),
    ("updated_at", N_("Updated")), ("address", N_("Address")), ("website", N_("Website")),
    ("remark", N_("Remark")),
)
_FORMULA = re.compile(r"^[=+\-@\t\r]")
_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # not allowed in XLSX cells


def safe_cell(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula gets a leading apostrophe (numbers stay)."""
    if isinstance(value, str):
        value = _ILLEGAL.sub("", value)
        if _FORMULA.match(value) and not _NUMBER.fullmatch(value):
            return "'" + value
    return value


class Exporter:
    """Turns the customers into rows: labels in the user's language, times in their zone."""

    def __init__(self, request: Request, ctx: Ctx, fields: list[CustomFieldDefinition]) -> None:
        scope = web_state(request).scope_for(request)
        self.ctx = ctx
        self.fields = fields
        self.tz = ZoneInfo(ctx.actor.timezone) if ctx.actor.timezone else ZoneInfo("Asia/Shanghai")
        self.zh = scope.locale == "zh_CN"
        with i18n.use_locale(scope):
            tr = i18n.gettext
            self.header = [tr(label) for _key, label in COLUMNS] + [
                (f.label if self.zh else f.label_en or f.label) for f in fields]
            self.labels = {name: {k: tr(v) for k, v in table.items()} for name, table in (
                ("type", TYPE_LABELS), ("source", SOURCE_LABELS), ("status", STATUS_LABELS),
                ("region", REGION_LABELS))}
            self.yes_no = (tr(YES), tr(NO))
        self.owners: dict[int, str] = {}

    def local(self, value: datetime | None) -> datetime | None:
        return value.astimezone(self.tz).replace(tzinfo=None, microsecond=0) if value else None

    def _custom(self, d: CustomFieldDefinition, value: Any) -> Any:
        if value is None or value == "":
            return None
        if d.type == "boolean":
            return self.yes_no[0] if value else self.yes_no[1]
        if d.type == "multi_choice" and isinstance(value, list):
            return "、".join(map(str, value)) if self.zh else ", ".join(map(str, value))
        if d.type == "date":
            try:
                return date.fromisoformat(str(value))
            except ValueError:
                return str(value)
        if d.type == "number" and isinstance(value, int):
            return value
        return str(value)

    def rows(self, customers: Iterator[CustomerRead]) -> Iterator[list[Any]]:
        while True:
            batch = list(islice(customers, BATCH))
            if not batch:
                return
            contacts = primary_contacts(self.ctx, [c.id for c in batch])
            missing = [c.owner_id for c in batch if c.owner_id and c.owner_id not in self.owners]
            self.owners.update(user_names(self.ctx, missing))
            for c in batch:
                contact = contacts.get(c.id)
                industry = INDUSTRIES.get(c.industry or "")
                values: dict[str, Any] = {
                    "code": c.code, "name": c.name,
                    "type": self.labels["type"].get(c.type, c.type),
                    "industry": (industry[0] if self.zh else industry[1]) if industry else c.industry,
                    "source": self.labels["source"].get(c.source or "", c.source),
                    "status": self.labels["status"].get(c.status, c.status),
                    "region": self.labels["region"].get(c.region or "", c.region),
                    "owner": self.owners.get(c.owner_id or 0, ""),
                    "contact": contact.name if contact else None,
                    "phone": contact.phone if contact else None,
                    "email": contact.email if contact else None,
                    "first_contact_date": c.first_contact_date,
                    "last_followup_at": self.local(c.last_followup_at),
                    "created_at": self.local(c.created_at), "updated_at": self.local(c.updated_at),
                    "address": c.address, "website": c.website, "remark": c.remark,
                }
                row = [values[key] for key, _label in COLUMNS]
                row += [self._custom(d, c.custom.get(d.key)) for d in self.fields]
                yield [safe_cell(v) for v in row]


def _csv_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else value


def csv_chunks(exporter: Exporter, customers: Iterator[CustomerRead]) -> Iterator[bytes]:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(exporter.header)
    first = True
    for i, row in enumerate(exporter.rows(customers)):
        writer.writerow([_csv_value(v) for v in row])
        if i % 200 == 199:
            yield (("\ufeff" if first else "") + buf.getvalue()).encode()
            first = False
            buf.seek(0)
            buf.truncate()
    yield (("\ufeff" if first else "") + buf.getvalue()).encode()


def xlsx_file(exporter: Exporter, customers: Iterator[CustomerRead]) -> IO[bytes]:
    """The workbook in a temporary file (memory up to a few MB, then disk), rewound."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("customers")
    bold = Font(bold=True)
    header = []
    for label in exporter.header:
        cell = WriteOnlyCell(ws, value=safe_cell(label))
        cell.font = bold
        header.append(cell)
    ws.append(header)
    for row in exporter.rows(customers):
        cells = []
        for value in row:
            cell = WriteOnlyCell(ws, value=value)
            if isinstance(value, datetime):
                cell.number_format = "yyyy-mm-dd hh:mm"
            elif isinstance(value, date):
                cell.number_format = "yyyy-mm-dd"
            elif isinstance(value, str):
                cell.data_type = "s"  # never a formula, whatever the text starts with
            cells.append(cell)
        ws.append(cells)
    out: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
    wb.save(out)
    out.seek(0)
    return out


def _file_chunks(fh: IO[bytes]) -> Iterator[bytes]:
    try:
        while chunk := fh.read(256 * 1024):
            yield chunk
    finally:
        fh.close()


def export_page(request: Request) -> Response:
    """``GET /customers/export``: choose the format; asks for the password first."""
    if not reauth_ready(request, ACTION):
        return reauth_redirect(ACTION, request_url(request))
    ctx = ctx_for(request)
    filters = read_filters(request.query_params, filter_fields(ctx))
    return render(request, "customers/export.html", filters=filters, labels=LABELS,
                  fields=filter_fields(ctx), back=list_url(filters.params), formats=FORMATS)


def export_download(request: Request) -> Response:
    """``POST /customers/export`` (re-authenticated): the file."""
    form = form_data(request)
    fmt = text(form, "format", 8)
    fmt = fmt if fmt in FORMATS else FORMATS[0]
    ctx = ctx_for(request)
    filters = read_filters(form, filter_fields(ctx))
    customers = export_customers(ctx, filters.query)  # authorises and validates now
    exporter = Exporter(request, ctx, list_fields(ctx, "customer"))
    stamp = utcnow().astimezone(exporter.tz).strftime("%Y%m%d-%H%M")
    name = f"customers-{stamp}.{fmt}"
    headers = {"Content-Disposition": f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(name)}"}
    if fmt == "csv":
        return StreamingResponse(csv_chunks(exporter, customers), headers=headers,
                                 media_type="text/csv; charset=utf-8")
    fh = xlsx_file(exporter, customers)
    return StreamingResponse(
        _file_chunks(fh), headers=headers,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def routes() -> list[BaseRoute]:
    return [
        route("/customers/export", export_page, permission=ACTION, name="customers_export"),
        route("/customers/export", export_download, permission=ACTION, methods=("POST",),
              reauth=True, name="customers_export_download"),
    ]
