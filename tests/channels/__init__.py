"""Tests of the channel adapters against local stand-ins for the providers."""
