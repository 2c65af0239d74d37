"""prune_core.viz.words: run labels, settings and model names in words for people."""

from prune_core.viz import words


def test_words_for_people():
    assert words.human_label("init · snip · global · 90.0% · rewind-weights") == \
        "at initialization · snip · global · 90.0% · weight rewinding"
    assert words.human_label("my own label") == "my own label"
    assert words.setting_name("batch_size") == "Batch size" and words.setting_name("some_new_key") == "Some new key"
    assert words.setting_text("values", '{"dense1": 50.0, "dense2": 60.0}', {"rule": "sparsity"}) == \
        "dense1 50%, dense2 60%"
    assert words.setting_text("values", {"h": 0.3}, {"rule": "coefficient"}) == "h 0.3"
    assert words.setting_text("values", "2:4", {"rule": "nm"}) == "2:4"
    assert words.setting_text("value", 0.9, {"rule": "sparsity"}) == "90%"
    assert words.setting_text("tolerance", 0.01) == "1 pts" and words.setting_text("initial_sparsity", 0.855) == "85.5%"
    assert words.model_name("mlp-128 · trained here") == "MLP 784-128-10 · trained here"
