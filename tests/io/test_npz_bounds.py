"""prune_core.io.npz_bounds: an upload's decompressed cost is judged from the zip directory and the .npy headers;
a refused archive is never read (np.load is not reached), an honest one loads as before."""

import numpy as np
import pytest

from prune_core.io import data, npz_bounds
from tests import badfiles

REFUSED = {c.id: c for c in badfiles.npz_cases()
           if c.id in ("npz-bomb", "npz-lying-header", "npz-too-large-decompressed", "npz-many-members", "npz-pickled")}


@pytest.mark.parametrize("case_id", sorted(REFUSED))
def test_refused_archives_are_judged_before_any_array_is_read(case_id, monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("np.load reached for an archive the bounds refuse")

    monkeypatch.setattr(np, "load", never)
    case = REFUSED[case_id]
    with pytest.raises(data.DataFileError) as info:
        data.load_npz(case.data, **case.kwargs)
    assert case.expected in str(info.value)


def test_an_honest_archive_declares_what_it_holds_and_loads_as_before():
    good = badfiles.good_arrays()
    raw = badfiles.npz_compressed(**good)
    members = npz_bounds.inspect_npz(raw, memory_limit=10**6)
    assert [(m.name, m.shape, m.declared_bytes, m.float32_bytes) for m in members] == [
        ("x_train", (12, 4), 192, 192), ("y_train", (12,), 96, 48), ("x_test", (6, 4), 96, 96), ("y_test", (6,), 48, 24)]
    ds = data.load_npz(raw, input_shape=(4,), num_classes=3)
    np.testing.assert_array_equal(ds.x_train, good["x_train"])
    np.testing.assert_array_equal(ds.y_test, good["y_test"])


def test_the_memory_limit_counts_the_float32_copy_of_the_images():
    raw = badfiles.npz_compressed(x_train=np.zeros((100, 10), np.uint8), y_train=np.zeros(100, np.int64))
    # 1,000 bytes of uint8 images + 800 of labels + 4,000 for the images' float32 copy = 5,800 bytes
    assert len(npz_bounds.inspect_npz(raw, memory_limit=5_800)) == 2
    with pytest.raises(npz_bounds.NpzBoundsError, match=r"5\.7 KB in memory .* the limit is 5\.7 KB"):
        npz_bounds.inspect_npz(raw, memory_limit=5_799)
