"""Helpers shared by the browser tests (fixtures live in conftest.py)."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Any

from crm_core.kernel import Kernel
from crm_core.models import User
from crm_core.passwords import hash_password
from crm_core.services.roles import set_user_roles
from crm_core.testing_web import LiveServer

CHROMIUM = os.environ.get("CRM_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PASSWORD = "browser-pass-2026"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@cache
def _hash() -> str:
    return hash_password(PASSWORD)


def add_user(kernel: Kernel, login: str, role: str, locale: str = "zh_CN", name: str = "") -> None:
    with kernel.new_session(write=True) as s, s.begin():
        s.add(User(login=login, display_name=name or login, password_hash=_hash(), locale=locale))
    set_user_roles(kernel.ctx(), login, [role])


def sign_in(page: Any, server: LiveServer, login: str, password: str = PASSWORD) -> None:
    page.goto(server.url + "/login")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", password)
    page.click("form[action=\"/login\"] button[type=submit]")
    page.wait_for_url(server.url + "/")
