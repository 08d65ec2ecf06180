"""The comparison experiment's defaults and bounds, and Keras' backends.

Plain values in a module that imports nothing, not even Keras: the command
line shows them in `--help` and checks its arguments against them before
Keras loads (which takes seconds), and `comparison` and `networks` hold the
experiment to the same values.
"""

BACKENDS = ("tensorflow", "jax", "torch", "numpy")
# The backends Keras can train on: the NumPy backend has no `fit`.
TRAINABLE_BACKENDS = ("tensorflow", "jax", "torch")

# The files `compare` writes into its --output folder: for the MLP, and for
# the transformer's recipes.
MLP_OUTPUTS = (
    "curves.png",
    "signal_propagation.png",
    "weights_at_init.png",
    "report.md",
    "report.csv",
    "runs.csv",
)
RECIPE_OUTPUTS = (
    "curves.png",
    "scales.png",
    "report.md",
    "report.csv",
    "runs.csv",
)
# The MLP's inputs (the features of an 8x8 digit) and its batch size.
INPUTS = 64
BATCH_SIZE = 64

# `compare`'s experiment: what runs when nothing is said, and how far each
# argument may go.
DEFAULT_INITIALIZERS = (
    "Zeros",
    "RandomNormal(stddev=0.01)",
    "GlorotUniform",
    "HeUniform",
    "Orthogonal",
    "LSUV",
)
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

# `compare --model transformer` (`compare_recipes`): a character model
# small enough that the default run (5 recipes x 3 seeds) finishes within
# 5 minutes on 2 CPU cores, imports included, on each backend: measured
# 3:01 on TensorFlow, 2:12 on JAX, 3:25 on PyTorch (load average 1-2.3).
MODELS = ("mlp", "transformer")
DEFAULT_MODEL = "mlp"
NO_RECIPE = "default"  # the layers' own initializers, no recipe
DEFAULT_RECIPES = ("default", "gpt2", "gpt_neox", "bert", "torchtitan_llama")
DEFAULT_STEPS = 250
MAX_STEPS = 100_000
DEFAULT_EVALUATIONS = 10  # validation losses per run, evenly spaced
# Validation windows each evaluation reads, as one batch, spread over the
# validation text (of its 510 windows of 64 characters).
DEFAULT_VALIDATION_WINDOWS = 128
DEFAULT_TRANSFORMER_DEPTH = 2  # blocks
MAX_TRANSFORMER_DEPTH = 100
DEFAULT_TRANSFORMER_WIDTH = 64  # d_model
MAX_TRANSFORMER_WIDTH = 4_096
DEFAULT_HEADS = 4
DEFAULT_LENGTH = 64  # characters per window
DEFAULT_TRANSFORMER_BATCH_SIZE = 16
DEFAULT_TRANSFORMER_LEARNING_RATE = 2e-3  # Adam's
DEFAULT_TRANSFORMER_OUTPUT = "compare_transformer_output"
