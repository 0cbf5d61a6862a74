"""Contact use cases. Phones and ID numbers are encrypted at rest and masked on read."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlmodel import col

from crm_core.context import Ctx
from crm_core.models import Contact, Customer
from crm_core.models.base import row_id
from crm_core.normalize import mask_id_number, mask_phone, national_display
from crm_core.permissions.scope import fetch_in_scope, require_parent_in_scope, scope_clause
from crm_core.schemas import ContactCreate, ContactIn, ContactRead, ContactUpdate
from crm_core.services.base import (
    bump,
    changes_between,
    check_version,
    delete_recorded,
    parse,
    record,
    run_validators,
)
from crm_core.services.custom_fields import validate_custom

ENTITY = "contact"
_PLAIN = ("customer_id", "name", "title", "is_primary", "email", "wechat", "remark", "custom")


def to_read(ctx: Ctx, row: Contact) -> ContactRead:
    cipher = ctx.kernel.cipher
    phone = cipher.decrypt(row.phone_enc)
    phone_masked = bool(phone) and not ctx.actor.can("contacts.see_phone")
    shown_phone = (mask_phone(phone) if phone_masked else national_display(phone)) if phone else None
    id_number = cipher.decrypt(row.id_number_enc)
    if id_number and not ctx.actor.can("contacts.see_id_number"):
        id_number = mask_id_number(id_number)
    data = {k: getattr(row, k) for k in ContactRead.model_fields
            if k not in ("phone", "phone_masked", "id_number")}
    return ContactRead(**data, phone=shown_phone, phone_masked=phone_masked, id_number=id_number)


def _unset_other_primaries(s: Session, customer_id: int, keep_id: int | None) -> None:
    stmt = update(Contact).where(col(Contact.customer_id) == customer_id,
                                 col(Contact.is_primary).is_(True))
    if keep_id is not None:
        stmt = stmt.where(col(Contact.id) != keep_id)
    s.execute(stmt.values(is_primary=False))


def add_contact_row(ctx: Ctx, s: Session, customer: Customer, c: ContactIn, audit: bool = True) -> Contact:
    custom, errors = validate_custom(s, ENTITY, c.custom, kernel=ctx.kernel)
    values = c.model_dump(exclude={"phone", "id_number", "custom"})
    run_validators(ctx, ENTITY, {**values, "phone": c.phone, "custom": custom}, None, errors)
    if c.is_primary:
        _unset_other_primaries(s, customer.id or 0, None)
    elif s.scalar(select(col(Contact.id)).where(col(Contact.customer_id) == customer.id).limit(1)) is None:
        values["is_primary"] = True  # a customer's first contact is its primary one
    cipher = ctx.kernel.cipher
    row = Contact(
        **values, customer_id=row_id(customer), custom=custom,
        phone_enc=cipher.encrypt(c.phone), phone_bidx=cipher.blind_index(c.phone),
        id_number_enc=cipher.encrypt(c.id_number),
    )
    s.add(row)
    s.flush()
    if audit:
        public = {k: getattr(row, k) for k in _PLAIN}
        record(ctx, s, action="contact.create", entity=ENTITY, entity_id=row.id,
               changes={k: [None, v] for k, v in public.items() if v not in (None, {}, "")},
               summary=row.name, event="contact.created", payload={"id": row.id, **public})
    return row


def create_contact(ctx: Ctx, data: ContactCreate | dict[str, Any]) -> ContactRead:
    c = parse(ContactCreate, data)
    with ctx.uow() as s:
        customer = fetch_in_scope(ctx.kernel, s, ctx.actor, "customer", c.customer_id,
                                  "customers.read")
        require_parent_in_scope(ctx.kernel, s, ctx.actor, ENTITY, c.customer_id,
                                "contacts.create")
        row = add_contact_row(ctx, s, customer, ContactIn(**c.model_dump(exclude={"customer_id"})))
        return to_read(ctx, row)


def update_contact(
    ctx: Ctx, contact_id: int, data: ContactUpdate | dict[str, Any], version: int | None = None
) -> ContactRead:
    upd = parse(ContactUpdate, data).model_dump(exclude_unset=True)
    with ctx.uow() as s:
        row = fetch_in_scope(ctx.kernel, s, ctx.actor, ENTITY, contact_id, "contacts.update",
                             for_update=True)
        check_version(row, version, "contact")
        before = {k: getattr(row, k) for k in _PLAIN}
        errors: dict[str, list[str]] = {}
        if "custom" in upd:
            upd["custom"], errors = validate_custom(s, ENTITY, upd["custom"], row.custom, ctx.kernel)
        if "name" in upd and not upd["name"]:
            errors.setdefault("name", []).append("cannot be empty")
        secret: dict[str, Any] = {k: upd.pop(k) for k in ("phone", "id_number") if k in upd}
        after = {**before, **upd}
        run_validators(ctx, ENTITY, {**after, **secret}, row, errors)
        if upd.get("is_primary"):
            _unset_other_primaries(s, row.customer_id, row.id)
        for k, v in upd.items():
            setattr(row, k, v)
        cipher = ctx.kernel.cipher
        changes = changes_between(before, after)
        if "phone" in secret:
            row.phone_enc = cipher.encrypt(secret["phone"])
            row.phone_bidx = cipher.blind_index(secret["phone"])
            changes["phone"] = ["(hidden)", "(changed)"]
        if "id_number" in secret:
            row.id_number_enc = cipher.encrypt(secret["id_number"])
            changes["id_number"] = ["(hidden)", "(changed)"]
        if changes:
            bump(row)
            record(ctx, s, action="contact.update", entity=ENTITY, entity_id=row.id,
                   changes=changes, summary=row.name, event="contact.updated",
                   payload={"id": row.id, "version": row.version, "changes": changes})
        return to_read(ctx, row)


def delete_contact(ctx: Ctx, contact_id: int, version: int | None = None) -> None:
    with ctx.uow() as s:
        row = fetch_in_scope(ctx.kernel, s, ctx.actor, ENTITY, contact_id, "contacts.delete",
                             for_update=True)
        check_version(row, version, "contact")
        snapshot = {k: getattr(row, k) for k in _PLAIN}
        delete_recorded(ctx, s, row, entity=ENTITY, action="contact.delete", event="contact.deleted",
                        snapshot=snapshot, summary=snapshot["name"])


def get_contact(ctx: Ctx, contact_id: int) -> ContactRead:
    with ctx.reader() as s:
        return to_read(ctx, fetch_in_scope(ctx.kernel, s, ctx.actor, ENTITY, contact_id,
                                           "contacts.read"))


def list_contacts(ctx: Ctx, customer_id: int) -> list[ContactRead]:
    with ctx.reader() as s:
        fetch_in_scope(ctx.kernel, s, ctx.actor, "customer", customer_id, "customers.read")
        rows = s.scalars(
            select(Contact)
            .where(col(Contact.customer_id) == customer_id,
                   scope_clause(ctx.kernel, ctx.actor, ENTITY, "contacts.read"))
            .order_by(col(Contact.is_primary).desc(), col(Contact.id))
        )
        return [to_read(ctx, r) for r in rows]
