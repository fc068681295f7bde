"""Survey flows: the flow language, its validator, the pure engine, keywords and journey touchpoints."""
