"""HTTP edge: Flask blueprints that translate requests into service calls and back."""
