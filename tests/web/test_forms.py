"""crm_core.web.forms: service messages → catalogue messages, errors → a form's inputs."""

from __future__ import annotations

from crm_core.errors import ValidationError
from crm_core.web import forms
from crm_core.web.views import admin_forms, customers_common


def test_known_messages_get_their_catalogue_message_with_arguments() -> None:
    assert forms.known("  String should have at most 200 characters ") == (
        "At most %(n)s characters.", {"n": "200"})
    assert forms.known("login 'li.na' is taken") == ("The login %(v)s is taken.", {"v": "li.na"})
    assert forms.known("Field required") == forms.known("name is required") == (forms.REQUIRED, {})
    assert forms.known("the moon is made of cheese") is None  # a plugin's own rule: shown as is


def test_an_area_may_word_a_shared_message_its_own_way() -> None:
    text = "email 'nope@' is not valid: it must have exactly one @-sign"
    assert admin_forms.translate(text) == admin_forms.Msg("%(v)s is not a valid email address.",
                                                          {"v": "nope@"})
    assert customers_common.message(text).msgid == "This is not a valid email address."
    assert forms.known(text) is None  # the shared rules leave it to the areas
    unknown = customers_common.message("the moon is made of cheese")
    assert (unknown.msgid, unknown.text) == (None, "the moon is made of cheese")
    assert admin_forms.translate("the moon") == admin_forms.Msg(admin_forms.RAW, {"text": "the moon"})


def test_errors_are_placed_on_the_inputs_the_form_has() -> None:
    errors = {"contacts.0.phone": ["phone '12' is not a valid number"], "name": ["Field required"],
              "secret_key": ["String should have at most 5 characters"]}
    placed = list(forms.place(errors, {"name", "contact_phone"}, {"contacts.0.phone": "contact_phone"}))
    assert placed == [("contact_phone", "contacts.0.phone", "phone '12' is not a valid number"),
                      ("name", "name", "Field required"),
                      (None, "secret_key", "String should have at most 5 characters")]
    page = customers_common.FormErrors(errors, ["name", "contact_phone"],
                                       {"contacts.0.phone": "contact_phone"})
    assert [m.msgid for m in page.get("contact_phone")] == ["This is not a valid phone number."]
    assert [(k, m.msgid, m.args) for k, m in page.general] == [
        ("secret_key", "At most %(n)s characters.", {"n": "5"})]
    form = admin_forms.Form({"name": ""})
    form.take(ValidationError("invalid", errors))
    assert form.errors["name"] == [admin_forms.Msg(forms.REQUIRED, {})]
    assert [m.args["field"] for m in form.errors[admin_forms.GENERAL]] == ["contacts.0.phone", "secret_key"]
    bare = admin_forms.Form({"name": ""})
    bare.take(ValidationError("a team 'T1' already exists"))  # no per-field errors: on top
    assert bare.errors == {admin_forms.GENERAL: [admin_forms.Msg("A team named %(v)s already exists.",
                                                                 {"v": "T1"})]}
