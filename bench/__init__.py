"""Benchmarks of the Mosaic CRM kernel (not part of the installed package)."""
