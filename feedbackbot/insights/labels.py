"""Plain-English names for the ids the board sees: touchpoints, channels, themes, risks, requests and groups."""

from __future__ import annotations

TOUCHPOINTS = {
    "after_101_call": "After a 101 call",
    "after_attendance": "After officers attended",
    "crime_recorded": "Crime recorded",
    "case_filed": "Case filed",
    "suspect_charged": "Suspect charged",
    "after_court": "After court",
    "six_week_checkin": "Six-week check-in",
}
CHANNELS = {"tel": "SMS", "whatsapp": "WhatsApp", "telegram": "Telegram", "mailto": "Email", "web": "Web link"}
THEMES = {
    "updates_and_information": "Updates and information",
    "respect_and_empathy": "Respect and empathy",
    "contact_and_response": "Contact and response",
    "investigation_and_outcome": "Investigation and outcome",
    "support_and_referral": "Support and referral",
    "victim_personal_statement": "Victim Personal Statement",
    "court_and_witness_care": "Court and witness care",
    "accessibility_and_language": "Accessibility and language",
    "compensation_and_property": "Compensation and property",
    "restorative_justice": "Restorative justice",
    "discrimination_and_fairness": "Discrimination and fairness",
    "praise": "Praise",
}
RISKS = {"none": "No risk", "safeguarding": "Safeguarding", "urgent": "Urgent"}
RISK_CATEGORIES = {
    "immediate_danger": "Immediate danger",
    "self_harm": "Self-harm",
    "ongoing_abuse": "Ongoing abuse or harassment",
    "child_or_vulnerable_at_risk": "Child or vulnerable adult at risk",
}
REQUESTS = {
    "callback": "Asked for a call back",
    "complaint": "Complaint",
    "withdraw_support": "Wants to withdraw support",
    "new_information": "Offers new information",
    "stop_contact": "Asked not to be contacted",
}
GROUP_KINDS = {"gender": "Gender", "age_band": "Age band", "ethnicity": "Ethnicity", "disability": "Disability"}
QUEUES = {
    "officers": "Officers in the case",
    "control_room": "Control room",
    "safeguarding": "Safeguarding",
    "professional_standards": "Professional standards",
}


def name(table: dict[str, str], key: str) -> str:
    """The plain name of an id, or the id made readable."""
    return table.get(key) or key.replace("_", " ").capitalize()
