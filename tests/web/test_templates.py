"""Template lookup: instance folder → plugins → core, with ``core:`` to extend the original."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
import pytest

from crm_core.web.templating import NamespacedLoader


def test_instance_template_extends_the_core_original(web_kernel: Any, make_site: Any) -> None:
    folder = Path(web_kernel.settings.instance_dir) / "templates"
    folder.mkdir(parents=True)
    (folder / "base.html").write_text(
        '{% extends "core:base.html" %}{% block head %}<meta name="brand" content="ACME">{% endblock %}')
    (folder / "webplug").mkdir()
    (folder / "webplug" / "page.html").write_text(
        '{% extends "webplug:webplug/page.html" %}{% block content %}<p>ours</p>{{ super() }}{% endblock %}')
    client = make_site().client()
    login = client.get("/login").text
    assert '<meta name="brand" content="ACME">' in login and "<h1>登录</h1>" in login
    client.login("rep")
    page = client.get("/webplug/").text
    assert '<meta name="brand" content="ACME">' in page
    assert page.index("<p>ours</p>") < page.index('<h1 class="webplug">')


def test_plugins_only_add_templates_under_their_name(tmp_path: Path) -> None:
    (tmp_path / "webplug").mkdir()
    (tmp_path / "webplug" / "x.html").write_text("mine")
    (tmp_path / "base.html").write_text("hijacked")
    env = jinja2.Environment(loader=NamespacedLoader("webplug", tmp_path))
    assert env.get_template("webplug/x.html").render() == "mine"
    with pytest.raises(jinja2.TemplateNotFound):
        env.get_template("base.html")
    assert NamespacedLoader("webplug", tmp_path).list_templates() == ["webplug/x.html"]

