"""No lecture trains or selects on its test data.

The test set is looked at once, at the end; choosing epochs, learning rates or models by it
makes its score optimistic. The check reads each lecture's code: a value computed from a name
with "test" in it is test data, and so is anything computed from test data; none of it may
reach a call that trains or selects (``train.fit``, the lectures' own training helpers, early
stopping).
"""

import ast
import json

import pytest

from conftest import REPO

TRAINING_CALLS = {"fit", "fit_numpy", "fit_on", "train_model", "train_epoch", "experiment",
                  "run", "trained_on", "EarlyStopping", "train_one_epoch"}


def called_name(call):
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)


def names_in(node):
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def leaks_of_test_data(code):
    """The calls of ``code`` (a lecture's cells joined) that hand test data to training or
    selection, as "line: name(...) gets x"."""
    tree = ast.parse(code)
    tainted = set()
    for statement in tree.body:  # top-level assignments, in the order the cells run
        if isinstance(statement, (ast.Assign, ast.AnnAssign)) and statement.value is not None:
            used = names_in(statement.value)
            if any("test" in name for name in used) or used & tainted:
                targets = getattr(statement, "targets", None) or [statement.target]
                tainted |= {name for target in targets for name in names_in(target)}
    found = []
    for call in ast.walk(tree):
        if isinstance(call, ast.Call) and called_name(call) in TRAINING_CALLS:
            arguments = [*call.args, *(keyword.value for keyword in call.keywords)]
            leaked = sorted({name for argument in arguments for name in names_in(argument)
                             if "test" in name or name in tainted})
            if leaked:
                found.append(f"line {call.lineno}: {called_name(call)}(...) gets {leaked[0]}")
    return found


def lecture_code(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    sources = ["".join(cell["source"]) for cell in cells if cell["cell_type"] == "code"]
    # IPython's magics and shell lines are not Python; no lecture of topics 4-6 uses them
    return "\n\n".join(line for line in sources if not line.lstrip().startswith(("%", "!")))


@pytest.mark.parametrize("topic", ["04_mnist", "05_regularization", "06_transfer"])
def test_no_lecture_trains_or_selects_on_test_data(topic):
    found = leaks_of_test_data(lecture_code(REPO / "course" / f"{topic}.ipynb"))
    assert not found, f"course/{topic}.ipynb hands test data to training or selection: {found[0]}"


def test_the_check_sees_test_data_passed_on_through_other_names():
    leaking = """
x_target_test, y_target_test = make()
target_val = data.TensorBatches(x_target_test, y_target_test, batch_size=1000)

def experiment(model):
    return fit_on(model, x, y, validation=target_val)
"""
    assert leaks_of_test_data(leaking) == ["line 6: fit_on(...) gets target_val"]
    direct = "history = train.fit(model, batches, data.TensorBatches(x_test, y_test))"
    assert leaks_of_test_data(direct) == ["line 1: fit(...) gets x_test"]


def test_the_check_lets_validation_and_a_final_test_pass():
    honest = """
val_batches = data.TensorBatches(x_val, y_val, batch_size=500)
test_batches = data.TensorBatches(x_test, y_test, batch_size=500)
history = train.fit(model, batches, val_batches, optimizer=opt, num_epochs=3)
print(train.evaluate(model, test_batches))
"""
    assert leaks_of_test_data(honest) == []
