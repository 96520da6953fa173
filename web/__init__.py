"""The HTTP side: the FastAPI app, its API and Jinja2 pages."""
