"""Lab test catalog: what a test needs (specimen, container, preparation) and how it reports."""
