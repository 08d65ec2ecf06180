"""The experiments `python -m keras_inits compare` runs: not library API,
but the code behind the command line and the comparison notebooks.

- `compare`: one MLP trained on scikit-learn's 8x8 digits with several
  initializers, each from several seeds (`load_digits`, `build_network`),
  with its curves, signal-propagation and weight figures and its report.
- `compare_recipes` (`compare --model transformer`): a small character
  transformer trained on the docstrings of Python's standard library
  (`load_corpus`, `windows`, `build_transformer`) after each init recipe.

Each returns its runs (`Run`, `RecipeRun`); `summarize` gives the
statistics over seeds and `format_table`, `format_recipe_table` the tables
printed at the end. The rest (`parse_initializers`, `read_recipes`,
`output_problem`, ...) checks the command line's arguments.
"""

from keras_inits.experiments._comparison import INPUTS
from keras_inits.experiments._comparison import build_network
from keras_inits.experiments._comparison import compare
from keras_inits.experiments._comparison import load_digits
from keras_inits.experiments._initializer_lists import LSUV
from keras_inits.experiments._initializer_lists import UnknownInitializerError
from keras_inits.experiments._initializer_lists import parse_initializers
from keras_inits.experiments._initializer_lists import valid_names
from keras_inits.experiments._reports import format_table
from keras_inits.experiments._reports import output_problem
from keras_inits.experiments._runs import TRAINABLE_BACKENDS
from keras_inits.experiments._runs import Run
from keras_inits.experiments._runs import Summary
from keras_inits.experiments._runs import summarize
from keras_inits.experiments._transformer import build_transformer
from keras_inits.experiments._transformer import load_corpus
from keras_inits.experiments._transformer import windows
from keras_inits.experiments._transformer_comparison import (
    OUTPUTS as RECIPE_OUTPUTS,
)
from keras_inits.experiments._transformer_comparison import RecipeRun
from keras_inits.experiments._transformer_comparison import compare_recipes
from keras_inits.experiments._transformer_comparison import read_recipes
from keras_inits.experiments._transformer_reports import (
    format_table as format_recipe_table,
)

__all__ = [
    "INPUTS",
    "LSUV",
    "RECIPE_OUTPUTS",
    "TRAINABLE_BACKENDS",
    "RecipeRun",
    "Run",
    "Summary",
    "UnknownInitializerError",
    "build_network",
    "build_transformer",
    "compare",
    "compare_recipes",
    "format_recipe_table",
    "format_table",
    "load_corpus",
    "load_digits",
    "output_problem",
    "parse_initializers",
    "read_recipes",
    "summarize",
    "valid_names",
    "windows",
]
