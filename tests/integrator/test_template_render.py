"""``crm plugins new``'s output: lint-clean, named right, and its own tests pass on this suite's
database (SQLite, or PostgreSQL with CRM_TEST_DATABASE_URL)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from integrator_support import ROOT

from crm_core.cli.plugin_new import render_plugin, template_dir, template_vars

GUIDE = ROOT / "docs" / "integrators.md"


def test_template_is_found_in_the_checkout() -> None:
    assert template_dir() == ROOT / "plugin_template" / "template"
    v = template_vars("shop_floor")
    assert v["package"] == "crm_shop_floor" and v["dist"] == "mosaic-crm-shop-floor"
    assert v["title"] == "Shop Floor" and v["requires_core"] == ">=0.1,<0.2"


@pytest.mark.slow
def test_rendered_plugin_is_clean_and_passes_its_own_tests(tmp_path: Path) -> None:
    target = render_plugin("visits", tmp_path / "visits")
    files = sorted(str(p.relative_to(target)) for p in target.rglob("*") if p.is_file())
    for expected in ("pyproject.toml", "crm_visits/manifest.py",
                     "crm_visits/migrations/0001_initial.py",
                     "crm_visits/templates/visits/panel.html",
                     "crm_visits/translations/zh_CN/LC_MESSAGES/visits.mo",
                     "crm_visits/translations/en/LC_MESSAGES/visits.mo",
                     "tests/test_visits_plugin.py"):
        assert expected in files
    for f in target.rglob("*"):
        if f.is_file() and f.suffix != ".mo":
            text = f.read_text(encoding="utf-8")
            assert "[[" not in text and "__name__/" not in str(f), f
    assert 'visits = "crm_visits.manifest:manifest"' in (target / "pyproject.toml").read_text()
    lint = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "."], cwd=target,
                          capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    # the Testing section's examples of docs/integrators.md run as tests of this plugin too
    examples = [b for b in re.findall(r"```python\n(.*?)```", GUIDE.read_text(encoding="utf-8"), re.S)
                if "def test_" in b]
    assert len(examples) == 1
    (target / "tests" / "test_visits_docs_examples.py").write_text(
        "from crm_core.hookspecs import hookimpl\nfrom crm_visits.manifest import manifest\n\n\n"
        + examples[0], encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(target)}
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:xdist", "tests"], cwd=target,
                         env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "15 passed" in run.stdout  # 9 of the template, 6 from the guide
