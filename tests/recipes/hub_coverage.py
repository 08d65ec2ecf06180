"""How much of each keras-hub backbone the recipes cover: the table of
docs/recipes.md.

For every backbone `hub_backbones` builds and every registered recipe
(`keras_inits.recipes.names()`), `keras_inits.recipes.plan(model, recipe)`
gives each variable a role and an initializer. The table counts the
*weight parameters*: the entries of the trainable variables of two or more
dimensions (kernels, embeddings, convolution filters; not biases, norms or
statistics). Per backbone it gives their number, the share that gets a
role (the same for every recipe), the share each recipe draws (the rest
keeps its layer's own initializer), and the largest weights left without a
role, with the finder's reason when it gives one.

A recipe that raises on a backbone (one that needs the block of a
variable outside the blocks) gets its message, shortened, in its cell;
warnings are recorded under the table, not printed. Each backbone is
traced by one `plan`, whose rule asks every recipe (`coverage`).

    python -m tests.recipes.hub_coverage                       # print it
    python -m tests.recipes.hub_coverage --backbones GPT2Backbone,BertBackbone
    python -m tests.recipes.hub_coverage --readme docs/recipes.md    # rewrite it

The page's table is computed on TensorFlow; `tests/recipes/test_hub_coverage.py`
checks it there, and on JAX and PyTorch checks that a subset of its rows
comes out the same.
"""

import argparse
import dataclasses
import math
import pathlib
import re
import sys
import warnings

import keras
import keras_hub

from keras_inits import recipes
from tests.recipes import hub_backbones

START = "<!-- hub-coverage:start -->"
END = "<!-- hub-coverage:end -->"
PAGE_BACKEND = "tensorflow"
LEFT_WIDTH = 80
"""The most characters of the "left, and why" column."""
_NUMBER = re.compile(r"(?<=[A-Za-z_])\d+(?=_|/|$)")


@dataclasses.dataclass(frozen=True)
class Left:
    """Weights that matched no role, under one short label: their count,
    their entries, and the role finder's reason (None when it gives none).
    """

    label: str
    count: int
    size: int
    reason: str | None


@dataclasses.dataclass(frozen=True)
class RecipeOutcome:
    """One recipe on one backbone: the weight entries it draws (None when
    `plan` raised), the shortened error, and the warnings `plan` gave."""

    drawn: int | None
    error: str | None
    warnings: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class Coverage:
    """The recipes on one backbone (a row of the table).

    Attributes:
        backbone: the exported class name.
        params: the weight entries (trainable, two or more dimensions).
        with_role: those of them that get a role (None if every recipe's
            `plan` raised).
        outcomes: (recipe name, its outcome), in `recipes.names()` order.
        left: the weights without a role, the largest first.
    """

    backbone: str
    params: int
    with_role: int | None
    outcomes: tuple[tuple[str, RecipeOutcome], ...]
    left: tuple[Left, ...]


def coverage(
    name: str, model: keras.Model, *, one_plan: bool = True
) -> Coverage:
    """The `Coverage` of every registered recipe on `model`, the backbone
    `name`.

    `plan` traces the model each time it is called, which takes seconds
    on the larger backbones; so by default one `plan` runs a recipe whose
    rule asks every registered recipe's rule, and takes each answer as
    `plan` would (`_AllRules`). `one_plan=False` calls `plan` once per
    recipe; the tests check that both give the same coverage.
    """
    weights = {
        id(v): math.prod(v.shape)
        for v in model.weights
        if v.trainable and len(v.shape) >= 2
    }
    names = recipes.names()
    by = _one_plan if one_plan else _plan_per_recipe
    plan, outcomes = by(model, names, weights)
    rows = (
        []
        if plan is None
        else [r for r in plan.rows if id(r.variable) in weights]
    )
    return Coverage(
        backbone=name,
        params=sum(weights.values()),
        with_role=None
        if plan is None
        else sum(weights[id(r.variable)] for r in rows if r.role is not None),
        outcomes=tuple(zip(names, outcomes)),
        left=_left(rows, weights),
    )


