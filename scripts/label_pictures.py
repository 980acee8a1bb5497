"""Renders sample specimen labels (PNG at 300 dpi, SVG, ZPL) into docs/screenshots/ for the
README, with the service's own label code and made-up patients (no database, no PHI).

    .venv/bin/python scripts/label_pictures.py [OUT_DIR]
"""

import sys
from pathlib import Path

from service.specimens import labels

SAMPLES = {
    "label-stat": labels.LabelContent(
        accession="26-000123",
        patient_name="Rivera, Ana",
        mrn="MRN-0042",
        birth_date="1980-04-02",
        specimen_type="SER",
        container="SST gold top",
        tests=("GLU", "CMP"),
        stat=True,
        collected="2026-12-06 08:15 EST",
    ),
    "label-uncollected": labels.LabelContent(
        accession="26-000124",
        patient_name="Okafor, Chidi",
        mrn="MRN-0043",
        birth_date="1975-11-19",
        specimen_type="BLD",
        container="EDTA lavender top",
        tests=("A1C",),
    ),
}


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name, content in SAMPLES.items():
        for fmt in ("png", "svg", "zpl"):
            body, _ = labels.render(content, fmt)
            (out / f"{name}.{fmt}").write_bytes(body)
            sys.stdout.write(f"{out / name}.{fmt}\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/screenshots"))
