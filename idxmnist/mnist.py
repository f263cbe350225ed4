"""MNIST, keras style: ``from idxmnist import mnist; mnist.load_data()``."""

from .datasets.loader import load_data

__all__ = ["load_data"]
