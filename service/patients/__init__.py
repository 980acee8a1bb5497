"""Patients (and, with the records issue, their coverages)."""
