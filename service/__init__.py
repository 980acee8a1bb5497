"""Back office service for medical and dental clinics."""
