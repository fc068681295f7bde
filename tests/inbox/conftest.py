"""The inbox tests reuse the signed-in test client of the accounts tests."""

from tests.accounts.conftest import accounts, staff_client

__all__ = ["accounts", "staff_client"]
