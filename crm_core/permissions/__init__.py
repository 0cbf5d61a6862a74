"""The permission engine: actors and their grants, record scope in SQL, the kernel catalogue."""
