"""The public web form ``/leads/form/<token>``: no sign-in, no CSRF token (it is embedded on
another site), bound to its secret token, with a honeypot field and a per-IP rate limit."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from crm_core.errors import NotFound, ValidationError
from crm_core.web import form_data, render
from crm_core.web.auth import kernel_of
from crm_core.web.views.customers_common import FormErrors, text
from crm_leads.services import webform
from crm_leads.web.common import form_errors

INPUTS = ("name", "company", "phone", "email", "region", "industry", "remark")


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "?"


def public_form(request: Request) -> Response:
    ctx = kernel_of(request).ctx()
    token = request.path_params["token"]
    form_row = webform.form_for(ctx, token)  # 404 for an unknown or switched-off token
    if request.method == "GET":
        return render(request, "leads/public_form.html", form=form_row, values={}, errors=FormErrors(),
                      done=False, problem=None, honeypot=webform.HONEYPOT)
    form = form_data(request)
    data = {k: text(form, k, 2000) for k in (*INPUTS, webform.HONEYPOT)}
    try:
        webform.submit(ctx, token, client_ip(request), data)
    except webform.SpamSuspected:
        # look like success to a bot, store nothing
        return render(request, "leads/public_form.html", form=form_row, values={}, errors=FormErrors(),
                      done=True, problem=None, honeypot=webform.HONEYPOT)
    except webform.RateLimited:
        return render(request, "leads/public_form.html", form=form_row, values=data, errors=FormErrors(),
                      done=False, problem="rate", honeypot=webform.HONEYPOT, status_code=429)
    except ValidationError as exc:
        return render(request, "leads/public_form.html", form=form_row, values=data,
                      errors=form_errors(exc.errors, INPUTS), done=False, problem="invalid",
                      honeypot=webform.HONEYPOT, status_code=422)
    except NotFound:
        raise
    return render(request, "leads/public_form.html", form=form_row, values={}, errors=FormErrors(),
                  done=True, problem=None, honeypot=webform.HONEYPOT)
