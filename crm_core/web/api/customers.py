"""Customers, their contacts and follow-ups — thin handlers over the services."""

from __future__ import annotations

from crm_core.schemas import (
    ContactRead,
    ContactUpdate,
    CustomerCreate,
    CustomerRead,
    CustomerUpdate,
    FollowUpRead,
)
from crm_core.services import contacts as contacts_svc
from crm_core.services import customers as customers_svc
from crm_core.services import followups as followups_svc
from crm_core.web.api import export
from crm_core.web.api.export import customer_query
from crm_core.web.api.models import (
    Assigned,
    AssignOwner,
    ContactCreate,
    ContactList,
    CustomerCount,
    CustomerExportQuery,
    CustomerFilters,
    CustomerListQuery,
    CustomerPage,
    FollowUpCreate,
    FollowUpListQuery,
    FollowUpPage,
    FollowUpUpdate,
    IdPath,
    PageQuery,
)
from crm_core.web.api.operations import API, REAUTH_HELP, Call, Op, readable

C = f"{API}/customers"


# --- customers -------------------------------------------------------------------------------
def list_customers(c: Call) -> CustomerPage:
    page = customers_svc.list_customers(c.ctx, customer_query(c))
    return CustomerPage(items=page.items, next_cursor=page.next_cursor, limit=page.limit)


def count_customers(c: Call) -> CustomerCount:
    n, exact = customers_svc.count_customers(c.ctx, customer_query(c))
    return CustomerCount(count=n, exact=exact)


def create_customer(c: Call) -> CustomerRead:
    return customers_svc.create_customer(c.ctx, c.body)


def get_customer(c: Call) -> CustomerRead:
    return customers_svc.get_customer(c.ctx, c.path.id)


def update_customer(c: Call) -> CustomerRead:
    return customers_svc.update_customer(c.ctx, c.path.id, c.body, version=c.version)


def delete_customer(c: Call) -> None:
    customers_svc.delete_customer(c.ctx, c.path.id, version=c.version)


def assign_customers(c: Call) -> Assigned:
    n = customers_svc.assign_owner(c.ctx, c.body.customer_ids, c.body.owner_id)
    return Assigned(assigned=n)


def customer_contacts(c: Call) -> ContactList:
    return ContactList(items=contacts_svc.list_contacts(c.ctx, c.path.id))


def customer_followups(c: Call) -> FollowUpPage:
    page = followups_svc.timeline(c.ctx, c.path.id, cursor=c.query.cursor, limit=c.query.limit)
    return FollowUpPage(items=page.items, next_cursor=page.next_cursor, limit=page.limit)


# --- contacts --------------------------------------------------------------------------------
def create_contact(c: Call) -> ContactRead:
    return contacts_svc.create_contact(c.ctx, c.body)


def get_contact(c: Call) -> ContactRead:
    return contacts_svc.get_contact(c.ctx, c.path.id)


def update_contact(c: Call) -> ContactRead:
    return contacts_svc.update_contact(c.ctx, c.path.id, c.body, version=c.version)


def delete_contact(c: Call) -> None:
    contacts_svc.delete_contact(c.ctx, c.path.id, version=c.version)


# --- follow-ups ------------------------------------------------------------------------------
def list_followups(c: Call) -> FollowUpPage:
    page = followups_svc.timeline(c.ctx, c.query.customer_id, cursor=c.query.cursor,
                                  limit=c.query.limit)
    return FollowUpPage(items=page.items, next_cursor=page.next_cursor, limit=page.limit)


def create_followup(c: Call) -> FollowUpRead:
    return followups_svc.create_followup(c.ctx, c.body)


def get_followup(c: Call) -> FollowUpRead:
    return followups_svc.get_followup(c.ctx, c.path.id)


def update_followup(c: Call) -> FollowUpRead:
    return followups_svc.update_followup(c.ctx, c.path.id, c.body, version=c.version)


def delete_followup(c: Call) -> None:
    followups_svc.delete_followup(c.ctx, c.path.id, version=c.version)


_LIST_HELP = ("Keyset pages, newest first by default: follow `next_cursor` until it is null. "
              "Filter on custom fields with `custom.<key>=value`, and on number and date fields "
              "with `custom.<key>.min` / `custom.<key>.max`. A role that may not see phone "
              "numbers can't find customers by phone.")
_UPDATE_HELP = ("Send only the fields to change, with `If-Match` set to the `ETag` of the version "
                "you edited: without it the answer is 428, and 412 (with `current_version`) when "
                "someone changed the record meanwhile.")
_DELETE_HELP = "With `If-Match`, only the named version is deleted (412 otherwise)."


