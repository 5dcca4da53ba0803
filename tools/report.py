"""Sections of the offline plan's report: the resource tree, what reaches the API server, the
storage classes, rule verdicts and counts. Each reads the recorded graph, not the config, so the
report shows what the program would really register."""

from __future__ import annotations

import datetime
from datetime import timedelta

from config import StackConfig
from config import rules as config_rules
from config.schedules import longest_gap
from design import eks_versions
from design import storage as sc
from design.snapshots import POLICY_LABEL
from design.storage.backend import Backend
from design.storage.registry import by_provisioner
from policies import rules
from tools.offline import Plan

CLUSTER = "aws:eks/cluster:Cluster"
HTTPS = 443
CRON_JOB = "kubernetes:batch/v1:CronJob"
VELERO_SCHEDULE = "kubernetes:velero.io/v1:Schedule"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
STORAGE_CLASS = "kubernetes:storage.k8s.io/v1:StorageClass"
STORAGE_CLASS_PATCH = "kubernetes:storage.k8s.io/v1:StorageClassPatch"
DEFAULT_ANNOTATION = "storageclass.kubernetes.io/is-default-class"
SUMMARY_PARAMETERS = ("type", "iops", "throughput", "blockExpress", "kmsKeyId", "fileSystemId")


def tree_lines(plan: Plan) -> list[str]:
    children: dict[str, list] = {}
    for resource in plan:
        children.setdefault(resource.parent, []).append(resource)
    roots = [r for r in plan if r.parent not in plan.by_urn]
    lines: list[str] = []

    def walk(resource, depth: int) -> None:
        flags = [
            flag
            for flag, on in (
                ("protect", resource.protect),
                ("retain", resource.options["retainOnDelete"]),
            )
            if on
        ]
        suffix = f"  [{', '.join(flags)}]" if flags else ""
        lines.append(f"{'    ' * depth}+ {resource.type}  {resource.name}{suffix}")
        for child in sorted(children.get(resource.urn, []), key=lambda r: (r.type, r.name)):
            walk(child, depth + 1)

    for root in sorted(roots, key=lambda r: (r.type, r.name)):
        walk(root, 1)
    return lines


def count_lines(plan: Plan) -> list[str]:
    counts = plan.type_counts()
    width = max(len(t) for t in counts)
    return [f"  {t:<{width}}  {n:>4}" for t, n in sorted(counts.items())]


def storage_class_lines(plan: Plan) -> list[str]:
    """One line per StorageClass with what decides its SLA and its safety."""
    lines = []
    for r in sorted(plan.of_type(STORAGE_CLASS), key=lambda r: r.inputs["metadata"]["name"]):
        meta, inputs = r.inputs["metadata"], r.inputs
        default = (meta.get("annotations") or {}).get(DEFAULT_ANNOTATION) == "true"
        params = inputs.get("parameters") or {}
        shown = " ".join(f"{k}={params[k]}" for k in SUMMARY_PARAMETERS if k in params)
        retired = (meta.get("labels") or {}).get(sc.RETIRED_LABEL) == "true"
        mark = " (default)" if default else " (retired)" if retired else ""
        lines.append(
            f"  {meta['name']:<24}{mark:<11}"
            f"{inputs['provisioner']:<17} {inputs['volumeBindingMode']:<21} "
            f"reclaim={inputs['reclaimPolicy']:<7} "
            f"expand={str(inputs['allowVolumeExpansion']).lower()}"
            f"  {shown}"
        )
        backend = by_provisioner(inputs["provisioner"])
        if backend is not None and backend.volume_limit is not None:
            lines.append(_access_points(plan, inputs, backend))
    return lines


def _access_points(plan: Plan, inputs: dict, backend: Backend) -> str:
    """A file-system backend (EFS): each volume is an access point, and a Retained PV keeps its
    own."""
    driver = next(
        (
            a.inputs["addonVersion"]
            for a in plan.of_type("aws:eks/addon:Addon")
            if a.inputs["addonName"] == backend.addon
        ),
        "",
    )
    limit = backend.volume_limit(driver, inputs["parameters"])
    kept = " (Retain keeps one per released PV)" if inputs["reclaimPolicy"] == "Retain" else ""
    return (
        f"  {'':<24}{'':<11}at most {limit} volumes on the file system{kept}; "
        "sizes are nominal (EFS is elastic: app quotas bound the requests)"
    )


def verdicts(plan: Plan, settings: rules.Settings) -> list[rules.Verdict]:
    subjects = [rules.Subject(r.type, r.name, r.urn, r.inputs, r.protect) for r in plan]
    return rules.evaluate(subjects, settings)


