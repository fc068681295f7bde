"""Feedbackbot: hear from victims of crime in their own words and act on what they say."""

__version__ = "0.1.0"
