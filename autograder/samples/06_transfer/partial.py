"""A partly correct submission: unfreeze_block, the new head and the optimizer right;
freeze_features freezes only the first convolution, so "feature extraction" retrains most of
the conv base and the saved model's base no longer matches the source model's."""

# grade_ids whose cells are copied from the reference solution
SOLVED = ["unfreeze_block", "replace_head", "trainable_optimizer"]

# grade_ids whose cells get this student's own (wrong) code
WRITTEN = {
    "freeze_features": (
        "def freeze_features(model):\n"
        "    for parameter in model.features[0].parameters():  # only the first layer\n"
        "        parameter.requires_grad_(False)\n"
        "    return model\n"
    ),
}

# The student runs the notebook (which trains and saves artifacts/) before submitting.
RUN_BEFORE_SUBMIT = True
