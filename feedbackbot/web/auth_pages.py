"""The sign-in and sign-out pages."""

from __future__ import annotations

from aiohttp import web

from ..accounts import SIGN_IN_REFUSED
from .auth import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    STAFF,
    Staff,
    audit,
    client_address,
    current_user,
    home_for,
    new_login_csrf,
    render_staff,
    safe_next,
    set_session_cookie,
)


class AuthPages:
    """GET/POST /login and POST /logout."""

    def routes(self) -> list[web.RouteDef]:
        """The routes."""
        return [web.get("/login", self.login_form), web.post("/login", self.login),
                web.post("/logout", self.logout)]

    def _form(self, request: web.Request, *, error: str | None, username: str, next_path: str | None,
              status: int = 200) -> web.Response:
        staff: Staff = request.app[STAFF]
        token = new_login_csrf()
        response = render_staff(request, "auth/login.html", {
            "error": error, "username": username, "next_path": next_path or "", "login_csrf": token,
            "signed_in_as": current_user(request)}, status=status)
        response.set_cookie(LOGIN_CSRF_COOKIE, token, path="/login", httponly=True, samesite="Strict",
                            secure=staff.secure_cookies)
        return response

    async def login_form(self, request: web.Request) -> web.StreamResponse:
        """The sign-in form."""
        return self._form(request, error=None, username="", next_path=safe_next(request.query.get("next")))

    async def login(self, request: web.Request) -> web.StreamResponse:
        """Check the username and password; a new session and a redirect, or the form again with one message."""
        staff: Staff = request.app[STAFF]
        form = await request.post()
        username = str(form.get("username") or "")
        password = str(form.get("password") or "")
        next_path = safe_next(str(form.get("next") or ""))
        signed = await staff.accounts.sign_in.attempt(
            username, password, client_address=client_address(request),
            user_agent=request.headers.get("User-Agent"), previous_token=request.cookies.get(SESSION_COOKIE))
        if signed is None:
            return self._form(request, error=SIGN_IN_REFUSED, username=username[:64], next_path=next_path,
                              status=401)
        response = web.HTTPSeeOther(next_path or home_for(signed.user))
        set_session_cookie(response, staff, signed.token)
        response.del_cookie(LOGIN_CSRF_COOKIE, path="/login")
        raise response

    async def logout(self, request: web.Request) -> web.StreamResponse:
        """End the session and clear the cookie."""
        staff: Staff = request.app[STAFF]
        token = request.cookies.get(SESSION_COOKIE, "")
        if current_user(request) is not None:
            await audit(request, "logout")
        if token:
            await staff.accounts.sessions.end(token, "logout")
        response = web.HTTPSeeOther("/login?signed_out=1")
        response.del_cookie(SESSION_COOKIE, path="/")
        raise response
