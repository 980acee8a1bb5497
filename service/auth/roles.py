"""The roles of DESIGN.md and the groups of them that routes allow."""

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    FRONT_DESK = "front_desk"
    LAB = "lab"
    CODER = "coder"
    BILLER = "biller"
    INTEGRATION = "integration"
    AUDITOR = "auditor"


ALL_ROLES = frozenset(Role)
