"""Replays docs/integrators.md: the command blocks marked ``<!-- replay -->`` run in order in a
temporary folder (a fresh virtual environment, the kernel installed from this checkout, a new
plugin rendered, installed, tested, enabled), then the UI part: ``crm serve`` from that
environment shows the plugin to a signed-in admin. This is also the CI check that the template
works in a clean environment next to the kernel."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import httpx
import pytest
from integrator_support import ROOT, clean_env, free_port, wait_for_http

GUIDE = ROOT / "docs" / "integrators.md"
REPLAY = re.compile(r"<!-- replay -->\n```console\n(.*?)```", re.S)
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def replayed_commands() -> list[str]:
    blocks = REPLAY.findall(GUIDE.read_text(encoding="utf-8"))
    return [line[2:] for b in blocks for line in b.splitlines() if line.startswith("$ ")]


def test_the_guide_marks_its_commands_for_replay() -> None:
    commands = replayed_commands()
    joined = "\n".join(commands)
    for step in ("python3.11 -m venv", "$MOSAIC_CRM_SRC", "crm plugins new visits", "pytest",
                 "crm init", "crm plugins enable visits", "crm plugins info visits"):
        assert step in joined, step
    assert joined.index("crm plugins new") < joined.index("pytest") < joined.index("crm plugins enable")


@pytest.mark.slow
def test_replay_the_integrator_guide_from_an_empty_folder(tmp_path: Path) -> None:
    script = "set -euo pipefail\n" + "\n".join(f"echo '>>> {c}'\n{c}" for c in replayed_commands())
    env = clean_env(MOSAIC_CRM_SRC=str(ROOT))
    if os.environ.get("CRM_TEST_DATABASE_URL"):  # the plugin's own tests on this run's database
        env["CRM_TEST_DATABASE_URL"] = os.environ["CRM_TEST_DATABASE_URL"]
    run = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True,
                         text=True, timeout=1500)
    out = run.stdout + run.stderr
    assert run.returncode == 0, out[-6000:]
    assert "Created plugin visits" in out
    assert re.search(r"\b9 passed\b", out), out[-3000:]
    assert "Enabled: visits" in out
    for fact in ("visits_item", "visits.use", "visits.close_stale", "/api/v1/visits/items",
                 "customer_panels", "on_entity_created", ">=0.1,<0.2"):
        assert fact in out, fact

    # "See it in the UI": crm serve from the new environment, signed in as the admin
    home = tmp_path / "my-crm"
    port = free_port()
    serve_env = clean_env(CRM_SCHEDULER_ENABLED="false")
    server = subprocess.Popen([str(home / ".venv" / "bin" / "crm"), "serve", "--port", str(port)],
                              cwd=home, env=serve_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for_http(base + "/login")
        with httpx.Client(base_url=base, timeout=20) as c:
            token = CSRF.search(c.get("/login").text)
            assert token
            signed = c.post("/login", data={"login": "admin", "password": "change-me-2026", "next": "/",
                                            "csrf_token": token.group(1)})
            assert signed.status_code == 303, signed.text[:500]
            assert 'href="/visits/"' in c.get("/").text
            assert c.get("/visits/").status_code == 200
            detail = c.get("/admin/modules/visits")
            assert detail.status_code == 200 and "visits_item" in detail.text
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        if server.stdout is not None:
            server.stdout.close()
