"""Plain words for the X12 codes found in 999, 277CA and 835 files (code lists by element)."""

from __future__ import annotations

# 999 IK304 segment syntax error codes (X12 element 620; the codes the 005010X231A1 map allows).
SEGMENT_ERRORS: dict[str, str] = {
    "1": "Unrecognized segment ID",
    "2": "Unexpected segment",
    "3": "Required segment missing",
    "4": "Loop occurs over maximum times",
    "5": "Segment exceeds maximum use",
    "6": "Segment not in defined transaction set",
    "7": "Segment not in proper sequence",
    "8": "Segment has data element errors",
    "I4": 'Implementation "not used" segment present',
    "I6": "Implementation dependent segment missing",
    "I7": "Implementation loop occurs under minimum times",
    "I8": "Implementation segment below minimum use",
    "I9": 'Implementation dependent "not used" segment present',
}

# 999 IK403 implementation data element syntax error codes (X12 element 621).
ELEMENT_ERRORS: dict[str, str] = {
    "1": "Required data element missing",
    "2": "Conditional required data element missing",
    "3": "Too many data elements",
    "4": "Data element too short",
    "5": "Data element too long",
    "6": "Invalid character in data element",
    "7": "Invalid code value",
    "8": "Invalid date",
    "9": "Invalid time",
    "10": "Exclusion condition violated",
    "12": "Too many repetitions",
    "13": "Too many components",
    "I6": "Code value not used in implementation",
    "I9": "Implementation dependent data element missing",
    "I10": 'Implementation "not used" data element present',
    "I11": "Implementation too few repetitions",
    "I12": "Implementation pattern match failure",
    "I13": 'Implementation dependent "not used" data element present',
}

# 999 IK501 transaction set / AK901 functional group acknowledgment codes (elements 717, 715).
ACK_CODES: dict[str, str] = {
    "A": "Accepted",
    "E": "Accepted, but errors were noted",
    "M": "Rejected, message authentication code (MAC) failed",
    "P": "Partially accepted, at least one transaction set was rejected",
    "R": "Rejected",
    "W": "Rejected, assurance failed validity tests",
    "X": "Rejected, content after decryption could not be analyzed",
}

# 999 IK502..IK506 transaction set syntax error codes (element 718).
TRANSACTION_SET_ERRORS: dict[str, str] = {
    "1": "Transaction set not supported",
    "2": "Transaction set trailer missing",
    "3": "Transaction set control number in header and trailer do not match",
    "4": "Number of included segments does not match actual count",
    "5": "One or more segments in error",
    "6": "Missing or invalid transaction set identifier",
    "7": "Missing or invalid transaction set control number",
    "18": "Transaction set not in functional group",
    "19": "Invalid transaction set implementation convention reference",
    "23": "Transaction set control number not unique within the functional group",
    "I5": "Implementation one or more segments in error",
    "I6": "Implementation convention not supported",
}

# 999 AK905..AK909 functional group syntax error codes (element 716).
GROUP_ERRORS: dict[str, str] = {
    "1": "Functional group not supported",
    "2": "Functional group version not supported",
    "3": "Functional group trailer missing",
    "4": "Group control number in the functional group header and trailer do not agree",
    "5": "Number of included transaction sets does not match actual count",
    "6": "Group control number violates syntax",
    "19": "Functional group control number not unique within interchange",
}

