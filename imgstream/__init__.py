"""ImgStream: a photo library for the browser."""

__version__ = "0.1.0"
