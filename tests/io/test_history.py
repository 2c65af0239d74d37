"""Run history: SQLite round trips, workspaces, deletion, CSV, threads, the data directory."""

import io
import threading

import numpy as np
import pandas as pd
import pytest

from prune_core.io import history as hs


def record(i=0, mode="oneshot", **extra):
    return {"mode": mode, "label": f"run {i}", "dense_accuracy": 0.98, "pruned_accuracy": 0.5 + i / 100,
            "final_accuracy": 0.9 + i / 100, "sparsity": 0.5, "nonzero_params": 1000 - i, "gzip_bytes": 4000 + i,
            "latency_ms": 1.5, "seconds": 2.0, "settings": {"epochs": 1, "seed": i, "criterion": "magnitude"},
            "layer_sparsity": {"h": 0.5, "out": 0.5}, "history": {"loss": [1.0, 0.5]},
            "rounds": [{"round": 1, "sparsity": 0.2}], "dense": {"gzip_bytes": 9000, "nonzero_params": 2000},
            **extra}


@pytest.fixture
def store(tmp_path):
    return hs.RunStore(tmp_path / "runs.sqlite")


def test_round_trip_and_survives_a_new_store(store, tmp_path):
    first = store.add("default", record(1))
    second = store.add("default", record(2, mode="gradual"))
    assert (first, second) == (1, 2)
    again = hs.RunStore(tmp_path / "runs.sqlite")
    got = again.get("default", first)
    assert {k: v for k, v in got.items() if k not in ("run_id", "created_at")} == record(1)
    assert got["run_id"] == 1 and isinstance(got["created_at"], float)
    frame = again.list("default")
    assert frame["run_id"].tolist() == [1, 2] and frame["mode"].tolist() == ["oneshot", "gradual"]
    assert frame["final_accuracy"].tolist() == [0.91, 0.92]
    assert frame["settings.seed"].tolist() == [1, 2] and frame["dense.gzip_bytes"].tolist() == [9000, 9000]
    assert list(frame.columns[:len(hs.LEADING_COLUMNS)]) == list(hs.LEADING_COLUMNS)
    assert "history" not in frame.columns and "rounds" not in frame.columns  # curves: get() has them
    assert [r["rounds"] for r in again.records("default")] == [[{"round": 1, "sparsity": 0.2}]] * 2


def test_workspaces_isolate_runs(store):
    assert store.workspaces() == ["default"]
    assert store.create_workspace("  lenet sweep ") == "lenet sweep"
    store.add("lenet sweep", record(1))
    store.add("default", record(2))
    store.add("new-one", record(3))  # created on first add
    assert store.workspaces() == ["default", "lenet sweep", "new-one"]
    assert store.list("lenet sweep")["label"].tolist() == ["run 1"]
    assert store.list("default")["label"].tolist() == ["run 2"]
    assert store.get("default", 1) is None and store.count("new-one") == 1
    with pytest.raises(ValueError, match="already exists"):
        store.create_workspace("lenet sweep")
    assert store.create_workspace("lenet sweep", exist_ok=True) == "lenet sweep"


@pytest.mark.parametrize("name, message", [
    ("", "cannot be empty"), ("   ", "cannot be empty"), ("-dash", "not allowed"), ("a/b", "not allowed"),
    ("x" * 41, "not allowed"), ("drop;table", "not allowed"), (3, "must be text"),
])
def test_workspace_names_are_validated(store, name, message):
    with pytest.raises(ValueError, match=message):
        store.create_workspace(name)


def test_delete_asks_for_the_right_workspace(store):
    a = store.add("default", record(1))
    b = store.add("other", record(2))
    assert store.delete("other", a) is False            # run 1 belongs to "default"
    assert store.delete("default", b) is False          # and run 2 to "other"
    assert store.delete("default", a) is True and store.delete("default", a) is False
    assert store.list("default").empty and store.count("other") == 1
    assert store.add("default", record(3)) == 3         # ids are never reused
    assert store.delete_workspace("other") == 1 and store.workspaces() == ["default"]
    with pytest.raises(ValueError, match="cannot be deleted"):
        store.delete_workspace("default")
    assert store.clear("default") == 1


def test_empty_list_has_the_leading_columns(store):
    frame = store.list("default")
    assert frame.empty and list(frame.columns) == list(hs.LEADING_COLUMNS)


def test_csv_parses_back(store):
    store.add("default", record(1))
    store.add("default", record(2, compact={"params": 10, "units": {"h": [4, 8]}}))
    text = store.to_csv("default")
    back = pd.read_csv(io.StringIO(text))
    assert back["run_id"].tolist() == [1, 2] and back["final_accuracy"].tolist() == [0.91, 0.92]
    assert back["settings.criterion"].tolist() == ["magnitude", "magnitude"]
    assert back["compact.units"].tolist()[1] == '{"h": [4, 8]}'
    assert pd.isna(back["compact.params"].tolist()[0]) and back["compact.params"].tolist()[1] == 10


def test_records_refuse_models_and_accept_numpy(store):
    import numpy as np
    run_id = store.add("default", record(1, sparsity=np.float32(0.25), extra=np.arange(3)))
    got = store.get("default", run_id)
    assert got["sparsity"] == 0.25 and got["extra"] == [0, 1, 2]
    with pytest.raises(ValueError, match="cannot hold a object"):
        store.add("default", record(2, model=object()))
    with pytest.raises(ValueError, match="must be a dict"):
        store.add("default", [1, 2])


def test_threads_share_one_store(store):
    def work(i):
        for j in range(10):
            store.add(f"ws{i % 2}", record(j))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.count("ws0") == 20 and store.count("ws1") == 20
    ids = store.list("ws0")["run_id"].tolist() + store.list("ws1")["run_id"].tolist()
    assert len(set(ids)) == 40


def test_data_dir_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(hs.ENV_DATA_DIR, str(tmp_path / "data"))
    store = hs.default_store()
    assert store.path == tmp_path / "data" / "runs.sqlite" and store.path.exists()
    monkeypatch.delenv(hs.ENV_DATA_DIR)
    assert hs.data_dir() == hs.Path.home() / ".pruning-explorer"


def test_a_real_run_record_round_trips(store):
    """A RunResult's record (nested dicts, NaN-free floats, None latency) comes back equal."""
    rec = record(1, latency_ms=None, compact=None, events=[{"step": 0, "target": 0.0, "sparsity": 0.0}],
                 stopped_because="")
    run_id = store.add("default", rec)
    got = store.get("default", run_id)
    assert {k: v for k, v in got.items() if k not in ("run_id", "created_at")} == rec


# --- Pareto front ---------------------------------------------------------------------------------------

def test_pareto_front_keeps_the_non_dominated_rows():
    df = pd.DataFrame({"x": [4, 1, 2, 3, 2, 5, np.nan], "y": [0.95, 0.5, 0.9, 0.8, 0.9, 0.95, 1.0],
                       "name": list("abcdefg")})
    front = hs.pareto_front(df, "x", "y")
    assert front["name"].tolist() == ["b", "c", "a"]  # e ties with c (first kept), f is beaten by a, g has NaN
    flipped = hs.pareto_front(df, "x", "y", minimize_x=False)  # larger x and higher y
    assert flipped["name"].tolist() == ["f"]
    assert hs.pareto_front(df.iloc[:0], "x", "y").empty
