"""What kind of service a CPT/HCPCS code is, by the published CPT section ranges.

The edits need a few classes (E/M, lab, office or facility visits, preventive visits); the
ranges are the CPT code-structure ranges, not descriptors, so no licensed text is needed."""


def _number(code: str) -> int | None:
    return int(code) if len(code) == 5 and code.isdigit() else None


def in_range(code: str, low: int, high: int) -> bool:
    number = _number(code)
    return number is not None and low <= number <= high


def is_em(code: str) -> bool:
    """Evaluation and management (CPT 99202-99499) and the Medicare annual wellness visits."""
    return in_range(code, 99202, 99499) or code in ("G0402", "G0438", "G0439")


def is_lab(code: str) -> bool:
    """Pathology and laboratory (CPT 80047-89398), proprietary lab analyses (0001U-...)."""
    return in_range(code, 80047, 89398) or (
        len(code) == 5 and code.endswith("U") and code[:4].isdigit()
    )


def is_office_visit(code: str) -> bool:
    """Office or other outpatient E/M (99202-99215): not billed from an inpatient POS."""
    return in_range(code, 99202, 99215)


def is_facility_visit(code: str) -> bool:
    """Hospital inpatient/observation (99221-99239), ED (99281-99285), nursing facility
    (99304-99316): billed from those places, not from the office."""
    return (
        in_range(code, 99221, 99239) or in_range(code, 99281, 99285) or in_range(code, 99304, 99316)
    )
