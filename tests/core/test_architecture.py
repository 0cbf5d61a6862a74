"""The architecture contracts: the kernel never imports a plugin; a plugin imports only the
kernel and what its manifest depends on."""

from __future__ import annotations

from pathlib import Path

from crm_core.devtools.archcheck import check, find_plugins

ROOT = Path(__file__).resolve().parents[2]


def _plugin(root: Path, package: str, name: str, depends: tuple[str, ...], body: str) -> None:
    d = root / package
    d.mkdir(parents=True)
    (d / "__init__.py").write_text("")
    (d / "manifest.py").write_text(
        "from crm_core.plugin_system import Manifest\n"
        f"manifest = Manifest(name={name!r}, version='0.1.0', depends={depends!r}, "
        f"hooks='{package}.plugin')\n"
    )
    (d / "plugin.py").write_text(body)


def test_repository_keeps_the_contracts() -> None:
    assert check(ROOT / "crm_core", [ROOT / "plugins"]) == []


def test_undeclared_plugin_import_is_caught(tmp_path: Path) -> None:
    plugins = tmp_path / "plugins"
    _plugin(plugins, "crm_alpha", "alpha", (), "import json\nimport crm_core\n")
    _plugin(plugins, "crm_beta", "beta", ("alpha",), "from crm_alpha import plugin\n")
    _plugin(plugins, "crm_gamma", "gamma", (), "import crm_beta.plugin\n")
    kernel = tmp_path / "crm_core"
    kernel.mkdir()
    (kernel / "x.py").write_text("import os\n")
    assert {p.name for p in find_plugins([plugins])} == {"alpha", "beta", "gamma"}
    problems = check(kernel, [plugins])
    assert len(problems) == 1
    assert "plugin gamma" in problems[0] and "imports plugin beta" in problems[0]


def test_kernel_importing_a_plugin_is_caught(tmp_path: Path) -> None:
    plugins = tmp_path / "plugins"
    _plugin(plugins, "crm_alpha", "alpha", (), "import crm_core\n")
    kernel = tmp_path / "crm_core"
    kernel.mkdir()
    (kernel / "bad.py").write_text("from crm_alpha.plugin import x\n")
    problems = check(kernel, [plugins])
    assert problems and "the kernel imports plugin alpha" in problems[0]
