"""GitHub's OIDC provider, the permissions boundary, and the pipeline roles."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from bootstrap.config import GitHub
from bootstrap.design import boundary, policies, trust
from bootstrap.design.context import Account, Stack
from bootstrap.facts import RoleFact
from bootstrap.permissions import Table


class GitHubOidc(pulumi.ComponentResource):
    """No thumbprint: "The thumbprint, if specified, will be ignored"
    (aws-actions/configure-aws-credentials@v6.2.3:README.md, "Configuring IAM to trust GitHub")."""

    arn: pulumi.Output[str]

    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None):
        super().__init__("eks-pipeline-bootstrap:iam:GitHubOidc", name, None, opts)
        provider = aws.iam.OpenIdConnectProvider(
            f"{name}-provider",
            url=f"https://{trust.ISSUER}",
            client_id_lists=[trust.AUDIENCE],
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.arn = provider.arn
        self.register_outputs({"arn": self.arn})


class Boundary(pulumi.ComponentResource):
    arn: pulumi.Output[str]

    def __init__(self, name: str, account: Account, opts: pulumi.ResourceOptions | None = None):
        super().__init__("eks-pipeline-bootstrap:iam:Boundary", name, None, opts)
        policy = aws.iam.Policy(
            f"{name}-policy",
            name=account.boundary_name,
            description="Ceiling of every role the main program creates",
            policy=json.dumps(boundary.boundary_policy(account)),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.arn = policy.arn
        self.register_outputs({"arn": self.arn})


@dataclass(frozen=True)
class PipelineRoleArgs:
    fact: RoleFact
    account: Account
    stack: str
    environment: str
    cluster: str
    secrets_key_arn: pulumi.Input[str]
    state_key_arn: pulumi.Input[str]
    provider_arn: pulumi.Input[str]
    github: GitHub
    table: Table
    # The boundary must exist before a deploy role can create a role under it.
    after: Sequence[pulumi.Resource] = ()


class PipelineRole(pulumi.ComponentResource):
    """One role of the fact sheet: its trust on GitHub's tokens, and the policies rendered from
    the permissions table, as managed policies (an inline policy holds too little).

    ``arn`` resolves once every policy is attached."""

    arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: PipelineRoleArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("eks-pipeline-bootstrap:iam:PipelineRole", name, None, opts)
        fact, gh = args.fact, args.github
        role = aws.iam.Role(
            f"{name}-role",
            name=fact.name,
            max_session_duration=fact.max_session_duration,
            assume_role_policy=pulumi.Output.from_input(args.provider_arn).apply(
                lambda arn: json.dumps(
                    trust.trust_policy(
                        fact,
                        arn,
                        owner=gh.owner,
                        owner_id=gh.owner_id,
                        repo=gh.repository,
                        repo_id=gh.repository_id,
                        legacy=gh.legacy_subject,
                    )
                )
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

        def rendered(keys: list[str]) -> list[dict]:
            stack = Stack(args.stack, args.environment, args.cluster, keys[0], keys[1])
            return policies.documents(
                policies.statements(fact.kind, args.table, args.account, stack)
            )

        # The number of documents depends only on the table and the names, not on the keys'
        # ARNs (of a fixed length): render once with stand-ins to know how many to register.
        stand_in = args.account.arn("kms", "key/00000000-0000-0000-0000-000000000000")
        documents = pulumi.Output.all(args.secrets_key_arn, args.state_key_arn).apply(rendered)
        attached = []
        for i in range(len(rendered([stand_in, stand_in]))):
            policy = aws.iam.Policy(
                f"{name}-{i + 1}",
                name=f"{fact.name}-{i + 1}",
                policy=documents.apply(lambda docs, i=i: json.dumps(docs[i])),
                opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.after)),
            )
            attached.append(
                aws.iam.RolePolicyAttachment(
                    f"{name}-{i + 1}",
                    role=role.name,
                    policy_arn=policy.arn,
                    opts=pulumi.ResourceOptions(parent=self),
                ).id
            )
        self.arn = pulumi.Output.all(role.arn, *attached).apply(lambda v: v[0])
        self.register_outputs({"arn": self.arn})
