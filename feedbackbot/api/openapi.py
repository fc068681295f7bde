"""The OpenAPI 3.1 description of the journey API, served at /api/v1/openapi.json."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

CHANNELS = ["sms", "whatsapp", "telegram", "email", "web"]


def openapi_document(public_url: str, touchpoints: Sequence[str]) -> dict[str, Any]:
    """Build the document; the live touchpoints are listed as the enum they are."""
    error = {"type": "object", "required": ["error", "message"],
             "properties": {"error": {"type": "string"}, "message": {"type": "string"}}}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Feedbackbot journey API",
            "version": "1",
            "description": "The force's records system reports that a victim reached a touchpoint of their "
                           "journey; Feedbackbot decides whether a survey may be sent and schedules it.",
        },
        "servers": [{"url": public_url}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "A key from FEEDBACKBOT_API_KEYS"}},
            "schemas": {
                "Error": error,
                "Problems": {"type": "object", "properties": {
                    "error": {"const": "invalid_event"}, "message": {"type": "string"},
                    "problems": {"type": "array", "items": {"type": "object", "properties": {
                        "field": {"type": "string", "examples": ["victim.phone"]},
                        "message": {"type": "string"}}}}}},
                "Event": {
                    "type": "object",
                    "required": ["touchpoint", "case", "victim"],
                    "properties": {
                        "event_id": {"type": "string", "maxLength": 150,
                                     "description": "Your id for this event; sending it again is safe "
                                                    "(one invitation)."},
                        "touchpoint": {"type": "string", "enum": list(touchpoints)},
                        "occurred_at": {"type": "string", "format": "date-time",
                                        "description": "When it happened, with timezone; default now."},
                        "case": {"type": "object", "required": ["reference"], "properties": {
                            "reference": {"type": "string", "maxLength": 64},
                            "crime_type": {"type": "string"}, "area": {"type": "string"},
                            "officer_in_case": {"type": "string"}, "officer_name": {"type": "string"},
                            "team": {"type": "string"},
                            "flags": {"type": "array", "items": {"type": "string"},
                                      "examples": [["domestic_abuse"]]}}},
                        "victim": {"type": "object", "properties": {
                            "ref": {"type": "string", "description": "Your person id for the victim"},
                            "name": {"type": "string"},
                            "phone": {"type": "string", "examples": ["07700 900123"]},
                            "email": {"type": "string", "format": "email"},
                            "preferred_channel": {"type": "string", "enum": CHANNELS, "default": "sms"},
                            "allowed_channels": {"type": "array", "items": {"type": "string", "enum": CHANNELS}},
                            "language": {"type": "string", "default": "en", "examples": ["en", "pl", "ur"]},
                            "consent": {"type": "boolean", "default": True},
                            "safe_to_contact": {"type": "boolean", "default": False,
                                                "description": "Required for domestic abuse, sexual offence "
                                                               "and stalking cases"},
                            "demographics": {"type": "object", "properties": {
                                "gender": {"type": "string"}, "age_band": {"type": "string"},
                                "ethnicity": {"type": "string"}, "disability": {"type": "string"}}}}},
                    },
                },
                "Outcome": {
                    "type": "object",
                    "required": ["event", "outcome", "duplicate"],
                    "properties": {
                        "event": {"type": "integer"},
                        "outcome": {"type": "string", "enum": ["invited", "not_eligible"]},
                        "reason": {"type": "string", "enum": ["no_consent", "opted_out",
                                                              "sensitive_case_not_safe_to_contact",
                                                              "no_address_for_channel", "surveyed_recently"]},
                        "duplicate": {"type": "boolean"},
                        "invitation": {"type": "object", "properties": {
                            "id": {"type": "integer"}, "touchpoint": {"type": "string"},
                            "flow": {"type": "string"}, "channel": {"type": "string"},
                            "status": {"type": "string"}, "send_after": {"type": "string", "format": "date-time"},
                            "survey_url": {"type": "string", "description": "Only for the web channel"}}},
                    },
                },
            },
        },
        "security": [{"bearer": []}],
        "paths": {
            "/api/v1/events": {
                "post": {
                    "summary": "Report that a victim reached a journey touchpoint",
                    "requestBody": {"required": True, "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/Event"}}}},
                    "responses": {
                        "201": {"description": "Invitation scheduled", "content": {"application/json": {
                            "schema": {"$ref": "#/components/schemas/Outcome"}}}},
                        "200": {"description": "Not eligible, or a repeat of an event already received",
                                "content": {"application/json": {
                                    "schema": {"$ref": "#/components/schemas/Outcome"}}}},
                        "400": {"description": "Body is not JSON", "content": {"application/json": {
                            "schema": {"$ref": "#/components/schemas/Error"}}}},
                        "401": {"description": "Missing or wrong API key"},
                        "413": {"description": "Body over 64 KiB"},
                        "415": {"description": "Not application/json"},
                        "422": {"description": "Fields with problems", "content": {"application/json": {
                            "schema": {"$ref": "#/components/schemas/Problems"}}}},
                    },
                }
            }
        },
    }
