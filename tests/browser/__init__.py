"""Real-browser tests: Debian Chromium driven by Playwright against a live waitress server.

A package so that this folder's conftest.py does not shadow tests/conftest.py (both would be `conftest`).
"""
