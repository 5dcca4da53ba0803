"""The Amazon EKS Kubernetes version calendar, and what a stack may run.

Dates as published on 2026-11-28. Sources:
- 1.30-1.34: awsdocs/amazon-eks-user-guide@013856044148d6eeed4723027a45aa2180536bcb:
  latest/ug/versioning/kubernetes-versions.adoc ("Amazon EKS Kubernetes release calendar");
  standard support is the first 14 months after release, extended support the next 12.
- 1.35: https://endoflife.date/amazon-eks (EKS release 2026-01-28); AWS's own pages announce it
  ("Kubernetes 1.35 is now available in Amazon EKS", kubernetes-versions-standard).
- 1.36: AWS's pages announce it ("Kubernetes 1.36 is now available in Amazon EKS",
  docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions-standard.html; kube-proxy
  v1.36.0-eksbuild.14 in managing-kube-proxy); the dates are the 14 + 12 month rule applied to
  the 2026-06-02 EKS release. 1.37 is not on EKS yet (aws/containers-roadmap#2864).
Update this table when AWS publishes a version; tests/config/test_eks_versions.py keeps it
consistent.

Upgrades go one minor at a time, control plane first, then nodes, then add-ons
(awsdocs/amazon-eks-user-guide: latest/ug/clusters/update-cluster.adoc). With upgrade policy
STANDARD, EKS upgrades the control plane itself when standard support ends
(API_UpgradePolicyRequest: "If the cluster is set to STANDARD, it will be automatically
upgraded at the end of standard support").
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

WARN_DAYS = 60
AS_OF = datetime.date(2026, 11, 28)


@dataclass(frozen=True)
class EksVersion:
    version: str
    released: datetime.date
    end_of_standard: datetime.date
    end_of_extended: datetime.date

    @property
    def minor(self) -> int:
        return minor(self.version)


def _d(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)


CALENDAR: tuple[EksVersion, ...] = (
    EksVersion("1.30", _d("2024-05-23"), _d("2025-07-23"), _d("2026-07-23")),
    EksVersion("1.31", _d("2024-09-26"), _d("2025-11-26"), _d("2026-11-26")),
    EksVersion("1.32", _d("2025-01-23"), _d("2026-03-23"), _d("2027-03-23")),
    EksVersion("1.33", _d("2025-05-29"), _d("2026-07-29"), _d("2027-07-29")),
    EksVersion("1.34", _d("2025-10-02"), _d("2026-12-02"), _d("2027-12-02")),
    EksVersion("1.35", _d("2026-01-28"), _d("2027-03-27"), _d("2028-03-27")),
    EksVersion("1.36", _d("2026-06-02"), _d("2027-08-02"), _d("2028-08-02")),
)
BY_VERSION = {v.version: v for v in CALENDAR}


def today() -> datetime.date:
    """The date support is judged on (a function, so tests can fix it)."""
    return datetime.date.today()


def minor(version: str) -> int:
    return int(version.split(".")[1])


def default_version(on: datetime.date) -> str:
    """The newest version in standard support on ``on``."""
    current = [v for v in CALENDAR if v.released <= on < v.end_of_standard]
    return max(current, key=lambda v: v.minor).version


def support_problem(version: str, on: datetime.date) -> str | None:
    """Why a stack may not run ``version`` on ``on``, or None."""
    known = BY_VERSION.get(version)
    if known is None:
        listed = ", ".join(v.version for v in CALENDAR)
        return f"{version} is not an EKS version this program knows ({listed}; as of {AS_OF})"
    if on >= known.end_of_extended:
        return f"{version} left extended support on {known.end_of_extended}: upgrade first"
    if on < known.released:
        return f"{version} is not released on EKS until {known.released}"
    return None


def support_warning(version: str, support_type: str, on: datetime.date) -> str | None:
    """A warning when standard support ends within ``WARN_DAYS`` of ``on``, or has ended."""
    known = BY_VERSION.get(version)
    if known is None:
        return None
    days = (known.end_of_standard - on).days
    if days > WARN_DAYS:
        return None
    when = (
        f"left standard support on {known.end_of_standard}"
        if days <= 0
        else f"leaves standard support on {known.end_of_standard} (in {days} days)"
    )
    consequence = (
        "EKS will upgrade the control plane itself, ahead of the nodes"
        if support_type == "STANDARD"
        else "extended support costs more per cluster hour"
    )
    return f"Kubernetes {version} {when}: {consequence}; upgrade one minor at a time"


def upgrade_problem(before: str, after: str) -> str | None:
    """Why EKS would refuse to move a cluster from ``before`` to ``after``, or None."""
    step = minor(after) - minor(before)
    if step < 0:
        return (
            f"{before} -> {after} is a rollback: EKS allows one minor back within 7 days of the "
            "upgrade and rolls back neither add-ons nor node groups "
            "(awsdocs/amazon-eks-user-guide: latest/ug/clusters/rollback-cluster.adoc)"
        )
    if step > 1:
        return f"{before} -> {after} skips minors: EKS upgrades one minor at a time"
    return None
