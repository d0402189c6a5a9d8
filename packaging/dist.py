"""Archives of the built bundle for Linux: a ``.tar.gz`` and, where ``dpkg-deb`` exists, a ``.deb``.

    python packaging/dist.py [--no-deb]      (after packaging/build.py; `make package` runs both)

``dist/agentaudit-<version>-linux-<machine>.tar.gz`` unpacks to ``agentaudit-<version>/`` holding the bundle
(``agentaudit/``), the ``.desktop`` entry, the icons and ``install.sh``, which installs for the current user
(``~/.local/opt``, ``~/.local/bin``, the menu entry and the icons). ``dist/agentaudit_<version>_<arch>.deb``
installs the bundle in ``/opt/agentaudit`` with ``/usr/bin/agentaudit``, the menu entry and the hicolor icons.
Both only copy the app: its data stays in the user data dir (``~/.local/share/agentaudit``), so installing a
new version over an old one keeps every event, and the sidecar migrates the database on its next start.
"""

from __future__ import annotations

import argparse
import io
import platform
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HERE = ROOT / "packaging"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
# What the bundle takes from the system (PyInstaller leaves out the C library, OpenGL/EGL and the X11 libraries,
# and Qt's xcb platform plugin needs the xcb utility libraries). libc6 is added with the build machine's version.
DEB_DEPENDS = ("libgl1, libegl1, libfontconfig1, libxcb1, libxcb-cursor0, libxcb-icccm4, libxcb-keysyms1, "
               "libxkbcommon-x11-0")

INSTALL_SH = """#!/bin/sh
# Install AgentAudit for the current user: the app in ~/.local/opt/agentaudit, the command in ~/.local/bin,
# the menu entry and the icons. Run it again to upgrade; your data (~/.local/share/agentaudit) is kept.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
prefix=${PREFIX:-$HOME/.local}
rm -rf "$prefix/opt/agentaudit"
mkdir -p "$prefix/opt" "$prefix/bin" "$prefix/share/applications"
cp -R "$here/agentaudit" "$prefix/opt/agentaudit"
ln -sf "$prefix/opt/agentaudit/agentaudit" "$prefix/bin/agentaudit"
sed "s|^Exec=agentaudit|Exec=$prefix/bin/agentaudit|" "$here/agentaudit.desktop" > "$prefix/share/applications/agentaudit.desktop"
for png in "$here"/icons/agentaudit-*.png; do
    size=$(basename "$png" .png | cut -d- -f2)
    mkdir -p "$prefix/share/icons/hicolor/${size}x${size}/apps"
    cp "$png" "$prefix/share/icons/hicolor/${size}x${size}/apps/agentaudit.png"
done
echo "AgentAudit installed: $prefix/bin/agentaudit (desktop app), '$prefix/bin/agentaudit serve' (sidecar alone)"
"""


def version(bundle: Path) -> str:
    """The version the bundled app reports (``agentaudit --version`` prints ``agentaudit X.Y.Z``)."""
    done = subprocess.run([str(bundle / "agentaudit"), "--version"], capture_output=True, text=True, timeout=60,
                          check=True)
    return done.stdout.split()[-1]


def _add_bundle(tar: tarfile.TarFile, bundle: Path, top: str) -> None:
    tar.add(bundle, arcname=f"{top}/agentaudit")
    tar.add(HERE / "agentaudit.desktop", arcname=f"{top}/agentaudit.desktop")
    for size in ICON_SIZES:
        tar.add(HERE / "icons" / f"agentaudit-{size}.png", arcname=f"{top}/icons/agentaudit-{size}.png")
    script = tarfile.TarInfo(f"{top}/install.sh")
    data = INSTALL_SH.encode()
    script.size, script.mode = len(data), 0o755
    tar.addfile(script, io.BytesIO(data))


