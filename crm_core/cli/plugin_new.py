"""``crm plugins new NAME``: render ``plugin_template/template`` into a new plugin distribution.

The template's file contents are Jinja2 with ``[[ … ]]`` / ``[% … %]`` delimiters (so the
plugin's own Jinja2 pages, written with ``{{ … }}``, pass through untouched); ``__name__`` and
``__package__`` in file and folder names become the plugin name and its package. The gettext
catalogs are compiled to ``.mo`` after rendering.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from importlib.metadata import entry_points
from pathlib import Path

import jinja2
from packaging.version import Version

from crm_core import __version__
from crm_core.errors import CRMError, PluginError
from crm_core.plugin_system.manifest import Manifest

SKIP = {"__pycache__", ".pytest_cache", ".ruff_cache"}


class TemplateError(CRMError):
    """The plugin can't be created (bad name, existing folder, template not found)."""


def template_dir() -> Path:
    """The template: ``$CRM_PLUGIN_TEMPLATE``, else ``plugin_template/template`` beside the
    ``crm_core`` package (a source checkout or an editable install)."""
    env = os.environ.get("CRM_PLUGIN_TEMPLATE")
    path = Path(env) if env else Path(__file__).resolve().parents[2] / "plugin_template" / "template"
    if not (path / "pyproject.toml").is_file():
        raise TemplateError(f"the plugin template is not at {path} (set CRM_PLUGIN_TEMPLATE to the "
                            "plugin_template/template folder of a Mosaic CRM checkout)")
    return path


def template_vars(name: str) -> dict[str, str]:
    v = Version(__version__)
    return {
        "name": name,
        "package": f"crm_{name}",
        "title": name.replace("_", " ").title(),
        "dist": f"mosaic-crm-{name.replace('_', '-')}",
        "core_minor": f"{v.major}.{v.minor}",
        "requires_core": f">={v.major}.{v.minor},<{v.major}.{v.minor + 1}" if v.major == 0
        else f">={v.major}.{v.minor},<{v.major + 1}",
    }


def check_name(name: str) -> None:
    """The same rules as a manifest's name, and no clash with an installed plugin or package."""
    try:
        Manifest(name=name, version="0.1.0")
    except PluginError as exc:
        raise TemplateError(str(exc)) from None
    if any(ep.name == name for ep in entry_points(group="crm.plugins")):
        raise TemplateError(f"a plugin named {name!r} is already installed; choose another name")
    if importlib.util.find_spec(f"crm_{name}") is not None:
        raise TemplateError(f"a Python package named crm_{name} is already installed; choose another name")


def render_plugin(name: str, dest: Path | None = None, template: Path | None = None) -> Path:
    """Render the template for plugin ``name`` into ``dest`` (default ``./<name>``), which must
    not exist (or be an empty folder). Returns the folder."""
    check_name(name)
    src = template or template_dir()
    target = (dest or Path(name)).resolve()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise TemplateError(f"{target} already exists; refusing to overwrite it")
    values = template_vars(name)
    env = jinja2.Environment(
        variable_start_string="[[", variable_end_string="]]", block_start_string="[%",
        block_end_string="%]", comment_start_string="[#", comment_end_string="#]",
        keep_trailing_newline=True, undefined=jinja2.StrictUndefined, autoescape=False,
    )
    staging = target.with_name(f".{target.name}.rendering")
    if staging.exists():
        shutil.rmtree(staging)
    try:
        for path in sorted(src.rglob("*")):
            rel = path.relative_to(src)
            if SKIP & set(rel.parts) or path.suffix in (".pyc", ".mo"):
                continue
            out = staging / str(rel).replace("__name__", name).replace("__package__", values["package"])
            if path.is_dir():
                out.mkdir(parents=True, exist_ok=True)
                continue
            out.parent.mkdir(parents=True, exist_ok=True)
            text = env.from_string(path.read_text(encoding="utf-8")).render(values)
            out.write_text(text, encoding="utf-8")
        _compile_catalogs(staging)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            target.rmdir()
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def _compile_catalogs(root: Path) -> None:
    from crm_core.web.i18n import compile_po

    for po in root.rglob("translations/*/LC_MESSAGES/*.po"):
        po.with_suffix(".mo").write_bytes(compile_po(po))
