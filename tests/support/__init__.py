"""Test support: a settable clock, fresh databases and a victim who talks to the bot."""
