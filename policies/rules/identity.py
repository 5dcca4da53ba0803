"""R2: who may do what. IRSA and Pod Identity trust, IAM and RBAC least privilege, node metadata,
the API endpoint, Pod Security."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator

from design.labels import POD_SECURITY_REASON

from .base import (
    CLUSTER,
    IDENTITY_POLICY_TYPES,
    LAUNCH_TEMPLATE,
    RESOURCE_WILDCARD_EXCEPTIONS,
    ResourceRule,
    Settings,
    StackRule,
    Subject,
    as_list,
    document,
    get,
    kind,
)


def irsa_trust_exact(s: Subject, _: Settings) -> Iterator[str]:
    if s.type != "aws:iam/role:Role":
        return
    for stmt in as_list(document(s.props.get("assumeRolePolicy")).get("Statement")):
        federated = as_list(get(stmt, "Principal", "Federated"))
        # EKS issuers only: a GitHub Actions trust is judged by github-oidc-trust.
        if not any(":oidc-provider/oidc.eks." in str(p) for p in federated):
            continue
        condition = stmt.get("Condition") or {}
        if set(condition) != {"StringEquals"}:
            yield f"IRSA trust must use StringEquals only, found {sorted(condition)}"
            continue
        equals = condition["StringEquals"]
        subs = [k for k in equals if k.endswith(":sub")]
        auds = [k for k in equals if k.endswith(":aud")]
        if len(subs) != 1 or len(auds) != 1:
            yield "IRSA trust must condition both <issuer>:sub and <issuer>:aud"
            continue
        if equals[auds[0]] != "sts.amazonaws.com":
            yield f"IRSA audience must be sts.amazonaws.com, got {equals[auds[0]]!r}"
        for subject in as_list(equals[subs[0]]):
            if not re.fullmatch(r"system:serviceaccount:[a-z0-9-]+:[a-z0-9.-]+", str(subject)):
                yield f"IRSA subject must name one namespace/serviceaccount, got {subject!r}"


POD_IDENTITY = "pods.eks.amazonaws.com"
POD_IDENTITY_ACTIONS = {"sts:AssumeRole", "sts:TagSession"}
CLUSTER_ARN = re.compile(r"arn:aws[a-z-]*:eks:[a-z0-9-]+:\d{12}:cluster/[A-Za-z0-9][A-Za-z0-9_-]*")
DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
SERVICE_ACCOUNT = re.compile(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?")
# The session tags EKS sets on each assumption (awsdocs/amazon-eks-user-guide:
# latest/ug/manage-access/aws-access/pod-id-abac.adoc), with what each value must look like.
POD_IDENTITY_TAGS = {
    "aws:RequestTag/eks-cluster-arn": CLUSTER_ARN,
    "aws:RequestTag/kubernetes-namespace": DNS_LABEL,
    "aws:RequestTag/kubernetes-service-account": SERVICE_ACCOUNT,
}


def pod_identity_trust_exact(s: Subject, _: Settings) -> Iterator[str]:
    """R2 for EKS Pod Identity as for IRSA: ``pods.eks.amazonaws.com`` acts for every cluster of
    every account, so a statement trusting it is exact only when StringEquals pins the
    session's cluster ARN, namespace and service account, without wildcards; and it allows
    only what EKS calls (sts:AssumeRole, sts:TagSession: pod-id-role.adoc)."""
    if s.type != "aws:iam/role:Role":
        return
    for stmt in as_list(document(s.props.get("assumeRolePolicy")).get("Statement")):
        services = [str(p) for p in as_list(get(stmt, "Principal", "Service"))]
        if POD_IDENTITY not in services or stmt.get("Effect") != "Allow":
            continue
        sid = stmt.get("Sid", "(no Sid)")
        if services != [POD_IDENTITY] or set(stmt.get("Principal") or {}) != {"Service"}:
            yield f"statement {sid}: Pod Identity trust must name {POD_IDENTITY} alone"
        actions = {str(a) for a in as_list(stmt.get("Action"))}
        if "NotAction" in stmt or actions != POD_IDENTITY_ACTIONS:
            yield (
                f"statement {sid}: Pod Identity trust must allow exactly "
                f"{sorted(POD_IDENTITY_ACTIONS)}, found {sorted(actions)}"
            )
        condition = stmt.get("Condition") or {}
        if set(condition) != {"StringEquals"}:
            yield (
                f"statement {sid}: Pod Identity trust must use StringEquals only on the "
                f"session tags, found {sorted(condition) or 'no condition'}"
            )
            continue
        equals = condition["StringEquals"]
        for tag, shape in POD_IDENTITY_TAGS.items():
            values = [str(v) for v in as_list(equals.get(tag))]
            if not values:
                yield f"statement {sid}: Pod Identity trust must condition {tag}"
            elif tag.endswith("eks-cluster-arn") and len(values) != 1:
                yield f"statement {sid}: Pod Identity trust must name one cluster, got {values}"
            for value in values:
                if not shape.fullmatch(value):
                    yield f"statement {sid}: Pod Identity trust {tag} must be exact, got {value!r}"


def _wildcard_action(action: str) -> bool:
    return action == "*" or action.endswith(":*")


def iam_no_wildcards(s: Subject, settings: Settings) -> Iterator[str]:
    if s.type not in IDENTITY_POLICY_TYPES:
        return
    if s.type == "aws:iam/policy:Policy" and s.props.get("name") in settings.boundary_policies:
        return
    for stmt in as_list(document(s.props.get("policy")).get("Statement")):
        if stmt.get("Effect") != "Allow":
            continue
        sid = stmt.get("Sid", "(no Sid)")
        if "NotAction" in stmt or "NotResource" in stmt:
            yield f"statement {sid}: NotAction/NotResource allow more than they name"
        actions = [str(a) for a in as_list(stmt.get("Action"))]
        for action in actions:
            if _wildcard_action(action):
                yield f"statement {sid}: wildcard action {action!r}"
        if (
            "*" in as_list(stmt.get("Resource"))
            and not set(actions) <= RESOURCE_WILDCARD_EXCEPTIONS
        ):
            yield f"statement {sid}: '*' resource for {actions}"


def rbac_least_privilege(s: Subject, _: Settings) -> Iterator[str]:
    """R2: no wildcards; Secrets only by name, never listed or watched."""
    if kind(s) not in ("Role", "ClusterRole"):
        return
    for i, rule in enumerate(as_list(s.props.get("rules"))):
        for field in ("apiGroups", "resources", "verbs"):
            if "*" in as_list(rule.get(field)):
                yield f"rule {i}: wildcard in {field}"
        if "secrets" in as_list(rule.get("resources")):
            if not as_list(rule.get("resourceNames")):
                yield f"rule {i}: Secrets must be granted by resourceNames"
            reading_all = {"list", "watch"} & set(as_list(rule.get("verbs")))
            if reading_all:
                yield f"rule {i}: {sorted(reading_all)} on Secrets reveals every Secret"


def nodes_imdsv2(s: Subject, _: Settings) -> Iterator[str]:
    if s.type != LAUNCH_TEMPLATE:
        return
    options = s.props.get("metadataOptions") or {}
    if options.get("httpTokens") != "required":
        yield "instance metadata must require tokens (IMDSv2)"
    if options.get("httpPutResponseHopLimit") != 1:
        yield "instance metadata hop limit must be 1, so pods cannot reach the node role"


def eks_endpoint_exposure(s: Subject, settings: Settings) -> Iterator[str]:
    if s.type != CLUSTER:
        return
    vpc = s.props.get("vpcConfig") or {}
    if not vpc.get("endpointPublicAccess"):
        return
    if settings.production:
        yield "a production cluster's API endpoint must be private only"
    cidrs = as_list(vpc.get("publicAccessCidrs"))
    if not cidrs:
        yield "a public endpoint must list the CIDRs allowed to reach it"
    for cidr in cidrs:
        if ipaddress.ip_network(str(cidr), strict=False).prefixlen == 0:
            yield f"the public endpoint is open to the whole internet ({cidr})"


def namespaces_restricted(s: Subject, _: Settings) -> Iterator[str]:
    """R2, advisory: every exception to Pod Security 'restricted' stays visible."""
    if s.type != "kubernetes:core/v1:Namespace":
        return
    labels = get(s.props, "metadata", "labels") or {}
    level = labels.get("pod-security.kubernetes.io/enforce")
    if level is not None and level != "restricted":
        reason = (get(s.props, "metadata", "annotations") or {}).get(
            POD_SECURITY_REASON, "no reason given"
        )
        yield f"namespace enforces {level!r}, not restricted: {reason}"


RESOURCE_RULES: tuple[ResourceRule, ...] = (
    ResourceRule(
        "irsa-trust-exact",
        "R2",
        "IRSA trust: StringEquals on sub and aud, one service account per subject",
        "mandatory",
        irsa_trust_exact,
    ),
    ResourceRule(
        "pod-identity-trust-exact",
        "R2",
        "Pod Identity trust: sts:AssumeRole and sts:TagSession only, StringEquals on the session's "
        "cluster ARN, namespace and service account",
        "mandatory",
        pod_identity_trust_exact,
    ),
    ResourceRule(
        "iam-no-wildcards",
        "R2",
        "No '*' action, and '*' resource only for APIs without resource-level permissions",
        "mandatory",
        iam_no_wildcards,
    ),
    ResourceRule(
        "rbac-least-privilege",
        "R2",
        "RBAC without wildcards; Secrets only by resourceNames, never listed",
        "mandatory",
        rbac_least_privilege,
    ),
    ResourceRule(
        "nodes-imdsv2-hop-limit-1",
        "R2",
        "Nodes require IMDSv2 with hop limit 1",
        "mandatory",
        nodes_imdsv2,
    ),
    ResourceRule(
        "eks-endpoint-exposure",
        "R2",
        "Production API endpoints are private; a public one never faces 0.0.0.0/0",
        "mandatory",
        eks_endpoint_exposure,
    ),
    ResourceRule(
        "namespaces-pod-security-restricted",
        "R2",
        "Namespaces enforce Pod Security 'restricted' (exceptions reported)",
        "advisory",
        namespaces_restricted,
    ),
)

STACK_RULES: tuple[StackRule, ...] = ()
