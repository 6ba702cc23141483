"""Execute the teaching notebooks in place, so that they are stored with their outputs.

    .venv/bin/python notebooks/execute.py [NAME.ipynb ...]     (or: make notebooks)

Runs each notebook top to bottom on the ``python3`` kernel from the notebooks folder and
writes it back with its outputs. Nothing time-dependent is stored (no per-cell timing
metadata), and the figures are PNGs of seeded runs, so re-executing an unchanged notebook
leaves the file unchanged; tests/test_notebooks.py checks the stored results against a fresh run.
Prints each notebook's wall time (what docs/notebooks.md quotes).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import nbclient
import nbformat

HERE = Path(__file__).resolve().parent


def coalesce_streams(outputs: list) -> list:
    """Merge consecutive stdout (or stderr) chunks into one output: how a print is split into
    messages depends on timing, and the stored file must not."""
    merged: list = []
    for out in outputs:
        prev = merged[-1] if merged else None
        if (out.get("output_type") == "stream" and prev is not None
                and prev.get("output_type") == "stream" and prev.get("name") == out.get("name")):
            prev["text"] = prev["text"] + out["text"]
        else:
            merged.append(out)
    return merged


def execute_in_place(path: Path) -> float:
    """Execute one notebook and store it with its outputs; returns the wall time in seconds."""
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, kernel_name="python3", timeout=600, record_timing=False,
                                     resources={"metadata": {"path": str(HERE)}})
    start = time.monotonic()
    client.execute()
    wall = time.monotonic() - start
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = coalesce_streams(cell.outputs)
    nbformat.write(nb, path)
    return wall


def main(argv: list[str]) -> int:
    paths = [Path(a).resolve() for a in argv] or sorted(HERE.glob("*.ipynb"))
    total = 0.0
    for path in paths:
        wall = execute_in_place(path)
        total += wall
        print(f"{path.name:<45} {wall:6.1f} s", flush=True)
    print(f"{'total':<45} {total:6.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
