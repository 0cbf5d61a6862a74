"""Every customer page renders for every built-in role, or refuses with the right status."""

from __future__ import annotations

from typing import Any

from pages_support import VISIBLE, XSS_NAME, World

# role → (may create, may export)
RIGHTS = {"admin": (True, True), "mgr": (True, True), "rep1": (True, False), "rep2": (True, False),
          "rep3": (True, False), "agent": (False, False), "mkt": (False, True),
          "viewer": (False, False), "en_rep": (True, False)}


def test_every_page_for_every_role(world: World, as_user: Any) -> None:
    for login, names in VISIBLE.items():
        client = as_user(login)
        may_create, may_export = RIGHTS[login]
        assert client.get("/").status_code == 200, login
        assert client.get("/customers").status_code == 200, login
        for name in names:
            assert client.get(f"/customers/{world.customers[name]}").status_code == 200, (login, name)
        assert client.get("/customers/new").status_code == (200 if may_create else 403), login
        export = client.get("/customers/export")
        assert export.status_code == (303 if may_export else 403), login  # 303: password first
        if may_export:
            assert export.headers["location"].startswith("/reauth?action=customers.export")


def test_customer_names_are_escaped_everywhere(world: World, as_user: Any) -> None:
    admin = as_user("admin")
    cid = world.customers[XSS_NAME]
    raw = '<script>alert("x")</script>'
    for path in ("/", "/customers", f"/customers/{cid}", f"/customers/{cid}/edit"):
        page = admin.get(path).text
        assert raw not in page, path
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page, path
