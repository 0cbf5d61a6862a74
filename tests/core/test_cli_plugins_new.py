"""``crm plugins new`` and ``crm plugins info``: rendering, refusals, and the introspection facts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from crm_core.cli import CliState, cli
from crm_core.declarations import Action, JobDecl, RouteDecl
from crm_core.hookspecs import deprecated, hookimpl, hookspec
from crm_core.plugin_system.manifest import Manifest


@pytest.fixture
def env(tmp_path: Path, crm_database_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    for var in ("CRM_CONFIG", "CRM_ADMIN_PASSWORD", "CRM_PLUGIN_TEMPLATE"):
        monkeypatch.delenv(var, raising=False)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("CRM_DATABASE_URL", crm_database_url)
    monkeypatch.setenv("CRM_SECRETS_FILE", str(tmp_path / "secrets.json"))
    monkeypatch.setenv("CRM_AUTOLOAD_PLUGINS", "false")
    monkeypatch.setenv("CRM_PLUGIN_REFRESH_SECONDS", "0")
    return work


def run(*args: str, plugins: tuple[Manifest, ...] = ()) -> Result:
    return CliRunner().invoke(cli, list(args), obj=CliState(plugins=plugins))


def one_error_line(result: Result) -> str:
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and "Traceback" not in result.output
    return lines[0]


def test_new_renders_a_plugin_into_name_or_dir(env: Path) -> None:
    result = run("plugins", "new", "field_visits")
    assert result.exit_code == 0, result.output
    assert "Created plugin field_visits" in result.stdout
    root = env / "field_visits"
    manifest = (root / "crm_field_visits" / "manifest.py").read_text()
    assert 'name="field_visits"' in manifest and 'requires_core=">=0.1,<0.2"' in manifest
    assert 'label={"zh_CN": "Field Visits", "en": "Field Visits"}' in manifest
    catalog = root / "crm_field_visits" / "translations" / "zh_CN" / "LC_MESSAGES" / "field_visits.mo"
    assert catalog.stat().st_size > 100
    page = (root / "crm_field_visits" / "templates" / "field_visits" / "index.html").read_text()
    assert '{{ _("Field Visits: items attached to customers") }}' in page  # page Jinja kept as is

    other = run("plugins", "new", "tours", "--dir", "src/tours-plugin")
    assert other.exit_code == 0, other.output
    assert (env / "src" / "tours-plugin" / "crm_tours" / "plugin.py").is_file()
    empty = env / "empty"
    empty.mkdir()
    assert run("plugins", "new", "tours2", "--dir", "empty").exit_code == 0
    assert (empty / "pyproject.toml").is_file()


@pytest.mark.parametrize(("name", "words"), [
    ("Visits", "lowercase"),
    ("v", "2–40"),
    ("customers", "reserved"),
    ("admin", "reserved"),
    ("9lives", "start with a letter"),
])
def test_new_refuses_bad_names(env: Path, name: str, words: str) -> None:
    assert words in one_error_line(run("plugins", "new", name))
    assert list(env.iterdir()) == []


def test_new_never_overwrites_a_folder(env: Path) -> None:
    (env / "visits").mkdir()
    (env / "visits" / "notes.txt").write_text("mine")
    line = one_error_line(run("plugins", "new", "visits"))
    assert "already exists" in line and "refusing to overwrite" in line
    assert [p.name for p in (env / "visits").iterdir()] == ["notes.txt"]
    assert sorted(p.name for p in env.iterdir()) == ["visits"]  # no half-written staging folder


def test_new_refuses_installed_plugin_and_package_names(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert "already installed" in one_error_line(run("plugins", "new", "pipeline"))  # an entry point
    pkg = env.parent / "lib" / "crm_zzz"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(env.parent / "lib"))
    assert "package named crm_zzz" in one_error_line(run("plugins", "new", "zzz"))
    assert not (env / "zzz").exists()


class InfoSpecs:
    @hookspec
    def on_new_thing(self, kernel: Any) -> None:
        """Added in 1.0."""

    @deprecated(since="1.1", replacement="on_new_thing")
    def on_old_thing(self, kernel: Any) -> None:
        """Deprecated."""


class ShopHooks:
    @hookimpl
    def register_permissions(self, kernel: Any) -> list[Action]:
        return [Action("shop.sell", "销售", "Sell", defaults={"sales_rep": True})]

    @hookimpl
    def register_routes(self, kernel: Any) -> list[RouteDecl]:
        return [RouteDecl("/orders", lambda r: None, permission="shop.sell", api=True)]

    @hookimpl
    def register_jobs(self, kernel: Any) -> list[JobDecl]:
        return [JobDecl("shop.nightly", lambda k, f: None, trigger="cron", trigger_args={"hour": 2},
                        description="Nightly totals")]


class FanHooks:
    @hookimpl
    def on_old_thing(self, kernel: Any) -> None:
        pass


def test_info_shows_everything_a_plugin_contributes(env: Path) -> None:
    shop = Manifest(name="shop", version="2.3.4", hooks=ShopHooks(), hookspecs=InfoSpecs,
                    requires_core=">=0.1,<0.2")
    fan = Manifest(name="shop_fan", version="0.1.0", depends=("shop",), hooks=FanHooks())
    assert run("init").exit_code == 0
    with pytest.warns(DeprecationWarning, match="on_new_thing"):
        out = run("plugins", "info", "shop", plugins=(shop, fan))
    assert out.exit_code == 0, out.output
    for fact in ("2.3.4", ">=0.1,<0.2", "shop_fan", "register_jobs", "register_permissions",
                 "register_routes", "shop.sell", "sales_rep=yes", "/api/v1/shop/orders", "shop.nightly",
                 "Nightly totals"):
        assert fact in out.stdout, fact
    with pytest.warns(DeprecationWarning):
        fan_out = run("plugins", "info", "shop_fan", plugins=(shop, fan))
    assert "deprecated hooks" in fan_out.stdout and "implement on_new_thing instead" in fan_out.stdout
