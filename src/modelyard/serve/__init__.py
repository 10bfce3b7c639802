"""The inference server behind ``yard serve``: Open Inference Protocol, TF-Serving and MLflow dialects.

Nothing heavy is imported here: ``modelyard.serve.app`` pulls in Starlette only when a server is built.
"""
