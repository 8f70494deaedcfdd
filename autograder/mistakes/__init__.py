"""The mistake bank: what real students get wrong in each assignment, and right in other ways.

One module per assignment, ``autograder/mistakes/NN_x.py``, holding

``MISTAKES``      plausible wrong answers, each replacing one solution cell of the reference;
                  ``named_by`` lists phrases of which one must appear in a message the student
                  sees for the mistake to count as *named* (the words of its cause, not
                  "arrays not close");
``ALTERNATIVES``  correct answers written differently (loops, another formula, another order),
                  each replacing one or more solution cells: they must get full marks;
``EQUIVALENT``    mechanical mutants (mutants.py) that cannot be told from the reference by any
                  test, by name, each with the reason.

``autograder/mistakes/grade_mistakes.py`` grades all of it with `make grade` (`make mutants`).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Mistake:
    name: str                  # what the student did, in a few words
    cell: str                  # grade_id of the solution cell it replaces
    code: str                  # the whole cell as that student wrote it
    named_by: tuple = ()       # phrases that name this mistake in a message


@dataclass
class Alternative:
    name: str
    cells: dict = field(default_factory=dict)  # grade_id -> the whole cell
