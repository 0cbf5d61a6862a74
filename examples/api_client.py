"""Mosaic CRM API client example: create customers and follow-ups, then page through the list.

Usage::

    crm tokens create li.na --name "my script"          # prints the token once
    export CRM_URL=http://127.0.0.1:8000 CRM_TOKEN=crm_…
    python examples/api_client.py --customers 3

Everything goes through the JSON API under ``/api/v1`` with a bearer token (OpenAPI document:
``$CRM_URL/api/v1/openapi.json``). Errors come back as ``application/problem+json``; this script
prints their ``title``/``detail`` and the per-field ``errors`` and exits with status 1.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from typing import Any

import httpx


class ApiError(Exception):
    def __init__(self, response: httpx.Response) -> None:
        try:
            problem = response.json()
        except ValueError:
            problem = {"title": response.text[:200]}
        self.status = response.status_code
        self.problem = problem
        fields = "; ".join(f"{k}: {', '.join(v)}" for k, v in (problem.get("errors") or {}).items())
        super().__init__(f"{response.status_code} {problem.get('title', '')} {problem.get('detail', '')}"
                         f"{' (' + fields + ')' if fields else ''}".strip())


class CrmClient:
    """A small typed wrapper over the endpoints this script needs."""

    def __init__(self, base_url: str, token: str, timeout: float = 30.0) -> None:
        self.http = httpx.Client(base_url=base_url.rstrip("/") + "/api/v1", timeout=timeout,
                                 headers={"Authorization": f"Bearer {token}", "Accept": "application/json"})

    def close(self) -> None:
        self.http.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, path, **kwargs)
        if response.status_code >= 400:
            raise ApiError(response)
        return response.json() if response.content else None

    def create_customer(self, name: str, **fields: Any) -> dict[str, Any]:
        return self._call("POST", "/customers", json={"name": name, **fields})

    def create_followup(self, customer_id: int, content: str, **fields: Any) -> dict[str, Any]:
        body = {"customer_id": customer_id, "content": content, **fields}
        return self._call("POST", "/followups", json=body)

    def customers(self, page_size: int = 50, **filters: Any) -> Iterator[dict[str, Any]]:
        """Every customer the token's user may read, following ``next_cursor`` page by page."""
        cursor: str | None = None
        while True:
            params = {"limit": page_size, **filters, **({"cursor": cursor} if cursor else {})}
            page = self._call("GET", "/customers", params=params)
            yield from page["items"]
            cursor = page.get("next_cursor")
            if not cursor:
                return


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("CRM_URL", "http://127.0.0.1:8000"))
    parser.add_argument("--token", default=os.environ.get("CRM_TOKEN"))
    parser.add_argument("--customers", type=int, default=3, help="how many customers to create")
    parser.add_argument("--prefix", default="API 示例客户")
    parser.add_argument("--page-size", type=int, default=2)
    args = parser.parse_args(argv)
    if not args.token:
        parser.error("a token is needed: --token or CRM_TOKEN (crm tokens create LOGIN)")
    client = CrmClient(args.url, args.token)
    try:
        created = []
        for i in range(1, args.customers + 1):
            customer = client.create_customer(f"{args.prefix} {i}", industry="I", source="website",
                                              contacts=[{"name": f"联系人 {i}", "phone": f"1380013{i:04d}"}])
            followup = client.create_followup(customer["id"], "首次电话沟通，客户有采购意向",
                                              method="phone", next_step="发送报价单")
            created.append(customer["id"])
            print(f"created customer {customer['code']} #{customer['id']} with follow-up #{followup['id']}")
        seen = 0
        for customer in client.customers(page_size=args.page_size):
            seen += 1
            print(f"{customer['code']}\t{customer['name']}")
        print(f"{seen} customer(s) listed")
    except ApiError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except httpx.HTTPError as exc:
        print(f"error: cannot reach {args.url}: {exc}", file=sys.stderr)
        return 1
    finally:
        client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
