"""Alembic revisions of the ``loyalty`` branch."""
