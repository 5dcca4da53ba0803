"""Design rules as code: ``policies.rules`` (shared with the offline plan) and the CrossGuard
pack built from them (``pulumi preview --policy-pack policies``)."""
