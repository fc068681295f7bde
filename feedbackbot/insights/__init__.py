"""Board insights: pre-aggregated figures, small-number suppression, redaction, exports and the board pack."""
