"""Claimwatch: detects false or exaggerated advertising claims in Chinese live-stream selling."""

__version__ = "0.1.0"
