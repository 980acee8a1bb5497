"""A Code 128 reader for the label tests: modules back to text, from SVG bars or PNG pixels."""

import io
import xml.etree.ElementTree as ET

from barcode.charsets import code128
from PIL import Image

_SETS = {103: "A", 104: "B", 105: "C"}
_CHARS = {
    "A": {v: k for k, v in code128.A.items() if isinstance(k, str) and len(k) == 1},
    "B": {v: k for k, v in code128.B.items() if isinstance(k, str) and len(k) == 1},
}


def decode_modules(modules: str) -> str:
    """Decodes a module string ('1' bar, '0' space); checks the stop pattern and checksum."""
    assert modules.endswith(code128.STOP + "11"), "no stop pattern"
    body = modules[: -len(code128.STOP) - 2]
    assert len(body) % 11 == 0, "symbols are 11 modules wide"
    values = [code128.CODES.index(body[i : i + 11]) for i in range(0, len(body), 11)]
    start, *data, check = values
    assert check == (start + sum(i * v for i, v in enumerate(data, 1))) % 103, "bad checksum"
    current, text = _SETS[start], ""
    for value in data:
        if current == "C":
            if value < 100:
                text += f"{value:02d}"
            else:
                current = "B" if value == 100 else "A"
        elif value == 99:
            current = "C"
        elif (current, value) in (("A", 100), ("B", 101)):
            current = "B" if current == "A" else "A"
        else:
            text += _CHARS[current][value]
    return text


def modules_from_svg(svg: bytes) -> str:
    root = ET.fromstring(svg)
    ns = {"svg": "http://www.w3.org/2000/svg"}
    group = root.find(".//svg:g[@id='barcode']", ns)
    assert group is not None
    bars = sorted((int(r.get("x", "0")), int(r.get("width", "0"))) for r in group)
    origin = bars[0][0]
    end = bars[-1][0] + bars[-1][1]
    modules = ["0"] * (end - origin)
    for x, width in bars:
        for i in range(x - origin, x - origin + width):
            modules[i] = "1"
    return "".join(modules)


def modules_from_png(png: bytes, *, row: int = 30) -> str:
    """Reads one pixel row across the bars and turns run lengths back into modules."""
    image = Image.open(io.BytesIO(png)).convert("L")
    pixels = [image.getpixel((x, row)) for x in range(image.width)]
    dark = ["1" if isinstance(p, int) and p < 128 else "0" for p in pixels]
    line = "".join(dark).strip("0")
    runs: list[tuple[str, int]] = []
    for bit in line:
        if runs and runs[-1][0] == bit:
            runs[-1] = (bit, runs[-1][1] + 1)
        else:
            runs.append((bit, 1))
    narrowest = min(length for _, length in runs)
    return "".join(bit * round(length / narrowest) for bit, length in runs)
