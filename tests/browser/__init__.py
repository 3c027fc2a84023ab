"""Browser end-to-end tests (JupyterLab + Playwright + Debian chromium)."""
