"""Many clients at once: health pollers while writers race check-and-set writes on the same
ModifyIndex. Exactly one writer wins each round, nothing is lost, the server never raises, and
the simulated clock keeps moving."""

from __future__ import annotations

import json
import threading

from api_support import Raw, scenario, served

CONFIG = "/v1/operator/autopilot/configuration"
WRITERS = 4
POLLERS = 4
ROUNDS = 12


def test_pollers_and_racing_cas_writers() -> None:
    with served(scenario(servers=3), speed=1.0, start_at="5s") as server:
        stop = threading.Event()
        failures: list[str] = []
        polls = [0] * POLLERS
        barrier = threading.Barrier(WRITERS, timeout=30)
        outcomes: list[list[tuple[int, bool, int]]] = [[] for _ in range(ROUNDS)]  # (writer, won, cas)
        after_round: list[dict] = [{} for _ in range(ROUNDS)]
        lock = threading.Lock()

        def poller(i: int) -> None:
            raw = Raw(server)
            try:
                while not stop.is_set() or polls[i] <= 10:  # a fixed minimum, however threads are scheduled
                    status, _headers, data = raw.request("GET", "/v1/operator/autopilot/health")
                    if status not in (200, 429) or not json.loads(data).get("Servers"):
                        failures.append(f"poller {i}: {status} {data[:80]!r}")
                    polls[i] += 1
            except Exception as exc:
                failures.append(f"poller {i}: {exc!r}")
            finally:
                raw.close()

        def writer(w: int) -> None:
            raw = Raw(server)
            try:
                for r in range(ROUNDS):
                    barrier.wait()
                    config = json.loads(raw.request("GET", CONFIG)[2])
                    barrier.wait()  # everyone has read the same ModifyIndex; nobody has written yet
                    body = json.dumps({**config, "MaxTrailingLogs": 1000 + 10 * r + w})
                    status, _, data = raw.request("PUT", f"{CONFIG}?cas={config['ModifyIndex']}", body)
                    if status != 200:
                        failures.append(f"writer {w} round {r}: {status} {data!r}")
                        won = False
                    else:
                        won = json.loads(data)
                    with lock:
                        outcomes[r].append((w, won, config["ModifyIndex"]))
                    barrier.wait()
                    if w == 0:
                        after_round[r] = json.loads(raw.request("GET", CONFIG)[2])
            except threading.BrokenBarrierError:
                failures.append(f"writer {w}: barrier broken")
            except Exception as exc:
                failures.append(f"writer {w}: {exc!r}")
                barrier.abort()
            finally:
                raw.close()

        t0 = server.live.snapshot.t_ns
        threads = [threading.Thread(target=poller, args=(i,)) for i in range(POLLERS)]
        threads += [threading.Thread(target=writer, args=(w,)) for w in range(WRITERS)]
        for t in threads:
            t.start()
        for t in threads[POLLERS:]:
            t.join(120)
        stop.set()
        for t in threads[:POLLERS]:
            t.join(30)
        t1 = server.live.snapshot.t_ns

        assert not any(t.is_alive() for t in threads)
        assert failures == []
        assert min(polls) > 10
        previous_index = 0
        for r in range(ROUNDS):
            cas_values = {cas for _, _, cas in outcomes[r]}
            assert len(cas_values) == 1, f"round {r}: writers read different indexes {cas_values}"
            winners = [w for w, won, _ in outcomes[r] if won]
            assert len(winners) == 1, f"round {r}: winners {winners}"
            final = after_round[r]
            # No lost update: what is stored is the winner's write, at a new index.
            assert final["MaxTrailingLogs"] == 1000 + 10 * r + winners[0]
            assert final["ModifyIndex"] > cas_values.pop() > previous_index - 1
            previous_index = final["ModifyIndex"]
        # The simulated clock kept moving (how closely it follows the wall clock under load is
        # a measurement, not a test verdict: benchmarks/bench_api.py reports the lag).
        assert t1 > t0
