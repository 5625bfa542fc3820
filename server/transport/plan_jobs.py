"""Planning as a background job: ``POST /api/transport/plan-jobs`` checks the request at once and
queues a ``transport_plan`` job (server/jobs.py); the job solves in a process of its own
(``python -m server.planner.cli``, so the server stays responsive and the plan's time budget is a
hard limit: the process is killed at the budget plus ``GRACE_S``), reports progress (time used ÷
budget) while it runs and stores the answer ``POST /api/transport/plan`` would have given.
``GET /api/transport/plan-jobs/{id}`` follows it."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sync import Actor

from .. import audit, jobs
from ..planner.budget import default_budget
from ..state import AppState
from . import plan as planning

KIND = "transport_plan"
KINDS = (KIND, "transport_county_plan")  # single-school runs; a county plan (county_plan.py)
GRACE_S = 10.0  # the planner process is killed this long after its budget: a hard limit
POLL_S = 0.25
ROOT = Path(__file__).resolve().parents[2]


def start(st: AppState, actor: Actor, device_id: str | None, body: dict[str, Any],
          extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Check the request as ``plan_runs`` does (a 4xx now, not a failed job later) and queue it;
    ``extra`` is kept with the job (the office keeps its form there)."""
    req = planning.check(st, body)
    budget = req["time_budget_s"] or default_budget(len(req["pupil_ids"]))
    args = {**(extra or {}), "body": body, "user_id": actor.user_id, "role": actor.role,
            "device_id": device_id, "time_budget_s": budget}
    job_id = jobs.submit(st.db, KIND, args, actor.user_id)
    return {"job_id": job_id, "status": "queued", "time_budget_s": budget,
            "status_url": f"/api/transport/plan-jobs/{job_id}"}


def status(st: AppState, job_id: str) -> dict[str, Any] | None:
    """The job as the API shows it; None if there is no such planning job."""
    job = jobs.get(st.db, job_id)
    if job is None or job["kind"] not in KINDS:
        return None
    progress = job.get("progress") or {}
    budget = job["args"].get("time_budget_s") or 0
    used = float(progress.get("elapsed_s", 0.0))
    done = job["status"] == "done"
    return {"job_id": job["id"], "status": job["status"],
            "progress": {"elapsed_s": round(used, 2), "time_budget_s": budget,
                         "fraction": 1.0 if done else round(min(1.0, used / budget) if budget else 0.0, 3)},
            "best_so_far": None if done else progress.get("best_so_far"),
            "result": (job.get("result") or {}).get("answer") if done else None,
            "error": job.get("error")}


def first_summary(plan: dict[str, Any] | None, names: dict[str, str]) -> dict[str, Any] | None:
    """The office's view of a job's ``best_so_far`` (a school's plan or a county's, docs/routing.md
    sections 2 and 6.2): how many are placed and each run's vehicle (by ``names``), pupils, times
    and cost. Counts only, no pupil's name, while the search goes on."""
    if not plan:
        return None
    runs = []
    for r in plan.get("routes", []):
        aboard = sum(len(s.get("pupils", [1])) for s in r["stops"] if s.get("type", "pickup") == "pickup")
        runs.append({"vehicle": names.get(r["vehicle"], r["vehicle"]), "pupils": aboard, "depart": r["depart"][:5],
                     "end": (r.get("end") or r.get("school_arrival") or "")[:5], "cost": r.get("cost")})
    return {"placed": sum(r["pupils"] for r in runs), "unplaced": len(plan.get("unplaced", [])),
            "runs": runs, "total_cost": plan.get("total_cost")}


def vehicle_names(args: dict[str, Any]) -> dict[str, str]:
    """A school's plan job's vehicles as the planner calls them (``v0``, ``v1``…), by name."""
    return {f"v{n}": str(v.get("vehicle") or f"vehicle {n + 1}") if isinstance(v, dict) else f"vehicle {n + 1}"
            for n, v in enumerate((args.get("body") or {}).get("vehicles") or [])}


def run_job(ctx: jobs.JobContext) -> dict[str, Any]:
    """Plan (in a subprocess), then create the runs unless it is a dry run. On a second attempt
    after the runs were created, the stored answer is returned, so nothing is created twice."""
    if ctx.resume.get("answer") is not None:
        return {"answer": ctx.resume["answer"]}
    st = ctx.state
    assert st is not None, "transport planning needs the app's state"
    args = ctx.args
    actor = Actor(args["user_id"], args["role"], args.get("device_id"))
    budget = float(args["time_budget_s"])

    def solve(problem: dict[str, Any]) -> dict[str, Any]:
        return _solve_apart(ctx, problem, budget)

    planned = planning.plan_runs(st, actor, args["body"], solve=solve)
    answer = planned.answer
    with st.db.write() as txn:
        planning.create(txn, planned, st.clock)
        if not answer["dry_run"]:  # a dry run is audited when someone reads it (the API, the office page)
            audit.record(txn, actor.user_id, actor.device_id, "transport_plan",
                         [s["pupil_id"] for r in answer["runs"] for s in r["stops"]],
                         {"dry_run": False, "runs": [r["id"] for r in answer["runs"]], "job": ctx.id})
        # in the same transaction as the runs: a re-run after a crash finds them made
        txn.execute("UPDATE jobs SET progress = json_set(COALESCE(progress, '{}'), '$.answer', json(?)) "
                    "WHERE id = ?", (json.dumps(answer), ctx.id))
    ctx.fields["answer"] = answer
    return {"answer": answer}


def solve_apart(ctx: jobs.JobContext, problem: dict[str, Any], budget: float) -> dict[str, Any]:
    """Plan ``problem`` in a process of its own under ``budget`` (county plans use it too)."""
    return _solve_apart(ctx, problem, budget)


def _solve_apart(ctx: jobs.JobContext, problem: dict[str, Any], budget: float) -> dict[str, Any]:
    """`doorstep plan` in a process of its own, reporting progress and, once the first solver has
    finished, its plan as ``best_so_far`` (the search goes on); killed at budget + GRACE_S."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as f:
        json.dump(problem, f)
    interim = Path(f"{f.name}.first")
    cmd = [sys.executable, "-m", "server.planner.cli", "--problem", f.name, "--time-budget", str(budget),
           "--interim", str(interim)]
    started = time.monotonic()
    try:
        with subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT)}) as proc:
            try:
                while True:
                    try:
                        out, err = proc.communicate(timeout=POLL_S)
                        break
                    except subprocess.TimeoutExpired:
                        elapsed = time.monotonic() - started
                        if elapsed > budget + GRACE_S:
                            raise RuntimeError(f"the planner took longer than its {budget:g} s budget "
                                               f"and {GRACE_S:g} s more, and was stopped") from None
                        if "best_so_far" not in ctx.fields and interim.exists():
                            ctx.fields["best_so_far"] = json.loads(interim.read_text(encoding="utf-8"))
                        ctx.progress(elapsed_s=round(elapsed, 2))
            except BaseException:
                proc.kill()
                raise
    finally:
        Path(f.name).unlink(missing_ok=True)
        interim.unlink(missing_ok=True)
    ctx.fields.pop("best_so_far", None)  # the plan itself follows: not kept twice
    ctx.progress(elapsed_s=round(time.monotonic() - started, 2))
    if proc.returncode != 0:
        raise RuntimeError((err.strip().splitlines() or [f"the planner exited with {proc.returncode}"])[-1])
    result: dict[str, Any] = json.loads(out)
    return result


jobs.register(KIND, run_job)
