"""The code's version: shown in every page's static URLs and the pulse's X-Kiosk-Code (screens reload when it
changes), and reported by /healthz."""
__version__ = "0.1.0"
