"""The documentation site builds with `mkdocs build --strict`: a broken link, a missing anchor,
a page left out of the nav or a notebook that does not render fails here."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

try:
    import material  # noqa: F401
    import mkdocs  # noqa: F401
    import mkdocs_jupyter  # noqa: F401
    MISSING = None
except ImportError as err:  # pragma: no cover - dev extras bring them
    MISSING = str(err)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    if MISSING:
        if os.environ.get("CI"):
            pytest.fail(f"the dev extras must bring mkdocs under CI: {MISSING}")
        pytest.skip(f"mkdocs, mkdocs-material or mkdocs-jupyter not installed ({MISSING}); "
                    "pip install -e '.[docs]'")
    out = tmp_path_factory.mktemp("site")
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
                          check=False, cwd=ROOT, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


def test_strict_build_succeeds(site):
    assert (site / "index.html").is_file()


def test_home_page_is_the_readme_with_links_into_the_site(site):
    html = (site / "index.html").read_text(encoding="utf-8")
    first_heading = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()[0].lstrip("# ")
    assert first_heading in html
    assert 'href="notebooks.html"' in html and 'href="docs/' not in html


def test_every_notebook_is_rendered_with_its_figures(site):
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        page = site / "notebooks" / f"{nb.stem}.html"
        assert page.is_file(), f"{nb.name} is not in the site (mkdocs.yml nav?)"
        html = page.read_text(encoding="utf-8")
        assert re.search(r'<img[^>]*src="data:image/png;base64', html), f"{nb.name}: no figure in the page"


def test_no_font_or_script_fetched_from_a_cdn_at_build_time(site):
    html = (site / "index.html").read_text(encoding="utf-8")
    assert "fonts.googleapis.com" not in html
