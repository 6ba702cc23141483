"""The project stands on its own: nothing cites files outside the repository, and every
citation of a behaviour page (`docs/behaviour/*.md §N`) and every link between docs pages
points at a heading that exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BEHAVIOUR = REPO / "docs" / "behaviour"
SUFFIXES = {".py", ".md", ".ipynb", ".yaml", ".yml", ".toml"}
SKIP_DIRS = {".git", ".venv", "runs", "build", "dist", "__pycache__", ".pytest_cache", ".hypothesis",
             ".ruff_cache", ".mypy_cache", ".ipynb_checkpoints"}

# Built from pieces so that this file does not match itself.
_UP = ".." + "/"
FORBIDDEN = [
    _UP + "shared",
    "shared" + "/reference",
    "shared" + "/testdata",
    "/work" + "/shared",
    # the research notes the behaviour pages replace
    "autopilot" + "-behaviour.md",
    "hashicorp-raft" + "-behaviour.md",
    "gossip-and" + "-membership.md",
    "raft-peers" + "-and-papers.md",
    "ecosystem" + "-notes.md",
    "nomad-autopilot" + "-operator-api.md",
]


def project_files() -> list[Path]:
    """Every text file of the project that could carry a citation (no venv, no run output)."""
    out = []
    for path in REPO.rglob("*"):
        rel = path.relative_to(REPO)
        if any(part in SKIP_DIRS or part.endswith(".egg-info") for part in rel.parts[:-1]):
            continue
        if path.is_file() and path.suffix in SUFFIXES:
            out.append(path)
    return sorted(out)


def slug(heading: str) -> str:
    """GitHub's anchor for a Markdown heading."""
    return re.sub(r"[^a-z0-9 _-]", "", heading.strip().lower()).replace(" ", "-")


def headings(page: Path) -> tuple[set[str], set[str]]:
    """(section numbers, anchors) of a Markdown page."""
    numbers, anchors = set(), set()
    for line in page.read_text(encoding="utf-8").splitlines():
        m = re.match(r"(#{1,6}) (.+)", line)
        if not m:
            continue
        anchors.add(slug(m.group(2)))
        n = re.match(r"(\d+(?:\.\d+)?)\.? ", m.group(2))
        if n and len(m.group(1)) in (2, 3):
            numbers.add(n.group(1))
    return numbers, anchors


PAGES = {p.stem: headings(p) for p in BEHAVIOUR.glob("*.md")}


def test_the_behaviour_pages_exist():
    assert set(PAGES) == {"autopilot", "raft", "gossip", "papers"}
    assert {"3", "4", "6", "8.3", "9.4"} <= PAGES["autopilot"][0]
    assert {"2.1", "3.3", "4.7", "6", "9"} <= PAGES["raft"][0]


def test_no_file_points_outside_the_project():
    hits = []
    for path in project_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        for needle in FORBIDDEN:
            if needle in text:
                line = text[: text.index(needle)].count("\n") + 1
                hits.append(f"{path.relative_to(REPO)}:{line}: {needle}")
    assert hits == []


# `docs/behaviour/raft.md §4.7`, `behaviour/raft.md` §2.6, and lists/ranges after it:
# `§3.1-3.2, §3.7`, `§2–§5`, `§9.2/§9.3`.
_CITE = re.compile(r"behaviour/(\w+)\.md`?\)?\s*((?:§\d+(?:\.\d+)?(?:\s*[-–/]\s*§?\d+(?:\.\d+)?)?"
                   r"(?:\s*(?:,|and)\s*(?=§))?\s*)+)")
_ABBREVIATED = re.compile(r"\b(AP|GM|HR|PP) ((?:§\d+(?:\.\d+)?(?:\s*[-–]\s*§?\d+(?:\.\d+)?)?(?:,\s*(?=§))?\s*)+)")
_ABBREVIATIONS = {"AP": "autopilot", "GM": "gossip", "HR": "raft", "PP": "papers"}


def _sections(refs: str) -> list[str]:
    return re.findall(r"\d+(?:\.\d+)?", refs)


def cited_sections() -> list[tuple[str, str, str]]:
    """(where, page, section) for every explicit citation of a behaviour page."""
    cites = []
    for path in project_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        where = str(path.relative_to(REPO))
        for m in _CITE.finditer(text):
            cites += [(where, m.group(1), n) for n in _sections(m.group(2))]
        if path.name == "scenarios.md":
            for m in _ABBREVIATED.finditer(text):
                cites += [(where, _ABBREVIATIONS[m.group(1)], n) for n in _sections(m.group(2))]
    return cites


def test_citations_are_found():
    cites = cited_sections()
    assert len(cites) > 150  # the pattern keeps matching what the sources write
    assert ("autopilot_sim/autopilot/reconcile.py", "autopilot", "8.3") in cites


def test_every_cited_section_exists():
    missing = [f"{where}: docs/behaviour/{page}.md §{n}" for where, page, n in cited_sections()
               if page not in PAGES or n not in PAGES[page][0]]
    assert missing == []


@pytest.mark.parametrize("page", sorted((REPO / "docs").rglob("*.md")), ids=lambda p: p.name)
def test_links_between_docs_pages_resolve(page):
    broken = []
    text = page.read_text(encoding="utf-8")
    for target, anchor in re.findall(r"\]\(([^)#\s]*\.md)?(?:#([^)\s]+))?\)", text):
        if not target and not anchor:
            continue
        dest = (page.parent / target).resolve() if target else page
        if not dest.is_file():
            broken.append(f"{target}: no such page")
            continue
        if anchor and anchor not in headings(dest)[1]:
            broken.append(f"{target}#{anchor}: no such heading")
    assert broken == []
