"""A partly correct submission: both models and the training step right; evaluate returns the
number of correct predictions instead of the fraction, so the accuracy the notebook saves
(a count near 9 900) does not match the grader's measurement of the saved model."""

# grade_ids whose cells are copied from the reference solution
SOLVED = ["build_mlp", "build_cnn", "train_step"]

# grade_ids whose cells get this student's own (wrong) code
WRITTEN = {
    "evaluate": (
        "def evaluate(model, images, labels, batch_size=1000):\n"
        "    model.eval()\n"
        "    correct = 0\n"
        "    with torch.no_grad():\n"
        "        for start in range(0, len(images), batch_size):\n"
        "            predicted = model(images[start:start + batch_size]).argmax(dim=1)\n"
        "            correct += int((predicted == labels[start:start + batch_size]).sum())\n"
        "    return float(correct)  # the count, not the fraction\n"
    ),
}

# The student runs the notebook (which trains and saves artifacts/) before submitting; the
# round trip does the same for the reference and this submission, never for the untouched one.
RUN_BEFORE_SUBMIT = True
