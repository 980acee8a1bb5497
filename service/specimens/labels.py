"""Specimen labels for a 2 x 1 inch tube label: a Code 128 barcode of the accession number,
the patient's name and MRN, DOB, specimen type and container, the tests, the collection time
and a STAT flag, as PNG (300 dpi), SVG or ZPL (Zebra printers at 203 dpi, ^BC = Code 128).
A value that is missing is left off: a blank is safer on a tube than "not collected"."""

import io
from dataclasses import dataclass, field

# B406: escape() quotes text for the SVG the service writes; nothing XML is parsed here.
from xml.sax.saxutils import escape  # nosec B406

from barcode import Code128  # python-barcode: the module pattern (1 = bar) of the symbol
from PIL import Image, ImageDraw, ImageFont

# The label stock: 2 x 1 inch. PNG and SVG at 300 dpi (600 x 300 px, the dpi in the PNG's pHYs
# chunk so a print dialog keeps the size); ZPL at 203 dpi (406 x 203 dots: ^PW and ^LL).
WIDTH_IN, HEIGHT_IN = 2, 1
PNG_DPI = 300
ZPL_DPI = 203
QUIET_MODULES = 10  # Code 128 wants a quiet zone of at least 10 modules each side
FORMATS = {"png": "image/png", "svg": "image/svg+xml", "zpl": "text/plain"}


@dataclass(frozen=True)
class LabelContent:
    accession: str
    patient_name: str
    mrn: str | None = None
    birth_date: str | None = None
    specimen_type: str | None = None
    container: str | None = None
    tests: tuple[str, ...] = field(default_factory=tuple)
    stat: bool = False
    collected: str | None = None  # local time; None before collection

    def lines(self) -> list[str]:
        """The text under the barcode, accession first; parts without a value are left out."""
        rows = [
            self.accession,
            _joined(self.patient_name, self.mrn and f"MRN {self.mrn}"),
            _joined(
                self.birth_date and f"DOB {self.birth_date}", self.specimen_type, self.container
            ),
            ", ".join(self.tests),
            self.collected and f"Coll {self.collected}",
        ]
        return [row for row in rows if row]


def _joined(*parts: str | None) -> str:
    return "  ".join(p for p in parts if p)


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


