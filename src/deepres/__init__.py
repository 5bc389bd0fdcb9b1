"""deepres: the networks, recipes and experiments of He et al., "Deep Residual Learning for
Image Recognition" (2015), as a PyTorch library and a command-line tool."""

__version__ = "0.1.0"
