"""The scanners, one module each behind ``interface.Scanner``."""
