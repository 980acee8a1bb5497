"""Demo and synthetic data: the demo clinic, its lab catalog and remittances, synthetic ready
claims for benchmarks, and the 999/277CA/835 files a payer would send back.

Everything here imports the capabilities below it and nothing in the service imports it except
the command line, so none of it ships in a request path."""
