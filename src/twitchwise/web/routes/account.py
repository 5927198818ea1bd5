"""With accounts (the hosted service): sign-up, login, logout and the account page; and the
account's own API under ``/api/account``.

Each handler reads its form, makes one call to the accounts repository
(:class:`~twitchwise.server.accounts.Accounts`: passwords, sessions, tokens, throttling and
deletion are its rules) and renders or redirects. Cookies are set by
:mod:`twitchwise.web.accounts`. Every form carries the CSRF token; a plain form post that
changed something is redirected (303) to a page that says what was done, with a fixed text
chosen by a word in the address (nothing from the address is shown). These routers are
included only when ``WebSettings.accounts`` is on. With ``WebSettings.signup`` closed,
``/signup`` answers 403 (:class:`~twitchwise.server.access.SignupClosed`) before anything
else: accounts are made with ``twitchwise admin create-user``. With ``invite``, the sign-up
form asks for an invitation code too, and the account is made only by spending one use of a
live code (:meth:`~twitchwise.server.accounts.Accounts.create_invited_account`, one
transaction): a wrong, expired, used-up or revoked code is 403 with the one message and
makes nothing, and guesses are throttled as logins are (429).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from twitchwise.errors import InputError
from twitchwise.server.access import (
    AuthenticationError,
    InvalidInvitation,
    LoginThrottled,
    Principal,
    SignupClosed,
)
from twitchwise.server.accounts import (
    AGE_BANDS,
    SCOPES,
    SEXES,
    AccountInfo,
    Accounts,
    NewToken,
    ProfileInfo,
    TokenInfo,
)
from twitchwise.web.accounts import clear_session, client_address, set_session
from twitchwise.web.deps import (
    CsrfChecked,
    CsrfToken,
    PrincipalDep,
    SettingsDep,
    SignedInDep,
    TemplatesDep,
    get_accounts,
)
from twitchwise.web.errors import ApiError
from twitchwise.web.models import AccountPublic, ProfileIn, TokenPublic
from twitchwise.web.routes.api import ERRORS
from twitchwise.web.routes.pages import _render

__all__ = ["api_router", "router"]

router = APIRouter(include_in_schema=False)
api_router = APIRouter(prefix="/api/account", tags=["account"], responses=ERRORS)

AccountsDep = Annotated[Accounts, Depends(get_accounts)]
Form_ = Annotated[str, Form()]

#: The one answer for a token id the account has no live token with, whoever else may have it.
NOT_YOURS = "you have no live API token with that id; GET /api/account/tokens lists yours"
#: What a redirect to the account or login page did (``?done=...``): fixed texts.
DONE = {
    "welcome": "Your account is ready.",
    "password": "Your password is changed, and every other session of yours is logged out.",
    "consent-on": "Thank you: twitchwise may now keep your journal.",
    "consent-off": (
        "twitchwise will keep nothing new in your journal. What it holds stays until you "
        "delete it (export it first if you want a copy)."
    ),
    "profile": "Saved: what you chose to say about yourself.",
    "revoked": "The token is revoked: programs using it are refused from now on.",
    "out": "You are logged out.",
    "everywhere": "You are logged out everywhere: every session of your account has ended.",
}


def _safe_next(value: str) -> str:
    """Where to go after logging in: a path of this app only (never another site)."""
    value = value.strip()
    if (
        value.startswith("/")
        and not value.startswith("//")
        and "\\" not in value
        and len(value) <= 200
        and value.isprintable()
    ):
        return value
    return "/journal"


def _see(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


# --------------------------------------------------------------------------- sign up, log in


def signup_open(settings: SettingsDep) -> None:
    """Sign-up is open, or open to invitations (``WebSettings.signup``), else
    :class:`SignupClosed` (403), before anything of the request is looked at."""
    if settings.signup not in ("open", "invite"):
        raise SignupClosed()


SignupOpen = Annotated[None, Depends(signup_open)]


@router.get("/signup", response_class=HTMLResponse, response_model=None)
def signup_page(
    _open: SignupOpen,
    request: Request,
    templates: TemplatesDep,
    csrf: CsrfToken,
    principal: PrincipalDep,
) -> Response:
    if principal is not None:
        return _see("/account")
    return _render(request, templates, "web/signup.html.j2", {"form": {}, "title": "Sign up"})


@router.post("/signup", response_class=HTMLResponse, response_model=None)
def signup(
    _open: SignupOpen,
    request: Request,
    templates: TemplatesDep,
    accounts: AccountsDep,
    settings: SettingsDep,
    _: CsrfChecked,
    csrf: CsrfToken,
    email: Form_ = "",
    password: Form_ = "",
    password_again: Form_ = "",
    consent: Form_ = "",
    code: Form_ = "",
) -> Response:
    form = {"email": email[:254], "consent": consent == "yes"}
    invited = settings.signup == "invite"
    try:
        if password != password_again:
            raise InputError("the two passwords are not the same", field="password_again")
        if invited:
            made = accounts.create_invited_account(
                code,
                email,
                password,
                consent=consent == "yes",
                client=client_address(request, settings),
            )
        else:
            made = accounts.create_account(email, password, consent=consent == "yes")
    except (InputError, InvalidInvitation, LoginThrottled) as exc:
        if isinstance(exc, InputError):  # the code is kept in the form: it was not refused
            status, errors, form["code"] = 422, _errors(exc), code.strip()[:200]
        else:  # the same words for every code that does not work; or wait (throttled)
            status = 429 if isinstance(exc, LoginThrottled) else 403
            errors = {"code": str(exc).capitalize() + "."}
        context = {"form": form, "title": "Sign up", "errors": errors}
        page = _render(request, templates, "web/signup.html.j2", context, status)
        if isinstance(exc, LoginThrottled):
            page.headers["retry-after"] = str(exc.retry_after)
        return page
    response = _see("/account?done=welcome")
    set_session(response, request, settings, accounts.create_session(made.id))
    return response


def _errors(exc: InputError) -> dict[str, str]:
    fields = [f for f, _ in exc.problems] or [exc.field or "email"]
    return {f: str(exc) for f in fields}


@router.get("/login", response_class=HTMLResponse, response_model=None)
def login_page(
    request: Request,
    templates: TemplatesDep,
    csrf: CsrfToken,
    principal: PrincipalDep,
    next: Annotated[str, Query(max_length=200)] = "",
    done: Annotated[str, Query(max_length=32)] = "",
) -> Response:
    if principal is not None:
        return _see(_safe_next(next))
    context: dict[str, Any] = {"form": {}, "next": _safe_next(next), "title": "Log in"}
    if done in DONE:
        context["message"] = DONE[done]
    return _render(request, templates, "web/login.html.j2", context)


@router.post("/login", response_class=HTMLResponse, response_model=None)
def login(
    request: Request,
    templates: TemplatesDep,
    accounts: AccountsDep,
    settings: SettingsDep,
    _: CsrfChecked,
    csrf: CsrfToken,
    email: Form_ = "",
    password: Form_ = "",
    next: Form_ = "",
) -> Response:
    where = _safe_next(next)
    try:
        made = accounts.login(email, password, client=client_address(request, settings))
    except (AuthenticationError, LoginThrottled) as exc:
        context = {"form": {"email": email[:254]}, "next": where, "title": "Log in"}
        context["error"] = str(exc).capitalize() + "."
        throttled = isinstance(exc, LoginThrottled)
        page = _render(request, templates, "web/login.html.j2", context, 429 if throttled else 401)
        if isinstance(exc, LoginThrottled):
            page.headers["retry-after"] = str(exc.retry_after)
        return page
    response = _see(where)
    set_session(response, request, settings, made)
    return response


@router.post("/logout", response_model=None)
def logout(accounts: AccountsDep, principal: PrincipalDep, _: CsrfChecked) -> RedirectResponse:
    if principal is not None and principal.session_token is not None:
        accounts.revoke_session(principal.session_token)
    response = _see("/login?done=out")
    clear_session(response)
    return response


# --------------------------------------------------------------------------- the account page


def _account_page(
    request: Request,
    templates: Any,
    accounts: Accounts,
    principal: Principal,
    status: int = 200,
    **extra: Any,
) -> HTMLResponse:
    account = accounts.get(principal.account.id) or principal.account
    context = {
        "title": "Your account",
        "account": account,
        "tokens": accounts.list_api_tokens(account.id),
        "scopes": SCOPES,
        "profile": accounts.profile(account.id),
        "age_bands": AGE_BANDS,
        "sexes": SEXES,
        **extra,
    }
    return _render(request, templates, "web/account.html.j2", context, status)


@router.get("/account", response_class=HTMLResponse)
def account_page(
    request: Request,
    templates: TemplatesDep,
    accounts: AccountsDep,
    principal: SignedInDep,
    csrf: CsrfToken,
    done: Annotated[str, Query(max_length=32)] = "",
) -> HTMLResponse:
    message = DONE.get(done)
    return _account_page(request, templates, accounts, principal, message=message)


@router.post("/account/consent", response_model=None)
def account_consent(
    accounts: AccountsDep, principal: SignedInDep, _: CsrfChecked, consent: Form_ = ""
) -> RedirectResponse:
    accounts.set_consent(principal.account.id, consent == "yes")
    return _see(f"/account?done=consent-{'on' if consent == 'yes' else 'off'}#consent")


@router.post("/account/profile", response_class=HTMLResponse, response_model=None)
def account_profile(
    request: Request,
    templates: TemplatesDep,
    accounts: AccountsDep,
    principal: SignedInDep,
    _: CsrfChecked,
    csrf: CsrfToken,
    age_band: Form_ = "",
    sex: Form_ = "",
) -> Response:
    try:
        accounts.set_profile(principal.account.id, age_band=age_band, sex=sex)
    except InputError as exc:
        return _account_page(request, templates, accounts, principal, 422, profile_error=str(exc))
    return _see("/account?done=profile#profile")


@router.post("/account/password", response_class=HTMLResponse, response_model=None)
def account_password(
    request: Request,
    templates: TemplatesDep,
    accounts: AccountsDep,
    settings: SettingsDep,
    principal: SignedInDep,
    _: CsrfChecked,
    csrf: CsrfToken,
    current: Form_ = "",
    new: Form_ = "",
    new_again: Form_ = "",
) -> Response:
    try:
        if new != new_again:
            raise InputError("the two new passwords are not the same", field="new_again")
        accounts.change_password(
            principal.account.id,
            current,
            new,
            keep_session=principal.session_token,
            client=client_address(request, settings),
        )
    except (InputError, AuthenticationError, LoginThrottled) as exc:
        status = 422 if isinstance(exc, InputError) else 401
        if isinstance(exc, LoginThrottled):
            status = 429
        message = (
            "Your current password is not right."
            if isinstance(exc, AuthenticationError)
            else str(exc)
        )
        return _account_page(
            request, templates, accounts, principal, status, password_error=message
        )
    return _see("/account?done=password#password")


@router.post("/account/logout-everywhere", response_model=None)
def account_logout_everywhere(
    accounts: AccountsDep, principal: SignedInDep, _: CsrfChecked
) -> RedirectResponse:
    accounts.revoke_all_sessions(principal.account.id)
    response = _see("/login?done=everywhere")
    clear_session(response)
    return response


@router.post("/account/tokens", response_class=HTMLResponse)
def account_token_create(
    request: Request,
    templates: TemplatesDep,
    accounts: AccountsDep,
    principal: SignedInDep,
    _: CsrfChecked,
    csrf: CsrfToken,
    name: Form_ = "",
    scopes: Annotated[list[str] | None, Form()] = None,
) -> HTMLResponse:
    try:
        made: NewToken = accounts.create_api_token(principal.account.id, name, scopes or [])
    except InputError as exc:
        return _account_page(
            request, templates, accounts, principal, 422, token_error=str(exc), token_name=name
        )
    # shown once, in this response only (never in an address; responses are not cached)
    return _account_page(request, templates, accounts, principal, new_token=made)


@router.post("/account/tokens/{token_id}/revoke", response_model=None)
def account_token_revoke(
    token_id: uuid.UUID, accounts: AccountsDep, principal: SignedInDep, _: CsrfChecked
) -> RedirectResponse:
    if not accounts.revoke_api_token(principal.account.id, token_id):
        raise ApiError(404, NOT_YOURS)
    return _see("/account?done=revoked#tokens")


@router.post("/account/delete", response_class=HTMLResponse)
def account_delete(
    request: Request,
    templates: TemplatesDep,
    accounts: AccountsDep,
    settings: SettingsDep,
    principal: SignedInDep,
    _: CsrfChecked,
    csrf: CsrfToken,
    password: Form_ = "",
    confirm: Form_ = "",
) -> HTMLResponse:
    try:
        if confirm != "yes":
            raise InputError(
                'tick "Yes, delete my account and everything in it" to delete it',
                field="confirm",
            )
        accounts.confirm_password(
            principal.account.id, password, client=client_address(request, settings)
        )
    except (InputError, AuthenticationError, LoginThrottled) as exc:
        status = 422 if isinstance(exc, InputError) else 401
        if isinstance(exc, LoginThrottled):
            status = 429
        message = (
            "Your password is not right; nothing was deleted."
            if isinstance(exc, AuthenticationError)
            else str(exc)
        )
        return _account_page(request, templates, accounts, principal, status, delete_error=message)
    accounts.delete_account(principal.account.id)
    request.state.csrf_bound = request.state.csrf_token = None
    response = _render(request, templates, "web/deleted.html.j2", {"title": "Account deleted"})
    clear_session(response)
    return response


# --------------------------------------------------------------------------- /api/account


def _account_json(account: AccountInfo, profile: ProfileInfo) -> dict[str, Any]:
    return {
        "id": str(account.id),
        "email": account.email,
        "created_at": account.created_at.isoformat(),
        "consent": account.consent,
        "profile": profile_json(profile),
    }


def profile_json(profile: ProfileInfo) -> dict[str, str | None]:
    """The profile as the API and the person's JSON export give it."""
    return {"age_band": profile.age_band, "sex": profile.sex}


