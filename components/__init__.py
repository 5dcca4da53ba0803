"""One concern per module; each exposes a ``pulumi.ComponentResource`` and its typed Args."""
