"""Services: one function per use case — the only way data changes.

Each validates, authorises, writes in one transaction, writes an audit entry and a domain event
to the outbox in that same transaction. The API, pages, CLI, importer and plugins all call these.
"""