def _token_json(token: TokenInfo) -> dict[str, Any]:
    def when(value: Any) -> str | None:
        return None if value is None else str(value.isoformat())

    return {
        "id": str(token.id),
        "name": token.name,
        "scopes": list(token.scopes),
        "created_at": when(token.created_at),
        "last_used_at": when(token.last_used_at),
        "revoked_at": when(token.revoked_at),
    }


@api_router.get("", response_model=AccountPublic, summary="The signed-in account")
def api_account(accounts: AccountsDep, principal: SignedInDep) -> JSONResponse:
    """Who the session or the API token belongs to, whether the account allows keeping
    health data, and its optional profile (age band and sex; null: not given)."""
    account = accounts.get(principal.account.id) or principal.account
    return JSONResponse(_account_json(account, accounts.profile(account.id)))


@api_router.put("/profile", response_model=ProfileIn, summary="Set the account's profile")
def api_profile(body: ProfileIn, accounts: AccountsDep, principal: SignedInDep) -> JSONResponse:
    """Set the optional age band and sex (null, or left out: prefer not to say; both null
    keeps nothing). Needs `write`."""
    chosen = accounts.set_profile(principal.account.id, age_band=body.age_band, sex=body.sex)
    return JSONResponse(profile_json(chosen))


@api_router.get("/tokens", response_model=list[TokenPublic], summary="The account's API tokens")
def api_tokens(accounts: AccountsDep, principal: SignedInDep) -> JSONResponse:
    """Every API token of the account, revoked ones too, newest first; never a secret."""
    return JSONResponse([_token_json(t) for t in accounts.list_api_tokens(principal.account.id)])


@api_router.delete(
    "/tokens/{token_id}", status_code=204, response_class=Response, summary="Revoke an API token"
)
def api_token_revoke(
    token_id: uuid.UUID, accounts: AccountsDep, principal: SignedInDep
) -> Response:
    """Revoke one of the account's tokens (a token may revoke itself); 404 when the account
    has no such live token, whoever else may have one."""
    if not accounts.revoke_api_token(principal.account.id, token_id):
        raise ApiError(404, NOT_YOURS)
    return Response(status_code=204)
