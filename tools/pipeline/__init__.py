"""Helpers the GitHub workflows run around the Pulumi CLI: the approved plan, the preview report
and the approval check. Each is a small command with a pure core that the tests exercise."""