# 277CA STC01-1 / STC10-1 / STC11-1 claim status category codes (external code list 507).
CATEGORY_CODES: dict[str, str] = {
    "A0": "Acknowledgement/Forwarded: the claim was forwarded to another entity",
    "A1": "Acknowledgement/Receipt: the claim was received (not yet accepted for adjudication)",
    "A2": "Acknowledgement/Acceptance into the adjudication system",
    "A3": "Acknowledgement/Returned as unprocessable claim: rejected, not entered for adjudication",
    "A4": "Acknowledgement/Not found: the claim cannot be found in the adjudication system",
    "A5": "Acknowledgement/Split claim: split upon acceptance into the adjudication system",
    "A6": "Acknowledgement/Rejected for missing information",
    "A7": "Acknowledgement/Rejected for invalid information",
    "A8": "Acknowledgement/Rejected for relational field in error",
    "D0": "Data search unsuccessful",
    "E0": "Response not possible: error on submitted request data",
    "E1": "Response not possible: system status",
    "E2": "Information holder is not responding; resubmit at a later time",
    "E3": "Correction required: relational fields in error",
    "E4": "Trading partner agreement specific requirement not met: data correction required",
    "F0": "Finalized: adjudication complete, no more action will be taken",
    "F1": "Finalized/Payment: the claim/line has been paid",
    "F2": "Finalized/Denial: the claim/line has been denied",
    "F3": "Finalized/Revised: adjudication information has been changed",
    "F3F": "Finalized/Forwarded: processed and forwarded to another entity",
    "F3N": "Finalized/Not forwarded: processed, not forwarded",
    "F4": "Finalized/Adjudication complete: no payment forthcoming",
    "P0": "Pending: adjudication/details",
    "P1": "Pending/In process: the claim is in the adjudication system",
    "P2": "Pending/Payer review: suspended pending review",
    "P3": "Pending/Provider requested information",
    "P4": "Pending/Patient requested information",
    "P5": "Pending/Payer administrative or system hold",
    "R0": "Requests for additional information: general requests",
    "R1": "Requests for additional information: entity requests",
    "R3": "Requests for additional information: claim/line",
    "R4": "Requests for additional information: documentation",
    "R5": "Request for more specific detail",
}

# Categories that accept or reject a claim (DESIGN: accepted on A1/A2, rejected on A3/A6/A7/A8).
ACCEPTED_CATEGORIES = frozenset({"A1", "A2"})
REJECTED_CATEGORIES = frozenset({"A3", "A6", "A7", "A8"})

# 277CA STC01-2 claim status codes (external code list 508): only the ones clearinghouses and
# payers commonly send in a 277CA: receipt/acceptance (19, 20), the "missing or invalid"
# family (21 with an element code: 125-164, 178, 187, 254, 255, 453, 454, 562), eligibility
# and duplicate rejections (26-35, 54, 78, 96, 97, 116) and the remittance pointers (0-3).
STATUS_CODES: dict[str, str] = {
    "0": "Cannot provide further status electronically",
    "1": "For more detailed information, see remittance advice",
    "2": "More detailed information in letter",
    "3": "Claim has been adjudicated and is awaiting payment cycle",
    "6": "Balance due from the subscriber",
    "12": "One or more originally submitted procedure codes have been combined",
    "15": "One or more originally submitted procedure codes have been modified",
    "16": "Claim/encounter has been forwarded to entity",
    "17": "Claim/encounter has been forwarded by third party entity to entity",
    "18": "Entity received claim/encounter, but returned invalid status",
    "19": "Entity acknowledges receipt of claim/encounter",
    "20": "Accepted for processing",
    "21": "Missing or invalid information",
    "23": "Returned to entity",
    "24": "Entity not approved as an electronic submitter",
    "25": "Entity not approved",
    "26": "Entity not found",
    "27": "Policy canceled",
    "29": "Subscriber and policy number/contract number mismatched",
    "30": "Subscriber and subscriber id mismatched",
    "31": "Subscriber and policyholder name mismatched",
    "32": "Subscriber and policy number/contract number not found",
    "33": "Subscriber and subscriber id not found",
    "35": "Claim/encounter not found",
    "54": "Duplicate of a previously processed claim/line",
    "78": "Duplicate of an existing claim/line, awaiting processing",
    "96": "No agreement with entity",
    "97": "Patient eligibility not found with entity",
    "116": "Claim submitted to the incorrect payer",
    "125": "Entity's name",
    "126": "Entity's address",
    "128": "Entity's tax id",
    "145": "Entity's specialty/taxonomy code",
    "153": "Entity's id number",
    "157": "Entity's gender",
    "158": "Entity's date of birth",
    "164": "Entity's contract/member number",
    "178": "Submitted charges",
    "187": "Date(s) of service",
    "254": "Principal diagnosis code",
    "255": "Diagnosis code",
    "400": "Claim is out of balance",
    "453": "Procedure code modifier(s) for service(s) rendered",
    "454": "Procedure code for services rendered",
    "562": "Entity's National Provider Identifier (NPI)",
}

