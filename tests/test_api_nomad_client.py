"""A real third-party Nomad client against the served API: python-nomad (jrxFive/python-nomad).

python-nomad has no autopilot methods; its public ``request()`` escape hatch on the operator
endpoint reaches them (docs/api.md, "From Python"). Non-2xx answers raise, with the response kept
on the exception as ``nomad_resp``.
"""

from __future__ import annotations

import nomad
import pytest
from api_support import ADMIN, READER, WRITER, scenario, served, wait_for
from nomad.api import exceptions as nomad_exc


@pytest.fixture(autouse=True)
def _no_nomad_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # NOMAD_ADDR would silently redirect the client, NOMAD_REGION add ?region=.
    for var in ("NOMAD_ADDR", "NOMAD_TOKEN", "NOMAD_REGION", "NOMAD_NAMESPACE", "NOMAD_CLIENT_CERT",
                "NOMAD_CLIENT_KEY"):
        monkeypatch.delenv(var, raising=False)


def client(server, token: str | None = None):
    return nomad.Nomad(host="127.0.0.1", port=server.port, token=token, timeout=10)


def test_read_and_write_configuration_with_and_without_cas() -> None:
    with served(scenario(), speed=1.0, start_at="5s") as server:
        n = client(server)
        config = n.operator.request("autopilot", "configuration", method="get").json()
        assert config["LastContactThreshold"] == "200ms"
        assert config["ServerStabilizationTime"] == "10s"
        assert config["CleanupDeadServers"] is True
        assert config["MaxTrailingLogs"] == 250
        assert config["CreateIndex"] == config["ModifyIndex"] > 0

        # Plain PUT: full replacement, answer true, ModifyIndex = the Raft index of the write.
        put = n.operator.request("autopilot", "configuration", method="put",
                                 json={"CleanupDeadServers": False, "MaxTrailingLogs": 100,
                                       "LastContactThreshold": "1s", "ServerStabilizationTime": "5s"})
        assert put.json() is True
        after = n.operator.request("autopilot", "configuration", method="get").json()
        assert after["CleanupDeadServers"] is False and after["MaxTrailingLogs"] == 100
        assert after["LastContactThreshold"] == "1s" and after["MinQuorum"] == 0
        assert after["ModifyIndex"] > config["ModifyIndex"]
        assert after["CreateIndex"] == config["CreateIndex"]

        # CAS with a stale index: 200 false, nothing changes.
        stale = n.operator.request("autopilot", "configuration", method="put",
                                   params={"cas": config["ModifyIndex"]}, json={**after, "MaxTrailingLogs": 7})
        assert stale.status_code == 200 and stale.json() is False
        unchanged = n.operator.request("autopilot", "configuration", method="get").json()
        assert unchanged == after

        # CAS with the current index: true, and the new ModifyIndex is past the failed CAS's entry.
        ok = n.operator.request("autopilot", "configuration", method="put",
                                params={"cas": after["ModifyIndex"]}, json={**after, "MaxTrailingLogs": 7})
        assert ok.json() is True
        final = n.operator.request("autopilot", "configuration", method="get").json()
        assert final["MaxTrailingLogs"] == 7 and final["ModifyIndex"] > after["ModifyIndex"] + 1

        # python-nomad's own operator method reads the Raft configuration (stale=False → "False").
        raft = n.operator.get_configuration()
        assert sorted(s["ID"] for s in raft["Servers"]) == ["node1", "node2", "node3"]
        assert sum(s["Leader"] for s in raft["Servers"]) == 1
        assert n.status.leader.get_leader() in ("node1", "node2", "node3")
        assert sorted(n.status.peers.get_peers()) == ["node1", "node2", "node3"]


