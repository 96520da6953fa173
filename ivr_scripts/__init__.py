"""IVR scripts as data (YAML + Jinja2) and their rendering."""
