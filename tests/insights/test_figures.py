"""The board's figures, read from its CSV exports, against counts worked out by hand on small fixed data sets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from feedbackbot.app import Services
from feedbackbot.insights.demo_year import DemoYear
from tests.insights.conftest import Board
from tests.insights.data import Victim, add_victims, tags

Q3 = "from=2026-07-01&to=2026-09-30"
LATE_CALL = "Nobody called me back about my burglary, ring me on 07700 900123 - Sarah Jones"


def attended(i: int) -> Victim:
    """Victims 0-11: officers attended a burglary in Birmingham; 0-5 women, 6-11 men."""
    v = Victim(demographics={"gender": "female" if i < 6 else "male"},
               answers={"q_overall": "5" if i < 7 else "2", "q_next_steps": "yes" if i < 7 else "no"})
    if i < 6:
        v.replies = [(LATE_CALL if i == 0 else "Nobody has called me back about the burglary",
                      tags("updates_and_information"))]
        v.work = [{"ref": "control_room", "sla": 60, "ack": 30 if i < 4 else 90,
                   **({"status": "resolved", "resolve": 120, "outcome": "Rang back on 07700 900123 and explained"}
                      if i < 5 else {})}]
    elif i < 11:
        v.replies = [("The officers were kind and patient with us", tags("praise", sentiment="positive"))]
    return v


def called(i: int) -> Victim:
    """Victims who rang 101 about an assault in Coventry and never answered the survey."""
    return Victim(touchpoint="after_101_call", channel="whatsapp", crime_type="assault", area="Coventry",
                  replied=False, completed=False, answers={})


async def seed(services: Services) -> None:
    await add_victims(services.db, [attended(i) for i in range(12)] + [called(i) for i in range(3)])
    await services.insights.refresh()


async def test_reach_counts_rates_and_secondary_suppression(services: Services, board: Board) -> None:
    await seed(services)
    attended_row = await board.row("reach_touchpoint", "After officers attended", Q3)
    # 12 and 3 invited: the 3 is withheld, and so is the 12 (else 15 - 12 gives the 3 away).
    assert attended_row["Invited"] == "fewer than 5"
    assert attended_row["Delivered"] == "12"
    assert attended_row["Replied"] == "12"
    assert attended_row["Response rate"] == "fewer than 5", "its base (sent) is withheld"
    call_row = await board.row("reach_touchpoint", "After a 101 call", Q3)
    assert call_row["Invited"] == "fewer than 5" and call_row["Replied"] == "0"
    total = await board.row("reach_touchpoint", "All", Q3)
    assert total["Invited"] == "15" and total["Sent"] == "15" and total["Replied"] == "12"
    # 12 of 15 replied: the rate would give away the 3 who did not, so it is withheld too.
    assert total["Response rate"] == "fewer than 5" and total["Completion rate"] == "fewer than 5"
    assert (await board.row("reach_channel", "SMS", Q3))["Replied"] == "12"


async def test_satisfaction_victims_code_and_themes(services: Services, board: Board) -> None:
    await seed(services)
    ratings = await board.row("ratings", "Satisfied overall (4 or 5 out of 5)", Q3)
    assert ratings == {"Victims answering": "12", "Positive": "58.3%", "Mean (1-5)": "3.75"}
    assert (await board.row("ratings", "Kept informed", Q3))["Positive"] == "58.3%"
    assert (await board.row("ratings", "Kept informed", Q3))["Mean (1-5)"] == "", "not a scale"
    assert (await board.row("victims_code", "Jul 2026", Q3))["Kept informed"] == "58.3%"
    assert (await board.row("satisfaction_crime_type", "burglary", Q3))["Satisfied"] == "58.3%"
    assert (await board.row("satisfaction_area", "Birmingham", Q3))["Mean (1-5)"] == "3.75"
    updates = await board.row("themes", "Updates and information", Q3)
    assert updates["Replies"] == "6" and updates["Share of replies"] == "54.5%"
    assert updates["Negative"] == "100.0%" and updates["Positive"] == "0.0%"
    assert (await board.row("themes", "Praise", Q3))["Replies"] == "5"
    assert (await board.row("themes", "All replies read", Q3))["Replies"] == "11"


async def test_work_items_sla_and_you_said_we_did(services: Services, board: Board) -> None:
    await seed(services)
    sla = await board.row("sla", "Control room", Q3)
    assert sla["Items"] == "6" and sla["Acknowledged"] == "6"
    assert sla["Acknowledged within SLA"] == "fewer than 5", "4 of 6 would reveal the 2 who were late"
    assert sla["Mean time to acknowledge (minutes)"] == "50"
    assert sla["Resolved"] == "5" and sla["Resolved within SLA"] == "0.0%"
    assert sla["Mean time to resolve (minutes)"] == "120"
    assert (await board.row("you_said_we_did", "Updates and information", Q3))[
        "Replies acted on and resolved"] == "5"
    actions = await board.csv("actions", Q3)
    assert ["Updates and information", "Rang back on [phone] and explained"] in actions


async def test_disproportionality_gap_to_force_wide_and_small_groups(services: Services, board: Board) -> None:
    await seed(services)
    women = await board.row("equality_gender", "female", Q3)
    assert women["Response rate"] == "100.0%"
    assert women["Gap (response) (percentage points)"] == "fewer than 5", "the force-wide rate is withheld"
    assert women["Satisfied"] == "100.0%" and women["Gap (satisfied) (percentage points)"] == "41.7"
    men = await board.row("equality_gender", "male", Q3)
    assert men["Satisfied"] == "fewer than 5", "1 of 6 satisfied is built from 1 victim"
    assert men["Gap (satisfied) (percentage points)"] == "fewer than 5"
    status, page = await board.browser.get(f"/board?{Q3}")
    assert status == 200 and "Too few victims in this group to compare fairly" in page


async def test_filters_narrow_every_figure(services: Services, board: Board) -> None:
    await seed(services)
    total = await board.row("reach_touchpoint", "All", f"{Q3}&area=Coventry")
    assert total["Invited"] == "fewer than 5"
    assert [r[0] for r in (await board.csv("reach_touchpoint", f"{Q3}&area=Coventry"))[1:]] == [
        "After a 101 call", "All"]
    women = await board.row("reach_touchpoint", "All", f"{Q3}&group=gender:female")
    assert women["Invited"] == "6" and women["Replied"] == "6"
    query = f"{Q3}&channel=tel&touchpoint=after_attendance"
    sms = await board.row("ratings", "Satisfied overall (4 or 5 out of 5)", query)
    assert sms["Victims answering"] == "12"
    status, body = await board.browser.get("/board?from=2026-09-01&to=2026-07-01")
    assert status == 400 and "before" in body
    status, body = await board.browser.get("/board?group=religion:any")
    assert status == 400 and "group must look like" in body


async def test_figures_follow_new_replies_after_a_refresh(services: Services, board: Board) -> None:
    await seed(services)
    assert (await board.row("themes", "All replies read", Q3))["Replies"] == "11"
    more = attended(0)
    more.replies = [("Still waiting for an update from anyone at all", tags("updates_and_information"))]
    more.work = []
    await add_victims(services.db, [more])
    await services.insights.refresh()
    assert (await board.row("themes", "All replies read", Q3))["Replies"] == "12"
    assert (await board.row("themes", "Updates and information", Q3))["Replies"] == "7"


async def test_days_are_london_days(services: Services, board: Board) -> None:
    # 23:30 UTC on 30 June is 00:30 on 1 July in London (summer time); 22:30 UTC on 30 September is still
    # 30 September there. Both belong to Q3, neither to June or October.
    late = [Victim(touchpoint="after_court", at=datetime(2026, 6, 30, 23, 30, tzinfo=UTC)) for _ in range(5)]
    late += [Victim(touchpoint="after_court", at=datetime(2026, 9, 30, 22, 30, tzinfo=UTC)) for _ in range(5)]
    await add_victims(services.db, late)
    await services.insights.refresh()
    assert (await board.row("reach_touchpoint", "After court", Q3))["Invited"] == "10"
    for outside in ("from=2026-06-01&to=2026-06-30", "from=2026-10-01&to=2026-10-31"):
        assert [r[0] for r in (await board.csv("reach_touchpoint", outside))[1:]] == ["All"], outside


async def test_ranges_cutting_months_and_weekly_trends_give_the_same_figures(services: Services,
                                                                             board: Board) -> None:
    await seed(services)
    # Whole months are read from monthly rows and the ends of the range from daily rows.
    for query in (Q3, "from=2026-06-15&to=2026-09-15", "from=2026-07-14&to=2026-07-14",
                  "from=2026-07-10&to=2026-08-20", f"{Q3}&period=week"):
        ratings = await board.row("ratings", "Satisfied overall (4 or 5 out of 5)", query)
        assert ratings == {"Victims answering": "12", "Positive": "58.3%", "Mean (1-5)": "3.75"}, query
        assert (await board.row("themes", "Updates and information", query))["Replies"] == "6", query
        assert (await board.row("sla", "Control room", query))["Items"] == "6", query
    assert (await board.row("victims_code", "w/c 13 Jul 2026", f"{Q3}&period=week"))["Kept informed"] == "58.3%"
    assert (await board.row("equality_gender", "female", "from=2026-06-15&to=2026-09-15"))["Satisfied"] == "100.0%"


async def test_demo_year_has_delivery_reports_for_sms_and_whatsapp(services: Services, board: Board) -> None:
    flows = {fid: services.flows.latest(fid) for fid in services.flows.current}
    await DemoYear(flows, now=services.clock.now(), per_day=3.0).write(services.db)
    await services.insights.refresh(full=True)  # as `feedbackbot demo` does: the rows are back-dated
    query = f"from={services.clock.now().date() - timedelta(days=364)}&to={services.clock.now().date()}"
    for channel in ("SMS", "WhatsApp"):
        row = await board.row("reach_channel", channel, query)
        assert int(row["Replied"]) < int(row["Delivered"]) < int(row["Sent"]), row
    web = await board.row("reach_channel", "Web link", query)
    assert web["Delivered"] == web["Replied"], "no delivery reports on the web: only a reply shows delivery"
