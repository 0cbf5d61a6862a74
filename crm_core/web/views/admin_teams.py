"""``/admin/teams``: create teams, give them a manager, add and remove members, remove teams."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute

from crm_core.errors import NotFound, ValidationError
from crm_core.models import Team
from crm_core.services import users as user_svc
from crm_core.web.auth import ctx_for
from crm_core.web.i18n import N_
from crm_core.web.routing import route
from crm_core.web.views.admin_forms import Form, page

PERMISSION = "teams.manage"
NOTICES = {
    "created": N_("The team was created."),
    "saved": N_("Saved."),
    "added": N_("The member was added."),
    "removed": N_("The member was removed."),
    "deleted": N_("The team was removed. Its members keep their accounts and records."),
}


def _people(request: Request, teams: list[tuple[Team, list[str]]]) -> tuple[list[tuple[str, str]],
                                                                            dict[int, str]]:
    """The choosers' users — (login, "name (login)") of every active user — and each team's
    manager login by team id."""
    users = [u for u, _r, _t in user_svc.list_users(ctx_for(request))]
    by_id = {u.id: u.login for u in users}
    choices = [(u.login, u.login if u.display_name == u.login else f"{u.display_name} ({u.login})")
               for u in users if u.is_active]
    return choices, {t.id or 0: by_id.get(t.manager_id, "") for t, _m in teams}


def teams(request: Request) -> Response:
    return _list_page(request, Form())


def _list_page(request: Request, form: Form) -> Response:
    rows = user_svc.list_teams(ctx_for(request))
    users, managers = _people(request, rows)
    return page(request, "admin/teams.html", teams=rows, managers=managers, users=users, form=form,
                notice=NOTICES.get(request.query_params.get("done", "")))


def create(request: Request) -> Response:
    form = Form.posted(request)
    try:
        team = user_svc.create_team(ctx_for(request), form.text("name"), form.text("manager") or None)
    except ValidationError as exc:
        form.take(exc)
        return _list_page(request, form)
    return RedirectResponse(f"/admin/teams/{team.id}?done=created", 303)


def _team(request: Request) -> tuple[Team, list[str]]:
    team_id = int(request.path_params["team_id"])
    for team, members in user_svc.list_teams(ctx_for(request)):
        if team.id == team_id:
            return team, members
    raise NotFound(f"no team {team_id}")


def detail(request: Request) -> Response:
    return _detail(request)


def _detail(request: Request, **forms: Form) -> Response:
    team, members = _team(request)
    users, managers = _people(request, [(team, members)])
    manager = managers[team.id or 0]
    return page(request, "admin/team.html", team=team, members=members,
                manager=manager, users=users, candidates=[u for u in users if u[0] not in members],
                manager_form=forms.get("manager") or Form({"manager": manager}),
                member_form=forms.get("member") or Form(), delete_form=forms.get("delete") or Form(),
                notice=NOTICES.get(request.query_params.get("done", "")))


def set_manager(request: Request) -> Response:
    team, _m = _team(request)
    form = Form.posted(request)
    try:
        user_svc.set_team_manager(ctx_for(request), team.name, form.text("manager") or None)
    except ValidationError as exc:
        form.take(exc)
        return _detail(request, manager=form)
    return RedirectResponse(f"/admin/teams/{team.id}?done=saved", 303)


def members(request: Request) -> Response:
    """Add (``add=<login>``) or remove (``remove=<login>``) one member."""
    team, _m = _team(request)
    form = Form.posted(request)
    login, member = (form.text("add"), True) if form.text("add") else (form.text("remove"), False)
    if not login:
        form.error("add", N_("Choose a user."))
        return _detail(request, member=form)
    try:
        user_svc.set_membership(ctx_for(request), team.name, login, member)
    except NotFound:
        form.error("add", N_("There is no user %(v)s."), v=login)
        return _detail(request, member=form)
    return RedirectResponse(f"/admin/teams/{team.id}?done={'added' if member else 'removed'}", 303)


def delete(request: Request) -> Response:
    team, _m = _team(request)
    form = Form.posted(request)
    if form.text("confirm_name") != team.name:
        form.error("confirm_name", N_("Type the team's name to confirm."))
        return _detail(request, delete=form)
    user_svc.delete_team(ctx_for(request), team.name)
    return RedirectResponse("/admin/teams?done=deleted", 303)


def routes() -> list[BaseRoute]:
    return [
        route("/admin/teams", teams, permission=PERMISSION, name="admin_teams"),
        route("/admin/teams", create, permission=PERMISSION, methods=("POST",), name="admin_team_create"),
        route("/admin/teams/{team_id:int}", detail, permission=PERMISSION, name="admin_team"),
        route("/admin/teams/{team_id:int}/manager", set_manager, permission=PERMISSION,
              methods=("POST",), name="admin_team_manager"),
        route("/admin/teams/{team_id:int}/members", members, permission=PERMISSION,
              methods=("POST",), name="admin_team_members"),
        route("/admin/teams/{team_id:int}/delete", delete, permission=PERMISSION, methods=("POST",),
              name="admin_team_delete"),
    ]
