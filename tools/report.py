"""Sections of the offline plan's report: the resource tree, what reaches the API server, the
storage classes, rule verdicts and counts. Each reads the recorded graph, not the config, so the
report shows what the program would really register."""

from __future__ import annotations

import datetime

from design import eks_versions
from policies import rules
from tools.offline import Plan

CLUSTER = "aws:eks/cluster:Cluster"
HTTPS = 443
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
STORAGE_CLASS = "kubernetes:storage.k8s.io/v1:StorageClass"
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
        lines.append(
            f"  {meta['name']:<24}{' (default)' if default else '':<11}"
            f"{inputs['provisioner']:<17} {inputs['volumeBindingMode']:<21} "
            f"reclaim={inputs['reclaimPolicy']:<7} "
            f"expand={str(inputs['allowVolumeExpansion']).lower()}"
            f"  {shown}"
        )
    return lines


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
