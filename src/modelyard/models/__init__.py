"""Models: the self-describing model package, the trainer that builds and fits estimators, and input
checks against a model's signature.

Nothing heavy is imported here; import ``modelyard.models.package`` or ``modelyard.models.trainer``
where they are used.
"""