def make_tarball(bundle: Path, out_dir: Path, ver: str, level: int = 6) -> Path:
    """``agentaudit-<ver>-linux-<machine>.tar.gz`` in ``out_dir``, gzip at ``level``."""
    top = f"agentaudit-{ver}"
    path = out_dir / f"{top}-{sys.platform.rstrip('0123456789')}-{platform.machine()}.tar.gz"
    with tarfile.open(path, "w:gz", compresslevel=level) as tar:
        _add_bundle(tar, bundle, top)
    return path


def deb_architecture() -> str:
    return subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True, check=True).stdout.strip()


def make_deb(bundle: Path, out_dir: Path, ver: str, level: int = 6) -> Path:
    """``agentaudit_<ver>_<arch>.deb`` in ``out_dir``, built with ``dpkg-deb`` (gzip at ``level``, owned by root)."""
    arch = deb_architecture()
    with tempfile.TemporaryDirectory(prefix="agentaudit-deb-") as tmp:
        root = Path(tmp) / "root"
        shutil.copytree(bundle, root / "opt" / "agentaudit", symlinks=True)
        (root / "usr" / "bin").mkdir(parents=True)
        (root / "usr" / "bin" / "agentaudit").symlink_to("/opt/agentaudit/agentaudit")
        apps = root / "usr" / "share" / "applications"
        apps.mkdir(parents=True)
        shutil.copy2(HERE / "agentaudit.desktop", apps / "agentaudit.desktop")
        for size in ICON_SIZES:
            icons = root / "usr" / "share" / "icons" / "hicolor" / f"{size}x{size}" / "apps"
            icons.mkdir(parents=True)
            shutil.copy2(HERE / "icons" / f"agentaudit-{size}.png", icons / "agentaudit.png")
        installed_kb = sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink()) // 1024
        libc = platform.libc_ver()[1] or "2.31"  # the bundle needs at least the glibc it was built against
        (root / "DEBIAN").mkdir()
        (root / "DEBIAN" / "control").write_text(
            f"Package: agentaudit\nVersion: {ver}\nArchitecture: {arch}\nMaintainer: AgentAudit <support@agentaudit.invalid>\n"
            f"Installed-Size: {installed_kb}\nDepends: libc6 (>= {libc}), {DEB_DEPENDS}\nSection: utils\nPriority: optional\n"
            "Description: Self-hosted audit trail, compliance checks and alerting for AI agents\n"
            " The AgentAudit desktop app and its sidecar (agentaudit serve) in one bundle.\n"
            " Data stays in each user's data directory (~/.local/share/agentaudit).\n")
        path = out_dir / f"agentaudit_{ver}_{arch}.deb"
        subprocess.run(["dpkg-deb", "--root-owner-group", "-Zgzip", f"-z{level}", "--build", str(root), str(path)],
                       check=True, capture_output=True, text=True)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bundle", default=str(ROOT / "dist" / "agentaudit"), help="the built bundle")
    parser.add_argument("--out", default=str(ROOT / "dist"), help="where to write the archives")
    parser.add_argument("--no-deb", action="store_true", help="only the .tar.gz")
    parser.add_argument("--level", type=int, default=6, choices=range(1, 10), metavar="1-9",
                        help="gzip compression level (default 6; 1 is several times faster and about 8%% larger)")
    args = parser.parse_args(argv)
    bundle, out = Path(args.bundle), Path(args.out)
    if not (bundle / "agentaudit").is_file():
        print(f"packaging/dist.py: no bundle at {bundle}; run packaging/build.py (or make package) first",
              file=sys.stderr)
        return 1
    out.mkdir(parents=True, exist_ok=True)
    ver = version(bundle)
    print(make_tarball(bundle, out, ver, args.level))
    if not args.no_deb:
        if shutil.which("dpkg-deb"):
            print(make_deb(bundle, out, ver, args.level))
        else:
            print("packaging/dist.py: dpkg-deb is not installed; no .deb", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
