"""What a roll import did (``RollReport``), and the report as text for the CLI."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MAX_REJECTS_KEPT = 10_000


@dataclass
class RollReport:
    """What an import did (or, in a dry run, would do). Counts are of records, not rows,
    except ``rows_read`` and ``rejected``."""

    date: str = ""
    full: bool = False
    dry_run: bool = False
    rows_read: int = 0
    schools_created: int = 0
    schools_updated: int = 0
    pupils_created: int = 0
    pupils_updated: int = 0
    pupils_unchanged: int = 0
    pupils_moved: int = 0     # an existing pupil whose main school changed
    pupils_left: int = 0      # newly marked as left (a left_on in the file, or missing from a full roll)
    households_created: int = 0
    households_updated: int = 0
    enrolments_opened: int = 0
    enrolments_closed: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)  # {line, reason, row}
    rejected_total: int = 0
    alerts: list[dict[str, Any]] = field(default_factory=list)
    leaving: list[dict[str, Any]] = field(default_factory=list)   # per school of a full roll
    refused: bool = False
    refusal: str = ""
    ignored_columns: list[str] = field(default_factory=list)
    not_saved: list[str] = field(default_factory=list)  # changes the sync engine refused (should not happen)

    def reject(self, line: int, reason: str, row: dict[str, str]) -> None:
        self.rejected_total += 1
        if len(self.rejected) < MAX_REJECTS_KEPT:
            self.rejected.append({"line": line, "reason": reason, "row": row})

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def summary(report: RollReport) -> str:
    what = "would change (dry run)" if report.dry_run else "refused, nothing changed" if report.refused else "imported"
    return (f"roll {what}, dated {report.date}{', full roll' if report.full else ''}: "
            f"{report.rows_read} rows read, {report.rejected_total} rejected; "
            f"schools {report.schools_created} created, {report.schools_updated} updated; "
            f"pupils {report.pupils_created} created, {report.pupils_updated} updated "
            f"({report.pupils_moved} moved school), {report.pupils_unchanged} unchanged, "
            f"{report.pupils_left} marked as left; households {report.households_created} created, "
            f"{report.households_updated} updated; {len(report.alerts)} alerts")


def print_report(report: RollReport, out: Any) -> None:
    print(summary(report), file=out)
    if report.ignored_columns:
        print("ignored columns: " + ", ".join(report.ignored_columns), file=out)
    for school in (s for s in report.leaving if s["leaving"]):
        print(f"full roll of {school['name']} (URN {school['urn']}): {school['leaving']} of {school['on_roll']} "
              "pupils on roll are not in the file" + (" and would be marked as left" if report.dry_run or
                                                     report.refused else " and were marked as left"), file=out)
    for row in report.rejected:
        print(f"line {row['line']}: {row['reason']}", file=out)
    if report.rejected_total > len(report.rejected):
        print(f"... and {report.rejected_total - len(report.rejected)} more rejected rows", file=out)
    for alert in report.alerts:
        print(("would alert: " if report.dry_run else "alert: ") + alert["detail"], file=out)
