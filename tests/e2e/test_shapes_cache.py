"""--cache_dir: the optimised model is cached, reused on restart, and a corrupt entry is ignored."""
import glob
import os

import numpy as np

import shape_models as sm


def _cache_entries(cache):
    return sorted(p for p in glob.glob(os.path.join(cache, "*.onnx")))


def _run_once(start_server, repo, cache):
    srv = start_server(["--model_name", "m", "--model_path", repo, "--cache_dir", cache], wait_for="m")
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    status, body = sm.predict(srv, "m", {"x": x})
    assert status == 200, body
    np.testing.assert_allclose(np.array(body["outputs"]), x * 2)
    assert srv.stop() == 0
    with open(srv.log_path, "rb") as f:
        return f.read().decode(errors="replace")


def test_cache_created_and_reused(start_server, tmp_path):
    repo = sm.scale(str(tmp_path / "m"), ["n", 3])
    cache = str(tmp_path / "cache")
    log = _run_once(start_server, repo, cache)
    entries = _cache_entries(cache)
    assert len(entries) == 1 and os.path.getsize(entries[0]) > 0
    assert "Saved optimized model to cache" in log
    log = _run_once(start_server, repo, cache)
    assert "Loaded model from cache" in log
    assert _cache_entries(cache) == entries


def test_cache_key_changes_with_options(start_server, tmp_path):
    repo = sm.scale(str(tmp_path / "m"), ["n", 3])
    cache = str(tmp_path / "cache")
    _run_once(start_server, repo, cache)
    srv = start_server(["--model_name", "m", "--model_path", repo, "--cache_dir", cache, "--batch_size", "2"],
                       wait_for="m")
    assert srv.stop() == 0
    assert len(_cache_entries(cache)) == 2


def test_corrupt_cache_entry_is_ignored(start_server, tmp_path):
    repo = sm.scale(str(tmp_path / "m"), ["n", 3])
    cache = str(tmp_path / "cache")
    _run_once(start_server, repo, cache)
    [entry] = _cache_entries(cache)
    with open(entry, "wb") as f:
        f.write(b"\x00garbage" * 10)
    log = _run_once(start_server, repo, cache)
    assert "is corrupt; it is rebuilt" in log
    # Rewritten: the next start loads from it again.
    log = _run_once(start_server, repo, cache)
    assert "Loaded model from cache" in log
