"""The loyalty example plugin runs: its own test suite (examples/loyalty/tests) passes on this
run's database, and it imports only the public kernel API."""

from __future__ import annotations

import ast
import os
import subprocess
import sys

import pytest
from integrator_support import ROOT

LOYALTY = ROOT / "examples" / "loyalty"


def test_loyalty_imports_only_the_kernel_and_what_it_declares() -> None:
    allowed_roots = {"crm_core", "crm_loyalty", "__future__", "datetime", "decimal", "typing", "collections",
                     "pydantic", "sqlalchemy", "sqlmodel", "starlette", "alembic"}
    for path in (LOYALTY / "crm_loyalty").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            for name in names:
                assert name.split(".")[0] in allowed_roots, f"{path.name} imports {name}"
                assert not name.startswith(("crm_core.models.customers", "crm_pipeline")), name


@pytest.mark.slow
def test_loyalty_example_passes_its_tests() -> None:
    env = {**os.environ, "PYTHONPATH": str(LOYALTY)}
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:xdist", "tests"], cwd=LOYALTY,
                         env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "6 passed" in run.stdout
