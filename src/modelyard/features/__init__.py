"""Feature transforms: analyzers make one pass over the training data, the fitted result travels inside
the model package, and one small module applies it to a batch or to a single request.

Nothing heavy is imported here so that ``import modelyard.features`` stays cheap; import
``modelyard.features.transform`` where a transform is fitted or applied.
"""
