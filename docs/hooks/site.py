"""MkDocs hooks for the documentation site (mkdocs.yml `hooks:`).

* The home page is the README. docs/index.md holds a single marker line; it is replaced with
  README.md's text, whose links point into docs/ from the repository root, rebased onto docs/.
  The README stays the one copy of the tour (GitHub and PyPI show it; other pages link to it).
* The notebooks stay in notebooks/ (where Jupyter users and the tests find them) and are added
  to the site as notebooks/<name>.ipynb, for mkdocs-jupyter to render with their stored outputs.
"""

from __future__ import annotations

import re
from pathlib import Path

from mkdocs.plugins import event_priority
from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parents[2]
MARKER = "--8<-- README.md"


def readme_for_site(text: str) -> str:
    """README text with its `docs/...` links rebased onto the docs folder."""
    return re.sub(r"\]\(docs/", "](", text)


def on_page_markdown(markdown, page, config, files):
    """Put the README into docs/index.md in place of its marker line."""
    if page.file.src_uri == "index.md" and MARKER in markdown:
        readme = (ROOT / "README.md").read_text(encoding="utf-8")
        return markdown.replace(MARKER, readme_for_site(readme))
    return markdown


@event_priority(100)  # before mkdocs-jupyter looks for .ipynb files
def on_files(files, config):
    """Add notebooks/*.ipynb to the site's files."""
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        files.append(File(f"notebooks/{path.name}", src_dir=str(ROOT),
                          dest_dir=config["site_dir"], use_directory_urls=config["use_directory_urls"]))
    return files
