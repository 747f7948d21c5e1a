"""KetaDesk: practice management for ketamine and esketamine clinics."""

__version__ = "0.1.0"
