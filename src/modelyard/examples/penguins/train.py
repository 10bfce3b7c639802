"""A user train function: use it with `function: train.py:train_model` in the train step of pipeline.yaml.

It receives the transformed training and evaluation data (X, y, feature_names) and the step's
estimator_params (plus the seed), and returns a fitted estimator with predict()/predict_proba().
"""

from sklearn.ensemble import RandomForestClassifier


def train_model(train, eval_data, params):
    model = RandomForestClassifier(
        n_estimators=int(params.get("n_estimators", 200)),
        max_depth=params.get("max_depth"),
        random_state=params["seed"],
    )
    model.fit(train.X, train.y)
    return model
