"""The comparison experiment's defaults and bounds, and Keras' backends.

Plain values in a module that imports nothing, not even Keras: the command
line shows them in `--help` and checks its arguments against them before
Keras loads (which takes seconds), and `comparison` and `networks` hold the
experiment to the same values.
"""

BACKENDS = ("tensorflow", "jax", "torch", "numpy")

# `compare`'s experiment: what runs when nothing is said, and how far each
# argument may go.
DEFAULT_INITIALIZERS = ("Zeros", "RandomNormal(stddev=0.01)", "GlorotUniform",
                        "HeUniform", "Orthogonal", "LSUV")
DEFAULT_EPOCHS = 15
MAX_EPOCHS = 10_000
DEFAULT_DEPTH = 10
MAX_DEPTH = 1_000  # hidden layers
DEFAULT_WIDTH = 64
MAX_WIDTH = 8_192  # units per hidden layer
DEFAULT_ACTIVATION = "relu"
DEFAULT_SEED = 0
DEFAULT_SEEDS = 3  # training runs per initializer
MAX_SEEDS = 100
DEFAULT_THRESHOLD = 0.9
DEFAULT_OUTPUT = "compare_output"
