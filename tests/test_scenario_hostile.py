"""Hostile YAML: alias bombs, alias cycles, deep nesting, tags and bad encodings.

Each must end in one located error (``file:line:col: key: message``) and exit status 2 from both
`validate` and `run`, with memory bounded: nothing is expanded before it is counted.
"""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from autopilot_sim.cli import main as cli_main
from autopilot_sim.scenario import ScenarioError, load_scenario
from autopilot_sim.scenario.yamlguard import MAX_ALIASES, MAX_DEPTH, MAX_FILE_BYTES, MAX_NODES

HEAD = "name: hostile\nduration: 1m\n"

BILLION_LAUGHS = HEAD + 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{x}: &{x} [{', '.join(['*' + p] * 9)}]\n" for p, x in zip("abcdefgh", "bcdefghi", strict=True))


def run_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, data: bytes | str,
            command: str) -> tuple[int, list[str]]:
    path = tmp_path / name
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(data)
    argv = [command, str(path)] + (["--out", str(tmp_path / "run"), "--quiet"] if command == "run" else [])
    code = cli_main(argv)
    err = capsys.readouterr().err
    lines = [line.replace(str(path), name) for line in err.splitlines()]
    return code, lines


CASES = {
    "laughs.yaml": (BILLION_LAUGHS,
                    (f"laughs.yaml:8:8: f[0]: the document holds more than {MAX_NODES:,} values, counting "
                     "each alias (*name) as all the values of the node it repeats")),
    "cycle.yaml": (HEAD + "events: &e [*e]\n",
                   "cycle.yaml:3:13: events[0]: alias *e is inside the node &e it refers to"),
    "cycle_map.yaml": (HEAD + "cluster: &c {servers: 3, x: *c}\n",
                       "cycle_map.yaml:3:29: cluster.x: alias *c is inside the node &c it refers to"),
    "deep.yaml": (HEAD + "events: " + "[" * 1000 + "]" * 1000 + "\n",
                  (f"deep.yaml:3:{9 + MAX_DEPTH - 1}: events[0][0]: lists and mappings nested more than "
                  f"{MAX_DEPTH} deep")),
    "deep_block.yaml": (HEAD + "x:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 150)),
                        (f"deep_block.yaml:{3 + MAX_DEPTH - 1}:{2 * (MAX_DEPTH - 1) + 1}: x.k1.k2: lists and "
                        f"mappings nested more than {MAX_DEPTH} deep")),
    "tag_list.yaml": (HEAD + "events: !foo []\n",
                      'tag_list.yaml:3:9: events: unknown tag "!foo" on a list'),
    "tag_map.yaml": (HEAD + "cluster: !!set {a, b}\n",
                     'tag_map.yaml:3:10: cluster: unknown tag "!!set" on a mapping'),
    "tag_scalar.yaml": (HEAD + "seed: !!binary aGVsbG8=\n",
                        'tag_scalar.yaml:3:7: seed: unknown tag "!!binary" on a value'),
    "tag_local.yaml": ("name: hostile\nduration: !dur 1m\n",
                       'tag_local.yaml:2:11: duration: unknown tag "!dur" on a value'),
    "bad_utf8.yaml": (HEAD.encode() + b"cluster:\n  region: gl\xffobal\n",
                      "bad_utf8.yaml:4:13: cluster.region: not UTF-8 text: byte 0xff (invalid start byte)"),
    "latin1.yaml": (HEAD.encode() + b"description: caf\xe9 au lait\n",
                    "latin1.yaml:3:17: description: not UTF-8 text: byte 0xe9"),
    "utf16_bom.yaml": (HEAD.encode("utf-16"),
                       "utf16_bom.yaml:1:1: the file is UTF-16 text (it starts with a UTF-16 byte-order mark)"),
    "utf16.yaml": (HEAD.encode("utf-16-le"),
                   ("utf16.yaml:1:2: NUL character U+0000 is not allowed in YAML text; the file looks like "
                   "UTF-16 without a byte-order mark")),
    "nul.yaml": (HEAD + 'description: "a\x00b"\n',
                 "nul.yaml:3:16: description: NUL character U+0000 is not allowed in YAML text"),
    "control.yaml": (HEAD + "cluster:\n  region: \"a\x1bb\"\n",
                     "control.yaml:4:13: cluster.region: ESC character U+001B is not allowed in YAML text"),
    "huge_int.yaml": (HEAD + "seed: " + "9" * 5000 + "\n",
                      "huge_int.yaml:3:7: seed: cannot read this value: a number of 5,000 characters is too long"),
}


@pytest.mark.parametrize("command", ["validate", "run"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_file_is_one_located_error_exit_2(tmp_path, capsys, name, command):
    data, expected = CASES[name]
    code, lines = run_cli(tmp_path, capsys, name, data, command)
    assert code == 2
    assert lines[0].startswith(expected), lines
    assert "Traceback" not in "\n".join(lines)
    assert not (tmp_path / "run").exists()


def test_billion_laughs_is_refused_before_it_grows():
    # The guard counts an alias as the size of what it names, so refusing costs almost nothing.
    tracemalloc.start()
    try:
        with pytest.raises(ScenarioError):
            from autopilot_sim.scenario import load_scenario_text

            load_scenario_text(BILLION_LAUGHS, "laughs.yaml")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20 * 1024 * 1024


def test_too_many_alias_references(tmp_path):
    text = HEAD + "x: &x 1\nlist: [" + ", ".join(["*x"] * (MAX_ALIASES + 1)) + "]\n"
    path = tmp_path / "aliases.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    (error,) = info.value.errors
    assert error.path.startswith("list[") and error.line == 4
    assert error.message.startswith(f"more than {MAX_ALIASES:,} alias references")


def test_sane_aliases_and_merge_keys_still_work(tmp_path):
    path = tmp_path / "ok.yaml"
    path.write_text(HEAD + "cluster: {servers: 3}\n"
                    "x-pause: &p {server: node1, for: 1s}\n"
                    "events:\n  - {at: 1s, pause: *p}\n  - at: 5s\n    pause: {<<: *p, for: 2s}\n",
                    encoding="utf-8")
    with pytest.raises(ScenarioError) as info:  # x-pause is not a key of the format ...
        load_scenario(path)
    assert [e.path for e in info.value.errors] == ["x-pause"]  # ... but the aliases resolved
    path.write_text(HEAD + "events:\n  - {at: 1s, pause: &p {server: node1, for: 1s}}\n"
                    "  - at: 5s\n    pause: {<<: *p, for: 2s}\n", encoding="utf-8")
    scenario = load_scenario(path)
    assert [e.pause.for_ for e in scenario.events] == [1_000_000_000, 2_000_000_000]


def test_a_file_larger_than_the_limit_is_not_read(tmp_path, capsys):
    path = tmp_path / "big.yaml"
    path.write_bytes(HEAD.encode() + b"description: " + b"a" * MAX_FILE_BYTES + b"\n")
    assert cli_main(["validate", str(path)]) == 2
    assert capsys.readouterr().err.startswith(f"{path}: the file is larger than 4 MB")


def test_utf8_byte_order_mark_is_accepted(tmp_path):
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + HEAD.encode())
    assert load_scenario(path).name == "hostile"


def test_set_override_values_are_guarded_too(tmp_path, capsys):
    path = tmp_path / "ok.yaml"
    path.write_text(HEAD, encoding="utf-8")
    code = cli_main(["validate", str(path), "--set", "description=!!binary aGVsbG8="])
    assert code == 2
    assert '--set description: unknown tag "!!binary" on a value' in capsys.readouterr().err
