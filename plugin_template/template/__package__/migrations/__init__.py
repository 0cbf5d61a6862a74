"""Alembic revisions of the ``[[ name ]]`` branch (``crm migrate`` applies them)."""
