"""Compliance in the flow: the one approval engine and its inbox views, maker-checker on
sensitive data, product suitability, risk alerts and the core-banking event feed."""
