"""Search parameters on elements every resource of a type has with the same value (a lab
report's category is always LAB): the criterion matches all of them, or none."""

from typing import Any

import sqlalchemy as sa
from sqlmodel.sql.expression import SelectOfScalar

from service.fhir.mapping.base import Apply, Criterion, split_token


def fixed_token(system: str, code: str) -> Apply:
    def apply(query: SelectOfScalar[Any], c: Criterion) -> SelectOfScalar[Any]:
        wanted = any(
            split_token(v)[0] in (None, system) and split_token(v)[1] == code for v in c.values
        )
        return query if wanted else query.where(sa.false())

    return apply
