"""Keys outside this project's own namespace: only the namespaces something reads are accepted.

Pulumi hands a program the whole stack config and each reader asks only for its own keys, so a
key nobody reads is silently ignored: ``eks-config-storge:production: true`` (a typo in the
prefix) or ``production: true`` (no prefix) would leave production off with every production
rule skipped. Every key must therefore belong to a namespace the program or one of its providers
reads, and a provider key must be one that provider declares.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from typing import Any

from config.rules.base import Problem

# The keys the providers' default instances read from config: pulumi/pulumi-aws@v7.51.1:
# sdk/python/pulumi_aws/config/vars.py and pulumi/pulumi-kubernetes@v4.34.2:
# sdk/python/pulumi_kubernetes/provider.py (ProviderArgs);
# tests/config/test_stack_file_errors.py checks the lists against the installed SDKs.
AWS_KEYS = frozenset(
    [
        "accessKey",
        "allowedAccountIds",
        "assumeRoleWithWebIdentity",
        "assumeRoles",
        "customCaBundle",
        "defaultTags",
        "ec2MetadataServiceEndpoint",
        "ec2MetadataServiceEndpointMode",
        "endpoints",
        "forbiddenAccountIds",
        "httpProxy",
        "httpsProxy",
        "ignoreTags",
        "insecure",
        "maxRetries",
        "noProxy",
        "profile",
        "region",
        "retryMode",
        "s3UsEast1RegionalEndpoint",
        "s3UsePathStyle",
        "secretKey",
        "sharedConfigFiles",
        "sharedCredentialsFiles",
        "skipCredentialsValidation",
        "skipMetadataApiCheck",
        "skipRegionValidation",
        "skipRequestingAccountId",
        "stsRegion",
        "tagPolicyCompliance",
        "token",
        "tokenBucketRateLimiterCapacity",
        "useDualstackEndpoint",
        "useFipsEndpoint",
        "userAgents",
    ]
)
KUBERNETES_KEYS = frozenset(
    [
        "alwaysRender",
        "cluster",
        "clusterIdentifier",
        "context",
        "deleteUnreachable",
        "enableConfigMapMutable",
        "enablePatchForce",
        "enableSecretMutable",
        "enableServerSideApply",
        "helmReleaseSettings",
        "kubeClientSettings",
        "kubeconfig",
        "namespace",
        "renderYamlToDirectory",
        "skipUpdateUnreachable",
        "suppressDeprecationWarnings",
        "suppressHelmHookWarnings",
        "upsertExistingObjects",
    ]
)
PROVIDER_KEYS = {"aws": AWS_KEYS, "kubernetes": KUBERNETES_KEYS}
# The engine's own namespace (pulumi:tags, pulumi:disable-default-providers, ...): its keys are
# the engine's to judge.
OPEN_NAMESPACES = frozenset({"pulumi"})
# Commercial, China and GovCloud regions, and the isolated partitions' (us-iso-east-1, ...).
REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")


def _closest(key: str, candidates: Iterable[str]) -> str | None:
    pool = list(candidates)
    lowered = {c.lower(): c for c in pool}
    close = difflib.get_close_matches(key, pool, n=1, cutoff=0.75) or [
        lowered[m] for m in difflib.get_close_matches(key.lower(), list(lowered), n=1, cutoff=0.75)
    ]
    return close[0] if close else None


def _hint(key: str, candidates: Iterable[str]) -> str:
    close = _closest(key, candidates)
    return f"; did you mean '{close}'?" if close else ""


def namespace_problems(
    values: Mapping[str, Any], project: str, own_keys: Iterable[str], *, need_region: bool = False
) -> list[Problem]:
    """Problems with the keys of ``values`` (whole, namespaced stack config) outside the
    project's namespace, by full key. ``need_region``: the offline plan has no environment to
    fall back on (a real run may take the region from ``AWS_REGION``)."""
    own = [f"{project}:{key}" for key in own_keys]
    known = own + [f"{ns}:{k}" for ns, keys in PROVIDER_KEYS.items() for k in sorted(keys)]
    namespaces = {project, *PROVIDER_KEYS, *OPEN_NAMESPACES}
    problems: list[Problem] = []
    for key in sorted(str(k) for k in values):
        namespace, colon, name = key.partition(":")
        if not key.strip():
            problems.append((repr(key), "an empty key: nothing reads it"))
        elif not colon:
            problems.append(
                (key, "has no namespace, so nothing reads it" + _hint(f"{project}:{key}", known))
            )
        elif namespace not in namespaces:
            problems.append(
                (
                    key,
                    f"namespace '{namespace}' is read by nothing (this program reads "
                    f"{', '.join(sorted(namespaces))})" + _hint(key, known),
                )
            )
        elif namespace in PROVIDER_KEYS and name not in PROVIDER_KEYS[namespace]:
            problems.append(
                (
                    key,
                    f"not a setting of the {namespace} provider"
                    + _hint(key, [k for k in known if k.startswith(f"{namespace}:")]),
                )
            )
    region = values.get("aws:region")
    if region is None:
        if need_region:
            problems.append(
                (
                    "aws:region",
                    "not set: name the region the stack deploys to (aws:region: eu-west-1)",
                )
            )
    elif not isinstance(region, str) or not REGION.match(region):
        problems.append(("aws:region", f"{region!r} is not an AWS region name (eu-west-1)"))
    return problems
