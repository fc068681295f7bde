"""Feedbackbot's tests."""
