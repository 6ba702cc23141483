"""Writing a run directory so that it never holds a mix of two runs.

Every file is first written into a temporary sibling directory (same parent, so renames stay on
one file system and are atomic), then moved into place:

* The target does not exist: the temporary directory is renamed to it, in one step.
* The target exists (a re-run, or a directory holding the user's own files too): only this
  tool's files are touched. ``summary.json`` is deleted first and moved in last, so its
  presence marks a complete, consistent set; the other run files are swapped in with
  ``os.replace`` in between, and a plot left by an earlier ``run --plot`` is deleted (it
  belongs to the earlier run). Other files in the directory are left alone.

A failure while writing (disk full, an exception, Ctrl-C) leaves the previous run's files
untouched and removes the temporary directory. A process killed outright (SIGKILL) while
writing leaves the previous files untouched and a hidden ``.<name>.partial-<pid>-<n>``
directory, which the next write into the same target removes once that process is gone.
Durability across a power loss (fsync) is not attempted.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path

#: What marks a complete run directory: written last, deleted first.
MARKER = "summary.json"
#: The run files `RunResult.write` produces.
RUN_FILES = ("events.jsonl", "timeline.jsonl", "scenario.yaml", MARKER)
#: The plots `run --plot` adds (see `write_file_atomically`); removed when a run without
#: plots replaces the one they were drawn from.
PLOT_FILES = ("timeline.png", "swimlanes.png", "contact.png")
_PARTIAL = ".partial-"


def write_run_dir(out: str | Path, files: Mapping[str, str]) -> Path:
    """Write `files` (name -> text) into the run directory `out` as one set (see above)."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"{out}: exists and is not a directory")
    out.parent.mkdir(parents=True, exist_ok=True)
    # Beside the real directory (out may be a symlink): renames must stay on one file system.
    home = out.resolve() if out.exists() else out
    _remove_abandoned(home)
    tmp = _make_partial_dir(home)
    try:
        for name, text in files.items():
            (tmp / name).write_text(text, encoding="utf-8")
        if not out.exists():
            try:
                os.rename(tmp, out)
                return out
            except OSError:  # created meanwhile: swap file by file below
                pass
        _swap_in(tmp, out, files)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def write_file_atomically(path: str | Path, write: Callable[[Path], object]) -> Path:
    """Call `write(tmp_path)` for a hidden temporary path beside `path` (same suffix, so the
    format can still be told from it), then move the result onto `path` in one step."""
    path = Path(path)
    tmp = path.with_name(f".{path.stem}{_PARTIAL}{os.getpid()}{path.suffix}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _swap_in(tmp: Path, out: Path, files: Mapping[str, str]) -> None:
    (out / MARKER).unlink(missing_ok=True)  # from here on the directory reads as incomplete
    for name in dict.fromkeys((*RUN_FILES, *PLOT_FILES, *sorted(files))):
        if name == MARKER:
            continue
        if name in files:
            os.replace(tmp / name, out / name)
        else:
            (out / name).unlink(missing_ok=True)
    if MARKER in files:
        os.replace(tmp / MARKER, out / MARKER)


def _make_partial_dir(out: Path) -> Path:
    """A new hidden sibling of `out`; os.mkdir (not mkdtemp) so it gets the umask's mode,
    which a directory renamed into place keeps."""
    n = 0
    while True:
        tmp = out.parent / f".{out.name}{_PARTIAL}{os.getpid()}-{n}"
        try:
            os.mkdir(tmp)
            return tmp
        except FileExistsError:
            n += 1


def _remove_abandoned(out: Path) -> None:
    """Remove partial directories for `out` left by writers that were killed (pid gone)."""
    if os.name != "posix":  # os.kill(pid, 0) is no liveness probe elsewhere
        return
    prefix = f".{out.name}{_PARTIAL}"
    for entry in out.parent.iterdir():
        if not entry.name.startswith(prefix):
            continue
        pid = entry.name[len(prefix):].split("-", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)) and entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists but is not ours (EPERM), or cannot tell: keep its directory
        return True
    return True
