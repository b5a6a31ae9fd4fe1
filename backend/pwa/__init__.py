"""The patient app (PWA): page shells, service worker and manifest."""
