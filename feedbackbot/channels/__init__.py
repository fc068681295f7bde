"""Channel adapters, one per file, behind the small ChannelAdapter protocol; the registry lists them."""
