"""Who may do what with lab data (DESIGN.md roles: lab tests, orders, specimens, worklists,
results): admin and lab everything; front desk orders and specimens; integrations orders and
specimens, and read results; coders and auditors read; billers see no lab data."""

from service.auth.roles import Role

# Front desk and integrations place orders, which name catalog tests, so they read the catalog.
CATALOG_READERS = frozenset(
    {Role.ADMIN, Role.LAB, Role.CODER, Role.AUDITOR, Role.FRONT_DESK, Role.INTEGRATION}
)
CATALOG_WRITERS = frozenset({Role.ADMIN, Role.LAB})
SPECIMEN_READERS = frozenset(
    {Role.ADMIN, Role.FRONT_DESK, Role.LAB, Role.CODER, Role.INTEGRATION, Role.AUDITOR}
)
SPECIMEN_WRITERS = frozenset({Role.ADMIN, Role.FRONT_DESK, Role.LAB, Role.INTEGRATION})
WORKLIST_READERS = frozenset({Role.ADMIN, Role.LAB, Role.CODER, Role.AUDITOR})
WORKLIST_WRITERS = frozenset({Role.ADMIN, Role.LAB})
RESULT_READERS = frozenset({Role.ADMIN, Role.LAB, Role.CODER, Role.INTEGRATION, Role.AUDITOR})
RESULT_WRITERS = frozenset({Role.ADMIN, Role.LAB})
