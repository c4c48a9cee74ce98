"""The tutorial's core: initializers, the fused-gate cells, ``RNN`` (with its fast path) and
the networks. Imports nothing else of the package."""