# STC01-3 and NM101 entity identifier codes (element 98) seen in 277CA and 835 files.
ENTITY_CODES: dict[str, str] = {
    "03": "Dependent",
    "1P": "Provider",
    "40": "Receiver",
    "41": "Submitter",
    "71": "Attending physician",
    "72": "Operating physician",
    "74": "Corrected insured",
    "77": "Service location",
    "82": "Rendering provider",
    "85": "Billing provider",
    "87": "Pay-to provider",
    "DK": "Ordering physician",
    "DN": "Referring provider",
    "DQ": "Supervising physician",
    "GB": "Other insured",
    "HK": "Subscriber",
    "IL": "Insured or subscriber",
    "PR": "Payer",
    "QC": "Patient",
    "TT": "Transfer to (crossover carrier)",
}

# 835 CLP02 claim status codes (element 1029, the values the 005010X221A1 guide uses).
CLAIM_PAYMENT_STATUS: dict[str, str] = {
    "1": "Processed as primary",
    "2": "Processed as secondary",
    "3": "Processed as tertiary",
    "4": "Denied",
    "19": "Processed as primary, forwarded to additional payer(s)",
    "20": "Processed as secondary, forwarded to additional payer(s)",
    "21": "Processed as tertiary, forwarded to additional payer(s)",
    "22": "Reversal of previous payment",
    "23": "Not our claim, forwarded to additional payer(s)",
    "25": "Predetermination pricing only, no payment",
}

# 835 CAS01 claim adjustment group codes (5010 has only these four).
ADJUSTMENT_GROUPS: dict[str, str] = {
    "CO": "Contractual obligation",
    "OA": "Other adjustment",
    "PI": "Payer initiated reduction",
    "PR": "Patient responsibility",
}

# 835 BPR01 transaction handling codes.
HANDLING_CODES: dict[str, str] = {
    "C": "Payment accompanies remittance advice",
    "D": "Make payment only",
    "H": "Notification only",
    "I": "Remittance information only",
    "P": "Prenotification of future transfers",
    "U": "Split payment and remittance",
    "X": "Handling party's option to split payment and remittance",
}

# 835 BPR04 payment method codes.
PAYMENT_METHODS: dict[str, str] = {
    "ACH": "Automated clearing house (ACH)",
    "BOP": "Financial institution option",
    "CHK": "Check",
    "FWT": "Federal reserve funds/wire transfer",
    "NON": "Non-payment data",
}

# 835 PLB03-1 provider adjustment reason codes (element 426) most payers use.
PROVIDER_ADJUSTMENT_REASONS: dict[str, str] = {
    "50": "Late charge",
    "51": "Interest penalty charge",
    "72": "Authorized return",
    "90": "Early payment allowance",
    "AH": "Origination fee",
    "AM": "Applied to borrower's account",
    "AP": "Acceleration of benefits",
    "B2": "Rebate",
    "B3": "Recovery allowance",
    "BD": "Bad debt adjustment",
    "BN": "Bonus",
    "C5": "Temporary allowance",
    "CR": "Capitation interest",
    "CS": "Adjustment",
    "CT": "Capitation payment",
    "CV": "Capital passthru",
    "CW": "Certified registered nurse anesthetist passthru",
    "DM": "Direct medical education passthru",
    "E3": "Withholding",
    "FB": "Forwarding balance",
    "FC": "Fund allocation",
    "GO": "Graduate medical education passthru",
    "HM": "Hemophilia clotting factor supplement",
    "IP": "Incentive premium payment",
    "IR": "Internal Revenue Service withholding",
    "IS": "Interim settlement",
    "J1": "Nonreimbursable",
    "L3": "Penalty",
    "L6": "Interest owed",
    "LE": "Levy",
    "LS": "Lump sum",
    "OA": "Organ acquisition passthru",
    "OB": "Offset for affiliated providers",
    "PI": "Periodic interim payment",
    "PL": "Payment final",
    "RA": "Retro-activity adjustment",
    "RE": "Return on equity",
    "SL": "Student loan repayment",
    "TL": "Third party liability",
    "WO": "Overpayment recovery",
    "WU": "Unspecified recovery",
}


def words(table: dict[str, str], code: str) -> str:
    """The plain words for code, or a sentence saying the code is not in the table."""
    return table.get(code) or (f"code {code} (not in the list this service knows)" if code else "")
