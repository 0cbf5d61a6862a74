"""Mosaic CRM plugin leads_pipeline (see manifest.py)."""
