"""Remittances (835) and acknowledgements (999, 277CA) that come back from the clearinghouse."""
