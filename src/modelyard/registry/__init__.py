"""The model registry: named models, semver versions, movable aliases with a history of every move."""
