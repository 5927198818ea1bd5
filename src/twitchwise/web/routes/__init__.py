"""The routers: ``api`` (JSON under ``/api``) and ``pages`` (HTML and htmx partials)."""
