"""Where collection jobs run: RQ queues on Redis, or threads of this process (embedded mode)."""
from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from flask import Flask, current_app

log = logging.getLogger(__name__)


def enqueue_collect(account_id: int, worker_queue: str | None, trigger: str) -> None:
    from . import tasks

    config = current_app.config
    redis_client = current_app.extensions.get("intake_redis")
    if redis_client is not None:
        from rq import Queue

        queue = Queue(worker_queue or config["RQ_DEFAULT_QUEUE"], connection=redis_client)
        queue.enqueue(tasks.collect_account_job, account_id, trigger,
                      job_timeout=int(config["JOB_TIMEOUT_SECONDS"]), result_ttl=86400, failure_ttl=7 * 86400,
                      description=f"collect account {account_id} ({trigger})")
        return
    runner = current_app.extensions.get("intake_embedded")
    if runner is None:
        raise RuntimeError("no Redis configured and no embedded runner started (use `intake run`)")
    runner.submit(tasks.collect_account_job, account_id, trigger)


class EmbeddedRunner:
    """Embedded mode: a scheduler thread and a few worker threads calling the same job functions as RQ."""

    def __init__(self, app: Flask):
        self.app = app
        self.executor = ThreadPoolExecutor(max_workers=int(app.config["EMBEDDED_WORKERS"]),
                                           thread_name_prefix="intake-job")
        self.stopping = threading.Event()
        self.scheduler = threading.Thread(target=self._schedule, name="intake-scheduler", daemon=True)
        app.extensions["intake_embedded"] = self

    def start(self) -> "EmbeddedRunner":
        self.scheduler.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.executor.shutdown(wait=True, cancel_futures=True)

    def submit(self, func, *args):
        def call():
            with self.app.app_context():
                try:
                    return func(*args)
                except Exception:
                    log.exception("embedded job %s%r failed", func.__name__, args)
                    raise
        return self.executor.submit(call)

    def _schedule(self) -> None:
        from . import tasks

        interval = float(self.app.config["SCHEDULER_TICK_SECONDS"])
        while not self.stopping.is_set():
            with self.app.app_context():
                try:
                    tasks.scheduler_tick()
                except Exception:
                    log.exception("scheduler tick failed")
            self.stopping.wait(interval)
