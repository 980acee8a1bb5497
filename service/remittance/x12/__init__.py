"""Pure parsers for the X12 5010 999, 277CA and 835 files that come back."""
