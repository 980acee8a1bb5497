"""Checks of the identifiers claims carry: NPI (Luhn with the 80840 prefix), EIN, CLIA, taxonomy."""

import re

_TAXONOMY = re.compile(r"^\d{3}[0-9A-Z]{6}X$")
_CLIA = re.compile(r"^\d{2}D\d{7}$")


def npi_is_valid(npi: str) -> bool:
    """NPI: 10 digits whose Luhn check digit is computed with the 80840 prefix (CMS rule)."""
    if len(npi) != 10 or not (npi.isascii() and npi.isdigit()):
        return False
    total = 24  # the digits of the prefix 80840 contribute 24 to the Luhn sum
    for position, char in enumerate(reversed(npi[:9])):
        digit = int(char)
        if position % 2 == 0:
            digit *= 2
            digit -= 9 if digit > 9 else 0
        total += digit
    return (10 - total % 10) % 10 == int(npi[9])


def npi_check_digit(first_nine: str) -> str:
    """The digit that makes `first_nine` a valid NPI (for demo data and tests)."""
    return next(d for d in "0123456789" if npi_is_valid(first_nine + d))


def taxonomy_is_valid(code: str) -> bool:
    """NUCC Health Care Provider Taxonomy code shape: 10 characters ending in X."""
    return bool(_TAXONOMY.match(code))


def clia_is_valid(number: str) -> bool:
    """CLIA certificate number: 2 digits, the letter D, 7 digits (sent in REF*X4)."""
    return bool(_CLIA.match(number))
