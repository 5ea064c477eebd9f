"""Machine learning: incident risk (features shared by training and serving, the
XGBoost model, its registry and promotion, scheduled retraining), the learning
bookkeeping of each tenant, the traffic simulator, and anomaly detection on alert
rates."""
