"""The baseline of ``bench.run_api``: a bare Starlette + SQLAlchemy Core list endpoint.

``GET /customers?limit=50[&cursor=<id>]`` answers the query that a sales rep's
``GET /api/v1/customers?limit=50`` runs, with nothing around it: the same columns of
``crm_customer``, the same owner filter (``owner_id = BENCH_OWNER_ID``, fixed per process), the same
order (``id DESC``), keyset by id, 51 rows fetched for 50 shown — and no authentication,
permissions, hooks, input validation, decryption or response models. Dates are written as ISO
strings as the real API writes them. Sync endpoint, so Starlette runs it in its thread pool, as
the real API's endpoints are run.

Served by ``bench.run_api`` with::

    BENCH_DB=bench/out/crm-1m.db BENCH_OWNER_ID=7 \\
        python -m uvicorn --factory bench.bare_app:create_app --port 8101 --workers 1
"""

from __future__ import annotations

import os
from datetime import date, datetime
from typing import Any

from sqlalchemy import MetaData, Table, create_engine, select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

# the fields of the real API's CustomerRead, as stored (id_number encrypted, sent as stored)
COLUMNS = ("id", "code", "name", "type", "industry", "source", "status", "region", "owner_id",
           "first_contact_date", "id_number_enc", "address", "website", "remark", "custom",
           "last_followup_at", "created_by_id", "version", "created_at", "updated_at")


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime | date) else value


def create_app() -> Starlette:
    db = os.environ["BENCH_DB"]
    owner_id = int(os.environ["BENCH_OWNER_ID"])
    engine = create_engine(f"sqlite:///{db}")
    table = Table("crm_customer", MetaData(), autoload_with=engine)
    cols = [table.c[name] for name in COLUMNS]
    base = select(*cols).where(table.c.owner_id == owner_id)

    def customers(request: Request) -> JSONResponse:
        limit = min(max(int(request.query_params.get("limit", 50)), 1), 200)
        stmt = base
        cursor = request.query_params.get("cursor")
        if cursor:
            stmt = stmt.where(table.c.id < int(cursor))
        with engine.connect() as conn:
            rows = conn.execute(stmt.order_by(table.c.id.desc()).limit(limit + 1)).all()
        more = len(rows) > limit
        items = [{k: _plain(v) for k, v in zip(COLUMNS, row, strict=True)} for row in rows[:limit]]
        nxt = str(items[-1]["id"]) if more and items else None
        return JSONResponse({"items": items, "next_cursor": nxt, "limit": limit})

    return Starlette(routes=[Route("/customers", customers)])
