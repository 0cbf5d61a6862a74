"""Forward domain events as signed HTTP POSTs: an example plugin."""
