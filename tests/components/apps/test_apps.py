"""Each app: its namespace and pod security, settings as a ConfigMap, its own IRSA role with
least-privilege statements, an ExternalSecret, a Role that reads only its own objects, and a
storage budget per class."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.plan_helpers import as_list, aws_of, doc, typed
from tools.offline import Plan, run_config, stack_config

NS = "eks-config-storage"


def apps_of(plan: Plan) -> list[dict]:
    return stack_config(plan.stack).get(f"{NS}:apps", [])


def key(app: dict) -> str:
    """The app's component name: apps are keyed by namespace (components.app.component_name)."""
    return f"app-{app.get('namespace', app['name'])}"


def obj(plan: Plan, type_suffix: str, name: str):
    return plan.one(f"kubernetes:{type_suffix}", name)


def test_dev_and_prod_have_example_apps_using_config_secrets_and_storage(plans):
    for stack in ("dev", "prod"):
        apps = apps_of(plans[stack])
        assert len(apps) >= 2
        assert any(a.get("config") for a in apps)
        assert any(a.get("secrets") for a in apps)
        assert any(a.get("storage") for a in apps)


def test_namespaces_enforce_pod_security(plan):
    for app in apps_of(plan):
        meta = obj(plan, "core/v1:Namespace", f"{key(app)}-namespace").inputs["metadata"]
        level = app.get("podSecurity", {}).get("level", "restricted")
        assert meta["labels"]["pod-security.kubernetes.io/enforce"] == level
        assert meta["labels"]["pod-security.kubernetes.io/warn"] == "restricted"
        assert meta["labels"]["eks-config-storage.io/app"] == "true"
        if level != "restricted":
            assert (
                meta["annotations"]["eks-config-storage.io/pod-security-reason"]
                == app["podSecurity"]["reason"]
            )


def test_config_map_is_exactly_the_apps_settings(plan):
    for app in apps_of(plan):
        cm = obj(plan, "core/v1:ConfigMap", f"{key(app)}-config").inputs
        assert cm["metadata"]["name"] == f"{app['name']}-config"
        assert cm.get("data", {}) == app.get("config", {})


def test_default_service_account_mounts_no_token(plan):
    for app in apps_of(plan):
        patch = obj(plan, "core/v1:ServiceAccountPatch", f"{key(app)}-default-sa").inputs
        assert patch["metadata"]["name"] == "default"
        assert patch["automountServiceAccountToken"] is False


def test_each_app_has_its_own_role_trusted_by_exactly_its_service_account(plan):
    arns = set()
    for app in apps_of(plan):
        name, ns = app["name"], app.get("namespace", app["name"])
        role = plan.one("aws:iam/role:Role", f"{key(app)}-irsa-role")
        assert role.inputs["name"] == f"{plan.exports['clusterName']}-app-{name}"
        (statement,) = doc(role, "assumeRolePolicy")["Statement"]
        condition = statement["Condition"]["StringEquals"]
        sa = obj(plan, "core/v1:ServiceAccount", f"{key(app)}-sa").inputs
        if app.get("identity", "irsa") == "irsa":
            assert [v for k, v in condition.items() if k.endswith(":sub")] == [
                f"system:serviceaccount:{ns}:{name}"
            ]
            assert [v for k, v in condition.items() if k.endswith(":aud")] == ["sts.amazonaws.com"]
            annotations = sa["metadata"]["annotations"]
            assert annotations["eks.amazonaws.com/role-arn"] == role.outputs["arn"]
        else:  # tests/components/apps/test_identity.py judges the Pod Identity trust itself
            assert statement["Principal"] == {"Service": "pods.eks.amazonaws.com"}
            assert condition["aws:RequestTag/kubernetes-namespace"] == ns
            assert condition["aws:RequestTag/kubernetes-service-account"] == name
            assert not sa["metadata"].get("annotations")
        assert plan.exports["appRoleArns"][name] == role.outputs["arn"]
        arns.add(role.outputs["arn"])
    assert len(arns) == len(apps_of(plan))


def app_statements(plan: Plan) -> list[dict]:
    return [
        s
        for r in plan.of_type("aws:iam/rolePolicy:RolePolicy")
        if r.name.startswith("app-")
        for s in doc(r)["Statement"]
    ]


def test_app_policies_never_use_wildcard_actions_or_resources(plan):
    statements = app_statements(plan)
    cfg = typed(plan.stack)
    assert bool(statements) == any(
        a.aws.s3 or a.aws.secrets_manager or a.aws.parameters for a in cfg.apps
    )
    for s in statements:
        assert s["Effect"] == "Allow"
        for action in as_list(s["Action"]):
            assert action != "*" and not action.endswith(":*"), s
        for resource in as_list(s["Resource"]):
            assert resource != "*" and not resource.endswith(":*"), s


