"""A partly correct submission: the gates right, XOR wired wrongly, the learning rule undone."""

# grade_ids whose cells are copied from the reference solution
SOLVED = ["gates"]

# grade_ids whose cells get this student's own (wrong) code
WRITTEN = {
    "xor": "def XOR(x1, x2):\n    return OR(AND(x1, x2), NAND(x1, x2))  # wrong second layer\n",
}
