"""[[ title ]]: a Mosaic CRM plugin."""
