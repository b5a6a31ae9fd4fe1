"""Draw the app icons (PNG 192 and 512, a maskable 512, and an SVG) without any image library.

Run ``python -m backend.pwa.icons`` to write them into ``static/icons/``. The picture: two
white waves (an ebb tide) on the theme colour.
"""

from __future__ import annotations

import math
import struct
import zlib

from .. import ROOT

BLUE = (11, 92, 173)
OUT = ROOT / "static" / "icons"


def _png(width: int, height: int, rows: list[bytes]) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    raw = b"".join(b"\x00" + row for row in rows)
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def _clamp(v: float) -> float:
    return 0.0 if v < 0 else 1.0 if v > 1 else v


def draw(size: int, *, maskable: bool = False) -> bytes:
    """RGBA pixels of the icon; a maskable icon fills the square and keeps the art in the
    central safe zone."""
    radius = 0 if maskable else size * 0.22
    scale = 0.62 if maskable else 0.8
    thick = size * 0.045 * scale / 0.8
    rows = []
    for py in range(size):
        row = bytearray()
        for px in range(size):
            x, y = px + 0.5, py + 0.5
            # rounded-square coverage
            dx = max(radius - x, 0, x - (size - radius))
            dy = max(radius - y, 0, y - (size - radius))
            bg = _clamp(radius - math.hypot(dx, dy) + 0.5) if radius and dx and dy else 1.0
            # two waves across the middle
            u = (x - size / 2) / (size * scale)
            wave = 0.0
            if abs(u) <= 0.42:
                for k, offset in enumerate((-0.11, 0.11)):
                    bend = 0.06 * math.sin(2 * math.pi * (u * 1.6 + k * 0.25))
                    cy = size / 2 + size * scale * (offset + bend)
                    wave = max(wave, _clamp(thick - abs(y - cy) + 0.5))
            r, g, b = (round(c * (1 - wave) + 255 * wave) for c in BLUE)
            row += bytes((r, g, b, round(255 * bg)))
        rows.append(bytes(row))
    return _png(size, size, rows)


SVG = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100">'
       '<rect width="100" height="100" rx="22" fill="#0b5cad"/>'
       '<path d="M16 39q17-10 34 0t34 0M16 61q17-10 34 0t34 0" fill="none" stroke="#fff" '
       'stroke-width="7" stroke-linecap="round"/></svg>\n')


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "icon-192.png").write_bytes(draw(192))
    (OUT / "icon-512.png").write_bytes(draw(512))
    (OUT / "icon-maskable-512.png").write_bytes(draw(512, maskable=True))
    (OUT / "icon.svg").write_text(SVG)
    print(f"wrote icons to {OUT}")


if __name__ == "__main__":
    main()
