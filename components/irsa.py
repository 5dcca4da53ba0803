"""IAM roles for Kubernetes service accounts (IRSA), one role per workload identity."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from design import iam


@dataclass(frozen=True)
class OidcIdentity:
    """The cluster's IAM OIDC provider, as IRSA trust policies refer to it."""

    provider_arn: pulumi.Output[str]
    issuer_url: pulumi.Output[str]


@dataclass(frozen=True)
class IrsaRoleArgs:
    role_name: str
    oidc: OidcIdentity
    service_accounts: Sequence[tuple[str, str]]
    managed_policy_arns: Sequence[str] = ()
    # The ceiling the account's pipeline requires on every role it lets a deploy create.
    permissions_boundary: str | None = None
    inline_policies: Mapping[str, pulumi.Input[dict]] = field(default_factory=dict)
    # The component's name in older stacks, so its children keep their resources (aliases).
    former_name: str | None = None


class IrsaRole(pulumi.ComponentResource):
    """A role only the listed ``namespace/serviceaccount`` pairs of one cluster can assume.

    ``arn`` resolves only after every policy is attached, so a consumer that waits on it (an
    add-on, a ServiceAccount annotation) never starts with a role that has no permissions yet.
    """

    arn: pulumi.Output[str]
    trust_policy: pulumi.Output[str]

    def __init__(self, name: str, args: IrsaRoleArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("eks-config-storage:iam:IrsaRole", name, None, opts)

        def child(resource_name: str) -> pulumi.ResourceOptions:
            former = args.former_name
            aliases = (
                [pulumi.Alias(name=former + resource_name.removeprefix(name))] if former else []
            )
            return pulumi.ResourceOptions(parent=self, aliases=aliases)

        subjects = list(args.service_accounts)
        self.trust_policy = pulumi.Output.all(args.oidc.provider_arn, args.oidc.issuer_url).apply(
            lambda p: json.dumps(iam.irsa_trust_policy(p[0], p[1], subjects))
        )
        role = aws.iam.Role(
            f"{name}-role",
            name=args.role_name,
            assume_role_policy=self.trust_policy,
            permissions_boundary=args.permissions_boundary,
            opts=child(f"{name}-role"),
        )
        attached: list[pulumi.Output[str]] = []
        for policy_arn in args.managed_policy_arns:
            attachment_name = f"{name}-{policy_arn.rsplit('/', 1)[-1]}"
            attachment = aws.iam.RolePolicyAttachment(
                attachment_name, role=role.name, policy_arn=policy_arn, opts=child(attachment_name)
            )
            attached.append(attachment.id)
        for policy_name, doc in args.inline_policies.items():
            inline = aws.iam.RolePolicy(
                f"{name}-{policy_name}",
                name=policy_name,
                role=role.name,
                policy=pulumi.Output.from_input(doc).apply(json.dumps),
                opts=child(f"{name}-{policy_name}"),
            )
            attached.append(inline.id)
        self.name = role.name
        self.arn = pulumi.Output.all(role.arn, *attached).apply(lambda values: values[0])
        self.register_outputs({"arn": self.arn, "trustPolicy": self.trust_policy})
