"""Machine learning: anomaly detection on alert rates (and, later, incident risk)."""
