"""Specimen labels: a Code 128 barcode of the accession number with the patient's name, DOB,
specimen type and collection time, as PNG, SVG or ZPL (Zebra printers, ^BC = Code 128)."""

import io
from dataclasses import dataclass

# B406: escape() quotes text for the SVG the service writes; nothing XML is parsed here.
from xml.sax.saxutils import escape  # nosec B406

from barcode import Code128  # python-barcode: the module pattern (1 = bar) of the symbol
from PIL import Image, ImageDraw, ImageFont

MODULE_PX = 2  # PNG: pixels per module (203 dpi printers: about 0.25 mm)
BAR_HEIGHT_PX = 60
QUIET_MODULES = 10  # Code 128 wants a quiet zone of at least 10 modules each side
FORMATS = {"png": "image/png", "svg": "image/svg+xml", "zpl": "text/plain"}


@dataclass(frozen=True)
class LabelContent:
    accession: str
    patient_name: str
    birth_date: str
    specimen_type: str
    collected: str

    def lines(self) -> list[str]:
        return [
            self.accession,
            self.patient_name,
            f"DOB {self.birth_date}  {self.specimen_type}",
            f"Coll {self.collected}",
        ]


def modules(accession: str) -> str:
    """The barcode as modules, '1' a bar and '0' a space, start to stop character."""
    return str(Code128(accession).build()[0])


def _runs(pattern: str) -> list[tuple[int, int]]:
    """(first module, width) of each bar."""
    runs, start = [], None
    for i, bit in enumerate(pattern + "0"):
        if bit == "1" and start is None:
            start = i
        elif bit == "0" and start is not None:
            runs.append((start, i - start))
            start = None
    return runs


def render(content: LabelContent, fmt: str) -> tuple[bytes, str]:
    if fmt == "png":
        return _png(content), FORMATS["png"]
    if fmt == "svg":
        return _svg(content).encode(), FORMATS["svg"]
    return _zpl(content).encode(), FORMATS["zpl"]


def _png(content: LabelContent) -> bytes:
    pattern = modules(content.accession)
    width = (len(pattern) + 2 * QUIET_MODULES) * MODULE_PX
    line_height = 14
    height = BAR_HEIGHT_PX + 10 + line_height * 4 + 6
    image = Image.new("1", (max(width, 260), height), 1)
    draw = ImageDraw.Draw(image)
    for start, run in _runs(pattern):
        x = (QUIET_MODULES + start) * MODULE_PX
        draw.rectangle([x, 4, x + run * MODULE_PX - 1, 4 + BAR_HEIGHT_PX - 1], fill=0)
    font = ImageFont.load_default()
    for i, line in enumerate(content.lines()):
        draw.text(
            (QUIET_MODULES * MODULE_PX, BAR_HEIGHT_PX + 10 + i * line_height),
            line,
            fill=0,
            font=font,
        )
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _svg(content: LabelContent) -> str:
    pattern = modules(content.accession)
    width = len(pattern) + 2 * QUIET_MODULES
    bars = "".join(
        f'<rect x="{QUIET_MODULES + start}" y="0" width="{run}" height="30" />'
        for start, run in _runs(pattern)
    )
    text = "".join(
        f'<text x="{QUIET_MODULES}" y="{38 + 7 * i}" font-size="6" '
        f'font-family="monospace">{escape(line)}</text>'
        for i, line in enumerate(content.lines())
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {max(width, 120)} 64" '
        f'width="{max(width, 120) * 0.4:.1f}mm" height="25.6mm">'
        f'<rect width="100%" height="100%" fill="white"/>'
        f'<g id="barcode" fill="black" data-modules="{len(pattern)}">{bars}</g>'
        f'<g id="text">{text}</g></svg>'
    )


def _zpl_text(value: str) -> str:
    """ZPL treats ^ and ~ as commands; printable ASCII only."""
    return "".join(c for c in value if c.isascii() and c.isprintable() and c not in "^~")


def _zpl(content: LabelContent) -> str:
    name, info, collected = (_zpl_text(line) for line in content.lines()[1:])
    return (
        "^XA\n"
        "^CI28\n"
        f"^FO30,20^BY2^BCN,80,Y,N,N^FD{_zpl_text(content.accession)}^FS\n"
        f"^FO30,130^A0N,26,26^FD{name}^FS\n"
        f"^FO30,160^A0N,22,22^FD{info}^FS\n"
        f"^FO30,186^A0N,22,22^FD{collected}^FS\n"
        "^XZ\n"
    )
