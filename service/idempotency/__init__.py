"""Idempotency-Key for creates: an EHR's retry gets the first answer, never a second row."""
