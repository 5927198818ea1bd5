"""The web app and REST API behind ``twitchwise serve`` (the ``web`` extra): the local app,
or with ``--accounts`` the hosted service (docs/hosted.md).

::

    twitchwise.web
     ├── app        create_app(settings): assembles routers, templates, static files, the
     │              error handler and the security middleware; nothing else
     ├── settings   WebSettings: host, port, body and upload limits, the journal
     ├── deps       Annotated dependencies: settings, knowledge base, journal, templates, CSRF
     ├── models     what the API accepts (*In) and returns (*Public)
     ├── service    the data behind every endpoint and page (library calls only)
     ├── errors     the one exception handler and the one JSON error shape
     ├── security   security headers, host and cross-site checks, body limits, CSRF tokens
     ├── accounts   with accounts (the hosted service): who each request acts for, cookies,
     │              the import bound, the OpenAPI security schemes
     ├── routes/    api.py (/api, JSON), pages.py (HTML, htmx partials), ops.py (probes),
     │              account.py (sign-up, login, /account, /api/account: with accounts only)
     ├── templates/ the pages (they include the answer and guide templates of the package)
     └── static/    htmx (vendored), the stylesheet and script; nothing from a CDN

FastAPI is imported by these modules, so import them only when the extra is installed
(``twitchwise serve`` checks first). See docs/web.md.
"""
