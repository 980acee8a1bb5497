"""Lab orders (FHIR ServiceRequest): a patient's tests, priority and reasons."""
