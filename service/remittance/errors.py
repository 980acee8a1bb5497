"""Why an inbound 999, 277CA or 835 is refused (nothing of a refused file is stored)."""

from service.errors import Conflict, FieldError, InvalidInput, NotFound
from service.remittance.x12.balance import BalanceError
from service.x12.tokens import X12ParseError


class RemittanceFileNotFound(NotFound):
    code = "remittance-file-not-found"


class RemittanceFileMalformed(InvalidInput):
    """The X12 cannot be read: the first problem's segment and element are in `detail`."""

    code = "x12-malformed"

    @classmethod
    def from_parse_error(cls, error: X12ParseError) -> "RemittanceFileMalformed":
        first = error.problems[0]
        return cls(
            f"The file is not a valid 999, 277CA or 835: {first}. Nothing was posted.",
            errors=[
                FieldError(
                    f"/segment/{p.segment_number}"
                    + (f"/element/{p.element}" if p.element is not None else ""),
                    str(p),
                )
                for p in error.problems[:100]
            ],
        )


class RemittanceUnbalanced(InvalidInput):
    """835 balancing (CLP, SVC, BPR/PLB) fails: the whole file is refused."""

    code = "x12-835-unbalanced"

    @classmethod
    def from_errors(
        cls, errors: list[BalanceError], *, total: int | None = None
    ) -> "RemittanceUnbalanced":
        """errors: the first ones found (100 are shown); total: how many in all."""
        return cls(
            f"The 835 does not balance ({total or len(errors)} rule(s) broken; first: "
            f"{errors[0].message}). Nothing was posted.",
            errors=[
                FieldError(
                    f"/payment/{e.payment_control_number}"
                    + (f"/claim/{e.patient_control_number}" if e.patient_control_number else "")
                    + (f"/line/{e.line}" if e.line else ""),
                    f"{e.rule}: {e.message}",
                )
                for e in errors[:100]
            ],
        )


class AcknowledgedBatchNotFound(InvalidInput):
    code = "acknowledged-batch-not-found"


class BatchAlreadyAnswered(Conflict):
    code = "batch-already-acknowledged"


class PaymentAlreadyPosted(Conflict):
    code = "payment-already-posted"


class RemittanceFileBeingUploaded(Conflict):
    """The same bytes were stored by a concurrent upload this transaction cannot read yet."""

    code = "remittance-file-being-uploaded"
