"""KubeKuma: a Kubernetes-native uptime monitor whose configuration is declarative."""

__version__ = "0.1.0"
