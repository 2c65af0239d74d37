"""AppTest: an uploaded model is named in every page's URL; a reload (a new session whose URL names an upload it
does not hold) says which file must be uploaded again, on the page it landed on, instead of silently showing the
default baseline."""

from prune_core.io import data
from tests.apptest import page_test
from ui.text import md

NOTICE = ("The uploaded model “my net [v2].keras” is not here any more: uploads are kept in this browser session's "
          "memory only, and a reload starts a new session on the default baseline. Upload it again on the Model page "
          "to go on; finished runs stay on Compare, and their saved models on Deploy.")


def test_a_reload_names_the_upload_that_is_gone_on_the_page_it_landed_on():
    at = page_test("compare", upload="my net [v2].keras").run()
    assert not at.exception
    assert [w.value for w in at.warning] == [md(NOTICE)]
    assert "upload" not in at.query_params  # the new session holds no upload: the URL stops naming it
    at.run()
    assert [w.value for w in at.warning] == [md(NOTICE)]  # still there on a rerun of the same page
    at.switch_page("pages/worked_example.py").run()
    assert not at.warning  # not repeated on every page


def test_an_uploaded_model_is_named_in_the_url_and_no_notice_shows():
    from ui import upload

    at = page_test("model").run()
    content = data.BASELINE_PATH.read_bytes()
    at.session_state["model_entry"] = upload.entry_from_upload(content, "lenet copy.keras")
    at.switch_page("pages/worked_example.py").run()
    assert not at.exception and not at.warning
    assert at.query_params["upload"] == "lenet copy.keras"
