"""examples/api_client.py against a live server on loopback: it creates customers with contacts
and follow-ups through the API with a bearer token and pages through the list."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

from integrator_support import ROOT, LiveServer
from sqlalchemy import func, select

from crm_core.models import AuditEntry, Customer, FollowUp
from crm_core.services.auth import create_token

SCRIPT = ROOT / "examples" / "api_client.py"


def run_script(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=120)


def test_api_client_creates_and_pages(crm_kernel: Any, crm_factory: Any) -> None:
    rep = crm_factory.user("sales_rep", login="li.na")
    other = crm_factory.user("sales_rep", login="wang.fang")
    crm_factory.customer(as_user="wang.fang", name="别人的客户")  # out of li.na's scope
    crm_factory.customer(as_user="li.na", name="已有客户")
    _row, token = create_token(crm_kernel.ctx(), rep.login, "example")
    with LiveServer(crm_kernel) as server:
        done = run_script("--url", server.url, "--token", token, "--customers", "3", "--page-size", "2")
        assert done.returncode == 0, done.stderr
        lines = done.stdout.splitlines()
        assert sum(line.startswith("created customer C") for line in lines) == 3
        assert lines[-1] == "4 customer(s) listed"  # 3 new + 1 existing, over 2 pages of 2
        assert "别人的客户" not in done.stdout

        refused = run_script("--url", server.url, "--token", "crm_not-a-real-token", "--customers", "1")
        assert refused.returncode == 1 and refused.stderr.startswith("error: 401")
    with crm_kernel.new_session() as s:
        mine = s.scalar(select(func.count()).select_from(Customer).where(Customer.owner_id == rep.id))
        followups = s.scalar(select(func.count()).select_from(FollowUp))
        audited = s.scalar(select(func.count()).select_from(AuditEntry)
                           .where(AuditEntry.actor_login == "li.na", AuditEntry.interface == "api"))
    assert mine == 4 and followups == 3 and audited >= 6
    assert other.id != rep.id


def test_api_client_reports_validation_errors(crm_kernel: Any, crm_factory: Any) -> None:
    viewer = crm_factory.user("viewer", login="v.only")
    _row, token = create_token(crm_kernel.ctx(), viewer.login, "example")
    with LiveServer(crm_kernel) as server:
        done = run_script("--url", server.url, "--token", token, "--customers", "1")
    assert done.returncode == 1 and done.stderr.startswith("error: 403")
    bad = run_script("--url", "http://127.0.0.1:9", "--token", token, "--customers", "1")
    assert bad.returncode == 1 and "cannot reach" in bad.stderr
