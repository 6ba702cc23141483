"""Schemathesis against a live ``serve``-style server, driven by the shipped OpenAPI description
(issue 14, item 8): every generated request — valid ones and, for the parameters and bodies
the description constrains, invalid ones — must get an answer the description documents
(status, content type, body schema) and no server error beyond the ones Nomad itself answers,
listed in `ALLOWED_SERVER_ERRORS` with their reasons.

The default run is bounded and derandomized (a fixed set of examples per operation, the same on
every run); ``-m fuzz`` runs a larger random exploration (see ``make fuzz``)."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import pytest
import schemathesis
from api_support import ADMIN, scenario, served
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from autopilot_sim.api import openapi_document

#: 5xx answers that are Nomad's documented behaviour (or the simulator's documented limits),
#: by (status, start of the body). Anything else in the 5xx range is a failure.
ALLOWED_SERVER_ERRORS: dict[tuple[int, str], str] = {
    (500, "No cluster leader"): "Nomad answers 500 `No cluster leader` while no leader is known (events "
                                "crash and partition servers during the run), command/agent/http.go",
    (500, "No path to region"): "Nomad answers 500 for a ?region other than the cluster's (RPC forwarding)",
    (500, "autopilot config not initialized yet"): "Nomad's answer before the leader stored a configuration",
    (500, "leadership lost while committing log"): "hashicorp/raft's ErrLeadershipLost, which Nomad returns as 500",
    (501, "autopilot-sim does not implement"): "raft peer removal and leadership transfer are not modelled; "
                                               "documented as 501 in the description",
    (500, "timed out waiting for the configuration write to be applied"): (
        "a PUT waits for its Raft entry as Nomad's RPC does, and a generated partition can leave the leader "
        "unable to commit; Nomad's RPC then fails with a 500 after its timeout, this server after its "
        "write_timeout (0.5 s wall time in this test, so that one PUT cannot stall the run)"),
    (500, 'id "'): ("an ID that is not in the leader's Raft configuration (the empty one too): Nomad's "
                    "RaftRemovePeerByID returns a plain error, which its HTTP layer answers with 500"),
    (503, "the simulation "): "the live simulation ended (its scenario duration) or stopped; documented 503",
}

_UNITS_NS = {"ns": 1, "us": 10**3, "µs": 10**3, "μs": 10**3, "ms": 10**6, "s": 10**9, "m": 60 * 10**9,
             "h": 3600 * 10**9}
_COMPONENT = re.compile(r"([0-9]*\.?[0-9]*)(ns|us|µs|μs|ms|s|m|h)")
_GO_NUMBER = re.compile(r"cannot unmarshal number (\S+) into Go struct field \.\w+ of type uint")


def _duration_overflows(text: str) -> bool:
    """Whether a duration of valid Go syntax is beyond int64 nanoseconds (computed exactly,
    independently of the server's parser)."""
    body = text.lstrip("+-")
    if body == "0":
        return False
    total = sum(Fraction(number.rstrip(".") or "0") * _UNITS_NS[unit] for number, unit in _COMPONENT.findall(body))
    return total > (1 << 63) - (0 if text.startswith("-") else 1)


def _overflowing_wait(case: Any, text: str) -> bool:
    return text == "Invalid wait time" and _duration_overflows(str((case.query or {}).get("wait", "")))


def _overflowing_config_duration(case: Any, text: str) -> bool:
    match = re.search(r'time: invalid duration "(.*)"$', text)
    if match is None:
        return False
    # Go's time package quotes non-ASCII bytes as \xNN.
    quoted = re.sub(r"\\x([0-9a-f]{2})", lambda m: chr(int(m.group(1), 16)), match.group(1))
    return _duration_overflows(quoted.encode("latin-1").decode("utf-8"))


def _integer_written_as_float(case: Any, text: str) -> bool:
    match = _GO_NUMBER.search(text) or re.search(r"expected a whole number, got (\S+)$", text)
    return match is not None and any(c in match.group(1) for c in ".eE")


#: 400 answers to requests the description calls valid: each Nomad's behaviour that JSON Schema
#: cannot express, with its reason, and a predicate that confirms the request really is that case.
ALLOWED_REJECTIONS: dict[str, tuple[str, Callable[[Any, str], bool]]] = {
    "wait beyond int64 ns": (
        ("Go's time.ParseDuration refuses a duration beyond ±2562047h (int64 nanoseconds); a pattern can "
         "give the syntax but not bound the sum of its components"), _overflowing_wait),
    "config duration beyond int64 ns": (
        "the same limit for LastContactThreshold / ServerStabilizationTime in the PUT body",
        _overflowing_config_duration),
    "integer written with a fraction or exponent": (
        ("Go's encoding/json (and the scenario format) refuse 5.0 or 5e0 for an integer field; JSON Schema's "
         "integer type cannot tell 5.0 from 5 (the generator writes some integers as floats)"),
        _integer_written_as_float),
    "a duration that must be positive in an event": (
        ("the scenario format refuses a zero or negative duration where one makes no sense (a latency "
         "median, a pause); its JSON Schema, from which the event schema is derived, gives only the syntax"),
        lambda case, text: text.startswith("Error parsing event: ") and "must be more than 0s, got" in text),
    "a link from a server to itself": (
        "a cut or heal needs two different servers; JSON Schema cannot say that two properties differ",
        lambda case, text: re.match(r"Error parsing event: (cut|heal)\.to: from and to are the same server", text)
        is not None),
    "a server twice in a partition": (
        "JSON Schema's uniqueItems cannot span the groups of a partition",
        lambda case, text: text.startswith("Error parsing event: partition[") and "is in the partition twice" in text),
    "transfer-leadership without exactly one of id and address": (
        ("Nomad needs exactly one of ?id and ?address; OpenAPI parameters cannot say 'one of two'"),
        lambda case, text: text in ("must specify id or address", "must specify either id or address")
        and (("id" in (case.query or {})) == ("address" in (case.query or {})))),
    "transfer to a server not in the Raft configuration": (
        "the servers are the running cluster's; the description cannot list them (Nomad answers 400)",
        lambda case, text: re.match(r'(id|address) ".*" was not found in the Raft configuration$', text) is not None),
    "a delay beyond an hour in an event": (
        "the scenario format bounds latency parameters to 1h (a message held longer is lost: a cut); its "
        "JSON Schema, from which the event schema is derived, gives the duration syntax only",
        lambda case, text: text.startswith("Error parsing event: ") and "must be at most 1h0m0s, got" in text),
    "unknown server in an event": (
        "the server names are the running scenario's; the description cannot list them",
        lambda case, text: text.startswith("Error parsing event: ") and "unknown server" in text),
}

SCHEMA = schemathesis.openapi.from_dict(openapi_document())
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]
#: Operations with something to make invalid (parameters or a body).
NEGATABLE = [op for op in OPERATIONS if op.query or op.path_parameters or op.body]


