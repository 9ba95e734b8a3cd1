"""A library the click-ai services share (never a service itself): settings and configuration errors."""