def _one_plan(model, names, weights):
    """A plan (None if `plan` raised) and the outcome of each recipe of
    `names`, from one `plan` whose rule asks them all."""
    rules = _AllRules(names)
    plan, error, said = _plan(model, recipes.Recipe("all", rules, ""))
    outcomes = []
    for recipe in names:
        if plan is None or recipe in rules.errors:
            message = error or rules.errors[recipe]
            outcomes.append(RecipeOutcome(None, message, said))
            continue
        drawn = sum(
            weights[id(r.variable)]
            for r in plan.rows
            if id(r.variable) in weights and recipe in rules.drawn[r.path]
        )
        said_here = tuple(dict.fromkeys(said + rules.said[recipe]))
        outcomes.append(RecipeOutcome(drawn, None, said_here))
    return plan, outcomes


def _plan_per_recipe(model, names, weights):
    """A plan (the first that did not raise, else None) and the outcome of
    each recipe of `names`, from one `plan` per recipe."""
    first, outcomes = None, []
    for recipe in names:
        plan, error, said = _plan(model, recipe)
        drawn = None
        if plan is not None:
            first = first or plan
            drawn = sum(
                weights[id(r.variable)]
                for r in plan.rows
                if id(r.variable) in weights and r.initializer is not None
            )
        outcomes.append(RecipeOutcome(drawn, error, said))
    return first, outcomes


class _AllRules:
    """A rule that asks every recipe of `names` about each slot and keeps
    their answers as `plan` takes them: the paths each draws, its first
    error (shortened), the warnings it gave; it returns None."""

    def __init__(self, names):
        self.rules = {name: recipes.get(name).rule for name in names}
        self.drawn = {}  # path -> the recipes that draw it
        self.errors = {}  # recipe -> its first error, shortened
        # recipe -> the warnings its rule gave
        self.said: dict[str, tuple[str, ...]] = {n: () for n in names}

    def __call__(self, slot):
        drawn = self.drawn.setdefault(slot.path, set())
        for name, rule in self.rules.items():
            if name in self.errors:
                continue  # `plan` stops at a recipe's first error
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    initializer = rule(slot)
                except Exception as error:  # as `plan` words it, shortened
                    self.errors[name] = _rule_error(error)
                    continue
            self.said[name] += tuple(_one_line(str(w.message)) for w in caught)
            if isinstance(initializer, keras.initializers.Initializer):
                drawn.add(name)
            elif initializer is not None:
                self.errors[name] = f"rule gave a {type(initializer).__name__}"
        return None


def _plan(model, recipe):
    """`(plan, None, warnings)`, or `(None, its error shortened, warnings)`
    when `plan` raises."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            plan, error = recipes.plan(model, recipe), None
        except Exception as raised:  # recorded in the table, not raised
            plan, error = None, _short_error(raised)
    said = tuple(dict.fromkeys(_one_line(str(w.message)) for w in caught))
    return plan, error, said


def backbone_coverage(name: str) -> Coverage:
    """Builds the backbone `name` (`hub_backbones.build`) in a fresh Keras
    session, so that its layers' automatic names, and so its paths, do
    not depend on what was built before, and returns its `Coverage`."""
    keras.utils.clear_session()
    return coverage(name, hub_backbones.build(name))


def markdown(coverages: list[Coverage], backend: str) -> str:
    """The table of `coverages` in Markdown, with what it was computed on
    above it and its notes below: the page's text between the markers."""
    names = recipes.names()
    built = hub_backbones.exported_backbones()
    header = ["backbone", "weights", "roles"]
    header += [f"`{n}`" for n in names] + ["left, and why"]
    lines = [
        f"Computed on {_backend_name(backend)} with keras-hub "
        f"{keras_hub.__version__}: {len(coverages)} of the {len(built)} "
        "backbone classes keras-hub exports, each built from the config of "
        "keras-hub's own unit test. *weights*: the entries of trainable "
        "variables of 2 or more dimensions; *roles*: the share of them "
        "that gets a role; per recipe, the share it draws.",
        "",
        "| " + " | ".join(header) + " |",
        "|---|--:|--:|" + "--:|" * len(names) + "---|",
    ]
    lines += [row(c) for c in coverages]
    for note in _notes(coverages):
        lines += ["", note]
    return "\n".join(lines) + "\n"


