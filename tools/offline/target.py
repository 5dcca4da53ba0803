"""Where an offline plan pretends to run: the stack's own partition, account, region and zones,
and its deploying role.

A real run asks AWS (``sts:GetCallerIdentity``, the provider's region); offline there is nothing
to ask, so the answers are read off the stack itself: the account and partition of its first
admin role (the role its deploy pipeline runs as), the region of ``aws:region``. A stack in any
account therefore plans as it would there, and its account never has to be the example one.
Values that are not valid are passed on as they are, or replaced by a stand-in: judging them is
the config validator's job, which names the key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

EXAMPLE_ACCOUNT = "123456789012"  # the account ID AWS documentation uses for examples
STAND_IN_REGION = "us-east-1"
ROLE_ARN = re.compile(r"^arn:(?P<partition>aws[a-z-]*):iam::(?P<account>\d{12}):role/(?P<path>.+)$")
ACCOUNT = re.compile(r"^\d{12}$")
# The suffix of every partition's service endpoints (botocore's partition table).
DNS_SUFFIX = {"aws-cn": "amazonaws.com.cn"}
ZONE_LETTERS = "abcdef"


@dataclass(frozen=True)
class Target:
    partition: str
    account_id: str
    region: str
    caller_role: str

    @property
    def dns_suffix(self) -> str:
        return DNS_SUFFIX.get(self.partition, "amazonaws.com")

    @property
    def zones(self) -> list[str]:
        """The region's zones as offline stand-ins: ``<region>a`` to ``<region>f``; a stack
        adopting subnets gets them in its own order (``AwsMocks._call_getSubnet``)."""
        return [f"{self.region}{letter}" for letter in ZONE_LETTERS]

    def caller_arn(self) -> str:
        session = f"assumed-role/{self.caller_role}/offline-plan"
        return f"arn:{self.partition}:sts::{self.account_id}:{session}"


def partition_of_region(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def first_admin_role(values: Mapping[str, Any], project: str) -> re.Match | None:
    admins = values.get(f"{project}:adminRoleArns")
    if not isinstance(admins, list):
        return None
    for arn in admins:
        if isinstance(arn, str) and (match := ROLE_ARN.match(arn.strip())):
            return match
    return None


def target_of(
    values: Mapping[str, Any],
    project: str,
    *,
    account: str | None = None,
    caller_role: str | None = None,
) -> Target:
    """The stand-in identity and place for stack-file style ``values``.

    ``account`` overrides the account of the first admin role (``tools.plan --account``), for a
    stack whose admins live in another account than the one it deploys to."""
    region = values.get("aws:region")
    region = region.strip() if isinstance(region, str) and region.strip() else STAND_IN_REGION
    admin = first_admin_role(values, project)
    role_name = admin["path"].rsplit("/", 1)[-1] if admin else "deployer"
    return Target(
        partition=admin["partition"] if admin else partition_of_region(region),
        account_id=account or (admin["account"] if admin else EXAMPLE_ACCOUNT),
        region=region,
        caller_role=caller_role or role_name,
    )
