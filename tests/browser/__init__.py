"""Tests that drive the web chat in a real headless Chromium against a real server process."""