def row(coverage: Coverage) -> str:
    """The table's row of one backbone, as the page holds it."""
    cells = [
        f"`{coverage.backbone}`",
        f"{coverage.params:,}",
        _share(coverage.with_role, coverage.params),
    ]
    for _, outcome in coverage.outcomes:
        cell = outcome.error or _share(outcome.drawn, coverage.params)
        cells.append(cell + (" †" if outcome.warnings else ""))
    cells.append(_left_text(coverage.left))
    return "| " + " | ".join(cells) + " |"


def readme_table(text: str) -> str:
    """The page's text between the hub-coverage markers."""
    start, end = _markers(text)
    return text[start:end]


def readme_rows(text: str) -> dict[str, str]:
    """{backbone: its row} of the page's table."""
    return {
        line.split("|")[1].strip().strip("`"): line
        for line in readme_table(text).splitlines()
        if line.startswith("| `")
    }


def with_table(text: str, table: str) -> str:
    """`text` (the page) with `table` between the hub-coverage markers."""
    start, end = _markers(text)
    return text[:start] + table + text[end:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.recipes.hub_coverage",
        description="The recipes' coverage of keras-hub's backbones.",
    )
    parser.add_argument(
        "--readme",
        type=pathlib.Path,
        help="rewrite the table of this page, docs/recipes.md (between its "
        "markers) "
        "instead of printing it",
    )
    parser.add_argument(
        "--backbones",
        help="comma-separated backbone names (default: all)",
    )
    arguments = parser.parse_args(argv)
    backend = keras.config.backend()
    names = hub_backbones.exported_backbones()
    if arguments.backbones:
        aliases = hub_backbones.aliases()
        asked: list[str] = arguments.backbones.split(",")
        names = [aliases.get(n, n) for n in asked]
        unknown = sorted(set(names) - set(hub_backbones.exported_backbones()))
        if unknown:
            parser.error(f"keras-hub exports no {', '.join(unknown)}")
        if arguments.readme:
            parser.error("--readme rewrites every row: omit --backbones")
    if arguments.readme and backend != PAGE_BACKEND:
        parser.error(
            f"The page's table is computed on {PAGE_BACKEND}, this is "
            f"{backend}: run with KERAS_BACKEND={PAGE_BACKEND}"
        )
    names = [n for n in names if n not in hub_backbones.NOT_BUILDABLE]
    table = markdown([backbone_coverage(n) for n in names], backend)
    if arguments.readme:
        text = arguments.readme.read_text(encoding="utf-8")
        arguments.readme.write_text(with_table(text, table), encoding="utf-8")
    else:
        print(table, end="")
    return 0


def _notes(coverages):
    """The lines under the table: what was not built, the aliases, and the
    warnings recorded."""
    notes = []
    not_built = "; ".join(
        f"`{n}`: {why}" for n, why in hub_backbones.NOT_BUILDABLE.items()
    )
    if not_built:
        notes.append(f"Not built: {not_built}.")
    aliases = ", ".join(
        f"`{alias}` is `{name}`"
        for alias, name in sorted(hub_backbones.aliases().items())
    )
    if aliases:
        notes.append(f"Aliases, not repeated: {aliases}.")
    for c in coverages:
        for recipe, outcome in c.outcomes:
            for message in outcome.warnings:
                notes.append(f"† `{c.backbone}`, `{recipe}`: {message[:200]}")
    return notes


def _share(part, whole):
    """`part / whole` as a whole percentage that says 0% and 100% only when
    exact ("<1%", ">99%" near them); "-" when `part` is None."""
    if part is None:
        return "-"
    if whole == 0:
        return "n/a"
    percent = 100 * part / whole
    if 0 < percent < 1:
        return "<1%"
    if 99 < percent < 100:
        return ">99%"
    return f"{round(percent)}%"


