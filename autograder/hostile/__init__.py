"""Submissions that try to break the grader (cases.py), each with the outcome it must get;
grade_hostile.py grades them all (`make hostile`)."""