def _module_width(pattern: str, width: int, widest: int) -> int:
    """Whole dots per module (scanners want even bars), as wide as fits with the quiet zones."""
    return max(1, min(widest, width // (len(pattern) + 2 * QUIET_MODULES)))


def render(content: LabelContent, fmt: str) -> tuple[bytes, str]:
    if fmt == "png":
        return _png(content), FORMATS["png"]
    if fmt == "svg":
        return _svg(content).encode(), FORMATS["svg"]
    return _zpl(content).encode(), FORMATS["zpl"]


# PNG and SVG share one layout in 300 dpi pixels.
PX_WIDTH, PX_HEIGHT = WIDTH_IN * PNG_DPI, HEIGHT_IN * PNG_DPI
BAR_TOP, BAR_HEIGHT = 10, 90
TEXT_TOP, LINE_HEIGHT, FONT_PX = 106, 37, 30
STAT_WIDTH = 110


def _fit(text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, width: float) -> str:
    """Cut a line that would run off the label (a long name or test list)."""
    while text and font.getlength(text) > width:
        text = text[:-2] + "~" if len(text) > 1 else ""
    return text


def _png(content: LabelContent) -> bytes:
    pattern = modules(content.accession)
    module = _module_width(pattern, PX_WIDTH, 3)
    image = Image.new("1", (PX_WIDTH, PX_HEIGHT), 1)
    draw = ImageDraw.Draw(image)
    for start, run in _runs(pattern):
        x = (QUIET_MODULES + start) * module
        draw.rectangle([x, BAR_TOP, x + run * module - 1, BAR_TOP + BAR_HEIGHT - 1], fill=0)
    font = ImageFont.load_default(size=FONT_PX)
    left = QUIET_MODULES * module // 2
    for i, line in enumerate(content.lines()):
        y = TEXT_TOP + i * LINE_HEIGHT
        room = PX_WIDTH - 2 * left - (STAT_WIDTH if i == 0 and content.stat else 0)
        draw.text((left, y), _fit(line, font, room), fill=0, font=font)
    if content.stat:  # white on black, the flag a bench tech sees first
        box = (PX_WIDTH - left - STAT_WIDTH + 10, TEXT_TOP - 2)
        draw.rectangle([box, (PX_WIDTH - left, TEXT_TOP + LINE_HEIGHT - 4)], fill=0)
        draw.text((box[0] + 8, TEXT_TOP), "STAT", fill=1, font=font)
    out = io.BytesIO()
    image.save(out, format="PNG", dpi=(PNG_DPI, PNG_DPI))
    return out.getvalue()


def _svg(content: LabelContent) -> str:
    pattern = modules(content.accession)
    module = _module_width(pattern, PX_WIDTH, 3)
    # Bars in modules (x and width), scaled to the 300 dpi layout by the group.
    bars = "".join(
        f'<rect x="{QUIET_MODULES + start}" y="0" width="{run}" height="{BAR_HEIGHT}" />'
        for start, run in _runs(pattern)
    )
    left = QUIET_MODULES * module // 2
    text = "".join(
        f'<text x="{left}" y="{TEXT_TOP + 28 + LINE_HEIGHT * i}" font-size="{FONT_PX}" '
        f'font-family="sans-serif">{escape(line)}</text>'
        for i, line in enumerate(content.lines())
    )
    stat = (
        f'<g id="stat"><rect x="{PX_WIDTH - left - STAT_WIDTH + 10}" y="{TEXT_TOP - 2}" '
        f'width="{STAT_WIDTH - 10}" height="{LINE_HEIGHT - 2}" fill="black"/>'
        f'<text x="{PX_WIDTH - left - STAT_WIDTH + 18}" y="{TEXT_TOP + 28}" '
        f'font-size="{FONT_PX}" font-family="sans-serif" fill="white">STAT</text></g>'
        if content.stat
        else ""
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {PX_WIDTH} {PX_HEIGHT}" '
        f'width="{WIDTH_IN}in" height="{HEIGHT_IN}in">'
        f'<rect width="100%" height="100%" fill="white"/>'
        f'<g id="barcode" fill="black" data-modules="{len(pattern)}" '
        f'transform="translate(0 {BAR_TOP}) scale({module} 1)">{bars}</g>'
        f'<g id="text">{text}</g>{stat}</svg>'
    )


def _zpl_text(value: str, limit: int) -> str:
    """ZPL treats ^ and ~ as commands; printable ASCII only, cut to what fits the width."""
    return "".join(c for c in value if c.isascii() and c.isprintable() and c not in "^~")[:limit]


def _zpl(content: LabelContent) -> str:
    width, length = WIDTH_IN * ZPL_DPI, HEIGHT_IN * ZPL_DPI  # 406 x 203 dots
    pattern = modules(content.accession)
    module = _module_width(pattern, width - 20, 2)
    first, *rest = content.lines()
    fields = [
        f"^FO20,8^BY{module}^BCN,50,N,N,N^FD{_zpl_text(content.accession, 40)}^FS",
        f"^FO20,64^A0N,28,28^FD{_zpl_text(first, 20)}^FS",
    ]
    if content.stat:  # reversed (^FR) over a filled box
        fields += ["^FO300,62^GB86,30,30^FS", "^FO308,65^A0N,28,28^FR^FDSTAT^FS"]
    fields += [
        f"^FO20,{96 + 25 * i}^A0N,22,18^FD{_zpl_text(line, 38)}^FS" for i, line in enumerate(rest)
    ]
    return "\n".join(["^XA", "^CI28", f"^PW{width}", f"^LL{length}", *fields, "^XZ", ""])