def verdict_lines(plan: Plan, results: list[rules.Verdict]) -> list[str]:
    lines = []
    for v in sorted(results, key=lambda v: (v.principle, v.name)):
        status = "PASS" if not v.failed else ("FAIL" if v.enforcement == "mandatory" else "WARN")
        count = f"  {len(v.violations)} violation(s)" if v.failed else ""
        lines.append(f"  {status}  {v.principle:<3} {v.name:<38} {v.enforcement:<9}{count}")
        for urn, message in v.violations:
            name = plan.by_urn[urn].name if urn in plan.by_urn else urn
            lines.append(f"          - {name}: {message}")
    return lines


def reach_lines(plan: Plan) -> list[str]:
    """From where the deployer (and anyone else) can reach the Kubernetes API server."""
    lines = []
    for cluster in plan.of_type(CLUSTER):
        vpc = cluster.inputs["vpcConfig"]
        if vpc.get("endpointPublicAccess"):
            cidrs = ", ".join(vpc.get("publicAccessCidrs") or []) or "anywhere"
            lines.append(f"  public endpoint   {cidrs}")
        else:
            lines.append("  public endpoint   off")
        group = cluster.outputs["vpcConfig"]["clusterSecurityGroupId"]
        sources = [
            r.inputs.get("cidrIpv4") or r.inputs.get("referencedSecurityGroupId")
            for r in plan.of_type(INGRESS_RULE)
            if r.inputs["securityGroupId"] == group
            and r.inputs["fromPort"] <= 443 <= r.inputs["toPort"]
        ]
        admitted = f"; on 443 from {', '.join(sources)}" if sources else "; nothing else admitted"
        lines.append(f"  private endpoint  the cluster security group's members{admitted}")
    return lines


def version_lines(plan: Plan, on: datetime.date | None = None) -> list[str]:
    """The cluster's Kubernetes version, its EKS support window and the upgrade policy."""
    on = on or eks_versions.today()
    lines = []
    for cluster in plan.of_type(CLUSTER):
        version = cluster.inputs["version"]
        policy = (cluster.inputs.get("upgradePolicy") or {}).get("supportType", "STANDARD")
        known = eks_versions.BY_VERSION.get(version)
        window = (
            f"standard support until {known.end_of_standard}, "
            f"extended until {known.end_of_extended}"
            if known
            else "not in the EKS calendar"
        )
        lines.append(f"  Kubernetes {version}: {window}; upgrade policy {policy}")
        if warning := eks_versions.support_warning(version, policy, on):
            lines.append(f"  warning: {warning}")
    return lines


def account_lines(plan: Plan) -> list[str]:
    """Account settings the stack depends on but does not own (advisory)."""
    enabled = plan.exports.get("ebsEncryptionByDefault")
    if enabled:
        return ["  PASS  ebs-encryption-by-default (account setting, read only)"]
    return [
        "  WARN  ebs-encryption-by-default is off in this account and region: volumes created "
        "outside this stack's classes (EKS's gp2) are unencrypted; "
        "aws ec2 enable-ebs-encryption-by-default"
    ]


def config_warning_lines(warnings: list[tuple[str, str]]) -> list[str]:
    return [f"  warning: eks-config-storage:{key}: {message}" for key, message in warnings]


def report_lines(
    plan: Plan, cfg: StackConfig, settings: rules.Settings, results: list[rules.Verdict]
) -> list[str]:
    """The offline plan's report, section by section."""
    lines = [f"Plan of stack '{plan.stack}': {len(plan)} resources (offline, mock engine)"]
    lines += tree_lines(plan)
    lines += ["", "API server reachable from:", *reach_lines(plan)]
    lines += ["", "Version:", *version_lines(plan)]
    if warnings := config_rules.warnings(cfg):
        lines += ["", "Config warnings:", *config_warning_lines(warnings)]
    lines += ["", "Account settings:", *account_lines(plan)]
    if classes := storage_class_lines(plan):
        lines += ["", "Storage classes:", *classes]
        lines += ["", "Protection by class:", *protection_lines(plan)]
    lines += ["", "Sealing key escrow:", *escrow_lines(plan)]
    lines += [
        "",
        f"Design rules (environment={settings.environment}, production="
        f"{str(settings.production).lower()}, protect={str(settings.protect).lower()}):",
        *verdict_lines(plan, results),
    ]
    lines += ["", "Resources by type:", *count_lines(plan)]
    return lines


AWS_BACKUP_GAP = timedelta(days=1)  # EFS automatic backups run daily


