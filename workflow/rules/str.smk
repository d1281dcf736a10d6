# Spot-then-recognise (STR, MEGC 2024-2025; ../shared/design/str.md) outputs: str.json with its
# per-video, per-fold and confusion tables, the challenge's submission files, and the report's
# STR page and confusion figure. Config `str` is a param of evaluate_str only (its class list
# and others label also of str_submission): changing it reruns these jobs and nothing upstream.
# A run that names no classes (no emotion labels: RECOGNISES in common.smk) still scores:
# str.json then says STR is not available and why; it writes no STR submission file.


rule evaluate_str:
    input:
        emotions=EMOTIONS,
        videos=VIDEO_TABLE,
        # One file per fold, in SUBJECTS order (the params' folds); none where the run
        # recognises nothing.
        recognition=recognition_outputs(),
    output:
        str_json=f"{EVALUATION}/str.json",
        per_video=f"{EVALUATION}/str_per_video.csv",
        per_fold=f"{EVALUATION}/str_per_fold.csv",
        confusion=f"{EVALUATION}/str_confusion.csv",
    log:
        f"{RESULTS}/logs/evaluate_str.log",
    benchmark:
        f"{RESULTS}/benchmarks/evaluate_str.tsv"
    conda:
        "../../envs/model.yaml"
    threads: 1
    params:
        folds=SUBJECTS,
        options=config["str"],
        dataset=DATASET,
        # Which models spotted the intervals and named their classes (a field of str.json).
        models=STR_MODELS,
    script:
        "../scripts/evaluate_str.py"


rule spotting_submission:
    # The challenge's spotting file (the organisers publish no file name): the final method
    # (step 2) of every config.
    input:
        fold_outputs("step2"),
    output:
        SPOTTING_SUBMISSION,
    log:
        f"{RESULTS}/logs/spotting_submission.log",
    benchmark:
        f"{RESULTS}/benchmarks/spotting_submission.tsv"
    conda:
        "../../envs/model.yaml"
    threads: 1
    script:
        "../scripts/spotting_submission.py"


rule str_submission:
    # The challenge's STR file from every fold's recognition file (only where the run
    # recognises: final_outputs asks for it then).
    input:
        recognition=recognition_outputs(),
        videos=VIDEO_TABLE,
    output:
        STR_SUBMISSION,
    log:
        f"{RESULTS}/logs/str_submission.log",
    benchmark:
        f"{RESULTS}/benchmarks/str_submission.tsv"
    conda:
        "../../envs/model.yaml"
    threads: 1
    params:
        folds=SUBJECTS,
        classes=config["str"]["classes"],
        others=config["str"]["others"],
    script:
        "../scripts/str_submission.py"


rule str_report:
    input:
        str_json=f"{EVALUATION}/str.json",
        per_fold=f"{EVALUATION}/str_per_fold.csv",
        confusion=f"{EVALUATION}/str_confusion.csv",
    output:
        table=report(
            f"{RESULTS}/report/str.html",
            caption="../report/str_table.rst",
            category="4. Spot-then-recognise",
            labels={"item": "STR scores"},
        ),
        figure=report(
            f"{RESULTS}/report/str_confusion.png",
            caption="../report/str_confusion.rst",
            category="4. Spot-then-recognise",
            labels={"item": "confusion matrix"},
        ),
    log:
        f"{RESULTS}/logs/report/str_report.log",
    benchmark:
        f"{RESULTS}/benchmarks/report/str_report.tsv"
    conda:
        "../../envs/model.yaml"
    threads: 1
    params:
        dataset=DATASET,
    script:
        "../scripts/str_report.py"
