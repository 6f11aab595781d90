"""The annotated screenshots of docs/guide/reading_the_reports.md, from a run on the bundled data.

Run: `make docs-screenshots` (about 10 minutes; needs Debian's Chromium and the dev extra). It
runs `alphapilot demo` in a temporary home (champion selection on the bundled S&P 500 data, then
the last session's daily run), starts the paper account afresh and replays the daily run over the
sessions after the selection's cutoff, so the account has a history, then `alphapilot train` for
the training factor report. It opens each report in headless Chromium and saves one PNG per
section to `docs/images/`, with numbered markers in a strip at the left, level with each figure,
table and key-figure card of the section: the page's text refers to those numbers.
`--reports HOME` skips the runs and photographs the reports of a home made earlier.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

DOCS = Path(__file__).resolve().parent
IMAGES = DOCS / "images"
CHROMIUM = Path("/usr/bin/chromium")
MARKED = "img, table, .kpi"  # what gets a numbered marker, in document order
MARKER = (211, 47, 47)  # a red a reader's eye finds on the report's greys and blues
RADIUS = 13
MARGIN = 2 * RADIUS + 8  # a strip left of the section, where the markers go


def run_job(home: Path) -> None:
    """Demo, a replay of the sessions the champion has not seen, and `train`, in `home`."""
    cli = str(Path(sys.executable).with_name("alphapilot"))
    env = {**os.environ, "PREFECT_HOME": str(home / "prefect")}
    (home / "prefect").mkdir(parents=True, exist_ok=True)
    subprocess.run([cli, "demo", "--home", str(home)], check=True, env=env)
    from settings import load_settings
    from trading_core.data.store import MarketStore
    from trading_core.home import Home

    settings = load_settings(home=str(home))
    dates = MarketStore(Home(home).data).load().dates
    shutil.rmtree(Home(home).live)  # the replay starts the paper account on its first session
    first, last = dates[-settings.ops.ic_lookback_days].date(), dates[-1].date()
    replay = [cli, "daily", "--home", str(home), "--from", f"{first}", "--to", f"{last}"]
    if subprocess.run(replay, env=env).returncode:  # a blocked day fails the replay at its end
        print("the replay blocked a session (see its report): the reports are photographed as is")
    subprocess.run([cli, "train", "--home", str(home)], check=True, env=env)


def reports(home: Path) -> dict[str, Path]:
    """The pages to photograph, by the name their images take."""
    live = sorted((home / "live").glob("*/report.html"))
    selection = home / "reports" / "model_selection"
    return {
        "daily": live[-1],
        "selection": selection / "model_selection_report.html",
        "training": selection / "training_factor_report.html",
    }


def photograph(pages: dict[str, Path], out: Path) -> list[Path]:
    """One annotated PNG per section of each page; the paths written."""
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    written = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"], headless=True
        )
        page = browser.new_page(viewport={"width": 1200, "height": 900}, device_scale_factor=1)
        page.route("**/*", _offline)
        for name, path in pages.items():
            page.goto(path.as_uri(), wait_until="load")
            for i, section in enumerate(page.query_selector_all("section"), 1):
                title = section.query_selector("h2")
                slug = _slug(
                    title.inner_text() if title else section.get_attribute("class") or "top"
                )
                target = out / f"{name}-{i:02d}-{slug}.png"
                box = section.bounding_box()
                clip = {**box, "x": box["x"] - MARGIN, "width": box["width"] + MARGIN}
                page.screenshot(path=str(target), clip=clip, full_page=True)
                marked = [e.bounding_box() for e in section.query_selector_all(MARKED)]
                _annotate(target, [m["y"] - box["y"] for m in marked if m])
                _compact(target)
                written.append(target)
        browser.close()
    return written


def _offline(route) -> None:
    """Only the page itself and its inline images load: nothing is fetched."""
    local = route.request.url.startswith(("file:", "data:"))
    if local:
        route.continue_()
    else:
        route.abort()


def _annotate(png: Path, tops: list[float]) -> None:
    """Numbered red discs in the left margin, level with the top of each marked element."""
    from PIL import Image, ImageDraw, ImageFont

    if not tops:
        return
    image = Image.open(png).convert("RGB")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=15)
    y = -RADIUS
    for number, top in enumerate(tops, 1):  # side by side elements: markers stacked in order
        x, y = MARGIN / 2, max(RADIUS, top + RADIUS, y + 2 * RADIUS + 4)
        draw.ellipse((x - RADIUS, y - RADIUS, x + RADIUS, y + RADIUS), fill=MARKER)
        draw.text((x, y), str(number), fill="white", font=font, anchor="mm")
    image.save(png)


def _compact(png: Path) -> None:
    """The screenshot in 256 colours: a third of the bytes in the repository, the same to read."""
    from PIL import Image

    Image.open(png).convert("RGB").quantize(colors=256).save(png, optimize=True)


def _slug(text: str) -> str:
    words = "".join(c if c.isalnum() else " " for c in text.lower()).split()
    return "-".join(words[:5]) or "section"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=Path, help="a home whose reports to photograph")
    parser.add_argument("--out", type=Path, default=IMAGES)
    args = parser.parse_args()
    if args.reports is not None:
        home = args.reports
    else:
        home = Path(tempfile.mkdtemp(prefix="alphapilot-docs-")) / "home"
        run_job(home)
    for path in photograph(reports(home), args.out):
        print(path.relative_to(args.out.parent) if args.out == IMAGES else path)


if __name__ == "__main__":
    main()
