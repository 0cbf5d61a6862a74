"""A simple CSV upload of leads: UTF-8, UTF-8 with BOM or GBK; columns found by header name
(English or Chinese); every row is checked first and NOTHING is stored if any row is invalid."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from crm_core.context import Ctx
from crm_core.errors import PermissionDenied, ValidationError
from crm_core.services.base import parse
from crm_leads.schemas import LeadCreate

MAX_ROWS = 5000
HEADERS: dict[str, tuple[str, ...]] = {
    "name": ("name", "姓名", "联系人", "线索名称"),
    "company": ("company", "公司", "公司名称", "单位"),
    "phone": ("phone", "mobile", "电话", "手机", "手机号"),
    "email": ("email", "e-mail", "邮箱", "电子邮箱"),
    "source": ("source", "来源"),
    "region": ("region", "地区", "区域"),
    "industry": ("industry", "行业"),
    "estimated_value": ("estimated_value", "value", "estimated value", "预计金额", "预计价值"),
    "remark": ("remark", "note", "备注"),
}
SOURCE_ALIASES = {"展会": "trade_show", "官网": "website", "网站": "website", "转介绍": "referral",
                  "推荐": "referral", "电话": "cold_call", "陌拜": "cold_call", "广告": "advertising",
                  "合作伙伴": "partner", "其他": "other"}


@dataclass
class RowError:
    row: int  # line number in the file (the header is line 1)
    field: str
    message: str


@dataclass
class CsvResult:
    created: int = 0
    lead_ids: list[int] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


class CsvInvalid(ValidationError):
    def __init__(self, message: str, rows: list[RowError]) -> None:
        super().__init__(message, {f"row {e.row}: {e.field}": [e.message] for e in rows})
        self.rows = rows


def decode(raw: bytes) -> str:
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    raise CsvInvalid("file is not text", [RowError(0, "file", "not UTF-8 or GBK text")])


def read_rows(raw: bytes) -> tuple[list[tuple[int, dict[str, Any]]], list[RowError]]:
    text = decode(raw)
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        raise CsvInvalid("empty file", [RowError(1, "file", "the file is empty")]) from None
    except csv.Error as exc:
        raise CsvInvalid("not a CSV file", [RowError(1, "file", str(exc))]) from None
    mapping: dict[int, str] = {}
    for i, h in enumerate(header):
        key = h.strip().lower()
        for target, names in HEADERS.items():
            if key in names and target not in mapping.values():
                mapping[i] = target
    if "name" not in mapping.values():
        raise CsvInvalid("no name column", [RowError(1, "name", "no column named name / 姓名")])
    rows: list[tuple[int, dict[str, Any]]] = []
    try:
        for line, cells in enumerate(reader, start=2):
            if not any(c.strip() for c in cells):
                continue
            if len(rows) >= MAX_ROWS:
                raise CsvInvalid("too many rows", [RowError(line, "file", f"at most {MAX_ROWS} rows")])
            data = {mapping[i]: c.strip() for i, c in enumerate(cells) if i in mapping and c.strip()}
            if "source" in data:
                data["source"] = SOURCE_ALIASES.get(data["source"], data["source"])
            rows.append((line, data))
    except csv.Error as exc:
        raise CsvInvalid("not a CSV file", [RowError(reader.line_num, "file", str(exc))]) from None
    return rows, []


def upload_csv(ctx: Ctx, raw: bytes, default_source: str = "import") -> CsvResult:
    """Validate every row, then create all leads in one transaction (assigned by the rules;
    a lead no rule gives an owner belongs to the uploader). Raises :class:`CsvInvalid` with
    every row's errors and stores nothing if any row is invalid."""
    from crm_leads.services.assign import assign_rows, set_owner
    from crm_leads.services.leads import insert_lead

    if ctx.actor.scope("leads.create") is None:
        raise PermissionDenied(f"{ctx.actor.login} may not leads.create")
    rows, _ = read_rows(raw)
    if not rows:
        raise CsvInvalid("no rows", [RowError(2, "file", "the file has no data rows")])
    parsed: list[LeadCreate] = []
    errors: list[RowError] = []
    for line, data in rows:
        data.setdefault("source", default_source)
        try:
            d = parse(LeadCreate, data)
        except ValidationError as exc:
            errors.extend(RowError(line, k, m) for k, ms in exc.errors.items() for m in ms)
            continue
        if not d.phone and not d.email:
            errors.append(RowError(line, "phone", "give a phone or an email"))
        parsed.append(d)
    if errors:
        raise CsvInvalid(f"{len({e.row for e in errors})} row(s) are invalid; nothing was stored", errors)
    result = CsvResult()
    with ctx.uow() as s:
        created = []
        for (line, _data), d in zip(rows, parsed, strict=True):
            try:
                created.append(insert_lead(ctx, s, d, assign=False))
            except ValidationError as exc:  # custom fields, plugin validators
                errors.extend(RowError(line, k, m) for k, ms in exc.errors.items() for m in ms)
        if errors:
            raise CsvInvalid(f"{len({e.row for e in errors})} row(s) are invalid; nothing was stored",
                             errors)
        assign_rows(ctx, s, created)
        for row in created:
            if row.owner_id is None and ctx.actor.id is not None:
                set_owner(ctx, s, row, ctx.actor.id, None, None,
                          "no rule matched: owned by the person who uploaded it")
        result.created = len(created)
        result.lead_ids = [r.id for r in created if r.id is not None]
    return result
