"""eks-pipeline-bootstrap: what the main program's pipeline needs in one AWS account before its
first run. Composition only: load and validate config, build the components, export.

The state bucket, one secrets key per main-program stack, GitHub's OIDC provider, the permissions
boundary every role of the main program carries, and the pipeline roles of bootstrap/roles.yaml.
"""

import sys
from pathlib import Path

import pulumi

# Run by the CLI from bootstrap/, it imports the repository's packages by their full names.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bootstrap import permissions
from bootstrap.components.context import account_of, load_config
from bootstrap.components.roles import (
    Boundary,
    GitHubOidc,
    PipelineRole,
    PipelineRoleArgs,
)
from bootstrap.components.state import SecretsKeys, SecretsKeysArgs, StateBucket

cfg = load_config()
account = account_of(cfg)
table = permissions.load()

state = StateBucket("state", cfg.state_bucket)
keys = SecretsKeys(
    "secrets", SecretsKeysArgs(stacks=[s.name for s in cfg.stacks], project=cfg.main_project)
)
oidc = GitHubOidc("github")
ceiling = Boundary("boundary", account)

roles = {
    fact.variable: PipelineRole(
        fact.name,
        PipelineRoleArgs(
            fact=fact,
            account=account,
            stack=stack.name,
            environment=stack.env,
            cluster=stack.cluster,
            secrets_key_arn=keys.arns[stack.name],
            state_key_arn=state.key_arn,
            provider_arn=oidc.arn,
            github=cfg.github,
            table=table,
            after=[ceiling],
        ),
    )
    for stack, fact in cfg.roles()
}

pulumi.export("PULUMI_BACKEND_URL", f"s3://{cfg.state_bucket}?region={account.region}&awssdk=v2")
pulumi.export("AWS_REGION", account.region)
pulumi.export("permissionsBoundary", ceiling.arn)
pulumi.export(
    "secretsProviders",
    {s.name: f"awskms://alias/pulumi-secrets-{s.name}?region={account.region}" for s in cfg.stacks},
)
for variable, role in sorted(roles.items()):
    pulumi.export(variable, role.arn)
