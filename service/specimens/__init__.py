"""Specimens: accessioning, labels, the status machine, preparation and chain of custody."""
