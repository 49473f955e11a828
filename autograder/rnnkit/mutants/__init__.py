"""Generated error models: the reference's one-step changes (:mod:`.generate`), matched on common probes (:mod:`.match`)."""