def _allowed_server_error(ctx: Any, response: Any, case: Any) -> bool | None:
    """``not_a_server_error`` minus `ALLOWED_SERVER_ERRORS`."""
    if response.status_code >= 500:
        text = response.content.decode("utf-8", "replace")
        for status, prefix in ALLOWED_SERVER_ERRORS:
            if response.status_code == status and text.startswith(prefix):
                return True
    return not_a_server_error(ctx, response, case)


def _valid_data_accepted(ctx: Any, response: Any, case: Any) -> bool | None:
    """A request the description calls valid is not refused with 400 (beyond the allow-list)."""
    if case.meta is None or not case.meta.generation.mode.is_positive or response.status_code != 400:
        return None
    text = response.content.decode("utf-8", "replace")
    if any(applies(case, text) for _reason, applies in ALLOWED_REJECTIONS.values()):
        return None
    raise AssertionError(f"valid request refused: {case.method} {case.formatted_path} query={case.query} "
                         f"body={case.body!r} -> 400 {text!r}")


CHECKS = [status_code_conformance, content_type_conformance, response_schema_conformance, _allowed_server_error, _valid_data_accepted]


@pytest.fixture(scope="module")
def st_server():
    # The fuzz test's cluster: 3 servers with ACLs, clock 5x real time, started at 5 s (a leader).
    with served(scenario(acl=True, servers=3, duration="1h"), speed=5.0, start_at="5s") as server:
        server.live.write_timeout = 0.5  # a PUT right after a generated pause must not stall the run
        yield server


def _run(server: Any, operation: Any, mode: GenerationMode, examples: int, derandomize: bool) -> None:
    checks = CHECKS + ([negative_data_rejection] if mode is GenerationMode.NEGATIVE else [])

    @settings(max_examples=examples, derandomize=derandomize, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode), token=st.sampled_from([ADMIN, ADMIN, ADMIN, None, "x"]))
    def run(case: Any, token: str | None) -> None:
        headers = {"X-Nomad-Token": token} if token is not None else {}
        try:
            case.call_and_validate(base_url=server.url, headers=headers, checks=checks, timeout=20)
        finally:
            if server.live.snapshot.paused:  # a generated POST /v1/sim/pause: keep the clock going
                server.live.resume()
            if server.live.snapshot.speed != 5.0:  # a generated POST /v1/sim/speed (0.01x would stall writes)
                server.live.set_speed(5.0)

    run()


def _ids(op: Any) -> str:
    return f"{op.method.upper()} {op.path}"


@pytest.mark.parametrize("operation", OPERATIONS, ids=_ids)
def test_schemathesis_positive(st_server, operation) -> None:
    _run(st_server, operation, GenerationMode.POSITIVE, examples=20, derandomize=True)


@pytest.mark.parametrize("operation", NEGATABLE, ids=_ids)
def test_schemathesis_negative(st_server, operation) -> None:
    _run(st_server, operation, GenerationMode.NEGATIVE, examples=12, derandomize=True)


FUZZ_CASES = [(op, GenerationMode.POSITIVE) for op in OPERATIONS] + [(op, GenerationMode.NEGATIVE) for op in NEGATABLE]


@pytest.mark.fuzz
@pytest.mark.parametrize("operation, mode", FUZZ_CASES, ids=[f"{_ids(op)} {mode.value}" for op, mode in FUZZ_CASES])
def test_schemathesis_fuzz(st_server, operation, mode) -> None:
    examples = int(os.environ.get("AUTOPILOT_SIM_FUZZ_EXAMPLES", "300"))
    _run(st_server, operation, mode, examples=examples, derandomize=False)
