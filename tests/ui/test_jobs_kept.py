"""ui.jobs keeps every finished job's result (newest first, the last KEEP of each kind); a failed one is shown,
not kept, and never removes an earlier result."""

from streamlit.testing.v1 import AppTest


def script():
    import streamlit as st

    from ui import jobs

    n = st.session_state.get("n", 0)
    if st.button("ok"):
        jobs.start(f"job {n}", "work", lambda job: n).wait(10)
        st.session_state["n"] = n + 1
    if st.button("fail"):
        jobs.start("bad", "work", lambda job: (_ for _ in ()).throw(ValueError("no"))).wait(10)
    if st.button("other"):
        jobs.start("other", "other", lambda job: "x").wait(10)
    jobs.panel("work")
    st.write(repr(jobs.results("work")), repr(jobs.dropped("work")), repr(jobs.results("other")))


def shown(at):
    return at.markdown[-1].value


def test_finished_jobs_are_kept_newest_first_bounded_and_failures_do_not_displace_them():
    at = AppTest.from_function(script).run()
    at.button[0].click().run()
    at.button[0].click().run()
    assert shown(at) == "[1, 0] 0 []"
    at.button[1].click().run()  # a failing job: its error shows, the results stay
    assert at.error[0].value == "bad stopped: no"
    at.button[2].click().run()  # another kind takes the job slot
    assert shown(at) == "[1, 0] 0 ['x']"
    for _ in range(10):
        at.button[0].click().run()
    assert shown(at) == "[11, 10, 9, 8, 7, 6, 5, 4, 3, 2] 2 ['x']"  # the last 10 kept, 2 dropped


def cancel_script():
    import time

    import streamlit as st

    from prune_core.experiments.executor import LocalExecutor
    from ui import jobs

    calls = st.session_state.setdefault("calls", [])

    def point(job, i):
        calls.append(i)
        for step in range(3000):  # ~30 s unless cancelled
            job.progress(step / 3000, f"point {i} · step {step}")
            time.sleep(0.01)
        return i

    def work(job):
        return LocalExecutor().map(lambda shared, i: point(job, i), [0, 1, 2])

    if st.button("start"):
        jobs.start("long sweep", "work", work)
    if st.button("cancel"):
        jobs.current().cancel()
        jobs.current().wait(10)
    jobs.panel("work")
    st.write(repr(jobs.results("work")), repr(calls))


def test_a_cancelled_job_stops_at_its_next_progress_report_and_keeps_nothing():
    at = AppTest.from_function(cancel_script, default_timeout=30).run()
    at.button[0].click().run()
    assert at.button(key="job_cancel_work").label == "Cancel"  # the running job's panel offers Cancel
    at.button[1].click().run()
    assert at.info[0].value.startswith("long sweep was cancelled after ")
    assert at.info[0].value.endswith(" s; nothing of it was kept.")
    assert shown(at) == "[] [0]"  # no result; the executor neither retried the point nor went on to the next
