"""Tools for developers of Mosaic CRM and its plugins (not loaded at run time)."""
