"""Render the app icon set from its one source, the shield drawn by ``desktop.views.tray.app_icon``.

    QT_QPA_PLATFORM=offscreen python packaging/icons.py [OUT_DIR]     (default packaging/icons)

Writes ``agentaudit-<N>.png`` for each size in SIZES (the Linux hicolor theme sizes), ``agentaudit.png``
(256 px, for the .desktop entry), ``agentaudit.ico`` (Windows, 16 to 256 px) and ``agentaudit.icns`` (macOS,
16 to 512 px). Pillow assembles the .ico and .icns from the PNGs. The files are committed, so a build needs
no display; run this again after changing the drawing.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)


def render(out: Path) -> list[Path]:
    """Write the icon set into ``out``; return the files written."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    sys.path.insert(0, str(ROOT))
    from PIL import Image
    from PySide6.QtGui import QGuiApplication

    from desktop.views.tray import app_icon

    app = QGuiApplication.instance() or QGuiApplication(["icons"])
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for size in SIZES:
        path = out / f"agentaudit-{size}.png"
        if not app_icon(size=size).pixmap(size, size).save(str(path), "PNG"):
            raise OSError(f"could not write {path}")
        written.append(path)
    largest = Image.open(out / "agentaudit-512.png")
    (out / "agentaudit.png").write_bytes((out / "agentaudit-256.png").read_bytes())
    largest.save(out / "agentaudit.ico", sizes=[(s, s) for s in ICO_SIZES])
    largest.save(out / "agentaudit.icns")
    written += [out / "agentaudit.png", out / "agentaudit.ico", out / "agentaudit.icns"]
    del app
    return written


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else ROOT / "packaging" / "icons"
    for path in render(out):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