def test_s3_access_is_rendered_per_bucket_and_prefix(plans):
    policy = doc(plans["dev"].one("aws:iam/rolePolicy:RolePolicy", "app-orders-irsa-app"))
    assert policy["Statement"] == [
        {
            "Sid": "ListBucket0",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": "arn:aws:s3:::example-orders-invoices-dev",
            "Condition": {"StringLike": {"s3:prefix": ["invoices/*"]}},
        },
        {
            "Sid": "Objects0",
            "Effect": "Allow",
            "Action": [
                "s3:GetObject",
                "s3:PutObject",
                "s3:DeleteObject",
                "s3:AbortMultipartUpload",
            ],
            "Resource": "arn:aws:s3:::example-orders-invoices-dev/invoices/*",
        },
    ]


def test_named_parameters_are_scoped_to_the_environment(plans):
    policy = doc(plans["prod"].one("aws:iam/rolePolicy:RolePolicy", "app-catalog-irsa-app"))
    (params,) = [s for s in policy["Statement"] if s["Sid"] == "ReadNamedParameters"]
    assert params["Resource"] == [
        aws_of("prod").arn("ssm", "parameter/prod/catalog/feature-limits")
    ]


def test_apps_that_read_their_own_values_may_decrypt_them_only_through_those_services(plans):
    key_arn = plans["prod"].one("aws:kms/key:Key").outputs["arn"]
    policy = doc(plans["prod"].one("aws:iam/rolePolicy:RolePolicy", "app-catalog-irsa-app"))
    (decrypt,) = [s for s in policy["Statement"] if s["Sid"] == "DecryptThroughTheseServicesOnly"]
    assert decrypt == {
        "Sid": "DecryptThroughTheseServicesOnly",
        "Effect": "Allow",
        "Action": "kms:Decrypt",
        "Resource": key_arn,
        "Condition": {"StringEquals": {"kms:ViaService": ["ssm.eu-west-1.amazonaws.com"]}},
    }
    # orders reads S3 only: no key rights at all.
    orders = doc(plans["prod"].one("aws:iam/rolePolicy:RolePolicy", "app-orders-irsa-app"))
    assert not [s for s in orders["Statement"] if "kms:" in str(s["Action"])]


def test_an_app_reading_secrets_and_parameters_decrypts_through_both(dev_values):
    dev_values["eks-config-storage:apps"][0]["aws"].update(
        secretsManager=["orders/api"], parameters=["orders/limits"]
    )
    plan = run_config("dev", dev_values)
    policy = doc(plan.one("aws:iam/rolePolicy:RolePolicy", "app-orders-irsa-app"))
    (decrypt,) = [s for s in policy["Statement"] if s["Sid"] == "DecryptThroughTheseServicesOnly"]
    assert decrypt["Condition"]["StringEquals"]["kms:ViaService"] == [
        "secretsmanager.eu-west-1.amazonaws.com",
        "ssm.eu-west-1.amazonaws.com",
    ]
    assert decrypt["Resource"] == plan.one("aws:kms/key:Key").outputs["arn"]


def test_app_without_aws_access_gets_a_role_without_policies(plans):
    plan = plans["prod"]
    assert plan.one("aws:iam/role:Role", "app-reports-irsa-role")
    assert not [r for r in plan if r.name.startswith("app-reports-irsa-") and "Policy" in r.type]


def test_external_secret_maps_remote_names_into_one_secret(plans):
    es = obj(plans["dev"], "external-secrets.io/v1:ExternalSecret", "app-orders-external-secret")
    spec = es.inputs["spec"]
    assert es.inputs["metadata"] == {
        "name": "orders-secrets",
        "namespace": "orders",
        "labels": es.inputs["metadata"]["labels"],
    }
    assert spec["refreshInterval"] == "1h"
    assert spec["target"] == {
        "name": "orders-secrets",
        "creationPolicy": "Owner",
        "deletionPolicy": "Retain",
    }
    assert spec["data"] == [
        {
            "secretKey": "DB_PASSWORD",
            "remoteRef": {"key": "dev/orders/db", "property": "password"},
            "sourceRef": {
                "storeRef": {"name": "aws-secrets-manager", "kind": "ClusterSecretStore"}
            },
        },
        {
            "secretKey": "STRIPE_WEBHOOK_TOKEN",
            "remoteRef": {"key": "/dev/orders/stripe-webhook-token"},
            "sourceRef": {
                "storeRef": {"name": "aws-parameter-store", "kind": "ClusterSecretStore"}
            },
        },
    ]


def test_refresh_interval_comes_from_config(plans):
    es = obj(plans["prod"], "external-secrets.io/v1:ExternalSecret", "app-orders-external-secret")
    assert es.inputs["spec"]["refreshInterval"] == "15m"


