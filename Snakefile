# tsmsnet: two-stage macro-/micro-expression spotting (TSMSNet, MEGC 2021), end to end.
# Stages live in workflow/rules/*.smk; logic lives in src/tsmsnet. See docs/architecture.md.
import sys

from snakemake.utils import min_version

min_version("9.0")

# The DAG-time code imports the library beside this Snakefile (as the job scripts do), so a
# checkout runs its own src/ whatever copy of tsmsnet is installed.
sys.path.insert(0, f"{workflow.basedir}/src")


configfile: "config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/preprocess.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/upstream.smk"
include: "workflow/rules/spot.smk"
include: "workflow/rules/recognize.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/str.smk"
include: "workflow/rules/report.smk"


rule all:
    default_target: True
    input:
        final_outputs(),
