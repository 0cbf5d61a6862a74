"""UI languages (Simplified Chinese and English) with Babel: catalogs, negotiation, formatting.

Message ids are English. The core catalogs are ``crm_core/web/translations/<locale>/LC_MESSAGES/
messages.po`` with their compiled ``.mo`` committed beside them (a catalog without ``.mo`` is
compiled in memory at startup, so there is no build step). A plugin may ship
``<its package>/translations/<locale>/LC_MESSAGES/<plugin>.po`` (or ``.mo``); its messages join
the same catalog (the core's win on a clash), so ``_()`` works in its templates too.

Each UI area may keep its own core catalog beside ``messages.po`` (``customers.po``,
``admin.po``…); all of them are merged. Update the core catalogs after changing UI text::

    pybabel extract -F crm_core/web/babel.cfg -k N_ -o /tmp/messages.pot crm_core/web
    pybabel update -i /tmp/messages.pot -d crm_core/web/translations
    pybabel compile -d crm_core/web/translations

Templates use new-style gettext: ``{{ _("Hello %(name)s", name=user) }}`` (a literal ``%`` is
written ``%%``).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import dates, numbers
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

TRANSLATIONS_DIR = Path(__file__).with_name("translations")
LOCALES = ("zh_CN", "en")
LANGUAGE_NAMES = {"zh_CN": "中文", "en": "English"}


def N_(message: str) -> str:
    """Mark a message for extraction; translate it where it is shown."""
    return message


def load_catalog(directory: Path, locale: str, domain: str = "messages") -> Translations | None:
    """The compiled catalog of ``domain`` for ``locale`` under ``directory`` (``.mo``, else the
    ``.po`` compiled in memory), or ``None`` when there is neither."""
    base = directory / locale / "LC_MESSAGES"
    mo, po = base / f"{domain}.mo", base / f"{domain}.po"
    if mo.is_file():
        with mo.open("rb") as fh:
            return Translations(fh, domain=domain)
    if po.is_file():
        return Translations(io.BytesIO(compile_po(po)), domain=domain)
    return None


def core_domains(locale: str) -> list[str]:
    """The core's catalogs for ``locale``: ``messages`` and one per UI area (``customers``,
    ``admin``, ``api``…), so areas can be translated independently."""
    base = TRANSLATIONS_DIR / locale / "LC_MESSAGES"
    names = {p.stem for p in base.glob("*.po")} | {p.stem for p in base.glob("*.mo")}
    return sorted(names, key=lambda n: (n != "messages", n))


def compile_po(po: Path) -> bytes:
    with po.open("rb") as fh:
        catalog = read_po(fh)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    return buf.getvalue()


class Catalogs:
    """One merged :class:`Translations` per UI language: plugins' catalogs, then the core's."""

    def __init__(self, plugin_dirs: list[tuple[str, Path]] | tuple[()] = ()) -> None:
        self._by_locale: dict[str, Translations] = {}
        for locale in LOCALES:
            # start from the core catalog so the language's plural rule (zh: one form) is used;
            # an empty Translations() would carry English plurals into every language
            merged = load_catalog(TRANSLATIONS_DIR, locale) or Translations()
            for domain, directory in plugin_dirs:
                extra = load_catalog(directory, locale, domain)
                if extra is not None:
                    merged.merge(extra)
            for domain in core_domains(locale):
                core = load_catalog(TRANSLATIONS_DIR, locale, domain)
                if core is not None:
                    merged.merge(core)
            self._by_locale[locale] = merged

    def get(self, locale: str) -> Translations:
        return self._by_locale.get(locale) or self._by_locale[LOCALES[0]]


def negotiate(accept_language: str | None) -> str | None:
    """The UI language an ``Accept-Language`` header prefers (``zh*`` → zh_CN, ``en*`` → en)."""
    if not accept_language:
        return None
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate(accept_language.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if tag and q > 0:
            ranked.append((-q, i, tag.strip().lower().replace("_", "-")))
    for _q, _i, tag in sorted(ranked):
        if tag == "zh" or tag.startswith("zh-"):
            return "zh_CN"
        if tag == "en" or tag.startswith("en-"):
            return "en"
    return None


# --- the language of what is being rendered ----------------------------------------------
@dataclass(frozen=True)
class LocaleScope:
    locale: str
    timezone: str
    translations: Translations
    currency: str = "CNY"


_current: ContextVar[LocaleScope | None] = ContextVar("crm_locale_scope", default=None)


@contextmanager
def use_locale(scope: LocaleScope) -> Iterator[LocaleScope]:
    """Make ``scope`` the language of ``_()`` and the format filters while rendering."""
    token = _current.set(scope)
    try:
        yield scope
    finally:
        _current.reset(token)


def current() -> LocaleScope:
    scope = _current.get()
    if scope is None:
        scope = LocaleScope(LOCALES[0], "Asia/Shanghai", Translations())
    return scope


def gettext(message: str) -> str:
    return current().translations.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return current().translations.ngettext(singular, plural, n)


def _tz(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("Asia/Shanghai")


def format_datetime(value: datetime | None, format: str = "medium") -> str:
    """A UTC timestamp in the current user's time zone and language."""
    if value is None:
        return ""
    scope = current()
    return dates.format_datetime(value, format=format, tzinfo=_tz(scope.timezone), locale=scope.locale)


def format_date(value: date | datetime | None, format: str = "medium") -> str:
    if value is None:
        return ""
    scope = current()
    if isinstance(value, datetime):
        value = value.astimezone(_tz(scope.timezone)).date()
    return dates.format_date(value, format=format, locale=scope.locale)


def format_decimal(value: int | float | Decimal | None, format: str | None = None) -> str:
    if value is None:
        return ""
    return numbers.format_decimal(value, format=format, locale=current().locale)


def format_currency(value: int | float | Decimal | None, currency: str | None = None) -> str:
    """Money: ``¥1,234.50`` in Chinese, ``CN¥1,234.50`` in English (CNY unless told)."""
    if value is None:
        return ""
    scope = current()
    return numbers.format_currency(value, currency or scope.currency, locale=scope.locale)
