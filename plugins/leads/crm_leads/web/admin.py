"""Admin pages: the ordered assignment rules and the public web forms."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from crm_core.errors import Conflict, NotFound, ValidationError
from crm_core.web import ctx_for, form_data, render
from crm_core.web.i18n import N_
from crm_core.web.views.customers_common import FormErrors, text, texts
from crm_leads.services import assign, rules, webform
from crm_leads.web.common import L, form_errors, people, teams

RULE_INPUTS = ("name", "action", "user_id", "team_id", "regions", "industries", "sources",
               "value_min", "value_max", "custom_key", "custom_value", "is_fallback")


def _rule_data(form: Any) -> dict[str, Any]:
    custom = {}
    if text(form, "custom_key"):
        custom[text(form, "custom_key", 64)] = text(form, "custom_value", 200)
    user, team = text(form, "user_id"), text(form, "team_id")
    return {
        "name": text(form, "name", 200), "action": text(form, "action") or "user",
        "user_id": int(user) if user.isdigit() else None,
        "team_id": int(team) if team.isdigit() else None,
        "is_fallback": text(form, "is_fallback") == "on",
        "conditions": {"regions": texts(form, "regions"), "industries": texts(form, "industries"),
                       "sources": texts(form, "sources"), "value_min": text(form, "value_min") or None,
                       "value_max": text(form, "value_max") or None, "custom": custom},
    }


def _rules_page(request: Request, errors: FormErrors, values: dict[str, Any], status: int = 200,
                notice: str | None = None) -> Response:
    ctx = ctx_for(request)
    names = dict(people(ctx))
    team_names = dict(teams(ctx))
    return render(request, "leads/rules.html", rules=rules.list_rules(ctx), labels=L, names=names,
                  people=list(names.items()), teams=list(team_names.items()), team_names=team_names,
                  errors=errors, values=values, status_code=status,
                  notice=notice or request.query_params.get("notice"))


def _rule_values(rule: Any) -> dict[str, Any]:
    """The add/edit form's values of an existing rule."""
    c = rule.conditions or {}
    custom = c.get("custom") or {}
    key = next(iter(custom), "")
    return {"name": rule.name, "action": rule.action,
            "user_id": str(rule.user_id or ""), "team_id": str(rule.team_id or ""),
            "regions": c.get("regions") or [], "industries": c.get("industries") or [],
            "sources": c.get("sources") or [], "value_min": str(c.get("value_min") or ""),
            "value_max": str(c.get("value_max") or ""), "custom_key": key,
            "custom_value": custom.get(key, ""), "is_fallback": "on" if rule.is_fallback else "",
            "rule_id": str(rule.id), "version": str(rule.version)}


def rules_page(request: Request) -> Response:
    ctx = ctx_for(request)
    if request.method == "GET":
        edit = request.query_params.get("edit", "")
        if edit.isdigit():
            found = [r for r in rules.list_rules(ctx) if r.id == int(edit)]
            if not found:
                raise NotFound(f"rule {edit} not found")
            return _rules_page(request, FormErrors(), _rule_values(found[0]))
        return _rules_page(request, FormErrors(), {})
    form = form_data(request)
    op = text(form, "op") or "create"
    rule_id = text(form, "rule_id")
    if op in ("up", "down", "delete", "off", "on") and rule_id.isdigit():
        if op == "delete":
            rules.delete_rule(ctx, int(rule_id))
        elif op in ("off", "on"):
            rules.set_rule_active(ctx, int(rule_id), op == "on")
        else:
            rules.move_rule(ctx, int(rule_id), -1 if op == "up" else 1)
        return RedirectResponse("/leads/rules?notice=saved", 303)
    if op == "assign_unowned":
        n = assign.assign_many(ctx)
        return RedirectResponse(f"/leads/rules?notice=assigned&n={n}", 303)
    values = {k: form.getlist(k) if k in ("regions", "industries", "sources") else text(form, k)
              for k in (*RULE_INPUTS, "rule_id", "version")}
    rename = {"conditions.value_min": "value_min", "conditions.value_max": "value_max"}
    try:
        if op == "update" and rule_id.isdigit():
            current = [r for r in rules.list_rules(ctx) if r.id == int(rule_id)]
            if not current:
                raise NotFound(f"rule {rule_id} not found")
            version = text(form, "version")
            rules.update_rule(ctx, int(rule_id), {**_rule_data(form), "active": current[0].active},
                              version=int(version) if version.isdigit() else None)
        else:
            rules.create_rule(ctx, _rule_data(form))
    except ValidationError as exc:
        return _rules_page(request, form_errors(exc.errors, RULE_INPUTS, rename), values, 422)
    except Conflict:
        errors = FormErrors()
        errors.add("name", N_("Someone else changed this rule meanwhile: reload the page."))
        return _rules_page(request, errors, values, 409)
    return RedirectResponse("/leads/rules?notice=saved", 303)


def forms_page(request: Request) -> Response:
    ctx = ctx_for(request)
    errors = FormErrors()
    values: dict[str, Any] = {}
    if request.method == "POST":
        form = form_data(request)
        token_id = text(form, "token_id")
        if token_id.isdigit():
            webform.set_token_active(ctx, int(token_id), text(form, "active") == "1")
            return RedirectResponse("/leads/forms", 303)
        values = {k: text(form, k) for k in ("label", "source", "rate_limit")}
        limit = values["rate_limit"]
        try:
            webform.create_token(ctx, values["label"], values["source"] or "website",
                                 int(limit) if limit.isdigit() else 5)
        except ValidationError as exc:
            errors = form_errors(exc.errors, ("label", "source", "rate_limit"))
        else:
            return RedirectResponse("/leads/forms", 303)
    base = str(request.base_url).rstrip("/")
    return render(request, "leads/forms.html", tokens=webform.list_tokens(ctx), base=base,
                  labels=L, errors=errors, values=values, status_code=422 if errors else 200)
