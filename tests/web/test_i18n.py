"""UI language per user, Accept-Language for visitors, Babel formatting, catalogs in sync."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po
from babel.support import Translations
from sqlalchemy import select

from crm_core.models import User
from crm_core.web import i18n


def user_locale(kernel: Any, login: str) -> str:
    with kernel.new_session() as s:
        return s.scalar(select(User.locale).where(User.login == login)) or ""


@pytest.mark.parametrize(("header", "expected"), [
    ("en-US,en;q=0.9", "Sign in"),
    ("zh-CN,zh;q=0.9,en;q=0.8", "登录"),
    ("fr-FR, en;q=0.5", "Sign in"),
    ("de-DE", "登录"),  # nothing we speak: the deployment default
    ("en;q=0.2, zh-TW;q=0.8", "登录"),
])
def test_visitors_get_their_browsers_language(client: Any, header: str, expected: str) -> None:
    html = client.get("/login", headers={"Accept-Language": header}).text
    assert f"<h1>{expected}</h1>" in html


def test_negotiate() -> None:
    assert i18n.negotiate("zh-Hans-CN") == "zh_CN"
    assert i18n.negotiate("EN_gb;q=1") == "en"
    assert i18n.negotiate("*, en;q=0") is None
    assert i18n.negotiate("") is None and i18n.negotiate("en;q=abc") is None


def test_users_language_wins_over_the_browser(client: Any) -> None:
    client.login("en_user")
    html = client.get("/", headers={"Accept-Language": "zh-CN"}).text
    assert "Welcome, Eve English" in html and '<html lang="en">' in html
    client.login("rep")
    assert "欢迎，Rita Rep" in client.get("/", headers={"Accept-Language": "en"}).text


def test_visitor_switches_language_with_a_cookie(client: Any) -> None:
    response = client.submit("/-/locale", {"locale": "en", "next": "/login?next=/x"}, page="/login")
    assert response.status_code == 303 and response.headers["location"] == "/login?next=/x"
    assert client.http.cookies.get("crm_locale") == "en"
    assert "<h1>Sign in</h1>" in client.get("/login", headers={"Accept-Language": "zh-CN"}).text


def test_user_switches_language_and_it_is_stored(client: Any, web_kernel: Any) -> None:
    client.login("rep")
    assert client.submit("/-/locale", {"locale": "en", "next": "/"}).status_code == 303
    assert user_locale(web_kernel, "rep") == "en"
    assert "Welcome, Rita Rep" in client.get("/").text
    other_browser = client.site.client()
    other_browser.login("rep")
    assert "Welcome, Rita Rep" in other_browser.get("/").text


def test_unknown_language_is_refused(client: Any) -> None:
    client.login("rep")
    response = client.submit("/-/locale", {"locale": "fr"})
    assert response.status_code == 422 and "locale" in response.text


def scope(locale: str, tz: str = "Asia/Shanghai") -> i18n.LocaleScope:
    return i18n.LocaleScope(locale, tz, Translations())


def test_babel_formatting_in_the_users_language_and_time_zone() -> None:
    moment = datetime(2026, 1, 31, 16, 30, tzinfo=UTC)
    with i18n.use_locale(scope("zh_CN")):
        assert i18n.format_datetime(moment, "short") == "2026/2/1 00:30"  # Shanghai is UTC+8
        assert i18n.format_date(moment) == "2026年2月1日"
        assert i18n.format_decimal(Decimal("1234567.891")) == "1,234,567.891"
        assert i18n.format_currency(Decimal("1234.5")) == "¥1,234.50"
    with i18n.use_locale(scope("en", "UTC")):
        assert i18n.format_datetime(moment, "short") == "1/31/26, 4:30\u202fPM"
        assert i18n.format_date(date(2026, 1, 31)) == "Jan 31, 2026"
        assert i18n.format_currency(Decimal("1234.5")) == "CN¥1,234.50"
        assert i18n.format_currency(10, "USD") == "$10.00"
    assert i18n.format_datetime(None) == "" and i18n.format_currency(None) == ""


def test_jinja_filters_and_gettext(site: Any) -> None:
    env = site.app.state.web.env
    template = env.from_string('{{ _("Sign in") }} {{ 1234.5|money }} {{ 1000|number }} '
                               '{{ _("Welcome, %(name)s", name="<b>") }}')
    catalogs = site.app.state.web.catalogs
    with i18n.use_locale(i18n.LocaleScope("zh_CN", "Asia/Shanghai", catalogs.get("zh_CN"))):
        assert template.render() == "登录 ¥1,234.50 1,000 欢迎，&lt;b&gt;"
    with i18n.use_locale(i18n.LocaleScope("en", "Asia/Shanghai", catalogs.get("en"))):
        assert template.render() == "Sign in CN¥1,234.50 1,000 Welcome, &lt;b&gt;"


TRANSLATIONS = Path(i18n.TRANSLATIONS_DIR)


@pytest.mark.parametrize("locale", i18n.LOCALES)
@pytest.mark.parametrize("domain", i18n.core_domains("zh_CN"))  # messages, and one per UI area
def test_catalogs_are_complete_and_compiled(locale: str, domain: str) -> None:
    po_path = TRANSLATIONS / locale / "LC_MESSAGES" / f"{domain}.po"
    with po_path.open("rb") as fh:
        catalog = read_po(fh)
    untranslated = [m.id for m in catalog if m.id and not m.string]
    assert untranslated == []
    with (TRANSLATIONS / locale / "LC_MESSAGES" / f"{domain}.mo").open("rb") as fh:
        shipped = Translations(fh)
    for m in catalog:
        if m.id:
            assert shipped.gettext(m.id) == m.string, f"{locale}: recompile the .mo (pybabel compile)"


def test_every_ui_message_is_in_the_catalog() -> None:
    from babel.messages.extract import extract_from_dir

    root = Path(i18n.__file__).parent
    found = {msg for _f, _l, msg, *_rest in extract_from_dir(
        str(root), method_map=[("**.py", "python"), ("**/templates/**.html", "jinja2")],
        options_map={"**/templates/**.html": {"extensions": "jinja2.ext.i18n", "newstyle_gettext": "true"}},
        keywords={"_": None, "gettext": None, "ngettext": (1, 2), "N_": None})}
    known: set[str] = set()
    for po in (TRANSLATIONS / "zh_CN" / "LC_MESSAGES").glob("*.po"):  # every UI area's catalog
        with po.open("rb") as fh:
            known |= {m.id for m in read_po(fh) if m.id}
    assert {m for m in found if isinstance(m, str)} - known == set()


def test_catalog_without_mo_is_compiled_in_memory(tmp_path: Path) -> None:
    src = TRANSLATIONS / "zh_CN" / "LC_MESSAGES" / "messages.po"
    target = tmp_path / "zh_CN" / "LC_MESSAGES"
    target.mkdir(parents=True)
    (target / "messages.po").write_bytes(src.read_bytes())
    loaded = i18n.load_catalog(tmp_path, "zh_CN")
    assert loaded is not None and loaded.gettext("Sign in") == "登录"
    assert i18n.load_catalog(tmp_path, "en") is None


def test_chinese_plurals_use_the_chinese_rule() -> None:
    from crm_core.web.i18n import Catalogs

    zh = Catalogs().get("zh_CN")
    assert zh.plural(1) == zh.plural(5) == 0
    en = Catalogs().get("en")
    assert (en.plural(1), en.plural(5)) == (0, 1)


@pytest.mark.parametrize("locale", i18n.LOCALES)
def test_core_catalogs_agree_on_every_shared_msgid(locale: str) -> None:
    """The core catalogs merge into one namespace (the last loaded wins), so a msgid that two UI
    areas translate differently would show the wrong words in one of them: give it a distinct
    msgid instead (e.g. "HTTP status" in the API reference, "Status" for a customer)."""
    translations: dict[str, dict[str, str]] = {}
    for po in sorted((TRANSLATIONS / locale / "LC_MESSAGES").glob("*.po")):
        with po.open("rb") as fh:
            for m in read_po(fh):
                if m.id:
                    key = m.id if isinstance(m.id, str) else "\x00".join(m.id)
                    text = m.string if isinstance(m.string, str) else "\x00".join(m.string)
                    translations.setdefault(key, {})[po.stem] = text
    clashes = {msgid: by_domain for msgid, by_domain in translations.items()
               if len(set(by_domain.values())) > 1}
    assert clashes == {}, f"{locale}: the same msgid translated differently: {clashes}"
    assert len([d for d in translations.values() if len(d) > 1]) > 0  # shared msgids are checked


def test_the_api_reference_and_the_customer_list_say_status_their_own_way(client: Any) -> None:
    client.login("admin")
    docs = client.get("/api/v1/docs", headers={"Accept-Language": "zh-CN"}).text
    assert "<th>状态码</th>" in docs
    customers = client.get("/customers").text
    assert "<th>状态</th>" in customers and "状态码" not in customers
