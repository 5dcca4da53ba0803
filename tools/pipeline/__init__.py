"""What the GitHub workflows run around the Pulumi CLI: the approved plan, the preview report,
the approval and reach checks. Each is a small command with a pure core that the tests exercise."""
