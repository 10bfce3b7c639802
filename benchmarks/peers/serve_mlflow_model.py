"""The MLflow half of benchmarks/serve_vs_mlflow.py: train the benchmark model and save it as an MLflow model.

Run by the peer venv's python (MLflow and modelyard never share a venv). The model is the one the modelyard
side trains: StandardScaler + LogisticRegression on scikit-learn's bundled breast cancer data, columns renamed
with underscores, so both servers answer the same request body.

Example:
    benchmarks/peers/.venv-mlflow/bin/python benchmarks/peers/serve_mlflow_model.py /tmp/x/mlflow-model
"""

from __future__ import annotations

import sys


def main(dest: str) -> None:
    import mlflow.sklearn
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    data = load_breast_cancer(as_frame=True)
    frame = data.frame.rename(columns=lambda name: name.replace(" ", "_"))
    features = frame.drop(columns=["target"])
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(features, frame["target"])
    mlflow.sklearn.save_model(model, dest, input_example=features.head(2))


if __name__ == "__main__":
    main(sys.argv[1])
