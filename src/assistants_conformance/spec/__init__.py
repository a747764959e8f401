"""The contract: our OpenAPI document loaded, normalised and validated against (contract.py), the
dialects' overlays applied on top (overlay.py), 3.0 habits normalised (normalise.py), and the
comparison with OpenAI's published document (drift.py)."""

from ..errors import ContractError
from .contract import Contract, Operation, ValidationIssue, default_contract_path, load_contract

__all__ = ["Contract", "ContractError", "Operation", "ValidationIssue", "default_contract_path", "load_contract"]
