# Spot-then-recognise (STR, MEGC 2024-2025; ../shared/design/str.md) outputs: str.json with its
# per-video, per-fold and confusion tables, the challenge's submission files, and the report's
# STR page and confusion figure. Config `str` is a param of evaluate_str only (its class list
# and others label also of submissions): changing it reruns these jobs and nothing upstream.
# A dataset without emotion labels still runs them: str.json then says STR is not available.


rule evaluate_str:
    input:
        emotions=EMOTIONS,
        videos=VIDEO_TABLE,
        # One file per fold, in SUBJECTS order (the params' folds).
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


rule submissions:
    # The challenge's files (the organisers publish no file names): spotting from the final
    # method (step 2) of every config, STR from every fold's recognition file.
    input:
        spotting=fold_outputs("step2"),
        recognition=recognition_outputs(),
        videos=VIDEO_TABLE,
    output:
        spotting=f"{SUBMISSION}/spotting.csv",
        str=f"{SUBMISSION}/str.csv",
    log:
        f"{RESULTS}/logs/submissions.log",
    benchmark:
        f"{RESULTS}/benchmarks/submissions.tsv"
    conda:
        "../../envs/model.yaml"
    threads: 1
    params:
        folds=SUBJECTS,
        classes=config["str"]["classes"],
        others=config["str"]["others"],
    script:
        "../scripts/submissions.py"


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
