"""Twilio account credentials handed to the Twilio library as a ready HTTP Basic header."""

from __future__ import annotations

import base64

from twilio.auth_strategy.auth_strategy import AuthStrategy
from twilio.auth_strategy.auth_type import AuthType
from twilio.credential.credential_provider import CredentialProvider


class BasicAuth(AuthStrategy):  # type: ignore[misc]
    """HTTP Basic credentials as a ready ``Authorization`` header.

    The library's async client would otherwise wrap them in ``aiohttp.BasicAuth``, which aiohttp 3.14
    deprecates; a credential provider is the library's own seam for supplying the header instead.
    """

    def __init__(self, account_sid: str, auth_token: str) -> None:
        super().__init__(AuthType.BASIC)
        self._header = "Basic " + base64.b64encode(f"{account_sid}:{auth_token}".encode()).decode("ascii")

    def get_auth_string(self) -> str:
        """The header value."""
        return self._header

    def requires_authentication(self) -> bool:
        """Always."""
        return True


class AccountCredentials(CredentialProvider):  # type: ignore[misc]
    """Our account SID and auth token, handed to the library as a header (see BasicAuth)."""

    def __init__(self, account_sid: str, auth_token: str) -> None:
        super().__init__(AuthType.BASIC)
        self._strategy = BasicAuth(account_sid, auth_token)

    def to_auth_strategy(self) -> AuthStrategy:
        """The strategy the client asks for on every request."""
        return self._strategy
