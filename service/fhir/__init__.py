"""FHIR R4 REST API under /fhir for EHR integrations (resources map onto the service's own rows)."""
