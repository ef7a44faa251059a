"""nireq and plugin_config end to end."""
import json
import os
import threading

import numpy as np

import shape_models as sm
from conftest import http


def test_nireq_1_serialises_8_concurrent_clients(start_server, tmp_path):
    """With nireq 1, eight requests are inside the server together but only one runs at a time: the
    server's own gauges (ovms_current_requests, ovms_infer_req_active) are sampled while they run."""
    width, layers = 512, 32  # ~0.1-1 s per request: long enough for all eight to arrive while one runs
    repo = sm.heavy(str(tmp_path / "m"), width=width, layers=layers)
    srv = start_server(["--model_name", "m", "--model_path", repo, "--nireq", "1", "--rest_workers", "8",
                        "--metrics_enable", "--metrics_list", "ovms_current_requests,ovms_infer_req_active"],
                       wait_for="m")
    results = [None] * 8
    rng = np.random.default_rng(3)
    inputs = [rng.standard_normal((64, width)).astype(np.float32) for _ in range(8)]
    bodies = [json.dumps({"inputs": {"x": x.tolist()}}) for x in inputs]  # encoded before the clients start
    go = threading.Barrier(8)

    def client(i):
        go.wait()
        status, _, body = http("POST", f"{srv.rest}/v1/models/m:predict", bodies[i], timeout=120)
        results[i] = (status, json.loads(body))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    samples = []  # (requests in the server, inferences running)
    while any(t.is_alive() for t in threads):
        m = srv.metrics()
        samples.append((m['ovms_current_requests{name="m",version="1"}'], m['ovms_infer_req_active{name="m",version="1"}']))
    for t in threads:
        t.join()
    for i, (status, body) in enumerate(results):
        assert status == 200, body
        np.testing.assert_allclose(np.array(body["outputs"]),
                                   sm.heavy_reference(repo, inputs[i], width=width, layers=layers), rtol=1e-3, atol=1e-3)
    assert max(active for _, active in samples) == 1, samples
    # Requests did overlap in the server (so nireq had something to serialise) ...
    assert max(current for current, _ in samples) >= 4, samples
    # ... and while several were inside, one ran and the others waited.
    assert any(current >= 3 and active == 1 for current, active in samples), samples


def thread_count(srv):
    return len(os.listdir(f"/proc/{srv.proc.pid}/task"))


def test_plugin_config_sets_streams_and_threads(start_server, tmp_path):
    """NUM_STREAMS shows in ovms_streams and in the default nireq (max(streams, cores), as OVMS's CPU
    plugin); INFERENCE_NUM_THREADS changes the number of threads the process really runs."""
    repo = sm.scale(str(tmp_path / "m"), ["n", 3])
    metrics = ["--metrics_enable", "--metrics_list", "ovms_streams,ovms_infer_req_queue_size"]
    srv = start_server(["--model_name", "m", "--model_path", repo, "--plugin_config", '{"NUM_STREAMS": "5"}'] + metrics,
                       wait_for="m")
    m = srv.metrics()
    assert m['ovms_streams{name="m",version="1"}'] == 5
    assert m['ovms_infer_req_queue_size{name="m",version="1"}'] == max(5, len(os.sched_getaffinity(0)))
    default = start_server(["--model_name", "m", "--model_path", repo] + metrics, wait_for="m").metrics()
    assert default['ovms_streams{name="m",version="1"}'] != 5

    counts = {}
    for threads in (1, 9):
        s = start_server(["--model_name", "m", "--model_path", repo, "--plugin_config",
                          json.dumps({"INFERENCE_NUM_THREADS": str(threads)})], wait_for="m")
        assert sm.predict(s, "m", {"x": np.ones((1, 3), np.float32)})[0] == 200
        counts[threads] = thread_count(s)
        s.stop()
    # 9 threads per inference = the calling thread + 8 pool threads; 1 = no pool.
    assert counts[9] - counts[1] >= 7, counts


def test_threads_follow_the_cpu_affinity(start_server, tmp_path):
    """Cores are counted from the affinity mask (taskset, cpusets) and the cgroup quota, not from the
    machine: PERFORMANCE_HINT THROUGHPUT makes one stream per usable core, and nireq follows."""
    cpus = sorted(os.sched_getaffinity(0))
    assert len(cpus) >= 2, "this test needs a machine with at least 2 cores to tell 1 from all"
    repo = sm.scale(str(tmp_path / "m"), ["n", 3])
    args = ["--model_name", "m", "--model_path", repo, "--plugin_config", '{"PERFORMANCE_HINT": "THROUGHPUT"}',
            "--metrics_enable", "--metrics_list", "ovms_streams,ovms_infer_req_queue_size"]
    every = start_server(args, wait_for="m").metrics()
    os.sched_setaffinity(0, {cpus[0]})  # the server inherits it, as under `taskset -c N`
    try:
        one = start_server(args, wait_for="m")
    finally:
        os.sched_setaffinity(0, set(cpus))
    m = one.metrics()
    assert m['ovms_streams{name="m",version="1"}'] == 1, m
    assert m['ovms_infer_req_queue_size{name="m",version="1"}'] == 1, m
    assert sm.predict(one, "m", {"x": np.ones((1, 3), np.float32)})[0] == 200
    # Unrestricted, the same flags use every core this test may use.
    assert every['ovms_streams{name="m",version="1"}'] == len(cpus), every


def test_unknown_plugin_config_key(start_server, tmp_path):
    repo = sm.scale(str(tmp_path / "m"), ["n", 3])
    srv = start_server(["--model_name", "m", "--model_path", repo, "--plugin_config", '{"NOT_A_KEY": "1"}'])
    sm.wait_status(srv, "m", ("LOADING", "UNKNOWN"))
    log = srv.read_log()
    assert "Plugin config contains unsupported keys" in log and "NOT_A_KEY" in log


def test_known_plugin_config_serves(start_server, tmp_path):
    repo = sm.scale(str(tmp_path / "m"), ["n", 3])
    srv = start_server(["--model_name", "m", "--model_path", repo, "--plugin_config",
                        '{"NUM_STREAMS": "2", "PERFORMANCE_HINT": "LATENCY"}'], wait_for="m")
    assert sm.predict(srv, "m", {"x": np.ones((1, 3), np.float32)})[0] == 200


def test_nireq_too_high(start_server, tmp_path):
    repo = sm.scale(str(tmp_path / "m"), ["n", 3])
    srv = start_server(["--model_name", "m", "--model_path", repo, "--nireq", "100001"])
    sm.wait_status(srv, "m", ("LOADING", "UNKNOWN"))
    assert "Nireq parameter too high" in srv.read_log()
