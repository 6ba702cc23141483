"""Version ordering for enterprise upgrade migration.

Autopilot compares server versions to find the upgrade target (the highest version) and the
servers still on an older one. Versions are semantic versions (reference §11): the Nomad
version ("1.11.0", "1.7.5+ent", "1.8.0-beta.1") or, with EnableCustomUpgrades, the server's
`upgrade_version` ("3", "3.1", "3.1.4"). Rules, following semver and Vault's documented
behaviour for custom versions:

* missing minor / patch parts are 0 ("3" == "3.0" == "3.0.0");
* a pre-release sorts before its release ("1.8.0-beta.1" < "1.8.0"), pre-release identifiers
  compare numerically when both are numbers, else as text, numbers first;
* build metadata is ignored ("1.7.5+ent" == "1.7.5"): equal versions mean no upgrade.

A version that is not semver at all sorts below every valid one (our choice: an unreadable
version is treated as the oldest, so it can never become the upgrade target).
"""

from __future__ import annotations

import re

_SEMVER = re.compile(
    r"^v?(?P<major>\d+)(?:\.(?P<minor>\d+))?(?:\.(?P<patch>\d+))?"
    r"(?:-(?P<pre>[0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$"
)

VersionKey = tuple[object, ...]  # compared element-wise; see version_key for the shape


def version_key(version: str) -> VersionKey:
    """A sort key: equal keys mean equal versions (build metadata ignored)."""
    match = _SEMVER.match(version.strip())
    if match is None:
        return (0,)  # invalid: below every valid version, whose keys start with 1
    core = tuple(int(match.group(g) or 0) for g in ("major", "minor", "patch"))
    pre = match.group("pre")
    if pre is None:
        return (1, core, 1, ())
    parts = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split("."))
    return (1, core, 0, parts)


def is_valid(version: str) -> bool:
    """True when `version` parses as a (possibly partial) semantic version."""
    return _SEMVER.match(version.strip()) is not None
