"""Service validation errors on a page's form: which input each error belongs to, and the
catalogue message for the services' (and pydantic's) English text.

The services and the API speak English (the API shows their messages as they are); the pages
show the user's language. :func:`known` recognises a service message — matched whole, first
rule wins — and gives the catalogue ``msgid`` with the arguments taken from it; anything it does
not know (a plugin's own rule) is left to the caller to show as it is. :func:`place` puts a
``ValidationError.errors`` mapping on a form's inputs. :class:`FormErrors` does both for a page
(the customer pages' and plugins' forms; ``customers/_macros.html`` shows it); the admin pages
(:mod:`crm_core.web.views.admin_forms`) use the two functions with their own form object.
"""

from __future__ import annotations

import re
from collections.abc import Container, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from crm_core.web.i18n import N_

Rule = tuple[re.Pattern[str], str]  # a service message (matched whole) → a catalogue message

REQUIRED = N_("This field is required.")


def rules(*pairs: tuple[str, str]) -> list[Rule]:
    return [(re.compile(pattern, re.S), msgid) for pattern, msgid in pairs]


# The services' and pydantic's English messages, in the order they are tried. A page area whose
# wording differs for one of them puts its own rules in front (see ``known``).
RULES: list[Rule] = rules(
    # empty and length (pydantic, services)
    (r"String should have at least 1 characters?|Field required|cannot be empty|.+ is required|"
     r"phone is empty", REQUIRED),
    (r"(String should have )?at most (?P<n>\d+) characters?", N_("At most %(n)s characters.")),
    (r"at least (?P<n>\d+) characters", N_("At least %(n)s characters.")),
    # numbers and dates (pydantic, custom fields)
    (r"Input should be a valid integer.*|must be a whole number", N_("Enter a whole number.")),
    (r"Input should be a valid date.*|must be a date YYYY-MM-DD", N_("Enter a date as YYYY-MM-DD.")),
    (r"Input should be a valid datetime.*", N_("Enter a date and time.")),
    (r"must be a number", N_("Enter a number.")),
    # customers and contacts
    (r"mobile number .* must have 11 digits starting with 13–19",
     N_("A mobile number has 11 digits and starts with 13–19.")),
    # the normaliser says "not digits" for too short numbers too: only blame characters if any
    (r"phone '[\d\s\-()（）.+]*' contains characters that are not digits",
     N_("This is not a valid phone number.")),
    (r"phone .* contains characters that are not digits",
     N_("A phone number may only contain digits, spaces, dashes, brackets and +86.")),
    (r"phone .* is not a valid number", N_("This is not a valid phone number.")),
    (r"ID number must be 17 digits followed by a digit or X",
     N_("An ID number has 17 digits followed by a digit or X.")),
    (r"ID number check digit is wrong", N_("The check digit of this ID number is wrong.")),
    (r"cannot be in the future", N_("Cannot be in the future.")),
    (r"not a contact of this customer", N_("Choose one of this customer's contacts.")),
    (r"'me' or a user id", N_("Choose an owner from the list.")),
    (r"at most \d+ saved filters per list; delete one first",
     N_("You have too many saved filters: delete one first.")),
    # custom field values
    (r"must be yes or no", N_("Choose yes or no.")),
    (r"unknown \w+ .*; one of .*", N_("Choose one of the listed values.")),
    (r"must be one of: (?P<options>.*)", N_("Choose one of: %(options)s.")),
    (r"(?P<bad>.*) not among: (?P<options>.*)", N_("Not among the options: %(bad)s.")),
    (r"must be at least (?P<n>.*)", N_("Must be at least %(n)s.")),
    (r"must be at most (?P<n>.*)", N_("Must be at most %(n)s.")),
    (r"does not match the required format .*", N_("This value does not have the required format.")),
    (r"unknown custom field", N_("This field no longer exists.")),
    # users, teams, roles
    (r"login '(?P<v>.+)' is taken", N_("The login %(v)s is taken.")),
    (r"2–64 lowercase letters, digits, '\.', '_' or '-'",
     N_("2 to 64 lowercase letters, digits, “.”, “_” or “-”.")),
    (r"unknown time zone", N_("Unknown time zone.")),
    (r"one of (?P<v>.+)", N_("Choose one of: %(v)s.")),
    (r"unknown role\(s\): (?P<v>.+)", N_("Unknown role(s): %(v)s.")),
    (r"no team named '(?P<v>.+)'", N_("There is no team named %(v)s.")),
    (r"no user '(?P<v>.+)'", N_("There is no user %(v)s.")),
    (r"a team '(?P<v>.+)' already exists", N_("A team named %(v)s already exists.")),
    (r"you cannot disable your own account", N_("You cannot disable your own account.")),
    (r"lowercase letters, digits and _", N_("Lowercase letters, digits and “_” only.")),
    (r"a role '(?P<v>.+)' already exists", N_("A role named %(v)s already exists.")),
    (r"a built-in role cannot be deleted", N_("A built-in role cannot be deleted.")),
    (r"still given to: (?P<v>.+)", N_("Still given to: %(v)s. Take the role away from them first.")),
    (r"unknown permission", N_("Unknown permission.")),
    (r"needs a scope: .*", N_("Choose a scope: own, team or all.")),
    (r"takes no scope", N_("This permission takes no scope.")),
    # custom field definitions
    (r"lowercase letters, digits and _, starting with a letter",
     N_("Lowercase letters, digits and “_”, starting with a letter.")),
    (r"\S+ already has a field '(?P<v>.+)'", N_("There is already a field %(v)s.")),
    (r"'(?P<v>.+)' does not take custom fields", N_("%(v)s does not take custom fields.")),
    (r"a choice field needs at least one option", N_("A choice field needs at least one option.")),
    (r"not a valid regular expression: (?P<v>.+)", N_("Not a valid regular expression: %(v)s")),
)


