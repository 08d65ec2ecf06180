"""A recipe's name is exact; an unknown one is answered with the names it
may mean: the same but for case, a registered name it is part of, or a
close spelling."""

import re

import keras
import pytest

import keras_inits
from keras_inits import recipes
from keras_inits._internal.before_keras import close_names


@pytest.mark.parametrize(
    "name, hint",
    [
        ("GPT2", "Did you mean 'gpt2'?"),
        ("BERT", "Did you mean 'bert'?"),
        ("llama", "Did you mean 'torchtitan_llama'?"),
        ("LLAMA", "Did you mean 'torchtitan_llama'?"),
        ("gpt", "Did you mean 'gpt2' or 'gpt_neox'?"),
        ("olmo", "Did you mean 'olmo_mitchell'?"),
    ],
)
def test_an_unknown_name_suggests_what_it_may_mean(name, hint):
    with pytest.raises(
        ValueError,
        match=f"^{re.escape(f'Unknown init recipe {name!r}. {hint} ')}"
        "The recipes are: gpt2, ",
    ):
        recipes.get(name)


def test_names_stay_exact():
    # A suggestion, never a silent match: a name is stored in files.
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    with pytest.raises(ValueError, match="Did you mean 'gpt2'"):
        keras_inits.reinitialize(model, recipe="GPT2")


def test_a_registered_recipe_is_suggested_too():
    recipes.register("My_Small_Heads", lambda slot: None, summary="s")
    with pytest.raises(ValueError, match="Did you mean 'My_Small_Heads'"):
        recipes.get("MY_SMALL_HEADS")
    with pytest.raises(ValueError, match="Did you mean 'My_Small_Heads'"):
        recipes.get("heads")


def test_close_names():
    known = ["gpt2", "gpt_neox", "bert", "torchtitan_llama"]
    assert close_names("GPT2", known) == ["gpt2"]
    assert close_names("llama", known) == ["torchtitan_llama"]
    assert close_names("gpt", known) == ["gpt2", "gpt_neox"]
    # A registered name inside the one given (a size, a suffix).
    assert close_names("bert_base", known) == ["bert"]
    # Two letters are too few to be part of a name.
    assert close_names("ll", known) == []
    assert close_names("gpt", known, limit=1) == ["gpt2"]
    # The name itself is not suggested.
    assert close_names("gpt2", known) == []
    # A typo, as difflib finds it; a name far from every one: nothing.
    assert close_names("gtp2", known) == ["gpt2"]
    assert close_names("resnet_fixup", known) == []
