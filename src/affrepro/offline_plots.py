"""`dvc plots show` as a page that renders offline (`make plots`).

    python -m affrepro.offline_plots                 # dvc plots show -o dvc_plots, then make the page offline
    python -m affrepro.offline_plots --no-show DIR   # only make an existing `dvc plots show -o DIR` page offline

DVC's dvc_plots/index.html loads vega, vega-lite and vega-embed from cdn.jsdelivr.net, so without internet
access it is blank, and it declares no charset, so a browser may garble its minus signs and accents. Snakemake
ships the same three libraries (for its report; the same major versions DVC's page asks for): they are copied
into DIR/vendor/ with their licences, the page's three <script src> point to them, and it gets
<meta charset="utf-8">. Nothing else on the page changes; it stays a DVC page (`dvc plots show` rewrites it).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path

# The page's CDN scripts: <script src="https://cdn.jsdelivr.net/npm/vega@5.20.2"></script> (dvc-render's VegaRenderer).
CDN_SCRIPT = re.compile(
    r'<script src="https://cdn\.jsdelivr\.net/npm/(?P<name>vega(?:-lite|-embed)?)@(?P<version>[\w.-]+)">'
)
LIBRARIES = ("vega", "vega-lite", "vega-embed")
VENDOR = "vendor"
CHARSET = '<meta charset="utf-8">'


class OfflinePlotsError(RuntimeError):
    """The page or the local libraries are not what this module expects; the message says what to do."""


def local_libraries() -> dict[str, tuple[Path, str]]:
    """Each library's script in Snakemake's assets and its version: {name: (path to name.js, version)}."""
    from snakemake.assets import Assets

    found = {}
    for name in LIBRARIES:
        script = Path(str(Assets.base_path())) / name / f"{name}.js"
        version = Assets.get_version(f"{name}/{name}.js")
        if not script.is_file() or version is None:
            raise OfflinePlotsError(
                f"{script}: Snakemake's copy of {name} is missing (a development install of Snakemake without "
                "its assets?); install snakemake from its wheel (requirements.txt) or let the page use the CDN"
            )
        found[name] = (script, version)
    return found


def major(version: str) -> str:
    return version.split(".")[0]


def make_offline(out: Path) -> Path:
    """Rewrites `out`/index.html, written by `dvc plots show -o out`, to load the local libraries; returns it."""
    page = out / "index.html"
    if not page.is_file():
        raise OfflinePlotsError(f"{page}: no such page; run `dvc plots show -o {out}` first (or drop --no-show)")
    html = page.read_text(encoding="utf-8")
    libraries = local_libraries()
    asked = {m["name"]: m["version"] for m in CDN_SCRIPT.finditer(html)}
    done = all(f'src="{VENDOR}/{name}.js"' in html for name in LIBRARIES)
    if not asked and not done:
        raise OfflinePlotsError(
            f"{page}: no vega, vega-lite or vega-embed <script> from cdn.jsdelivr.net found: "
            "DVC's page template changed; compare it with affrepro.offline_plots.CDN_SCRIPT"
        )
    for name, version in asked.items():
        if major(version) != major(libraries[name][1]):
            raise OfflinePlotsError(
                f"{page}: DVC asks for {name} {version}, Snakemake ships {libraries[name][1]} (another major version); "
                "use the page online or pin matching versions"
            )
    vendor = out / VENDOR
    vendor.mkdir(exist_ok=True)
    for name, (script, _version) in libraries.items():
        shutil.copyfile(script, vendor / f"{name}.js")
        if (script.parent / "LICENSE").is_file():
            shutil.copyfile(script.parent / "LICENSE", vendor / f"{name}.LICENSE")
    html = CDN_SCRIPT.sub(lambda m: f'<script src="{VENDOR}/{m["name"]}.js">', html)
    if not re.search(r"<meta\s+charset=", html, re.I):
        html, n = re.subn(r"<head>", f"<head>\n    {CHARSET}", html, count=1, flags=re.I)
        if n == 0:
            html = CHARSET + "\n" + html
    page.write_text(html, encoding="utf-8")
    return page


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m affrepro.offline_plots", description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", type=Path, default=Path("dvc_plots"), help="the page's folder (dvc_plots)")
    parser.add_argument("--no-show", action="store_true", help="do not run `dvc plots show`: rewrite the page in OUT")
    args = parser.parse_args(argv)
    if not args.no_show:
        proc = subprocess.run([sys.executable, "-m", "dvc", "plots", "show", "-o", str(args.out)])
        if proc.returncode != 0:
            print(
                f"affrepro.offline_plots: `dvc plots show -o {args.out}` failed (exit {proc.returncode})",
                file=sys.stderr,
            )
            return proc.returncode
    try:
        page = make_offline(args.out)
    except OfflinePlotsError as error:
        print(f"affrepro.offline_plots: {error}", file=sys.stderr)
        return 1
    versions = ", ".join(f"{name} {version}" for name, (_path, version) in local_libraries().items())
    print(f"{page}: renders offline ({versions} in {args.out / VENDOR}/)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
