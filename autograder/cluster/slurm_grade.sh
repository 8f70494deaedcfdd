#!/usr/bin/env bash
# Grade a class on a Slurm cluster: one array task per submission, then one job that records.
# Each task runs the same sandboxed command as `make grade` on one submission
# (autograder/grade.py --one); nothing but the last job writes the gradebook.
#
#   COURSE=/shared/dl-course bash autograder/cluster/slurm_grade.sh [ASSIGNMENT]
#
# Needs: the course folder on a file system every node mounts, the course environment
# (.venv) and bubblewrap on every node. Limits come from nbgrader_config.py (c.GradeRunner).
set -euo pipefail
REPO="$(cd "$(dirname "$0")/../.." && pwd)"
COURSE="${COURSE:?set COURSE to the nbgrader course folder}"
PY="$REPO/.venv/bin/python"
ONLY=(); [ $# -gt 0 ] && ONLY=(-a "$1")
export PATH="$REPO/.venv/bin:$PATH" LABUTILS_HEADLESS=1

LIST="$COURSE/.grading/submissions.txt"
mkdir -p "$COURSE/.grading/slurm"
"$PY" "$REPO/autograder/grade.py" --root "$COURSE" "${ONLY[@]}" --list > "$LIST"
COUNT=$(wc -l < "$LIST")
[ "$COUNT" -gt 0 ] || { echo "nothing submitted"; exit 0; }

ARRAY=$(sbatch --parsable --array=1-"$COUNT" --cpus-per-task=1 --mem=6G --time=00:15:00 \
    --output="$COURSE/.grading/slurm/%A_%a.log" --job-name=grade \
    --wrap="$PY $REPO/autograder/grade.py --root $COURSE --one \$(sed -n \${SLURM_ARRAY_TASK_ID}p $LIST)")
sbatch --dependency=afterany:"$ARRAY" --job-name=grade-record \
    --output="$COURSE/.grading/slurm/record.log" \
    --wrap="$PY $REPO/autograder/grade.py --root $COURSE ${ONLY[*]} --record --feedback"
echo "submitted array $ARRAY ($COUNT submissions) and the recording job"
