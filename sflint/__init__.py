"""sflint: an offline linter for Salesforce permission metadata."""

__version__ = "0.1.0"
