"""SMART Backend Services: system clients, signed-assertion tokens and their scopes."""
