"""esign: a self-hostable e-signature server speaking the eSign REST API."""

__version__ = "0.1.0"