def _left(rows, weights):
    """The weights of `rows` without a role, grouped by short label and
    reason: the reasons in order of the entries they leave, the largest
    first, and under each the largest group first."""
    groups = {}
    for r in rows:
        if r.role is None:
            key = (getattr(r, "reason", None), _label(r.path))
            count, size = groups.get(key, (0, 0))
            groups[key] = (count + 1, size + weights[id(r.variable)])
    by_reason = {}
    for (reason, _), (_, size) in groups.items():
        by_reason[reason] = by_reason.get(reason, 0) + size
    return tuple(
        Left(label, count, size, reason)
        for (reason, label), (count, size) in sorted(
            groups.items(),
            key=lambda g: (
                -by_reason[g[0][0]],
                str(g[0][0]),
                -g[1][1],
                g[0][1],
            ),
        )
    )


def _label(path):
    """A variable's short label: its layer's name and its own, numbers that
    end a word starred (`stack2_block0_1_conv/kernel` ->
    `stack*_block*_*_conv/kernel`), so that blocks group."""
    return _NUMBER.sub("*", "/".join(path.split("/")[-2:]))


def _left_text(left):
    """The "left, and why" cell: the largest groups that fit in
    `LEFT_WIDTH` characters, each reason once after its groups
    (`a x2, b (why); c (why not)`), then how many more groups."""
    if not left:
        return "-"
    shown = 1
    while shown < len(left):
        more = (
            f"; +{len(left) - shown - 1} more" if shown + 1 < len(left) else ""
        )
        if len(_render(left[: shown + 1]) + more) > LEFT_WIDTH:
            break
        shown += 1
    text = _render(left[:shown])
    if shown < len(left):
        text += f"; +{len(left) - shown} more"
    if len(text) > LEFT_WIDTH:
        text = text[: LEFT_WIDTH - 1] + "…"
    return _escape(text)


def _render(left):
    """`a x2, b (why); c (why not)`: groups of one reason joined by commas,
    the reason after them; reasons joined by semicolons."""
    runs = []
    for group in left:
        item = group.label + (f" x{group.count}" if group.count > 1 else "")
        if runs and runs[-1][0] == group.reason:
            runs[-1][1].append(item)
        else:
            runs.append((group.reason, [item]))
    return "; ".join(
        ", ".join(items) + (f" ({reason})" if reason else "")
        for reason, items in runs
    )


def _escape(text):
    return text.replace("|", "\\|")


def _short_error(error):
    """An error of `plan` in a few words: "needs `width`" for a slot value
    a rule needs, "rule: TypeError: ..." for a rule that failed, "rule
    gave a str" for one that returned something else, or the error's type
    and the start of its message."""
    message = _one_line(str(error))
    needs = re.match(r"Recipe '[^']*' needs `(\w+)`", message)
    if needs:
        return f"needs `{needs.group(1)}`"
    failed = re.match(
        r"The rule of recipe '[^']*' failed on .*?\): (.*)", message
    )
    if failed:
        return _escape(f"rule: {failed.group(1)}"[:40])
    gave = re.match(r"Recipe '[^']*' gave .* a (\w+): a rule returns", message)
    if gave:
        return f"rule gave a {gave.group(1)}"
    return _escape(f"{type(error).__name__}: {message}"[:40])


def _rule_error(error):
    """What `_short_error` says of the error `plan` makes of a rule's."""
    if type(error).__name__ == "MissingSlotValue":  # `needed`'s
        return f"needs `{error.name}`"
    return _escape(
        f"rule: {type(error).__name__}: {_one_line(str(error))}"[:40]
    )


def _one_line(message):
    return " ".join(message.split())


def _backend_name(backend):
    return {
        "tensorflow": "TensorFlow",
        "jax": "JAX",
        "torch": "PyTorch",
        "numpy": "NumPy",
    }.get(backend, backend)


def _markers(text):
    """The offsets of the page's table, between its two markers' lines."""
    if START not in text or END not in text:
        raise ValueError(
            f"The page has no {START} ... {END} section for the table."
        )
    return text.index("\n", text.index(START)) + 1, text.index(END)


if __name__ == "__main__":
    sys.exit(main())
