"""A realistic starter catalog that `backoffice demo` seeds: chemistry panel, CBC, HbA1c,
urinalysis, surgical pathology and a dental oral biopsy."""

from typing import Any

from sqlmodel import Session

from service.auth.logic import Principal
from service.labtests import logic
from service.labtests.models import LabTest
from service.labtests.schemas import LabTestCreate

_CENTRIFUGE = {
    "step": "centrifuge",
    "parameters": [
        {"name": "minutes", "unit": "min", "min": "5", "max": "20"},
        {"name": "g_force", "unit": "g", "min": "1000", "max": "3000"},
    ],
}
# Surgical pathology: formalin fixation 6-72 h (CAP/ASCO guidance for breast tissue, used as
# the lab's general rule); a fixation outside the window is flagged, not refused.
_HISTOLOGY = [
    {
        "step": "fix",
        "parameters": [{"name": "hours", "unit": "h", "min": "6", "max": "72"}],
        "on_out_of_range": "flag",
    },
    {"step": "gross"},
    {
        "step": "decalcify",
        "required": False,
        "parameters": [{"name": "hours", "unit": "h", "min": "1", "max": "48"}],
    },
    {"step": "process"},
    {"step": "embed"},
    {"step": "section", "parameters": [{"name": "microns", "unit": "um", "min": "2", "max": "5"}]},
    {"step": "stain"},
]


def _numeric(
    code: str,
    name: str,
    unit: str,
    low: str,
    high: str,
    *,
    critical: tuple[str, str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    limits: dict[str, Any] = {"low": low, "high": high}
    if critical:
        limits |= {"critical_low": critical[0], "critical_high": critical[1]}
    return {"code": code, "name": name, "unit": unit, "ranges": [limits], **extra}


CATALOG: list[dict[str, Any]] = [
    {
        "code": "BMP",
        "name": "Basic metabolic panel",
        "billing_code": "80048",
        "specimen_type": "SER",
        "container": "SST gold top",
        "min_volume": "1",
        "volume_unit": "mL",
        "stability_room_temp_hours": 8,
        "stability_refrigerated_hours": 72,
        "bench": "chemistry",
        "protocol": [_CENTRIFUGE],
        "components": [
            _numeric("2345-7", "Glucose", "mg/dL", "70", "99", critical=("40", "400")),
            _numeric("2951-2", "Sodium", "mmol/L", "135", "145", critical=("120", "160")),
            _numeric("2823-3", "Potassium", "mmol/L", "3.5", "5.1", critical=("2.8", "6.2")),
            _numeric("2075-0", "Chloride", "mmol/L", "98", "107"),
            _numeric("2028-9", "CO2", "mmol/L", "22", "29"),
            _numeric("3094-0", "BUN", "mg/dL", "7", "20"),
            _numeric("2160-0", "Creatinine", "mg/dL", "0.6", "1.3"),
            _numeric("17861-6", "Calcium", "mg/dL", "8.6", "10.3", critical=("6.0", "13.0")),
        ],
        "controls": [
            {
                "material": "Chem Level 1",
                "level": "1",
                "component_code": "2345-7",
                "low": "85",
                "high": "105",
            },
            {
                "material": "Chem Level 2",
                "level": "2",
                "component_code": "2345-7",
                "low": "270",
                "high": "310",
            },
        ],
    },
    {
        "code": "CBC",
        "name": "CBC with automated differential",
        "loinc": "57021-8",
        "billing_code": "85025",
        "specimen_type": "BLD",
        "container": "EDTA lavender top",
        "min_volume": "2",
        "volume_unit": "mL",
        "stability_room_temp_hours": 24,
        "stability_refrigerated_hours": 48,
        "bench": "hematology",
        "components": [
            {
                "code": "6690-2",
                "name": "WBC",
                "unit": "10*3/uL",
                "ranges": [
                    {"low": "4.5", "high": "11.0", "critical_low": "2.0", "critical_high": "30.0"}
                ],
            },
            {
                "code": "718-7",
                "name": "Hemoglobin",
                "unit": "g/dL",
                "ranges": [
                    {"sex": "F", "low": "12.0", "high": "15.5", "critical_low": "7.0"},
                    {"sex": "M", "low": "13.5", "high": "17.5", "critical_low": "7.0"},
                ],
            },
            _numeric("4544-3", "Hematocrit", "%", "36", "50"),
            _numeric("777-3", "Platelets", "10*3/uL", "150", "400", critical=("20", "1000")),
        ],
        "controls": [
            {"material": "Hem Normal", "component_code": "718-7", "low": "13.0", "high": "14.6"}
        ],
    },
    {
        "code": "A1C",
        "name": "Hemoglobin A1c",
        "loinc": "4548-4",
        "billing_code": "83036",
        "billing_modifier": "QW",
        "specimen_type": "BLD",
        "container": "EDTA lavender top",
        "min_volume": "1",
        "volume_unit": "mL",
        "stability_room_temp_hours": 72,
        "stability_refrigerated_hours": 168,
        "bench": "chemistry",
        "components": [_numeric("4548-4", "HbA1c", "%", "4.0", "5.6")],
    },
    {
        "code": "UA",
        "name": "Urinalysis, automated, with microscopy",
        "loinc": "24356-8",
        "billing_code": "81001",
        "specimen_type": "UR",
        "container": "Sterile urine cup",
        "min_volume": "10",
        "volume_unit": "mL",
        "stability_room_temp_hours": 2,
        "stability_refrigerated_hours": 24,
        "bench": "urinalysis",
        "protocol": [{"step": "mix", "required": True}],
        "components": [
            _numeric("5811-5", "Specific gravity", "", "1.005", "1.030"),
            _numeric("5803-2", "pH", "", "5.0", "8.0"),
            {"code": "5804-0", "name": "Protein", "kind": "coded", "normal_values": ["negative"]},
            {"code": "5792-7", "name": "Glucose", "kind": "coded", "normal_values": ["negative"]},
            {
                "code": "5794-3",
                "name": "Hemoglobin",
                "kind": "coded",
                "normal_values": ["negative"],
            },
        ],
    },
    {
        "code": "SURGPATH",
        "name": "Surgical pathology, gross and microscopic",
        "billing_code": "88305",
        "specimen_type": "TISS",
        "container": "10% NBF jar",
        "min_volume": "1",
        "volume_unit": "ea",
        "bench": "histology",
        "protocol": _HISTOLOGY,
        "components": [
            {
                "code": "22637-3",
                "name": "Pathology report final diagnosis",
                "kind": "coded",
                "normal_values": ["benign"],
            }
        ],
    },
    {
        "code": "ORALBX",
        "name": "Oral biopsy (dental), gross and microscopic",
        "billing_code": "88305",
        "specimen_type": "TISS",
        "container": "10% NBF vial",
        "min_volume": "1",
        "volume_unit": "ea",
        "bench": "histology",
        "protocol": _HISTOLOGY,
        "components": [
            {
                "code": "22637-3",
                "name": "Oral pathology diagnosis",
                "kind": "coded",
                "normal_values": ["benign", "inflammatory"],
            }
        ],
    },
]


def seed_catalog(session: Session, actor: Principal) -> list[LabTest]:
    """Adds the catalog to the actor's organization, skipping codes it already has."""
    added = []
    for entry in CATALOG:
        if logic.get_by_code(session, actor.organization_id, entry["code"]) is None:
            added.append(logic.add_lab_test(session, actor, LabTestCreate.model_validate(entry)))
    return added
