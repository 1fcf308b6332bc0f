"""confbridge — video-conference scheduler and bridge manager."""

__version__ = "0.1.0"
