"""The ``feedbackbot users`` commands: add, list, disable and set-password."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from typing import Any

from .staff import ROLES


def _password(args: argparse.Namespace, prompt: str) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass(prompt)
    if getpass.getpass("Type it again: ") != first:
        raise ValueError("the two passwords are not the same")
    return first


def cmd_users(args: argparse.Namespace) -> int:
    """Add, list, disable or set the password of staff users."""
    from ..app import build_services, prepare_database
    from ..cli import _settings_or_exit
    from . import Accounts, NewUser, PasswordPolicyError, UserError

    settings = _settings_or_exit()
    password = ""
    if args.users_command in ("add", "set-password"):
        try:
            password = _password(args, f"Password for {args.username} (at least 12 characters): ")
        except (ValueError, EOFError, KeyboardInterrupt) as exc:
            print(f"feedbackbot: {exc or 'cancelled'}", file=sys.stderr)
            return 1

    async def run() -> int:
        services = build_services(settings)
        try:
            await prepare_database(services)
            accounts = Accounts(services.db, settings, services.clock)
            if args.users_command == "add":
                user = await accounts.users.create(NewUser(
                    username=args.username, role=args.role, display_name=args.name, email=args.email,
                    officer_ref=args.officer_ref, supervisor_ref=args.supervisor_ref,
                    teams=tuple((args.teams or "").split(","))), password)
                await _audit(accounts, "user.add", user.username, {"role": user.role, "via": "cli"})
                print(f"added {user.username} ({user.role})")
            elif args.users_command == "list":
                for row in await accounts.users.all():
                    print("\t".join([row.username, row.role, "active" if row.active else "disabled",
                                     row.officer_ref or "-", row.supervisor_ref or "-", ",".join(row.teams) or "-",
                                     row.display_name]))
            elif args.users_command == "disable":
                row = await accounts.users.disable(args.username)
                await _audit(accounts, "user.disable", row.username, {"via": "cli"})
                print(f"disabled {row.username}; their sessions have ended")
            else:
                row = await accounts.users.set_password(args.username, password)
                await _audit(accounts, "user.set_password", row.username, {"via": "cli"})
                print(f"password set for {row.username}; their sessions have ended")
            return 0
        except (UserError, PasswordPolicyError) as exc:
            print(f"feedbackbot: {exc}", file=sys.stderr)
            return 1
        finally:
            await services.db.dispose()

    return asyncio.run(run())


async def _audit(accounts: Any, action: str, username: str, detail: dict[str, Any]) -> None:
    from .audit import add_entry

    async with accounts.db.session() as s:
        add_entry(s, at=accounts.clock.now(), user=None, username="(command line)", action=action,
                  object_type="user", object_id=username, detail=detail)


def add_commands(sub: Any) -> None:
    """Add ``users`` and its sub-commands to the main parser."""
    users = sub.add_parser("users", help="staff accounts: add, list, disable, set-password")
    users_sub = users.add_subparsers(dest="users_command", required=True)
    add = users_sub.add_parser("add", help="add a staff user")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--name", required=True, help="the name shown to colleagues")
    add.add_argument("--email", default=None, help="where notifications about their items go")
    add.add_argument("--officer-ref", default=None, help="their collar/officer id, as in cases.officer_in_case")
    add.add_argument("--supervisor-ref", default=None, help="their supervisor's officer ref")
    add.add_argument("--teams", default=None, help="comma-separated queue ids they work, e.g. control_room")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.set_defaults(func=cmd_users)
    users_sub.add_parser("list", help="every user with role, status, refs and queues").set_defaults(func=cmd_users)
    disable = users_sub.add_parser("disable", help="stop a user signing in and end their sessions")
    disable.add_argument("username")
    disable.set_defaults(func=cmd_users)
    setpw = users_sub.add_parser("set-password", help="set a new password and end the user's sessions")
    setpw.add_argument("username")
    setpw.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    setpw.set_defaults(func=cmd_users)
