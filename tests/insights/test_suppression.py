"""Small numbers never reach the board: every table and export, for a data set where everything is small."""

from __future__ import annotations

import re

import pytest

from feedbackbot.app import Services
from feedbackbot.insights.suppression import Suppressor
from tests.insights.conftest import Board
from tests.insights.data import Victim, add_victims, tags

Q3 = "from=2026-07-01&to=2026-09-30"
TABLES = ("reach_touchpoint", "reach_channel", "satisfaction_trend", "satisfaction_touchpoint",
          "satisfaction_crime_type", "satisfaction_area", "ratings", "ratings_trend", "victims_code", "themes",
          "risk_levels", "risk_categories", "requests", "sla", "open_items", "equality_gender", "equality_age_band",
          "equality_ethnicity", "equality_disability", "you_said_we_did", "quotes", "actions")


def few() -> list[Victim]:
    """Three victims: every count they make is below five."""
    out = []
    for _ in range(3):
        v = Victim(touchpoint="case_filed", channel="mailto", crime_type="fraud", area="Dudley",
                   demographics={"ethnicity": "Black", "gender": "male", "age_band": "65+", "disability": "yes"},
                   answers={"q_overall": "1", "q_support": "no", "q_understood": "no"})
        v.replies = [("They filed it without checking the CCTV at all", tags(
            "investigation_and_outcome", risk="safeguarding", requests=("complaint",),
            categories=("ongoing_abuse",)))]
        v.work = [{"ref": "professional_standards", "sla": 60, "ack": 10, "status": "resolved", "resolve": 20,
                   "outcome": "Reviewed by the inspector"}]
        out.append(v)
    return out


@pytest.mark.parametrize("table", TABLES)
async def test_every_export_withholds_small_numbers(services: Services, board: Board, table: str) -> None:
    await add_victims(services.db, few())
    await services.insights.refresh()
    rows = await board.csv(table, Q3)
    for row in rows[1:]:
        for cell in row[1:]:
            number = re.fullmatch(r"-?\d+(?:\.\d+)?%?", cell)
            if number and not cell.endswith("%") and "." not in cell:
                assert int(cell) == 0 or int(cell) >= 5, f"{table}: {row[0]} shows {cell}"
            if cell.endswith("%"):
                pytest.fail(f"{table}: {row[0]} shows a rate {cell} built from three victims")
    assert not (table in {"quotes", "actions"} and len(rows) > 1), "no words from a theme with fewer than 5"


async def test_the_page_says_fewer_than_five(services: Services, board: Board) -> None:
    await add_victims(services.db, few())
    await services.insights.refresh()
    status, page = await board.browser.get(f"/board?{Q3}")
    assert status == 200
    assert "fewer than 5" in page
    assert "They filed it without checking" not in page
    for table in TABLES:
        if table not in {"quotes", "actions"}:
            assert f'id="h-{table}"' in page, f"{table} is not on the dashboard"


def test_secondary_suppression_protects_a_single_small_cell() -> None:
    sup = Suppressor(5)
    cells, total = sup.column([40, 3, 12], 55)
    assert [c.withheld for c in cells] == [False, True, True], "the next smallest is withheld too"
    assert total is not None and not total.withheld
    cells, total = sup.column([2, 1, 30], 33)
    assert [c.withheld for c in cells] == [True, True, True], "two small cells adding to 3 are not enough"
    cells, total = sup.column([3], 3)
    assert cells[0].withheld and total is not None and total.withheld
    assert sup.rate(48, 50).withheld, "the complement (2) would be revealed"
    assert not sup.rate(45, 50).withheld
    assert sup.rate(0, 4).withheld and not sup.rate(0, 5).withheld
    assert sup.gap(sup.rate(10, 20), sup.rate(2, 100)).withheld