def _env(cron_job) -> dict[str, str]:
    pod = cron_job.inputs["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return {e["name"]: e.get("value", "") for c in pod["containers"] for e in c.get("env", [])}


def protection_lines(plan: Plan) -> list[str]:
    """Per class: what protects its volumes, how often (RPO), how many generations, how old the
    oldest may get, whether a copy is off the cluster, and whether restores are drilled."""
    policies, drills = {}, {}
    for job in plan.of_type(CRON_JOB):
        env = _env(job)
        name = job.inputs["metadata"]["name"]
        if POLICY_LABEL in (job.inputs["metadata"].get("labels") or {}) and "KEEP" in env:
            policies[env["POLICY"]] = (job.inputs["spec"]["schedule"], env)
        elif name.startswith("drill-") and "POLICY" in env:
            drills.setdefault(env["POLICY"], []).append(name)
    schedules = {
        s.inputs["metadata"]["name"]: s.inputs["spec"] for s in plan.of_type(VELERO_SCHEDULE)
    }
    lines = [
        f"  {'class':<24}{'RPO':<6}{'generations kept':<40}{'oldest':<8}{'off-cluster':<18}drill"
    ]
    for cls in sorted(plan.of_type(STORAGE_CLASS), key=lambda r: r.inputs["metadata"]["name"]):
        meta = cls.inputs["metadata"]
        notes = meta.get("annotations") or {}
        names = [p for p in notes.get(f"{sc.PROTECTION}/snapshot-policies", "").split(",") if p]
        schedule = notes.get(f"{sc.PROTECTION}/backup-schedule")
        gaps, kept, oldest, off, drilled = [], [], [], [], []
        for name in names:
            cron, env = policies.get(name, ("", {}))
            if not cron:
                continue
            gap = longest_gap(cron)
            keep = int(env["KEEP"])
            gaps.append(gap)
            kept.append(f"{name} {keep}")
            bound = gap * keep
            if env.get("MAX_AGE_SECONDS"):
                bound = min(bound, timedelta(seconds=int(env["MAX_AGE_SECONDS"])))
            oldest.append(bound)
            drilled += drills.get(name, [])
        if schedule and schedule in schedules:
            spec = schedules[schedule]
            gaps.append(longest_gap(spec["schedule"]))
            kept.append(f"{schedule} until {spec['template']['ttl']}")
            oldest.append(timedelta(hours=int(spec["template"]["ttl"].rstrip("h"))))
            off.append(f"Velero {schedule}")
        if notes.get(f"{sc.PROTECTION}/aws-backup") == "true":
            gaps.append(AWS_BACKUP_GAP)
            kept.append("AWS Backup plan")
            off.append("AWS Backup")
        if not gaps:
            reason = notes.get(f"{sc.PROTECTION}/unprotected-reason")
            lines.append(f"  {meta['name']:<24}none: {reason or 'no protection and no reason'}")
            continue
        lines.append(
            f"  {meta['name']:<24}{_gap(min(gaps)):<6}{', '.join(kept):<40}"
            f"{_gap(max(oldest)) if oldest else '-':<8}{', '.join(off) or 'no':<18}"
            f"{', '.join(drilled) or 'none'}"
        )
    for patch in plan.of_type(STORAGE_CLASS_PATCH):
        # EKS's own gp2 stays (PVCs may name it) but is the platform's to avoid, not protect.
        lines.append(
            f"  {patch.inputs['metadata']['name']:<24}none: EKS's class, not the default; "
            "app namespaces have zero quota on it"
        )
    if drills:
        # A drill proves a restore of its policy's newest snapshot, not of every class's.
        lines.append(
            "  (a drill restores the newest ready snapshot of its policy, of whichever class)"
        )
    return lines


def _gap(gap: timedelta) -> str:
    hours = int(gap.total_seconds() // 3600)
    return f"{hours // 24}d" if hours % 24 == 0 and hours >= 24 else f"{hours}h"


def escrow_lines(plan: Plan) -> list[str]:
    """Where the Sealed Secrets key goes, under which key, and whether it is being restored."""
    pushes = plan.of_type("kubernetes:external-secrets.io/v1alpha1:PushSecret")
    if not pushes:
        return ["  not escrowed: a lost cluster loses every SealedSecret's key"]
    lines = []
    for push in pushes:
        meta, spec = push.inputs["metadata"], push.inputs["spec"]
        (item,) = spec["data"]
        key = item["metadata"]["spec"]["kmsKeyId"]
        lines.append(
            f"  active key in {meta['namespace']} -> PushSecret {meta['name']} -> Secrets Manager "
            f"{item['match']['remoteRef']['remoteKey']} (encrypted with {key})"
        )
    restores = sorted(
        r.inputs["spec"]["dataFrom"][0]["extract"]["key"]
        for r in plan.of_type("kubernetes:external-secrets.io/v1:ExternalSecret")
        if r.inputs["metadata"]["name"] == "sealed-secrets-key-restored"
        or r.inputs["metadata"]["name"].startswith("sealing-key-generation-")
    )
    lines.append(
        "  restore before the controller starts: " + (", ".join(restores) if restores else "off")
    )
    checks = [
        c
        for c in plan.of_type("kubernetes:batch/v1:CronJob")
        if c.inputs["metadata"]["name"] == "sealing-key-escrow-check"
    ]
    if checks:
        lines.append(
            f"  checked {checks[0].inputs['spec']['schedule']!r}: the controller's certificate "
            "against the escrowed one (the Job fails while they differ)"
        )
    return lines
