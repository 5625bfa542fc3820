"""What ``doorstep serve`` adds for monitoring: the metrics port and the JSON access log."""
from __future__ import annotations

import atexit
from typing import Any

from uvicorn.config import LOGGING_CONFIG

from ..config import Settings
from . import access, metrics


def start(settings: Settings, workers: int) -> dict[str, Any]:
    """Serve ``/metrics`` on ``metrics_port`` when it is set (in multiprocess mode for more than
    one worker: call before the workers start), and give uvicorn's options for the access log:
    ours, as JSON lines on stdout, in place of uvicorn's own."""
    if settings.metrics_port:
        atexit.register(metrics.cleanup_multiprocess, metrics.prepare_multiprocess(workers))
        metrics.serve(settings.metrics_port, settings.metrics_host, settings.db_path)
        print(f"metrics on http://{settings.metrics_host}:{settings.metrics_port}/metrics", flush=True)
    return {"access_log": False, "log_config": access.log_config(LOGGING_CONFIG)}