def test_role_reads_exactly_its_own_secrets_and_config_map(plan):
    for app in apps_of(plan):
        name = app["name"]
        role = obj(plan, "rbac.authorization.k8s.io/v1:Role", f"{key(app)}-reader").inputs
        secrets = sorted(
            [*app.get("sealedSecrets", []), *([f"{name}-secrets"] if app.get("secrets") else [])]
        )
        expected = [
            {
                "apiGroups": [""],
                "resources": ["configmaps"],
                "resourceNames": [f"{name}-config"],
                "verbs": ["get"],
            }
        ]
        if secrets:
            expected.append(
                {
                    "apiGroups": [""],
                    "resources": ["secrets"],
                    "resourceNames": secrets,
                    "verbs": ["get"],
                }
            )
        assert role["rules"] == expected
        binding = obj(plan, "rbac.authorization.k8s.io/v1:RoleBinding", f"{key(app)}-reader")
        assert binding.inputs["roleRef"] == {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "Role",
            "name": f"{name}-reader",
        }
        assert binding.inputs["subjects"] == [
            {"kind": "ServiceAccount", "name": name, "namespace": app.get("namespace", name)}
        ]


def test_storage_quota_budgets_listed_classes_and_zeroes_the_rest(plan):
    classes = plan.exports["storageClasses"]
    for app in apps_of(plan):
        quota = obj(plan, "core/v1:ResourceQuota", f"{key(app)}-storage").inputs
        budgets = {b["class"]: b for b in app.get("storage", [])}
        expected = {}
        for cls in classes:
            budget = budgets.get(cls, {"requests": "0", "claims": 0})
            expected[f"{cls}.storageclass.storage.k8s.io/requests.storage"] = budget["requests"]
            expected[f"{cls}.storageclass.storage.k8s.io/persistentvolumeclaims"] = str(
                budget["claims"]
            )
        # EKS's own gp2 class is unencrypted and outside the catalog: no app provisions on it.
        expected["gp2.storageclass.storage.k8s.io/requests.storage"] = "0"
        expected["gp2.storageclass.storage.k8s.io/persistentvolumeclaims"] = "0"
        assert quota["spec"]["hard"] == expected


def test_the_platform_creates_no_persistent_volume_claims(plan):
    assert not plan.of_type("kubernetes:core/v1:PersistentVolumeClaim")


app_names = st.from_regex(r"[a-z][a-z0-9]{1,8}", fullmatch=True)
settings_keys = st.from_regex(r"[A-Z][A-Z0-9_]{0,10}", fullmatch=True).filter(
    lambda k: (
        not {"KEY", "TOKEN", "SECRET", "PASSWORD", "PWD", "CERT", "SALT", "DSN"} & set(k.split("_"))
    )
)


@settings(max_examples=8)
@given(
    names=st.lists(app_names, min_size=1, max_size=4, unique=True),
    config=st.dictionaries(
        settings_keys, st.from_regex(r"[a-z0-9.:/-]{0,20}", fullmatch=True), max_size=3
    ),
    claims=st.integers(1, 9),
)
def test_any_valid_set_of_apps_renders_exact_identities_and_budgets(
    dev_values, names, config, claims
):
    dev_values[f"{NS}:apps"] = [
        {
            "name": n,
            "config": config,
            "storage": [{"class": "gp3-ssd-dev-rwo", "requests": "1Gi", "claims": claims}],
        }
        for n in names
    ]
    plan = run_config("dev", dev_values)
    for n in names:
        assert obj(plan, "core/v1:ConfigMap", f"app-{n}-config").inputs.get("data", {}) == config
        role = plan.one("aws:iam/role:Role", f"app-{n}-irsa-role")
        sub = next(
            v
            for k, v in doc(role, "assumeRolePolicy")["Statement"][0]["Condition"][
                "StringEquals"
            ].items()
            if k.endswith(":sub")
        )
        assert sub == f"system:serviceaccount:{n}:{n}"
        hard = obj(plan, "core/v1:ResourceQuota", f"app-{n}-storage").inputs["spec"]["hard"]
        assert hard["gp3-ssd-dev-rwo.storageclass.storage.k8s.io/persistentvolumeclaims"] == str(
            claims
        )
        assert hard["efs-burst-dev-rwx.storageclass.storage.k8s.io/requests.storage"] == "0"
    assert len(plan.of_type("eks-config-storage:apps:AppNamespace")) == len(names)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_app_objects_are_ordered_after_their_stores_only(plans, stack):
    plan = plans[stack]
    stores = [
        s
        for s in plan.of_type("kubernetes:external-secrets.io/v1:ClusterSecretStore")
        if s.inputs["metadata"]["name"] != "sealing-key-escrow"
    ]
    for es in plan.of_type("kubernetes:external-secrets.io/v1:ExternalSecret"):
        if es.inputs["spec"]["secretStoreRef"]["name"] == "sealing-key-escrow":
            continue  # the escrow's own, through its own store
        for store in stores:
            assert plan.depends_on(es, store)
    for cm in plan.of_type("kubernetes:core/v1:ConfigMap"):
        for store in stores:
            assert not plan.depends_on(cm, store)
