"""Results (FHIR Observation): entry, flags, critical-value notification and verification."""
