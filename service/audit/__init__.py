"""The append-only audit trail: who touched which patient data, when, and with what outcome."""
