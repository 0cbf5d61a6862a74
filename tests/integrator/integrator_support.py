"""Shared by the integrator kit's tests: the repository root, subprocess environments, loopback."""

from __future__ import annotations

import os
import time
from pathlib import Path

import httpx

from crm_core.testing_web import LiveServer, free_port

ROOT = Path(__file__).resolve().parents[2]
__all__ = ["ROOT", "LiveServer", "clean_env", "free_port", "wait_for_http"]


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without CRM_* settings and without the suite's virtual environment."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CRM_", "PYTEST_", "VIRTUAL_ENV", "COV_"))}
    venv_bin = str(Path(os.sys.executable).parent)
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p != venv_bin)
    env.update(extra)
    return env


def wait_for_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


