"""`feedbackbot import-events FILE.csv` loads the good rows and names each bad row by line and column."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlmodel import select

from feedbackbot.cli import main
from feedbackbot.store.db import Database
from feedbackbot.store.tables import Invitation, JourneyEvent

CSV = """\
event_id,touchpoint,occurred_at,case_reference,crime_type,area,officer_name,flags,victim_ref,phone,email,preferred_channel,language,consent,safe_to_contact
e1,after_attendance,2026-03-09T10:00:00Z,20/500001/26,burglary,Coventry,PC Okafor,,V1,07700 900001,,sms,en,true,
e2,after_attendance,2026-03-09T10:00:00Z,20/500002/26,theft,Walsall,PC Nowak,,V2,0123,,sms,en,true,
e3,case_filed,2026-03-09T10:00:00Z,20/500003/26,criminal damage,Dudley,DC Sandhu,,V3,,ayesha@example.org,email,ur,yes,
e4,after_attendance,yesterday,,assault,Solihull,PC Reid,,V4,07700 900004,,carrier pigeon,en,true,
e5,after_court,2026-03-09T10:00:00Z,20/500005/26,assault,Sandwell,DC Bennett,domestic_abuse,V5,07700 900005,,sms,en,true,false
"""


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, database_url: str) -> str:
    monkeypatch.setenv("FEEDBACKBOT_DATABASE_URL", database_url)
    monkeypatch.setenv("FEEDBACKBOT_QUIET_HOURS", "")
    return database_url


def test_good_rows_load_and_bad_rows_are_named(env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "events.csv"
    path.write_text(CSV, encoding="utf-8")
    code = main(["import-events", str(path)])
    out, err = capsys.readouterr()
    assert code == 1, "bad rows make the command fail so a scheduled import is noticed"
    assert f"{path}: line 3: phone: '0123' is not a valid phone number" in err
    assert f"{path}: line 5: occurred_at: 'yesterday' is not an ISO 8601 date and time" in err
    assert f"{path}: line 5: case_reference: is required" in err
    assert f"{path}: line 5: preferred_channel: unknown channel 'carrier pigeon'" in err
    assert "5 rows: 2 invited, 1 not eligible, 2 rejected" in out

    async def stored() -> tuple[list[str], list[str]]:
        db = Database(env)
        try:
            async with db.session() as s:
                events = (await s.exec(select(JourneyEvent.event_key))).all()
                invitations = (await s.exec(select(Invitation.channel))).all()
            return list(events), list(invitations)
        finally:
            await db.dispose()

    events, channels = asyncio.run(stored())
    assert sorted(events) == ["csv:e1", "csv:e3", "csv:e5"]
    assert sorted(channels) == ["mailto", "tel"]
    # Importing the same file again creates nothing new.
    assert main(["import-events", str(path)]) == 1
    assert sorted(asyncio.run(stored())[0]) == ["csv:e1", "csv:e3", "csv:e5"]


def test_unknown_columns_are_refused_before_anything_loads(env: str, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "events.csv"
    path.write_text("touchpoint,case_reference,telephone\nafter_attendance,20/1/26,07700900001\n", encoding="utf-8")
    assert main(["import-events", str(path)]) == 1
    assert f"{path}: line 1: unknown column(s): telephone" in capsys.readouterr().err