def test_health_on_200_and_on_429() -> None:
    # A crashed server looks healthy until serf declares it failed (~40 s later); with cleanup
    # off, autopilot keeps it, so the report stays unhealthy from then on.
    sc = scenario(events="- {at: 20s, crash: node3}", extra="autopilot: {cleanup_dead_servers: false}")
    with served(sc, paused=True, start_at="15s") as server:
        n = client(server)
        resp = n.operator.request("autopilot", "health", method="get")
        assert resp.status_code == 200
        report = resp.json()
        assert report["Healthy"] is True and report["FailureTolerance"] == 1
        assert sorted(s["ID"] for s in report["Servers"]) == ["node1", "node2", "node3"]
        assert report["Leader"] in report["Voters"]

    with served(sc, paused=True, start_at="80s") as server:
        n = client(server)
        with pytest.raises(nomad_exc.BaseNomadException) as info:
            n.operator.request("autopilot", "health", method="get")
        resp = info.value.nomad_resp
        assert resp.status_code == 429
        report = resp.json()  # same JSON body as on 200
        assert report["Healthy"] is False and report["FailureTolerance"] == 0
        node3 = next(s for s in report["Servers"] if s["ID"] == "node3")
        assert node3["Healthy"] is False


def test_acl_forbidden_without_token_and_allowed_with_one() -> None:
    with served(scenario(acl=True), speed=1.0, start_at="5s") as server:
        anonymous = client(server)
        for path in (("autopilot", "configuration"), ("autopilot", "health")):
            with pytest.raises(nomad_exc.URLNotAuthorizedNomadException) as info:
                anonymous.operator.request(*path, method="get")
            assert info.value.nomad_resp.status_code == 403
            assert info.value.nomad_resp.text == "Permission denied"
        with pytest.raises(nomad_exc.URLNotAuthorizedNomadException):
            anonymous.operator.request("autopilot", "configuration", method="put", json={"MaxTrailingLogs": 1})

        reader = client(server, READER)
        config = reader.operator.request("autopilot", "configuration", method="get").json()
        with pytest.raises(nomad_exc.URLNotAuthorizedNomadException):
            reader.operator.request("autopilot", "configuration", method="put", json=config)
        with pytest.raises(nomad_exc.URLNotAuthorizedNomadException):
            reader.operator.get_configuration()  # the Raft configuration needs management

        writer = client(server, WRITER)
        assert writer.operator.request("autopilot", "configuration", method="put",
                                       params={"cas": config["ModifyIndex"]}, json=config).json() is True
        assert client(server, ADMIN).operator.get_configuration()["Index"] >= 1
        # Status endpoints need no token, even with ACLs on.
        assert anonymous.status.leader.get_leader() in ("node1", "node2", "node3")


def test_bad_requests_raise_bad_request_with_nomads_text() -> None:
    with served(scenario(), paused=True, start_at="5s") as server:
        n = client(server)
        with pytest.raises(nomad_exc.BadRequestNomadException) as info:
            n.operator.request("autopilot", "configuration", method="put", json={"LastContactThreshold": "soon"})
        assert info.value.nomad_resp.text == 'Error parsing autopilot config: time: invalid duration "soon"'
        with pytest.raises(nomad_exc.BadRequestNomadException) as info:
            n.operator.request("autopilot", "configuration", method="put", params={"cas": "abc"}, json={})
        assert info.value.nomad_resp.text == 'Error parsing cas value: strconv.ParseUint: parsing "abc": invalid syntax'
        with pytest.raises(nomad_exc.URLNotFoundNomadException) as info:
            n.operator.request("autopilot", "health", method="delete")
        assert info.value.nomad_resp.text == "Invalid method"


def test_health_follows_the_simulation_while_it_runs() -> None:
    with served(scenario(), speed=5.0, start_at="5s") as server:
        n = client(server)
        assert n.operator.request("autopilot", "health", method="get").status_code == 200
        leader = n.status.leader.get_leader()
        from api_support import Raw

        raw = Raw(server)
        status, _, _ = raw.request("POST", "/v1/sim/events", f'{{"crash": "{leader}"}}')
        assert status == 200

        def new_leader() -> str | None:
            try:
                now = n.status.leader.get_leader()
            except nomad_exc.BaseNomadException:
                return None  # 500 No cluster leader during the election
            return now if now and now != leader else None

        assert wait_for(new_leader, timeout=30)
        raw.close()
