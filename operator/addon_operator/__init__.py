"""addon-operator for Python: Helm charts plus hooks plus a values store, configured through CRs."""

__version__ = "0.1.0"
