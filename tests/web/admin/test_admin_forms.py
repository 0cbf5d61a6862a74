"""The admin forms' helpers: service errors land beside their field (or on top, named), known
messages are translated, unknown ones are shown as the service wrote them, escaped."""

from __future__ import annotations

from typing import Any

from crm_core.errors import ValidationError
from crm_core.web import i18n
from crm_core.web.views.admin_forms import GENERAL, RAW, Form, Msg, tr, translate


def test_translate_known_and_unknown_messages() -> None:
    assert translate("login 'amy' is taken") == Msg("The login %(v)s is taken.", {"v": "amy"})
    assert translate("String should have at most 120 characters") == Msg("At most %(n)s characters.",
                                                                          {"n": "120"})
    assert translate("the moon is made of cheese") == Msg(RAW, {"text": "the moon is made of cheese"})


def test_take_puts_errors_beside_fields_or_on_top(site: Any) -> None:
    form = Form({"login": "amy"}, secret=("password",))
    form.take(ValidationError("invalid", {"login": ["login 'amy' is taken"],
                                          "password": ["at least 8 characters"],
                                          "__root__": ["<b>odd</b> 100%"]}))
    assert set(form.errors) == {"login", "password", GENERAL}
    [top] = form.errors[GENERAL]
    catalogs = site.app.state.web.catalogs
    with i18n.use_locale(i18n.LocaleScope("zh_CN", "Asia/Shanghai", catalogs.get("zh_CN"))):
        assert str(tr(form.errors["login"][0])) == "登录名“amy”已被使用。"
        assert str(tr(top)) == "__root__：&lt;b&gt;odd&lt;/b&gt; 100%"
    with i18n.use_locale(i18n.LocaleScope("en", "Asia/Shanghai", catalogs.get("en"))):
        assert str(tr(form.errors["password"][0])) == "At least 8 characters."
    plain = Form()
    plain.take(ValidationError("nothing to confirm"))
    assert plain.errors == {GENERAL: [Msg(RAW, {"text": "nothing to confirm"})]}
    assert not plain.ok and plain.int_or_error("n", 3) == 3