def known(text: str, first: Sequence[Rule] = ()) -> tuple[str, dict[str, str]] | None:
    """The catalogue message for a service's English ``text`` and its named arguments, trying
    ``first`` (an area's own wording) before the shared rules; ``None`` when no rule knows it."""
    text = text.strip()
    for table in (first, RULES):
        for pattern, msgid in table:
            found = pattern.fullmatch(text)
            if found:
                return msgid, {k: v for k, v in found.groupdict().items() if v is not None}
    return None


def place(errors: Mapping[str, Sequence[str]], inputs: Container[str],
          rename: Mapping[str, str] | None = None) -> Iterator[tuple[str | None, str, str]]:
    """Each error of a ``ValidationError.errors`` mapping as (the form input it belongs to, or
    ``None`` when the form has no input for it; the service's key; the message). ``rename`` maps
    a service key to the form's input name (``contacts.0.phone`` → ``contact_phone``)."""
    for key, messages in errors.items():
        name = (rename or {}).get(key, key)
        for text in messages:
            yield (name if name in inputs else None), key, text


@dataclass(frozen=True)
class Msg:
    """A message for the page: a catalog ``msgid`` with ``args`` (translated and escaped in the
    template), or, when the service's text is not one we know, that ``text`` as it is."""

    text: str
    msgid: str | None = None
    args: dict[str, str] = field(default_factory=dict)


def message(text: str, first: Sequence[Rule] = ()) -> Msg:
    """A service's English message for the page: its catalogue message when one is known."""
    found = known(text, first)
    return Msg(text, *found) if found else Msg(text)


class FormErrors:
    """A service's ``ValidationError.errors`` placed on the inputs of a form. ``rename`` maps a
    service key to the form's input name (``contacts.0.phone`` → ``contact_phone``); errors of
    keys the form has no input for are listed at the top of the form, with their key. A page area
    (or a plugin) with wording of its own sets ``own``: its rules, tried before the shared ones."""

    own: Sequence[Rule] = ()

    def __init__(self, errors: Mapping[str, Sequence[str]] | None = None,
                 inputs: Iterable[str] = (), rename: Mapping[str, str] | None = None) -> None:
        self.by_field: dict[str, list[Msg]] = {}
        self.general: list[tuple[str, Msg]] = []
        for name, key, text in place(errors or {}, set(inputs), rename):
            if name is not None:
                self.by_field.setdefault(name, []).append(message(text, self.own))
            else:
                self.general.append((key, message(text, self.own)))

    def add(self, name: str, msgid: str, **args: str) -> None:
        self.by_field.setdefault(name, []).append(Msg(msgid, msgid, args))

    def get(self, name: str) -> list[Msg]:
        return self.by_field.get(name, [])

    def __bool__(self) -> bool:
        return bool(self.by_field or self.general)
