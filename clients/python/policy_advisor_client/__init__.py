"""Client of the policy-advisor sidecar for Python callers such as web4 (standard library only, 3.9+)."""

from .client import PolicyAdvisorClient, PolicyAdvisorError

__all__ = ["PolicyAdvisorClient", "PolicyAdvisorError"]
__version__ = "0.1.0"
