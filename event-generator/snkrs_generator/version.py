"""The generator's version: the instrumentation scope version of every span, metric and log it sends."""

__version__ = "0.1.0"
