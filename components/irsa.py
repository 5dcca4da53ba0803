"""One IAM role per workload identity, trusted through IRSA, EKS Pod Identity or both
(``design.identity``), with its Pod Identity associations.

The component keeps its first name (``IrsaRole``, type ``eks-config-storage:iam:IrsaRole``):
renaming the type would change every role's URN, and the engine would replace the roles."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from design.identity import trusts_irsa, trusts_pod_identity, workload_trust_policy


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
    # design.identity: irsa (the default), both, podIdentity.
    mode: str = "irsa"
    # For Pod Identity: the cluster whose session tag the trust requires, and where the
    # associations are made.
    cluster_arn: str = ""
    cluster_name: pulumi.Input[str] | None = None
    # Service accounts whose association an EKS add-on makes (aws.eks.Addon
    # pod_identity_associations): the add-on owns those and "can't assume ownership of existing"
    # ones (latest/ug/workloads/add-ons-iam.adoc), so no standalone association is made for them.
    addon_service_accounts: Sequence[str] = ()


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
        irsa, pod_identity = trusts_irsa(args.mode), trusts_pod_identity(args.mode)
        if pod_identity and not (args.cluster_arn and args.cluster_name is not None):
            raise ValueError(f"{name}: Pod Identity needs the cluster's ARN and name")
        self.trust_policy = pulumi.Output.all(args.oidc.provider_arn, args.oidc.issuer_url).apply(
            lambda p: json.dumps(
                workload_trust_policy(
                    irsa=irsa,
                    pod_identity=pod_identity,
                    provider_arn=p[0],
                    issuer_url=p[1],
                    cluster_arn=args.cluster_arn,
                    service_accounts=subjects,
                )
            )
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
        self.associations: list[aws.eks.PodIdentityAssociation] = []
        if pod_identity:
            for namespace, account in subjects:
                if account in args.addon_service_accounts:
                    continue
                association = f"{name}-{account}-association"
                self.associations.append(
                    aws.eks.PodIdentityAssociation(
                        association,
                        cluster_name=args.cluster_name,
                        namespace=namespace,
                        service_account=account,
                        role_arn=self.arn,
                        opts=pulumi.ResourceOptions(parent=self),
                    )
                )
        self.register_outputs({"arn": self.arn, "trustPolicy": self.trust_policy})
