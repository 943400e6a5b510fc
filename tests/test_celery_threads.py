"""Celery's join guard is per thread in the suite (tests/conftest.py): an eager task running in another thread
(a simulated worker, a live server) does not make this thread's `.get()` fail, nor leave the guard set."""

import threading

import celery.result

from tenants.tasks import purge_login_history


def test_a_task_running_in_another_thread_does_not_stop_this_one_joining_a_result(db):
    inside, leave = threading.Event(), threading.Event()

    def task_in_another_thread():
        with celery.result.denied_join_result():  # what an eager task's apply does around its body
            inside.set()
            leave.wait(30)

    other = threading.Thread(target=task_in_another_thread)
    other.start()
    try:
        assert inside.wait(30)
        assert purge_login_history.apply().get() is not None
    finally:
        leave.set()
        other.join(30)
    assert celery.result.task_join_will_block() is False