def operations() -> list[Op]:
    one = f"{C}/{{id:int}}"
    customer = readable(CustomerRead)
    contact = readable(ContactRead)
    followup = readable(FollowUpRead)
    return [
        Op("GET", C, "listCustomers", "List customers", "customers", "customers.read",
           list_customers, _LIST_HELP, query_model=CustomerListQuery, custom_filters="customer",
           response_model=CustomerPage),
        Op("POST", C, "createCustomer", "Create a customer (with its contacts)", "customers",
           "customers.create", create_customer,
           "The new customer is yours (owner); its code is given by the server.",
           body_model=CustomerCreate, status=201, location=f"{C}/{{id}}", **customer),
        Op("GET", f"{C}/count", "countCustomers", "Count customers", "customers", "customers.read",
           count_customers, "The same filters as the list; counting stops at 10 000.",
           query_model=CustomerFilters, custom_filters="customer", response_model=CustomerCount),
        Op("GET", f"{C}/export", "exportCustomers", "Export customers (CSV or JSON lines)",
           "customers", "customers.export", export.export_customers,
           "Streams every customer you may export, in id order, with the list's filters. "
           "Phones and ID numbers stay masked for roles that may not see them. " + REAUTH_HELP,
           query_model=CustomerExportQuery, custom_filters="customer", reauth=True,
           media=export.MEDIA),
        Op("POST", f"{C}/assign", "assignCustomers", "Give customers a new owner", "customers",
           "customers.assign", assign_customers,
           "Every customer must be yours to assign, and the new owner within your scope.",
           body_model=AssignOwner, response_model=Assigned),
        Op("GET", one, "getCustomer", "Read a customer", "customers", "customers.read",
           get_customer, path_model=IdPath, **customer),
        Op("PATCH", one, "updateCustomer", "Change a customer", "customers", "customers.update",
           update_customer, _UPDATE_HELP, path_model=IdPath, body_model=CustomerUpdate,
           if_match="required", **customer),
        Op("DELETE", one, "deleteCustomer", "Delete a customer", "customers", "customers.delete",
           delete_customer, f"{_DELETE_HELP} {REAUTH_HELP}", path_model=IdPath, if_match="optional",
           reauth=True, status=204),
        Op("GET", f"{one}/contacts", "listCustomerContacts", "A customer's contacts", "customers",
           "contacts.read", customer_contacts, "Primary contact first.", path_model=IdPath,
           response_model=ContactList),
        Op("GET", f"{one}/followups", "listCustomerFollowUps", "A customer's follow-up timeline",
           "customers", "followups.read", customer_followups, "Newest first, keyset pages.",
           path_model=IdPath, query_model=PageQuery, response_model=FollowUpPage),
        Op("POST", f"{API}/contacts", "createContact", "Add a contact to a customer", "contacts",
           "contacts.create", create_contact, "The first contact of a customer is its primary one.",
           body_model=ContactCreate, status=201, location=f"{API}/contacts/{{id}}", **contact),
        Op("GET", f"{API}/contacts/{{id:int}}", "getContact", "Read a contact", "contacts",
           "contacts.read", get_contact, "`phone` and `id_number` are masked unless you may see them.",
           path_model=IdPath, **contact),
        Op("PATCH", f"{API}/contacts/{{id:int}}", "updateContact", "Change a contact", "contacts",
           "contacts.update", update_contact, _UPDATE_HELP, path_model=IdPath,
           body_model=ContactUpdate, if_match="required", **contact),
        Op("DELETE", f"{API}/contacts/{{id:int}}", "deleteContact", "Delete a contact", "contacts",
           "contacts.delete", delete_contact, _DELETE_HELP, path_model=IdPath,
           if_match="optional", status=204),
        Op("GET", f"{API}/followups", "listFollowUps", "Follow-up timeline", "followups",
           "followups.read", list_followups, "Every follow-up you may read (or one customer's), "
           "newest first, keyset pages.", query_model=FollowUpListQuery, response_model=FollowUpPage,
           errors=(404,)),
        Op("POST", f"{API}/followups", "createFollowUp", "Log a follow-up", "followups",
           "followups.create", create_followup, "`occurred_at` defaults to now; it can't be in "
           "the future. A time without offset is read in your time zone.",
           body_model=FollowUpCreate, status=201, location=f"{API}/followups/{{id}}", **followup),
        Op("GET", f"{API}/followups/{{id:int}}", "getFollowUp", "Read a follow-up", "followups",
           "followups.read", get_followup, path_model=IdPath, **followup),
        Op("PATCH", f"{API}/followups/{{id:int}}", "updateFollowUp", "Change a follow-up",
           "followups", "followups.update", update_followup, _UPDATE_HELP, path_model=IdPath,
           body_model=FollowUpUpdate, if_match="required", **followup),
        Op("DELETE", f"{API}/followups/{{id:int}}", "deleteFollowUp", "Delete a follow-up",
           "followups", "followups.delete", delete_followup, _DELETE_HELP, path_model=IdPath,
           if_match="optional", status=204),
    ]
