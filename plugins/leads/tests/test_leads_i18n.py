"""The leads catalogs: complete, compiled, and in agreement with the core catalogs on every
shared msgid (the core wins a clash, so a different translation would never show)."""

from __future__ import annotations

from pathlib import Path

import crm_leads
import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from babel.support import Translations

from crm_core.web import i18n

HERE = Path(crm_leads.__file__).parent
CORE = Path(i18n.TRANSLATIONS_DIR)


def _po(path: Path) -> dict[str, str]:
    with path.open("rb") as fh:
        return {m.id if isinstance(m.id, str) else m.id[0]:
                m.string if isinstance(m.string, str) else m.string[0] for m in read_po(fh) if m.id}


def test_every_message_is_translated_and_compiled() -> None:
    found = {msg if isinstance(msg, str) else msg[0] for _f, _l, msg, *_r in extract_from_dir(
        str(HERE), method_map=[("**.py", "python"), ("**/templates/**.html", "jinja2")],
        options_map={"**/templates/**.html": {"extensions": "jinja2.ext.i18n", "newstyle_gettext": "true"}},
        keywords={"_": None, "gettext": None, "ngettext": (1, 2), "N_": None})}
    zh = _po(HERE / "translations/zh_CN/LC_MESSAGES/leads.po")
    assert found - set(zh) == set()
    assert [k for k, v in zh.items() if not v] == []
    with (HERE / "translations/zh_CN/LC_MESSAGES/leads.mo").open("rb") as fh:
        mo = Translations(fh)
    assert all(mo.gettext(k) == v for k, v in zh.items() if "%(num)s" not in k)


@pytest.mark.parametrize("locale", ["zh_CN"])
def test_agrees_with_core_catalogs(locale: str) -> None:
    core: dict[str, str] = {}
    for po in (CORE / locale / "LC_MESSAGES").glob("*.po"):
        core.update(_po(po))
    mine = _po(HERE / f"translations/{locale}/LC_MESSAGES/leads.po")
    clashes = {k: (core[k], v) for k, v in mine.items() if k in core and core[k] != v}
    assert clashes == {}
